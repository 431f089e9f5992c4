"""Annual reviews of EHC plans (issue #3 item 6): the meeting, who is invited, the papers,
the report, the council's decision, preparing for adulthood from Year 9, and the under-5
guidance (statutory-rules.md sections 2.2 and 5; SEND Regs 2014 regs 18-22; CoP 8.9ff, 9.166ff).

Every step the law puts a clock on is recorded as a case event through
:func:`core.cases.services.record_event`, so the timescale engine derives the clocks
(notice and papers counted back from the meeting, report and decision forward from it) and
the workflow refuses steps that cannot happen. Each event carries ``review_meeting_id``, an
attribute outside the api-v1 vocabulary (which the engine ignores), so a meeting page knows
which steps are its own. What is not an event (who is invited, the preparing-for-adulthood
checklist) lives on the :class:`ReviewMeeting` row and every change is audited against the
child.

Readings of the law chosen here. Where the text allows more than one, we take the one that
protects the child, young person or family:

1. **Preparing for adulthood from Year 9** (reg 20(6), 21(6); CoP 8.9ff, 9.176). The review
   meeting "in year 9 and after" must consider preparation for adulthood. We read it as:
   * the year group is the National Curriculum year on the day of the meeting
     (:func:`core.clock.academic_year_group`); if the meeting moves, the checklist is
     required if the child is in Year 9 or above on **either** the day it was arranged for
     or the day it was actually held -- a meeting pushed from late August into September is
     not let off, and one brought forward from September into August still counts;
   * "considered" means all four outcomes of CoP 8.9 (paid employment and higher
     education, independent living, friends, relationships and community participation,
     good health) were discussed, with a note of what was said. Ticking three of four is not
     a Year 9 review;
   * the meeting cannot be recorded as held until the checklist is complete, and once held
     the checklist cannot be emptied again. Before Year 9 the checklist is optional
     (CoP chapter 8: "from the earliest years").
2. **Invitees** (reg 20(2)). Everyone with parental responsibility who is a contact of the
   child is suggested, not just one parent (each "parent" in Education Act 1996 s576 has the
   right to take part). For a young person (over compulsory school age: after the last
   Friday in June of Year 11) the young person is invited in their own right and parents are
   not added for them: the rights are the young person's (CFA 2014 s80 and CoP 8.13ff).
   Invitations cannot be recorded as sent unless the parent or young person is on the list.
3. **The papers** (reg 20(4)): "sent" is recorded only once at least one paper is stored
   against the meeting, so there is a record of what the family was sent.
4. **The decision** (reg 20(10)) follows the meeting; a decision to cease must be preceded
   by the consultation of reg 31(1), which the caseworker confirms. A decision letter or
   amendment notice sent with the decision is recorded the same day, which is what starts
   the family's appeal and representation windows.
5. **Under 5** (CoP 9.178): the 3-6-monthly review is guidance. It is shown, labelled as
   guidance, and never blocks anything or raises a "statutory" alarm.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from core import clock, permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases import services as cases
from core.cases.access import access_case
from core.cases.models import Case, Document, ReviewMeeting
from core.cases.workflow import derive_state
from core.children.models import Child, Contact, Relationship
from core.db import db, default_id
from core.documents.services import store_document
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.ids import parse_id
from core.institutions.models import InstitutionKind, Phase
from core.timescales import Deadline, TimescalePolicy, apply_corrections
from core.users.models import User

#: The four preparing-for-adulthood outcomes (CoP 8.9; reg 20(6)): key -> (title, hint).
PFA_AREAS: dict[str, tuple[str, str]] = {
    "employment": ("Paid employment and higher education",
                   "Work experience, careers advice, supported internships, apprenticeships, college or university"),
    "independent_living": ("Independent living",
                           "Where and with whom they want to live, and the support they need to do so"),
    "community_participation": ("Friends, relationships and community participation",
                                "Friendships, relationships, getting about, leisure, and having a voice"),
    "health": ("Good health",
               "Health as an adult, and moving from children's to adult health services"),
}
PFA_NOTES_MAX = 2000
#: The year from which preparing for adulthood must be on the agenda (reg 20(6)).
PFA_FROM_YEAR = 9

#: Who may be invited (reg 20(2)); "other" covers anyone else the council or family asks for.
INVITEE_ROLES: dict[str, str] = {
    "parent": "Parent",
    "young_person": "Young person",
    "head_teacher": "Head teacher",
    "principal": "Principal",
    "early_years_provider": "Early years provider",
    "la_sen_officer": "Council SEN officer",
    "health_professional": "Health care professional (nominated by the ICB)",
    "la_social_care": "Council social care officer",
    "other": "Other",
}
#: reg 20(2): the kinds of people who must be invited, for the "who is missing" hint.
REQUIRED_ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "The parent or young person": ("parent", "young_person"),
    "The head teacher, principal or early years provider": ("head_teacher", "principal", "early_years_provider"),
    "A council SEN officer": ("la_sen_officer",),
    "A health care professional nominated by the ICB": ("health_professional",),
    "A council social care officer": ("la_social_care",),
}
FAMILY_ROLES = ("parent", "young_person")
INVITEE_FIELDS = ("name", "role", "organisation", "email")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Step:
    """One step of a review that the law puts a clock on."""

    key: str
    event: str
    #: The engine's deadline key the step closes (None: the meeting itself).
    deadline: str | None
    title: str
    citation: str


STEPS: dict[str, Step] = {s.key: s for s in (
    Step("invitations", "review_invitations_sent", "review_meeting_notice", "Send the invitations",
         "SEND Regs 2014 reg 20(2)-(3)"),
    Step("papers", "review_papers_sent", "review_papers_circulated", "Send the advice and information",
         "SEND Regs 2014 reg 20(4)"),
    Step("held", "review_meeting_held", None, "Hold the meeting", "SEND Regs 2014 reg 20; reg 20(6) from Year 9"),
    Step("report", "review_report_sent", "review_report_circulation", "Send the report",
         "SEND Regs 2014 reg 20(7)-(8)"),
    Step("decision", "review_decision_sent", "post_review_decision", "Send the council's decision",
         "SEND Regs 2014 reg 20(10)"),
)}
#: Steps recorded with a date alone (the decision has its own form).
DATED_STEPS = ("invitations", "papers", "held", "report")
#: The clocks of one meeting (statutory-rules.md section 2.2).
MEETING_KEYS = ("review_meeting_notice", "review_papers_circulated", "review_report_circulation",
                "post_review_decision", "amended_plan_after_review_latest")
#: Clocks a decision (and the letter or notice sent with it) starts.
FOLLOW_ON_KEYS = ("amendment_notice_representations", "amended_plan_issued", "decision_not_to_amend",
                  "mediation_adviser_contact", "appeal_deadline")
OUTCOMES: dict[str, str] = {
    "maintain": "Keep the plan as it is",
    "amend": "Change (amend) the plan",
    "cease": "Stop maintaining (cease) the plan",
}
DOCUMENT_KINDS = {"review_paper": "paper", "review_report": "report"}


# ---------------------------------------------------------------------------------------
# Dates and ages


def last_friday_of_june(year: int) -> dt.date:
    day = dt.date(year, 6, 30)
    return day - dt.timedelta(days=(day.weekday() - 4) % 7)


def is_young_person(date_of_birth: dt.date, on: dt.date) -> bool:
    """Over compulsory school age on ``on``: after the last Friday in June of the academic year
    in which they turn 16 (Year 11), CFA 2014 s83(2) and Education Act 1996 s8."""
    year = clock.academic_year_group(date_of_birth, on)
    if year >= 12:
        return True
    if year < 11:
        return False
    summer = on.year if on.month <= 8 else on.year + 1
    return on > last_friday_of_june(summer)


def pfa_required(date_of_birth: dt.date, *days: dt.date | None) -> bool:
    """Reg 20(6): preparing for adulthood must be considered if the child is in Year 9 or above
    on any of ``days`` (the date the meeting was arranged for, the date it was held)."""
    return any(clock.academic_year_group(date_of_birth, d) >= PFA_FROM_YEAR for d in days if d is not None)


def pfa_complete(checklist: Mapping[str, Any] | None) -> bool:
    """Every CoP 8.9 outcome discussed, with a note of what was said."""
    checklist = checklist or {}
    return all(isinstance(checklist.get(k), Mapping) and checklist[k].get("discussed") is True
               and str(checklist[k].get("notes") or "").strip() for k in PFA_AREAS)


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(permission)


# ---------------------------------------------------------------------------------------
# Finding meetings


def access_meeting(actor: Actor, meeting_id: uuid.UUID | str, *, for_write: bool = False) -> ReviewMeeting:
    """The review meeting with ``meeting_id`` if ``actor`` may see its case (or change it).

    The same :class:`NotFound` for a malformed id, a missing meeting, another council's
    meeting and one whose case the actor may not read or write. Reads are recorded against
    the child (``case.viewed``, by :func:`access_case`).
    """
    mid = parse_id(meeting_id)
    if mid is None:
        raise NotFound("review meeting")
    if not actor.can(permissions.CASES_READ):
        raise NotFound("review meeting")
    if for_write and not actor.can(permissions.CASES_WRITE):
        raise NotFound("review meeting")
    meeting = db.session.get(ReviewMeeting, mid)  # tenant-filtered by the ORM criterion and by RLS
    if meeting is None:
        raise NotFound("review meeting")
    if meeting.tenant_id != actor.tenant_id:  # unreachable while layers 2 and 3 hold
        raise AssertionError("tenant mismatch")
    try:
        access_case(actor, meeting.case_id, for_write=for_write)
    except NotFound:
        raise NotFound("review meeting") from None
    return meeting


def meetings_of(case: Case) -> list[ReviewMeeting]:
    """A case's review meetings (the case already accessed), newest first."""
    return list(db.session.execute(
        select(ReviewMeeting).where(ReviewMeeting.case_id == case.id)
        .order_by(ReviewMeeting.meeting_on.desc(), ReviewMeeting.created_at.desc())).scalars())


