"""Decision letters with appeal rights and mediation information (issue 6 item 3).

Every letter announcing a decision the family can appeal (CFA 2014 s51(2); statutory-rules
§8.4) has two parts:

1. the council's own words, from its per-council template (:class:`LetterTemplate`), one text
   per decision kind, plus the reasons the caseworker gives for this decision;
2. a statutory block written here, which no template can remove or change: the right to
   appeal to the First-tier Tribunal (SEND) with the time limit computed for *this* letter by
   the timescale engine, the duty to contact the mediation adviser first (reg 33) unless the
   appeal is only about the school named (s55(3)), that mediation is optional, and the
   mediation adviser, information, advice and support (s32) and disagreement resolution (s57)
   contacts (reg 32; Code of Practice 11.13-11.14, 11.18; statutory-rules §3).

The statutory text is deliberately plain (short sentences, everyday words, reading age around
9): a family who cannot follow the letter cannot use their rights. When the Tribunal's rules
move the time limit (25 December to 1 January, August, a non-working day) the letter gives the
moved date and says why; both dates come from :mod:`core.timescales`, never from sums here.

Sending (:func:`send_decision_letter`) is one transaction: the event ``decision_letter_sent``
goes through :func:`core.cases.services.record_event` (order rules, deadlines, audit), the
letter is rendered to a tagged PDF/UA and stored as a document on the case.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from core import clock, permissions
from core.actors import Actor
from core.cases import services as cases
from core.cases.models import Case, CaseEvent, Document
from core.cases.workflow import WorkflowRefusal, check_next_event
from core.children.models import Child
from core.db import Base, db, default_id, utcnow
from core.errors import Forbidden, ValidationFailed
from core.tenancy import TenantScoped
from core.timescales import TimescalePolicy, compute_deadlines
from core.timescales.calendar import add_months

# ---------------------------------------------------------------------------------------
# The decisions a family can appeal (CFA 2014 s51(2)), in api-v1's words


@dataclass(frozen=True)
class DecisionKind:
    key: str
    #: Short name for staff (radios, lists).
    name: str
    #: The letter's title.
    title: str
    citation: str
    #: The council's default opening text (placeholders: {child_name}, {council_name}).
    default_text: str


DECISIONS: dict[str, DecisionKind] = {d.key: d for d in (
    DecisionKind(
        "refuse_assess", "Not to carry out an EHC needs assessment", "Our decision about an EHC needs assessment",
        "CFA 2014 s51(2)(a); SEND Regs 2014 reg 5",
        "We have decided not to carry out an education, health and care (EHC) needs assessment for {child_name}.\n\n"
        "We looked carefully at the request and at all the information we were given. Our reasons are below.\n\n"
        "We will still support {child_name}. Their school, college or nursery should keep giving special "
        "educational needs (SEN) support, and we can talk with you about it."),
    DecisionKind(
        "not_issue", "Not to issue an EHC plan", "Our decision after the EHC needs assessment",
        "CFA 2014 s51(2)(b); SEND Regs 2014 reg 10",
        "We have finished the education, health and care (EHC) needs assessment for {child_name}. We have decided "
        "not to issue an EHC plan.\n\n"
        "We looked at all the advice we collected during the assessment. Our reasons are below.\n\n"
        "We will send you the advice and information from the assessment. It can help the school, college or "
        "nursery plan {child_name}'s support."),
    DecisionKind(
        "plan_content", "The content of an EHC plan (needs, provision or school named)",
        "Your child's EHC plan", "CFA 2014 s51(2)(c); SEND Regs 2014 regs 13-14",
        "We have issued {child_name}'s education, health and care (EHC) plan. It comes with this letter.\n\n"
        "The plan says what {child_name}'s special educational needs are (section B), the special educational "
        "provision they will get (section F) and the school or other place named (section I)."),
    DecisionKind(
        "refuse_reassess", "Not to carry out a re-assessment", "Our decision about a re-assessment",
        "CFA 2014 s51(2)(d); SEND Regs 2014 reg 25",
        "We have decided not to carry out a new education, health and care (EHC) needs assessment for "
        "{child_name}.\n\n"
        "{child_name}'s EHC plan stays in place. Our reasons are below."),
    DecisionKind(
        "refuse_amend", "Not to amend an EHC plan after a review", "Our decision after the review of the EHC plan",
        "CFA 2014 s51(2)(e); SEND Regs 2014 reg 22",
        "We have reviewed {child_name}'s education, health and care (EHC) plan. We have decided to keep the plan "
        "as it is, without changes.\n\n"
        "Our reasons are below."),
    DecisionKind(
        "cease", "To stop maintaining (cease) an EHC plan", "Our decision to stop maintaining the EHC plan",
        "CFA 2014 s51(2)(f), s45; SEND Regs 2014 reg 31",
        "We have decided to stop maintaining {child_name}'s education, health and care (EHC) plan.\n\n"
        "Our reasons are below."),
)}

PLACEHOLDERS = ("{child_name}", "{council_name}")

#: The council's contact fields, in form order: (field, label, max length).
CONTACT_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("mediation_org", "Mediation adviser: organisation", 200),
    ("mediation_phone", "Mediation adviser: phone", 40),
    ("mediation_email", "Mediation adviser: email", 254),
    ("mediation_web", "Mediation adviser: website", 300),
    ("ias_name", "Information, advice and support service: name", 200),
    ("ias_phone", "Information, advice and support service: phone", 40),
    ("ias_email", "Information, advice and support service: email", 254),
    ("ias_web", "Information, advice and support service: website", 300),
    ("dr_name", "Disagreement resolution service: name", 200),
    ("dr_phone", "Disagreement resolution service: phone", 40),
    ("dr_email", "Disagreement resolution service: email", 254),
    ("dr_web", "Disagreement resolution service: website", 300),
    ("signatory_name", "Who signs the letters: name", 200),
    ("signatory_role", "Who signs the letters: job title", 200),
)

#: What a council gets before it edits anything: real bodies with national fall-backs.
CONTACT_DEFAULTS: dict[str, str] = {
    "mediation_org": "", "mediation_phone": "", "mediation_email": "", "mediation_web": "",
    "ias_name": "Your local SEND Information, Advice and Support Service (SENDIASS)",
    "ias_phone": "", "ias_email": "", "ias_web": "https://councilfordisabledchildren.org.uk/iasp-network",
    "dr_name": "", "dr_phone": "", "dr_email": "", "dr_web": "",
    "signatory_name": "", "signatory_role": "SEND Team",
}


class LetterTemplate(TenantScoped, Base):
    """A council's decision-letter template: one row per council (created on first save).

    Only the council's own words and contacts live here; the statutory block is code
    (:func:`compose_letter`) so that no edit can take a family's rights out of a letter.
    """

    __tablename__ = "letter_template"
    __table_args__ = (Index("uq_letter_template_tenant_id", "tenant_id", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    #: {decision key: the council's opening text}; a missing key means the default text.
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    mediation_org: Mapped[str] = mapped_column(String(200), default="")
    mediation_phone: Mapped[str] = mapped_column(String(40), default="")
    mediation_email: Mapped[str] = mapped_column(String(254), default="")
    mediation_web: Mapped[str] = mapped_column(String(300), default="")
    ias_name: Mapped[str] = mapped_column(String(200), default="")
    ias_phone: Mapped[str] = mapped_column(String(40), default="")
    ias_email: Mapped[str] = mapped_column(String(254), default="")
    ias_web: Mapped[str] = mapped_column(String(300), default="")
    dr_name: Mapped[str] = mapped_column(String(200), default="")
    dr_phone: Mapped[str] = mapped_column(String(40), default="")
    dr_email: Mapped[str] = mapped_column(String(254), default="")
    dr_web: Mapped[str] = mapped_column(String(300), default="")
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_role: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), default=None)

    def text_for(self, decision: str) -> str:
        """The council's text for ``decision`` (the default when it never set one)."""
        texts = self.texts or {}
        return str(texts[decision]) if decision in texts else DECISIONS[decision].default_text


def _default_template() -> LetterTemplate:
    return LetterTemplate(texts={}, **CONTACT_DEFAULTS)


def template_of_council() -> LetterTemplate:
    """The current council's template, or the defaults (unsaved) when it has none yet."""
    row = db.session.execute(select(LetterTemplate)).scalar_one_or_none()
    return row if row is not None else _default_template()


def save_template(actor: Actor, values: Mapping[str, Any]) -> LetterTemplate:
    """Save the council's template (``letters.manage``). ``values`` holds ``text_<decision>``
    and the :data:`CONTACT_FIELDS`; raises :class:`ValidationFailed` and saves nothing on
    bad input. An empty text is allowed: the statutory block is always there."""
    if not actor.can(permissions.LETTERS_MANAGE):
        raise Forbidden(permissions.LETTERS_MANAGE)
    errors: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for key in DECISIONS:
        value = str(values.get(f"text_{key}") or "").replace("\r\n", "\n").strip()
        if len(value) > 5000:
            errors[f"text_{key}"] = ["The text must be 5,000 characters or fewer"]
        texts[key] = value
    contacts: dict[str, str] = {}
    for name, label, limit in CONTACT_FIELDS:
        value = " ".join(str(values.get(name) or "").split())
        if len(value) > limit:
            errors[name] = [f"{label} must be {limit} characters or fewer"]
        elif name.endswith("_email") and value and ("@" not in value or " " in value):
            errors[name] = [f"Enter {label.split(':')[0].lower()}'s email address in the correct format, "
                            "like name@example.org"]
        elif name.endswith("_web") and value and not value.startswith(("https://", "http://")):
            errors[name] = [f"Enter {label.split(':')[0].lower()}'s website as a full address starting "
                            "with https://"]
        contacts[name] = value
    if not contacts["mediation_org"]:
        # Reg 32(2)(b): the letter must say how to contact the mediation adviser.
        errors["mediation_org"] = ["Enter the organisation that gives mediation advice: every letter must say "
                                   "who the family contacts (SEND Regulations 2014 reg 32)"]
    elif not (contacts["mediation_phone"] or contacts["mediation_email"] or contacts["mediation_web"]):
        errors["mediation_phone"] = ["Enter at least one way to contact the mediation adviser: phone, email "
                                     "or website"]
    if errors:
        raise ValidationFailed(errors)
    row = db.session.execute(select(LetterTemplate)).scalar_one_or_none()
    if row is None:
        row = LetterTemplate()
        db.session.add(row)
    row.texts = texts
    for name, value in contacts.items():
        setattr(row, name, value)
    row.updated_by = actor.id
    db.session.flush()
    return row