def case_of(meeting: ReviewMeeting) -> Case:
    case = db.session.get(Case, meeting.case_id)
    assert case is not None  # a foreign key
    return case


def child_of(case: Case) -> Child:
    child = db.session.get(Child, case.child_id)
    assert child is not None  # a foreign key
    return child


def _current_events(case: Case) -> list[Mapping[str, Any]]:
    return [event for _, event in apply_corrections(cases.events_of(case))]


def meeting_events(case: Case, meeting: ReviewMeeting) -> dict[str, Mapping[str, Any]]:
    """The meeting's own steps (corrections applied): event type -> the latest such event."""
    out: dict[str, Mapping[str, Any]] = {}
    for event in _current_events(case):
        if event.get("review_meeting_id") == str(meeting.id):
            out[event["type"]] = event
    return out


def _held_on(events: Mapping[str, Mapping[str, Any]]) -> dt.date | None:
    held = events.get("review_meeting_held")
    return dt.date.fromisoformat(held["date"]) if held else None


def _scheduled_for(events: Mapping[str, Mapping[str, Any]]) -> dt.date | None:
    scheduled = events.get("review_meeting_scheduled")
    return dt.date.fromisoformat(scheduled["meeting_on"]) if scheduled and scheduled.get("meeting_on") else None


def documents_of(meeting: ReviewMeeting) -> list[Document]:
    """Papers and reports stored against the meeting, oldest first."""
    return list(db.session.execute(
        select(Document).where(Document.review_meeting_id == meeting.id)
        .order_by(Document.created_at, Document.id)).scalars())