def demo_template(council_name: str) -> dict[str, str]:
    """Made-up contacts for a demo council's template (example.org addresses and Ofcom's
    numbers for drama, 01632 960xxx), with the default texts."""
    slug = council_name.split()[0].lower()
    return {
        **{f"text_{k}": d.default_text for k, d in DECISIONS.items()},
        "mediation_org": f"{council_name.split()[0]} Family Mediation Service", "mediation_phone": "01632 960 101",
        "mediation_email": f"mediation@{slug}-mediation.example.org", "mediation_web": "",
        "ias_name": f"{council_name.split()[0]} SENDIASS", "ias_phone": "01632 960 202",
        "ias_email": f"help@{slug}-sendiass.example.org", "ias_web": f"https://{slug}-sendiass.example.org",
        "dr_name": f"{council_name.split()[0]} Disagreement Resolution Service", "dr_phone": "01632 960 303",
        "dr_email": "", "dr_web": "",
        "signatory_name": "", "signatory_role": f"SEND Team, {council_name}",
    }


# ---------------------------------------------------------------------------------------
# Composing a letter


@dataclass(frozen=True)
class Contact:
    heading: str
    name: str
    phone: str = ""
    email: str = ""
    web: str = ""

    @property
    def lines(self) -> list[tuple[str, str]]:
        return [(label, value) for label, value in (("Phone", self.phone), ("Email", self.email),
                                                    ("Website", self.web)) if value]


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: list[str]
    contact: Contact | None = None


@dataclass(frozen=True)
class Letter:
    council_name: str
    decision: DecisionKind
    sent_on: dt.date
    recipient: str
    child_name: str
    child_dob: dt.date | None
    #: The council's text (template) and the caseworker's reasons, as paragraphs.
    council_paragraphs: list[str]
    reasons: list[str]
    #: The statutory block: never empty, whatever the template says.
    rights: list[Section]
    appeal_by: dt.date
    adviser_by: dt.date
    signatory_name: str
    signatory_role: str
    citations: str
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.decision.title}: {self.child_name}"


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def _fill(text: str, *, child_name: str, council_name: str) -> str:
    # Plain replacement of the two placeholders only: no format strings from a template.
    return text.replace("{child_name}", child_name).replace("{council_name}", council_name)


def appeal_dates(decision: str, sent_on: dt.date, *,
                 policy: TimescalePolicy | None = None) -> tuple[dt.date, dt.date, dt.date]:
    """(adviser_by, appeal_by, raw_two_months) for a letter sent on ``sent_on``, from the
    timescale engine on a hypothetical case holding only this letter. At sending no mediation
    certificate exists, so the appeal date is the 2-month limit after the Tribunal's roll rules
    (HESC r.20(1)(c), r.12); the letter explains the 1-month-from-certificate extension."""
    deadlines = compute_deadlines([{"type": "decision_letter_sent", "date": sent_on.isoformat(), "decision": decision}],
                                  today=sent_on, policy=policy)
    found = {d.key: d for d in deadlines}
    return (found["mediation_adviser_contact"].last_compliant_day, found["appeal_deadline"].last_compliant_day,
            add_months(sent_on, 2))


def _rights(decision: str, *, sent_on: dt.date, adviser_by: dt.date, appeal_by: dt.date, raw: dt.date,
            template: LetterTemplate, council_name: str) -> tuple[list[Section], list[str]]:
    notes: list[str] = []
    appeal = [
        "You have the right to appeal against this decision to the First-tier Tribunal (Special Educational "
        "Needs and Disability). The Tribunal is independent. It is not part of the council.",
        f"You must send your appeal to the Tribunal by {long_date(appeal_by)}.",
    ]
    if appeal_by != raw:
        appeal.append(f"This is 2 months from the date of this letter. The Tribunal does not count the days from "
                      f"25 December to 1 January, or any day in August, and it does not end a time limit on a weekend "
                      f"or bank holiday. So the date moves from {long_date(raw)} to {long_date(appeal_by)}.")
    else:
        appeal.append("This is 2 months from the date of this letter.")
    appeal.append("If you get a mediation certificate, you may have longer. You can appeal up to 1 month after the "
                  "date on the certificate, if that is later. The mediation adviser will tell you the date.")
    # The GOV.UK guide's address (not a phone number, which changes): check before go-live.
    appeal.append("You can find out how to appeal at https://www.gov.uk/special-educational-needs-disability-tribunal")
    if decision == "cease":
        # CFA 2014 s45(2)-(3) and reg 31: the plan is maintained while the family can appeal
        # and until an appeal is finally decided. Saying so protects the provision.
        appeal.append("We will keep the EHC plan, and the help in it, in place until the time for appealing has "
                      "passed. If you appeal, the plan stays in place until the Tribunal has decided.")
    mediation = [
        f"Before you can appeal, you must contact the mediation adviser. You must do this by "
        f"{long_date(adviser_by)}. That is 2 months from the date of this letter.",
        "Tell the adviser that you want to appeal. Tell them if you want to try mediation.",
        "Mediation is your choice. You do not have to take part. If you do not want mediation, the adviser will "
        "give you a certificate within 3 working days. You need the certificate to appeal.",
        f"If you want mediation, tell us at {council_name}. Tell us what you disagree with. If it is about health "
        "care, tell us what health care you want. Mediation must then happen within 30 days. It is free.",
    ]
    if decision == "plan_content":
        # CFA 2014 s55(3): no certificate is needed for an appeal only about the school or
        # type of school named (section I).
        mediation.append("You do not need to contact the mediation adviser if your appeal is only about the school, "
                         "college or type of place named in section I of the plan.")
    adviser = Contact("Mediation adviser", template.mediation_org, template.mediation_phone, template.mediation_email,
                      template.mediation_web)
    if not template.mediation_org:
        notes.append("The council has not yet added its mediation adviser to the letter template.")
        adviser = Contact("Mediation adviser", f"Contact {council_name} and ask for the mediation adviser's details")
    ias = Contact("Free advice and support", template.ias_name or CONTACT_DEFAULTS["ias_name"], template.ias_phone,
                  template.ias_email, template.ias_web or ("" if template.ias_name else CONTACT_DEFAULTS["ias_web"]))
    dr_name = template.dr_name or f"Ask {council_name} for the local disagreement resolution service"
    sections = [
        Section("If you disagree: your right to appeal", appeal),
        Section("Before you appeal: talk to the mediation adviser", mediation,
                Contact(adviser.heading, adviser.name, adviser.phone, adviser.email, adviser.web)),
        Section("Free, independent advice and support", [
            "A free service can help you understand this decision and what you can do next. It is independent "
            "of the council. It can help you with mediation and with an appeal.",
        ], ias),
        Section("Other ways to sort out a disagreement", [
            "A disagreement resolution service can help you, us, a school or health services talk and agree. It is "
            "free, independent and your choice.",
            "Using it does not affect your right to appeal. It does not stop the time limit for appealing.",
        ], Contact("Disagreement resolution service", dr_name, template.dr_phone, template.dr_email, template.dr_web)),
    ]
    return sections, notes