# ---------------------------------------------------------------------------------------
# Invitees (reg 20(2))


def _invitee(name: str, role: str, organisation: str = "", email: str = "") -> dict[str, str]:
    return {"id": uuid.uuid4().hex[:12], "name": name, "role": role, "organisation": organisation, "email": email}


def _setting_role(kind: InstitutionKind, phase: Phase) -> str:
    if kind == InstitutionKind.EARLY_YEARS or phase == Phase.NURSERY:
        return "early_years_provider"
    if kind in (InstitutionKind.FURTHER_EDUCATION, InstitutionKind.SIXTH_FORM, InstitutionKind.SPECIALIST_POST16) \
            or phase == Phase.SIXTEEN_PLUS:
        return "principal"
    return "head_teacher"


def suggest_invitees(case: Case, *, on: dt.date, council_name: str = "") -> list[dict[str, str]]:
    """Who reg 20(2) says to invite to a review meeting on ``on``, from what the council holds.

    * a child's parents: every contact with parental responsibility (each is a "parent");
      a young person (over compulsory school age on ``on``): the young person themselves;
    * the head teacher, principal or early years provider of each current setting;
    * a council SEN officer: the case's caseworker, when there is one;
    * a health care professional nominated by the ICB (not known here: a gap to fill);
    * a council social care officer: a social worker contact, else a gap to fill.
    The caseworker can change every entry.
    """
    child = child_of(case)
    out: list[dict[str, str]] = []
    if is_young_person(child.date_of_birth, on):
        out.append(_invitee(child.full_name, "young_person"))
    else:
        for contact in child.contacts:
            if contact.parental_responsibility:
                out.append(_invitee(contact.full_name, "parent", "", contact.email or ""))
        if not any(i["role"] == "parent" for i in out):
            out.append(_invitee("", "parent"))
    # The settings on the day of the meeting; for a meeting far ahead, where they are now.
    settings = [p for p in child.placements if p.is_current(on)] or \
        [p for p in child.placements if p.is_current(clock.today())]
    for placement in settings:
        inst = placement.institution
        out.append(_invitee("", _setting_role(inst.kind, inst.phase), inst.name))
    if not settings:
        out.append(_invitee("", "head_teacher"))
    caseworker = db.session.get(User, case.caseworker_id) if case.caseworker_id else None
    if caseworker is not None and caseworker.active:
        out.append(_invitee(caseworker.display_name, "la_sen_officer", council_name, caseworker.email))
    else:
        out.append(_invitee("", "la_sen_officer", council_name))
    out.append(_invitee("", "health_professional", "Integrated care board"))
    social = [c for c in child.contacts if c.relationship_to_child == Relationship.SOCIAL_WORKER]
    for contact in social:
        out.append(_invitee(contact.full_name, "la_social_care", council_name, contact.email or ""))
    # The child's circumstances (CoP ch.10; issue 6): a looked-after child's social worker,
    # virtual school head and designated teacher, a detained young person's YOT and establishment.
    from core.circumstances.invitees import circumstance_invitees  # noqa: PLC0415  (no import cycle)

    known = {(c.email or "").lower() for c in social if c.email}
    extra = [i for i in circumstance_invitees(child.id, on) if not i["email"] or i["email"].lower() not in known]
    out.extend(_invitee(i["name"], i["role"], i["organisation"], i["email"]) for i in extra)
    if not social and not any(i["role"] == "la_social_care" for i in extra):
        out.append(_invitee("", "la_social_care", council_name))
    return out