CITATIONS = ("The law: Children and Families Act 2014 sections 32, 51, 52 to 55 and 57; Special Educational Needs "
             "and Disability Regulations 2014 regulations 32 and 33; Tribunal Procedure (First-tier Tribunal) "
             "(Health, Education and Social Care Chamber) Rules 2008 rule 20; SEND Code of Practice chapter 11.")


def compose_letter(template: LetterTemplate, *, decision: str, sent_on: dt.date, child: Child, recipient: str,
                   reasons: str, council_name: str, policy: TimescalePolicy | None = None) -> Letter:
    """The letter for ``decision`` sent on ``sent_on``: the council's text, then the
    statutory block, which is built here whatever the template holds."""
    if decision not in DECISIONS:
        raise ValidationFailed({"decision": ["Choose the decision this letter tells the family about"]})
    kind = DECISIONS[decision]
    adviser_by, appeal_by, raw = appeal_dates(decision, sent_on, policy=policy)
    name = child.full_name
    rights, notes = _rights(decision, sent_on=sent_on, adviser_by=adviser_by, appeal_by=appeal_by, raw=raw,
                            template=template, council_name=council_name)
    return Letter(
        council_name=council_name, decision=kind, sent_on=sent_on, recipient=recipient.strip(), child_name=name,
        child_dob=child.date_of_birth,
        council_paragraphs=_paragraphs(_fill(template.text_for(decision), child_name=name, council_name=council_name)),
        reasons=_paragraphs(reasons), rights=rights, appeal_by=appeal_by, adviser_by=adviser_by,
        signatory_name=template.signatory_name, signatory_role=template.signatory_role or council_name,
        citations=CITATIONS, notes=notes,
    )


# ---------------------------------------------------------------------------------------
# The accessible PDF

_CSS = """
@page { size: A4; margin: 20mm 18mm 22mm; @bottom-right { content: "Page " counter(page) " of " counter(pages);
        font: 9pt "DejaVu Sans", sans-serif; color: #505a5f; } }
body { font: 12pt/1.5 "DejaVu Sans", Arial, sans-serif; color: #0b0c0c; }
h1 { font-size: 18pt; margin: 6mm 0 4mm; }
h2 { font-size: 14pt; margin: 7mm 0 2mm; break-after: avoid; }
p { margin: 0 0 3mm; }
.council { font-weight: bold; font-size: 14pt; margin: 0; }
.rights { border-left: 4px solid #1d70b8; padding-left: 5mm; }
.small { font-size: 10pt; color: #505a5f; }
dl { margin: 0 0 3mm; }
dt { font-weight: bold; float: left; width: 28mm; clear: left; }
dd { margin: 0 0 1mm 30mm; }
"""


def _contact_html(contact: Contact) -> str:
    rows = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in contact.lines)
    return f"<p><strong>{escape(contact.name)}</strong></p>" + (f"<dl>{rows}</dl>" if rows else "")


def letter_html(letter: Letter) -> str:
    """The letter as an HTML document for WeasyPrint: a language, a title, real headings."""
    p = lambda text: f"<p>{escape(text)}</p>"  # noqa: E731
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(letter.title)}</title>",
        f'<meta name="author" content="{escape(letter.council_name)}">',
        f'<meta name="description" content="{escape(letter.decision.title)}">',
        f"<style>{_CSS}</style></head><body><header>",
        f'<p class="council">{escape(letter.council_name)}</p>',
        p(long_date(letter.sent_on)),
        f"<p>About: {escape(letter.child_name)}"
        + (f", born {letter.child_dob.day} {letter.child_dob:%B %Y}" if letter.child_dob else "") + "</p>",
        "</header><main>",
        f"<h1>{escape(letter.decision.title)}</h1>",
        p(f"Dear {letter.recipient},"),
        *[p(x) for x in letter.council_paragraphs],
    ]
    if letter.reasons:
        parts += ["<h2>Our reasons</h2>", *[p(x) for x in letter.reasons]]
    parts.append('<section class="rights">')
    for section in letter.rights:
        parts.append(f"<h2>{escape(section.heading)}</h2>")
        parts += [p(x) for x in section.paragraphs]
        if section.contact is not None:
            parts.append(_contact_html(section.contact))
    parts.append("</section>")
    parts += [p("Yours sincerely,")]
    if letter.signatory_name:
        parts.append(p(letter.signatory_name))
    parts.append(p(letter.signatory_role))
    parts.append(f'<p class="small">{escape(letter.citations)}</p>')
    parts.append("</main></body></html>")
    return "".join(parts)


def letter_text(letter: Letter) -> str:
    """All the words of the letter, for checks and plain-text copies."""
    lines = [letter.council_name, long_date(letter.sent_on), letter.decision.title, f"Dear {letter.recipient},",
             *letter.council_paragraphs]
    if letter.reasons:
        lines += ["Our reasons", *letter.reasons]
    for section in letter.rights:
        lines += [section.heading, *section.paragraphs]
        if section.contact is not None:
            lines += [section.contact.name, *[f"{k}: {v}" for k, v in section.contact.lines]]
    lines += ["Yours sincerely,", letter.signatory_name, letter.signatory_role, letter.citations]
    return "\n".join(x for x in lines if x)


# ---------------------------------------------------------------------------------------
# Sending


LETTER_TITLE = "Decision letter: "


def available_decisions(case: Case, *, today: dt.date | None = None) -> list[DecisionKind]:
    """The decisions a letter can announce on ``case`` now (the workflow's order rules)."""
    events = cases.events_of(case)
    day = (today or clock.today()).isoformat()
    found = []
    for kind in DECISIONS.values():
        try:
            check_next_event(events, {"type": "decision_letter_sent", "date": day, "decision": kind.key},
                             today=today or clock.today())
        except WorkflowRefusal:
            continue
        found.append(kind)
    return found


def default_recipient(child: Child, *, today: dt.date | None = None) -> str:
    """Who the letter goes to: a young person (over compulsory school age) themselves, since
    the rights to mediation and appeal are then theirs (CFA 2014 ss51, 83(2)); otherwise those
    with parental responsibility, else "parent or carer"."""
    from core.cases.reviews import is_young_person

    if child.date_of_birth is not None and is_young_person(child.date_of_birth, today or clock.today()):
        return child.full_name
    names = [f"{c.given_name} {c.family_name}" for c in child.contacts if c.parental_responsibility]
    return " and ".join(names) or "parent or carer"