def validate_invitee(data: Mapping[str, Any]) -> dict[str, str]:
    """An invitee from a form: role required, a name or an organisation, a well-formed email."""
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in INVITEE_FIELDS:
            errors.setdefault(key, []).append("Unknown field")
    out = {k: " ".join(str(data.get(k) or "").split()) for k in INVITEE_FIELDS}
    if out["role"] not in INVITEE_ROLES:
        errors.setdefault("role", []).append("Select their role at the meeting")
    if not out["name"] and not out["organisation"]:
        errors.setdefault("name", []).append("Enter their name, or the organisation they come from")
    if len(out["name"]) > 120:
        errors.setdefault("name", []).append("The name must be 120 characters or fewer")
    if len(out["organisation"]) > 200:
        errors.setdefault("organisation", []).append("The organisation must be 200 characters or fewer")
    if out["email"] and (len(out["email"]) > 254 or not _EMAIL.match(out["email"])):
        errors.setdefault("email", []).append("Enter an email address in the correct format, like name@example.com")
    if errors:
        raise ValidationFailed(errors)
    return out


def _audit_meeting(actor: Actor, meeting: ReviewMeeting, action: str, fields: Sequence[str] = ()) -> None:
    case = case_of(meeting)
    audit.record(actor, action, subject_type="child", subject_ids=[case.child_id], object_type="review_meeting",
                 object_id=meeting.id, fields=fields)


def find_invitee(meeting: ReviewMeeting, invitee_id: str) -> dict[str, str]:
    for invitee in meeting.invitees or []:
        if isinstance(invitee, Mapping) and invitee.get("id") == invitee_id:
            return dict(invitee)
    raise NotFound("invitee")


def _check_invitees_editable(meeting: ReviewMeeting) -> None:
    events = meeting_events(case_of(meeting), meeting)
    if "review_meeting_held" in events:
        raise Conflict("The meeting has been held: the list of who was invited is now part of the record",
                       field="name")


def add_invitee(actor: Actor, meeting: ReviewMeeting, data: Mapping[str, Any]) -> dict[str, str]:
    """Add someone to the meeting's invitees (meeting accessed for write). Audited."""
    _require(actor, permissions.CASES_WRITE)
    values = validate_invitee(data)
    _check_invitees_editable(meeting)
    invitee = {"id": uuid.uuid4().hex[:12], **values}
    meeting.invitees = [*(meeting.invitees or []), invitee]  # a new list: JSON columns track assignment
    _audit_meeting(actor, meeting, "review_meeting.invitee_added", [values["role"]])
    return invitee


def change_invitee(actor: Actor, meeting: ReviewMeeting, invitee_id: str, data: Mapping[str, Any]) -> dict[str, str]:
    """Change one invitee. Audited with the names of the fields that changed."""
    _require(actor, permissions.CASES_WRITE)
    old = find_invitee(meeting, invitee_id)
    values = validate_invitee(data)
    _check_invitees_editable(meeting)
    new = {**old, **values}
    meeting.invitees = [new if i.get("id") == invitee_id else i for i in meeting.invitees]
    _audit_meeting(actor, meeting, "review_meeting.invitee_changed", [k for k in INVITEE_FIELDS if old.get(k) != new[k]])
    return new


def remove_invitee(actor: Actor, meeting: ReviewMeeting, invitee_id: str) -> dict[str, str]:
    """Take one invitee off the list. Audited."""
    _require(actor, permissions.CASES_WRITE)
    old = find_invitee(meeting, invitee_id)
    _check_invitees_editable(meeting)
    meeting.invitees = [i for i in meeting.invitees if i.get("id") != invitee_id]
    _audit_meeting(actor, meeting, "review_meeting.invitee_removed", [old.get("role", "")])
    return old


def missing_roles(invitees: Sequence[Mapping[str, Any]]) -> list[str]:
    """The reg 20(2) kinds of people with nobody on the list (named or not)."""
    roles = {i.get("role") for i in invitees}
    return [label for label, group in REQUIRED_ROLE_GROUPS.items() if not roles & set(group)]


def unnamed_invitees(invitees: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 for i in invitees if not i.get("name"))


# ---------------------------------------------------------------------------------------
# Scheduling


def schedule_meeting(actor: Actor, case: Case, *, meeting_on: dt.date, policy: TimescalePolicy,
                     today: dt.date | None = None, council_name: str = "") -> ReviewMeeting:
    """Arrange a review meeting on ``meeting_on`` for ``case`` (accessed for write).

    Records ``review_meeting_scheduled`` (dated today, ``meeting_on`` as given), so the
    engine shows the reg 20(3)-(4) notice and papers deadlines counted back from the meeting,
    and suggests the reg 20(2) invitees. Refused (:class:`Conflict`) without an issued plan,
    or while another meeting of the case is arranged and not yet held.
    """
    _require(actor, permissions.CASES_WRITE)
    today = today or clock.today()
    if meeting_on < today - dt.timedelta(days=366) or meeting_on > today + dt.timedelta(days=731):
        raise ValidationFailed({"meeting_on": ["The meeting date must be within a year before and two years after today"]})
    if not derive_state(cases.events_of(case)).has_plan:
        raise Conflict("A review needs an issued EHC plan on this case", field="meeting_on")
    for other in meetings_of(case):
        if "review_meeting_held" not in meeting_events(case, other):
            raise Conflict(f"A review meeting is already arranged for {other.meeting_on.strftime('%-d %B %Y')}: "
                           "record it as held before arranging another", field="meeting_on")
    # The event first (it is the step the workflow may refuse), then the row it points at:
    # a refusal leaves nothing behind.
    meeting_id = default_id()
    cases.record_event(actor, case, {"type": "review_meeting_scheduled", "date": today.isoformat(),
                                     "meeting_on": meeting_on.isoformat(), "review_meeting_id": str(meeting_id)},
                       policy=policy, today=today)
    meeting = ReviewMeeting(id=meeting_id, case_id=case.id, meeting_on=meeting_on,
                            invitees=suggest_invitees(case, on=meeting_on, council_name=council_name))
    db.session.add(meeting)
    db.session.flush()
    audit.record(actor, "review_meeting.scheduled", subject_type="child", subject_ids=[case.child_id],
                 object_type="review_meeting", object_id=meeting.id, fields=["meeting_on", "invitees"])
    return meeting


# ---------------------------------------------------------------------------------------
# Preparing for adulthood (reg 20(6))