@dataclass(frozen=True)
class SentLetter:
    event: CaseEvent
    document: Document
    letter: Letter


def check_letter_input(*, decision: str, sent_on: dt.date | None, recipient: str, reasons: str,
                       today: dt.date) -> None:
    """Raise :class:`ValidationFailed` for a letter that cannot be sent as asked."""
    errors: dict[str, list[str]] = {}
    if decision not in DECISIONS:
        errors["decision"] = ["Choose the decision this letter tells the family about"]
    if sent_on is None:
        errors["sent_on"] = ["Enter the date the letter is sent"]
    elif sent_on > today:
        errors["sent_on"] = ["The date the letter is sent must be today or in the past"]
    if not recipient.strip():
        errors["recipient"] = ["Enter who the letter is to"]
    elif len(recipient) > 200:
        errors["recipient"] = ["Who the letter is to must be 200 characters or fewer"]
    if not reasons.strip():
        # The family needs the reasons to decide whether to appeal (CoP 9.16, 9.61, 11.47).
        errors["reasons"] = ["Enter the reasons for the decision"]
    elif len(reasons) > 10000:
        errors["reasons"] = ["The reasons must be 10,000 characters or fewer"]
    if errors:
        raise ValidationFailed(errors)


def send_decision_letter(actor: Actor, case: Case, *, decision: str, sent_on: dt.date, recipient: str, reasons: str,
                         council_name: str, policy: TimescalePolicy, today: dt.date | None = None) -> SentLetter:
    """Record ``decision_letter_sent`` and store the letter's PDF on the case, together.

    ``case`` was accessed for write. Raises :class:`ValidationFailed` (bad input) or
    :class:`Conflict` (the decision has not been recorded yet); the caller's transaction then
    rolls back, so neither the event nor the document stays.
    """
    if not actor.can(permissions.DISAGREEMENTS_WRITE):
        raise Forbidden(permissions.DISAGREEMENTS_WRITE)
    today = today or clock.today()
    check_letter_input(decision=decision, sent_on=sent_on, recipient=recipient, reasons=reasons, today=today)
    child = db.session.get(Child, case.child_id)
    assert child is not None
    letter = compose_letter(template_of_council(), decision=decision, sent_on=sent_on, child=child,
                            recipient=recipient, reasons=reasons, council_name=council_name, policy=policy)
    # The event first: if the workflow refuses it (409), no PDF is made or stored.
    event = cases.record_event(actor, case, {"type": "decision_letter_sent", "date": sent_on.isoformat(),
                                             "decision": decision}, policy=policy, today=today)
    # Imported here: the PDF and documents modules pull WeasyPrint and the store in.
    from core.documents.services import sniff, store_document
    from core.plans.pdf import render_pdf

    data = render_pdf(letter_html(letter))
    document = store_document(
        actor, child_id=child.id, case_id=case.id, kind="decision_letter",
        title=f"{LETTER_TITLE}{DECISIONS[decision].name} ({sent_on.day} {sent_on:%B %Y})"[:200],
        filename=f"Decision letter {child.full_name} {sent_on.isoformat()}.pdf", data=data,
        trusted_type=sniff(b"%PDF-"), permission=permissions.DISAGREEMENTS_WRITE)
    return SentLetter(event=event, document=document, letter=letter)


def sent_letters(case: Case) -> list[Document]:
    """The decision letters stored on ``case``, newest first."""
    return list(db.session.execute(
        select(Document).where(Document.case_id == case.id, Document.title.like(f"{LETTER_TITLE}%"))
        .order_by(Document.created_at.desc())).scalars())


__all__ = ["DECISIONS", "LetterTemplate", "Letter", "compose_letter", "send_decision_letter", "template_of_council",
           "save_template", "letter_html", "letter_text", "appeal_dates", "available_decisions", "sent_letters"]