def validate_pfa(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{area: notes}`` from a form to the stored checklist; an area with notes was discussed."""
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in PFA_AREAS:
            errors.setdefault(key, []).append("Unknown field")
    out: dict[str, dict[str, Any]] = {}
    for key, (title, _) in PFA_AREAS.items():
        notes = str(data.get(key) or "").strip()
        if len(notes) > PFA_NOTES_MAX:
            errors.setdefault(key, []).append(f"The notes on {title.lower()} must be {PFA_NOTES_MAX} characters or fewer")
        out[key] = {"discussed": bool(notes), "notes": notes}
    if errors:
        raise ValidationFailed(errors)
    return out


def save_pfa(actor: Actor, meeting: ReviewMeeting, data: Mapping[str, Any]) -> list[str]:
    """Save the preparing-for-adulthood checklist; returns the areas that changed. Audited.

    Once a meeting that needed it has been held, every area must stay discussed: the
    record of a Year 9+ review cannot lose its preparing-for-adulthood part.
    """
    _require(actor, permissions.CASES_WRITE)
    checklist = validate_pfa(data)
    case = case_of(meeting)
    events = meeting_events(case, meeting)
    if "review_meeting_held" in events and pfa_required(child_of(case).date_of_birth, _scheduled_for(events),
                                                        meeting.meeting_on):
        validate_pfa_for_meeting(data, required=True)
    old = meeting.pfa_checklist or {}
    changed = [k for k in PFA_AREAS if old.get(k) != checklist[k]]
    if changed:
        meeting.pfa_checklist = checklist
        _audit_meeting(actor, meeting, "review_meeting.pfa_saved", changed)
    return changed


def validate_pfa_for_meeting(data: Mapping[str, Any], *, required: bool) -> dict[str, dict[str, Any]]:
    """:func:`validate_pfa`, and when the checklist is ``required`` every area must have notes."""
    checklist = validate_pfa(data)
    if required:
        empty = {k: [f"Record what was discussed about {title.lower()}"]
                 for k, (title, _) in PFA_AREAS.items() if not checklist[k]["discussed"]}
        if empty:
            raise ValidationFailed(empty)
    return checklist


# ---------------------------------------------------------------------------------------
# Documents


def add_document(actor: Actor, meeting: ReviewMeeting, *, kind: str, title: str, filename: str, data: bytes) -> Document:
    """Store a review paper or the review report against the meeting (audited by the
    documents service as ``document.added``)."""
    _require(actor, permissions.CASES_WRITE)
    if kind not in DOCUMENT_KINDS:
        raise ValidationFailed({"kind": ["Choose a review paper or the review report"]})
    case = case_of(meeting)
    return store_document(actor, child_id=case.child_id, case_id=case.id, kind=kind, title=title, filename=filename,
                          data=data, review_meeting_id=meeting.id)


# ---------------------------------------------------------------------------------------
# Recording the steps


def step_blocker(meeting: ReviewMeeting, step: str, *, events: Mapping[str, Mapping[str, Any]] | None = None,
                 case: Case | None = None, held_on: dt.date | None = None) -> str | None:
    """Why ``step`` cannot be recorded now (None: it can). Plain English for the page.

    ``held_on``: for ``held``, the day it is being recorded as held (if not the arranged day).
    """
    case = case or case_of(meeting)
    events = events if events is not None else meeting_events(case, meeting)
    spec = STEPS[step]
    if spec.event in events:
        done = dt.date.fromisoformat(events[spec.event]["date"])
        return f"This was recorded on {done.strftime('%-d %B %Y')}"
    docs = documents_of(meeting)
    if step == "invitations":
        if not any(i.get("role") in FAMILY_ROLES for i in meeting.invitees or []):
            return "Add the parent or young person to the invitees first: reg 20(2) says they must be invited"
    elif step == "papers":
        if not any(d.kind == "review_paper" for d in docs):
            return "Upload the advice and information that was sent (at least one paper) first"
    elif step == "held":
        child = child_of(case)
        day = held_on or meeting.meeting_on
        if pfa_required(child.date_of_birth, _scheduled_for(events), meeting.meeting_on, day) \
                and not pfa_complete(meeting.pfa_checklist):
            year = max(clock.academic_year_group(child.date_of_birth, d) for d in (meeting.meeting_on, day))
            return (f"Complete the preparing for adulthood checklist first: a review in Year 9 or later must consider "
                    f"it (SEND Regs 2014 reg 20(6)); on the day of the meeting they are in Year {year}")
    elif step == "report":
        if "review_meeting_held" not in events:
            return "Record the meeting as held first"
        if not any(d.kind == "review_report" for d in docs):
            return "Upload the review report first"
    elif step == "decision":
        if "review_meeting_held" not in events:
            return "Record the meeting as held first: the decision follows the meeting (reg 20(10))"
    return None


def record_step(actor: Actor, meeting: ReviewMeeting, step: str, on: dt.date, *, policy: TimescalePolicy,
                today: dt.date | None = None) -> None:
    """Record that a step of the review happened on ``on`` (the meeting accessed for write).

    ``step`` is ``invitations``, ``papers``, ``held`` or ``report``. Raises
    :class:`ValidationFailed` for a date that cannot be right and :class:`Conflict` when the
    step cannot be recorded now (see :func:`step_blocker`); either way nothing is stored.
    """
    _require(actor, permissions.CASES_WRITE)
    if step not in DATED_STEPS:
        raise NotFound("review step")
    today = today or clock.today()
    case = case_of(meeting)
    events = meeting_events(case, meeting)
    field_name = f"{step}_on"
    if on > today:
        raise ValidationFailed({field_name: ["The date must be today or in the past"]})
    held_on = _held_on(events)
    if step in ("invitations", "papers"):
        latest = held_on or meeting.meeting_on
        if on > latest:
            raise ValidationFailed({field_name: [f"The date must be on or before the day of the meeting "
                                                 f"({latest.strftime('%-d %B %Y')})"]})
    elif step == "held":
        earlier = [dt.date.fromisoformat(events[t]["date"]) for t in ("review_invitations_sent", "review_papers_sent")
                   if t in events]
        if earlier and on < max(earlier):
            raise ValidationFailed({field_name: [f"The meeting cannot be before the invitations and papers were sent "
                                                 f"({max(earlier).strftime('%-d %B %Y')})"]})
    elif step == "report" and held_on is not None and on < held_on:
        raise ValidationFailed({field_name: [f"The report cannot be sent before the meeting "
                                             f"({held_on.strftime('%-d %B %Y')})"]})
    blocker = step_blocker(meeting, step, events=events, case=case, held_on=on if step == "held" else None)
    if blocker:
        raise Conflict(blocker, field=field_name)
    cases.record_event(actor, case, {"type": STEPS[step].event, "date": on.isoformat(),
                                     "review_meeting_id": str(meeting.id)}, policy=policy, today=today)
    if step == "held" and on != meeting.meeting_on:
        # The meeting took place on another day: that day is the meeting date the clocks count
        # from (the engine reads the held event), and the Year 9 test above covered both days
        # (module docstring, reading 1).
        meeting.meeting_on = on
        _audit_meeting(actor, meeting, "review_meeting.date_changed", ["meeting_on"])


def record_held(actor: Actor, meeting: ReviewMeeting, on: dt.date, *, policy: TimescalePolicy,
                pfa: Mapping[str, Any] | None = None, today: dt.date | None = None) -> None:
    """Record the meeting as held on ``on``, saving the preparing-for-adulthood checklist given
    with it (``pfa``: ``{area: notes}``) first. Both or neither: if the meeting cannot be
    recorded, the checklist is not saved either. See :func:`record_step` for the errors.
    """
    _require(actor, permissions.CASES_WRITE)
    if pfa is not None:
        case = case_of(meeting)
        events = meeting_events(case, meeting)
        validate_pfa_for_meeting(pfa, required=pfa_required(child_of(case).date_of_birth, _scheduled_for(events),
                                                            meeting.meeting_on, on))
    with db.session.begin_nested():
        if pfa is not None:
            save_pfa(actor, meeting, pfa)
        record_step(actor, meeting, "held", on, policy=policy, today=today)


def record_decision(actor: Actor, meeting: ReviewMeeting, *, outcome: str, on: dt.date, policy: TimescalePolicy,
                    notice_sent: bool = False, consulted: bool = False, today: dt.date | None = None) -> list[str]:
    """Record the council's reg 20(10) decision after the meeting; returns the event types recorded.

    ``notice_sent``: the notice that goes with the decision went the same day -- for
    ``maintain`` and ``cease`` the decision letter with appeal rights (``decision_letter_sent``
    ``refuse_amend`` / ``cease``, CFA 2014 s51(2)(e)-(f)), for ``amend`` the amendment notice
    with the proposed amended plan (``amendment_notice_sent``, reg 22(2)). ``consulted``: for
    ``cease``, the reg 31(1) consultation has happened (required).
    """
    _require(actor, permissions.CASES_WRITE)
    today = today or clock.today()
    errors: dict[str, list[str]] = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = ["Select what the council decided"]
    if on > today:
        errors["decision_on"] = ["The date must be today or in the past"]
    if outcome == "cease" and not consulted:
        errors["consulted"] = ["Confirm that the family and the school or college were consulted before deciding "
                               "to cease the plan (SEND Regs 2014 reg 31(1))"]
    case = case_of(meeting)
    events = meeting_events(case, meeting)
    held_on = _held_on(events)
    if held_on is not None and on < held_on and "decision_on" not in errors:
        errors["decision_on"] = [f"The decision cannot be before the meeting ({held_on.strftime('%-d %B %Y')})"]
    if errors:
        raise ValidationFailed(errors)
    blocker = step_blocker(meeting, "decision", events=events, case=case)
    if blocker:
        raise Conflict(blocker, field="outcome")
    link = {"review_meeting_id": str(meeting.id)}
    recorded = [{"type": "review_decision_sent", "date": on.isoformat(), "outcome": outcome, **link}]
    if notice_sent:
        if outcome == "amend":
            recorded.append({"type": "amendment_notice_sent", "date": on.isoformat(), **link})
        else:
            recorded.append({"type": "decision_letter_sent", "date": on.isoformat(),
                             "decision": "refuse_amend" if outcome == "maintain" else "cease", **link})
    # Both events or neither: if the workflow refuses the notice (an amendment already in
    # progress, say), the decision must not be left recorded on its own.
    with db.session.begin_nested():
        for event in recorded:
            cases.record_event(actor, case, event, policy=policy, today=today)
    return [e["type"] for e in recorded]


# ---------------------------------------------------------------------------------------
# What a page shows


@dataclass
class StepView:
    step: Step
    done_on: dt.date | None
    deadline: Deadline | None
    blocker: str | None


@dataclass
class MeetingOverview:
    meeting: ReviewMeeting
    case: Case
    child: Child
    year_group: int
    young_person: bool
    pfa_required: bool
    pfa_complete: bool
    steps: list[StepView]
    papers: list[Document]
    reports: list[Document]
    held_on: dt.date | None
    decision: str | None
    decision_on: dt.date | None
    notice_sent: bool
    follow_on: list[Deadline]
    under5: list[Deadline]
    #: The reg 20(3) notice can no longer be given in time (and invitations are not recorded).
    short_notice: bool
    missing_roles: list[str] = field(default_factory=list)
    unnamed: int = 0


def _meeting_deadlines(all_deadlines: Sequence[Deadline], meeting_on: dt.date) -> dict[str, Deadline]:
    return {d.key: d for d in all_deadlines if d.key in MEETING_KEYS and d.trigger.date == meeting_on}


def under5_guidance(child: Child, deadlines: Sequence[Deadline], *, today: dt.date) -> list[Deadline]:
    """The CoP 9.178 3-6-monthly guidance window of the latest review cycle, for a child under 5
    today (guidance only: never a statutory deadline)."""
    if child.age_on(today) >= 5:
        return []
    window = [d for d in deadlines if d.key in ("under5_review_earliest", "under5_review")]
    if not window:
        return []
    latest = max(d.trigger.date for d in window)
    return sorted((d for d in window if d.trigger.date == latest), key=lambda d: d.due)


def meeting_overview(meeting: ReviewMeeting, *, policy: TimescalePolicy, today: dt.date | None = None) -> MeetingOverview:
    """Everything the meeting page shows (the meeting already accessed)."""
    today = today or clock.today()
    case = case_of(meeting)
    child = child_of(case)
    events = meeting_events(case, meeting)
    deadlines = cases.deadlines_of(case, policy=policy, today=today)
    mine = _meeting_deadlines(deadlines, meeting.meeting_on)
    steps = []
    for spec in STEPS.values():
        done = events.get(spec.event)
        deadline = mine.get(spec.deadline) if spec.deadline else None
        done_on = dt.date.fromisoformat(done["date"]) if done else None
        steps.append(StepView(spec, done_on, deadline, None if done else step_blocker(meeting, spec.key, events=events,
                                                                                     case=case)))
    decision = events.get("review_decision_sent")
    decision_on = dt.date.fromisoformat(decision["date"]) if decision else None
    follow_on: list[Deadline] = []
    if decision_on is not None:
        follow_on = [d for d in deadlines if d.key in FOLLOW_ON_KEYS and d.trigger.date == decision_on]
        if "amended_plan_after_review_latest" in mine:
            follow_on.append(mine["amended_plan_after_review_latest"])
    docs = documents_of(meeting)
    held_on = _held_on(events)
    notice = mine.get("review_meeting_notice")
    return MeetingOverview(
        meeting=meeting, case=case, child=child,
        year_group=clock.academic_year_group(child.date_of_birth, meeting.meeting_on),
        young_person=is_young_person(child.date_of_birth, meeting.meeting_on),
        pfa_required=pfa_required(child.date_of_birth, _scheduled_for(events), meeting.meeting_on),
        pfa_complete=pfa_complete(meeting.pfa_checklist),
        steps=steps, papers=[d for d in docs if d.kind == "review_paper"],
        reports=[d for d in docs if d.kind == "review_report"], held_on=held_on,
        decision=decision.get("outcome") if decision else None, decision_on=decision_on,
        notice_sent=any(t in events for t in ("amendment_notice_sent", "decision_letter_sent")),
        follow_on=sorted(follow_on, key=lambda d: d.due),
        under5=under5_guidance(child, deadlines, today=today),
        short_notice=(notice is not None and "review_invitations_sent" not in events
                      and notice.last_compliant_day < today),
        missing_roles=missing_roles(meeting.invitees or []), unnamed=unnamed_invitees(meeting.invitees or []),
    )


@dataclass
class CaseReviews:
    case: Case
    child: Child
    has_plan: bool
    meetings: list[tuple[ReviewMeeting, str]]
    annual_review: Deadline | None
    under5: list[Deadline]
    open_meeting: ReviewMeeting | None


def case_reviews(case: Case, *, policy: TimescalePolicy, today: dt.date | None = None) -> CaseReviews:
    """The case's reviews page (the case already accessed): its meetings with where each has
    got to, the statutory annual review date, and the under-5 guidance."""
    today = today or clock.today()
    child = child_of(case)
    events = cases.events_of(case)
    deadlines = cases.deadlines_of(case, policy=policy, today=today, events=events)
    rows: list[tuple[ReviewMeeting, str]] = []
    open_meeting = None
    for meeting in meetings_of(case):
        mine = meeting_events(case, meeting)
        if "review_decision_sent" in mine:
            status = f"Decision sent: {OUTCOMES[mine['review_decision_sent']['outcome']].lower()}"
        elif "review_meeting_held" in mine:
            status = "Held: report and decision to follow"
        else:
            status = "Arranged"
            open_meeting = open_meeting or meeting
        rows.append((meeting, status))
    annual = [d for d in deadlines if d.key in ("annual_review", "new_la_review")]
    open_annual = [d for d in annual if d.met_on is None]
    return CaseReviews(
        case=case, child=child, has_plan=derive_state(events).has_plan, meetings=rows,
        annual_review=min(open_annual, key=lambda d: d.due) if open_annual else max(annual, key=lambda d: d.due,
                                                                                       default=None),
        under5=under5_guidance(child, deadlines, today=today), open_meeting=open_meeting,
    )


__all__ = [
    "INVITEE_ROLES", "OUTCOMES", "PFA_AREAS", "STEPS", "CaseReviews", "MeetingOverview", "access_meeting",
    "add_document", "add_invitee", "case_reviews", "change_invitee", "is_young_person", "meeting_overview",
    "meetings_of", "pfa_complete", "pfa_required", "record_decision", "record_held", "record_step", "remove_invitee",
    "save_pfa", "schedule_meeting", "suggest_invitees", "validate_invitee", "validate_pfa", "validate_pfa_for_meeting",
]
