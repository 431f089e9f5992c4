"""Decision letters (issue 6 item 3): the statutory block is in every letter kind whatever the
council's template says, with this letter's dates from the timescale engine (worked example 5
of statutory-rules §12 and the Tribunal's roll rules), and sending is one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from core.cases import services as cases
from core.cases.access import access_case
from core.cases.models import CaseEvent, Document
from core.children.models import Child
from core.disagreements import letters
from core.errors import Conflict, Forbidden, ValidationFailed
from core.timescales import TimescalePolicy
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, actor_for, in_tenant, system_actor

POLICY = TimescalePolicy()
D = dt.date


@pytest.fixture(autouse=True)
def _models(app: Any) -> None:
    """Every model mapped (the app imports them all), so transient rows can be built."""


def _child() -> Child:
    return Child(given_name="Ruby", family_name="Shore", date_of_birth=D(2016, 5, 4))

GOOD_CONTACTS = {
    "mediation_org": "Northshire Mediation Ltd", "mediation_phone": "0300 123 4567",
    "mediation_email": "advice@northshire-mediation.example.org", "mediation_web": "https://mediation.example.org",
    "ias_name": "Northshire SENDIASS", "ias_phone": "0300 765 4321", "ias_email": "ias@example.org", "ias_web": "",
    "dr_name": "Northshire Disagreement Resolution", "dr_phone": "0300 111 2222", "dr_email": "", "dr_web": "",
    "signatory_name": "Pat Lead", "signatory_role": "Head of SEND",
}
EMPTY_TEXTS = {f"text_{k}": "" for k in letters.DECISIONS}

#: Worked example 5: refusal to assess, letter sent Fri 2 Oct 2026.
REFUSAL = [
    {"type": "request_received", "date": "2026-08-20", "requester": "parent"},
    {"type": "decision_to_assess_made", "date": "2026-10-01", "outcome": "refuse"},
]


def _text(decision: str, sent_on: D, template: letters.LetterTemplate | None = None, **kw: Any) -> str:
    letter = letters.compose_letter(template or letters.LetterTemplate(texts={}, **GOOD_CONTACTS), decision=decision,
                                    sent_on=sent_on, child=_child(), recipient="Ann Shore", reasons=kw.get("reasons", ""),
                                    council_name="Northshire Council", policy=POLICY)
    return letters.letter_text(letter)


def _emptied() -> letters.LetterTemplate:
    return letters.LetterTemplate(texts={k: "" for k in letters.DECISIONS},
                                  **{k: "" for k, _, _ in letters.CONTACT_FIELDS})


@pytest.mark.parametrize("decision", list(letters.DECISIONS))
def test_every_letter_kind_keeps_the_statutory_block_when_the_template_is_emptied(decision: str) -> None:
    text = _text(decision, D(2026, 10, 2), _emptied())
    # The council's own words are gone ...
    assert letters.DECISIONS[decision].default_text.split(".")[0].replace("{child_name}", "Ruby Shore") not in text
    # ... but the family's rights are all there, with this letter's dates (worked example 5).
    assert "right to appeal against this decision to the First-tier Tribunal (Special Educational Needs and " \
           "Disability)" in text
    assert "You must send your appeal to the Tribunal by Wednesday 2 December 2026." in text
    assert "you must contact the mediation adviser. You must do this by Wednesday 2 December 2026" in text
    assert "Mediation is your choice. You do not have to take part." in text
    assert "1 month after the date on the certificate" in text
    assert "Free, independent advice and support" in text and "SENDIASS" in text
    assert "disagreement resolution service" in text.lower()
    assert "does not stop the time limit for appealing" in text
    assert "regulations 32 and 33" in text
    # With no adviser on file the family is still told where to ask, never left with nothing.
    assert "Contact Northshire Council and ask for the mediation adviser's details" in text


def test_the_council_text_contacts_and_reasons_come_first_with_placeholders_filled() -> None:
    template = letters.LetterTemplate(texts={"refuse_assess": "Dear family of {child_name}: {council_name} says no."},
                                      **GOOD_CONTACTS)
    text = _text("refuse_assess", D(2026, 10, 2), template, reasons="The school's evidence shows good progress.")
    assert "Dear family of Ruby Shore: Northshire Council says no." in text
    assert text.index("says no.") < text.index("Our reasons") < text.index("your right to appeal")
    assert "The school's evidence shows good progress." in text
    for value in ("Northshire Mediation Ltd", "Phone: 0300 123 4567", "Email: advice@northshire-mediation.example.org",
                  "Northshire SENDIASS", "Northshire Disagreement Resolution", "Pat Lead", "Head of SEND"):
        assert value in text
    # A template is text, not a format string: braces of other kinds stay as written.
    template = letters.LetterTemplate(texts={"cease": "{0} {child_name.__class__} {council_name}"}, **GOOD_CONTACTS)
    assert "{0} {child_name.__class__} Northshire Council" in _text("cease", D(2026, 10, 2), template)


def test_the_default_text_is_used_until_the_council_writes_its_own() -> None:
    text = _text("not_issue", D(2026, 10, 2), letters.LetterTemplate(texts={}, **GOOD_CONTACTS))
    assert "We have decided not to issue an EHC plan." in text.replace("\n", " ")


def test_the_christmas_band_moves_the_appeal_date_and_the_letter_says_why() -> None:
    # 31 Oct + 2 months = Thu 31 Dec 2026, inside 25 Dec-1 Jan: the first working day after
    # 1 Jan is Mon 4 Jan 2027 (HESC r.12 as IPSEA reads it). The adviser date does not move.
    text = _text("refuse_amend", D(2026, 10, 31))
    assert "send your appeal to the Tribunal by Monday 4 January 2027" in text
    assert "the date moves from Thursday 31 December 2026 to Monday 4 January 2027" in text
    assert "You must do this by Thursday 31 December 2026" in text


def test_august_moves_the_appeal_date_to_the_first_working_day_of_september() -> None:
    # 15 Jun + 2 months = Sat 15 Aug 2026: August does not count; Tue 1 Sep 2026 (Mon 31 Aug
    # is a bank holiday, and in August anyway).
    adviser_by, appeal_by, raw = letters.appeal_dates("cease", D(2026, 6, 15), policy=POLICY)
    assert (adviser_by, appeal_by, raw) == (D(2026, 8, 15), D(2026, 9, 1), D(2026, 8, 15))
    assert "send your appeal to the Tribunal by Tuesday 1 September 2026" in _text("cease", D(2026, 6, 15))


def test_only_plan_content_letters_say_a_school_only_appeal_needs_no_certificate() -> None:
    line = "You do not need to contact the mediation adviser if your appeal is only about the school"
    assert line in _text("plan_content", D(2026, 10, 2))
    for decision in ("refuse_assess", "not_issue", "refuse_reassess", "refuse_amend", "cease"):
        assert line not in _text(decision, D(2026, 10, 2))


def test_a_cease_letter_says_the_plan_continues_while_the_family_can_appeal() -> None:
    assert "We will keep the EHC plan, and the help in it, in place until the time for appealing has passed" in \
        _text("cease", D(2026, 10, 2))
    assert "We will keep the EHC plan" not in _text("refuse_amend", D(2026, 10, 2))


def test_the_html_for_the_pdf_is_a_structured_document_and_escapes_text() -> None:
    letter = letters.compose_letter(letters.LetterTemplate(texts={"refuse_assess": "<script>x</script>"},
                                                           **GOOD_CONTACTS),
                                    decision="refuse_assess", sent_on=D(2026, 10, 2), child=_child(), recipient="Ann",
                                    reasons="Because <b>", council_name="Northshire Council", policy=POLICY)
    html = letters.letter_html(letter)
    assert '<html lang="en">' in html and "<title>Our decision about an EHC needs assessment: Ruby Shore</title>" in html
    assert html.count("<h1>") == 1 and "<h2>If you disagree: your right to appeal</h2>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "Because &lt;b&gt;" in html


# ---------------------------------------------------------------------------------------
# The council's template


def test_saving_the_template_checks_it_and_needs_letters_manage(tenant_a: Any, make_user: Any) -> None:
    with in_tenant(tenant_a):
        with pytest.raises(Forbidden):
            letters.save_template(actor_for(make_user(tenant_a, Role.CASEWORKER)), {**EMPTY_TEXTS, **GOOD_CONTACTS})
    manager = make_user(tenant_a, Role.TEAM_MANAGER)
    with in_tenant(tenant_a):
        with pytest.raises(ValidationFailed) as exc:
            letters.save_template(actor_for(manager), {**EMPTY_TEXTS, **GOOD_CONTACTS, "mediation_org": "",
                                                       "ias_email": "not an email", "dr_web": "example.org"})
        assert set(exc.value.errors) == {"mediation_org", "ias_email", "dr_web"}
        with pytest.raises(ValidationFailed) as exc:
            letters.save_template(actor_for(manager), {**EMPTY_TEXTS, **GOOD_CONTACTS, "mediation_phone": "",
                                                       "mediation_email": "", "mediation_web": ""})
        assert set(exc.value.errors) == {"mediation_phone"}
        assert letters.template_of_council().id is None  # nothing saved: still the defaults
    with in_tenant(tenant_a):
        letters.save_template(actor_for(manager), {**EMPTY_TEXTS, "text_cease": "Our own words.", **GOOD_CONTACTS})
    with in_tenant(tenant_a):
        row = letters.template_of_council()
        assert row.text_for("cease") == "Our own words." and row.text_for("refuse_assess") == ""
        assert row.mediation_org == "Northshire Mediation Ltd" and row.updated_by == str(manager.id)


def test_a_council_never_sees_another_councils_template(tenant_a: Any, tenant_b: Any) -> None:
    with in_tenant(tenant_a):
        letters.save_template(system_actor(tenant_a), {**EMPTY_TEXTS, **GOOD_CONTACTS})
    with in_tenant(tenant_b):
        assert letters.template_of_council().mediation_org == ""


# ---------------------------------------------------------------------------------------
# Sending


def _send(tenant: Any, case: Any, decision: str, sent_on: D, today: D, **kw: Any) -> letters.SentLetter:
    with in_tenant(tenant):
        actor = kw.pop("actor", None) or system_actor(tenant)
        return letters.send_decision_letter(actor, access_case(actor, case.id, for_write=True), decision=decision,
                                            sent_on=sent_on, recipient="Ann Shore", reasons="The evidence shows ...",
                                            council_name="Council A", policy=POLICY, today=today, **kw)


def test_sending_records_the_event_stores_the_pdf_and_starts_the_clocks(tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, REFUSAL, today=D(2026, 10, 2))
    with in_tenant(tenant_a):
        letters.save_template(system_actor(tenant_a), {**EMPTY_TEXTS, **GOOD_CONTACTS})
    sent = _send(tenant_a, case, "refuse_assess", D(2026, 10, 2), D(2026, 10, 2))
    assert sent.letter.appeal_by == D(2026, 12, 2) and sent.letter.adviser_by == D(2026, 12, 2)
    with in_tenant(tenant_a) as s:
        event = s.get(CaseEvent, sent.event.id)
        assert (event.type, event.date, event.attributes) == ("decision_letter_sent", D(2026, 10, 2),
                                                              {"decision": "refuse_assess"})
        doc = s.get(Document, sent.document.id)
        assert doc.case_id == case.id and doc.content_type == "application/pdf"
        assert doc.title.startswith("Decision letter: Not to carry out an EHC needs assessment")
        assert [d.id for d in letters.sent_letters(access_case(system_actor(tenant_a), case.id))] == [doc.id]
        c = access_case(system_actor(tenant_a), case.id)
        due = {d.key: d.due for d in cases.deadlines_of(c, policy=POLICY, today=D(2026, 10, 2))}
    assert due["mediation_adviser_contact"] == D(2026, 12, 2) and due["appeal_deadline"] == D(2026, 12, 2)
    # Worked example 5 goes on: mediation declined Thu 26 Nov, certificate Tue 1 Dec 2026:
    # the appeal deadline becomes 1 Jan 2027, moved by the Christmas band to Mon 4 Jan 2027.
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        c = access_case(actor, case.id, for_write=True)
        cases.record_event(actor, c, {"type": "mediation_declined", "date": "2026-11-26"}, policy=POLICY,
                           today=D(2026, 12, 1))
        due = {d.key: d.due for d in cases.deadlines_of(c, policy=POLICY, today=D(2026, 11, 26))}
        assert due["mediation_certificate"] == D(2026, 12, 1)
        cases.record_event(actor, c, {"type": "mediation_certificate_issued", "date": "2026-12-01"}, policy=POLICY,
                           today=D(2026, 12, 1))
        due = {d.key: d.due for d in cases.deadlines_of(c, policy=POLICY, today=D(2026, 12, 1))}
    assert due["appeal_deadline"] == D(2027, 1, 4)


def test_the_stored_pdf_is_tagged_and_holds_the_rights(tenant_a: Any, make_case: Any) -> None:
    from core.plans.pdf import render_pdf

    letter = letters.compose_letter(letters.LetterTemplate(texts={}, **GOOD_CONTACTS), decision="refuse_assess",
                                    sent_on=D(2026, 10, 2), child=_child(), recipient="Ann", reasons="Reasons.",
                                    council_name="Northshire Council", policy=POLICY)
    pdf = render_pdf(letters.letter_html(letter), uncompressed=True)
    assert pdf.startswith(b"%PDF-") and b"/StructTreeRoot" in pdf and b"/Lang (en)" in pdf


def test_a_letter_for_a_decision_not_yet_recorded_is_refused_and_nothing_is_stored(tenant_a: Any,
                                                                                  make_case: Any) -> None:
    case = make_case(tenant_a, REFUSAL, today=D(2026, 10, 2))
    with pytest.raises(Conflict):
        _send(tenant_a, case, "plan_content", D(2026, 10, 2), D(2026, 10, 2))
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(Document).where(Document.case_id == case.id)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.type == "decision_letter_sent")).scalar_one() == 0


def test_bad_input_and_missing_permission_are_refused(tenant_a: Any, make_case: Any, make_user: Any) -> None:
    case = make_case(tenant_a, REFUSAL, today=D(2026, 10, 2))
    with pytest.raises(ValidationFailed) as exc:
        with in_tenant(tenant_a):
            actor = system_actor(tenant_a)
            letters.send_decision_letter(actor, access_case(actor, case.id, for_write=True), decision="nonsense",
                                         sent_on=D(2026, 10, 3), recipient=" ", reasons="", council_name="A",
                                         policy=POLICY, today=D(2026, 10, 2))
    assert set(exc.value.errors) == {"decision", "sent_on", "recipient", "reasons"}
    officer = actor_for(make_user(tenant_a, Role.SEND_OFFICER))
    with pytest.raises(Forbidden):
        with in_tenant(tenant_a):
            letters.send_decision_letter(officer, case, decision="refuse_assess", sent_on=D(2026, 10, 2),
                                         recipient="Ann", reasons="R", council_name="A", policy=POLICY,
                                         today=D(2026, 10, 2))


def test_available_decisions_follow_what_the_case_has_recorded(tenant_a: Any, make_case: Any) -> None:
    refused = make_case(tenant_a, REFUSAL, today=D(2026, 10, 2))
    planned = make_case(tenant_a, JOURNEY_TO_PLAN, today=D(2026, 10, 2))
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        assert [d.key for d in letters.available_decisions(access_case(actor, refused.id), today=D(2026, 10, 2))] \
            == ["refuse_assess"]
        assert [d.key for d in letters.available_decisions(access_case(actor, planned.id), today=D(2026, 10, 2))] \
            == ["plan_content"]


def test_the_demo_template_is_valid_and_names_an_adviser(tenant_a: Any) -> None:
    with in_tenant(tenant_a):
        letters.save_template(system_actor(tenant_a), letters.demo_template("Northshire County Council"))
    with in_tenant(tenant_a):
        row = letters.template_of_council()
    text = _text("refuse_assess", D(2026, 10, 2), row)
    assert "Northshire Family Mediation Service" in text and "Phone: 01632 960 101" in text
    assert "Contact Northshire Council and ask" not in text


def test_a_young_person_gets_the_letter_themselves(tenant_a: Any, make_child: Any, make_contact: Any) -> None:
    child = make_child(tenant_a, given_name="Lee", family_name="Young", date_of_birth=D(2008, 3, 1))
    make_contact(tenant_a, child, given_name="Pat", family_name="Young")
    younger = make_child(tenant_a, given_name="Kim", family_name="Small", date_of_birth=D(2016, 3, 1))
    make_contact(tenant_a, younger, given_name="Sam", family_name="Small")
    with in_tenant(tenant_a) as s:
        assert letters.default_recipient(s.get(Child, child.id), today=D(2026, 11, 27)) == "Lee Young"
        assert letters.default_recipient(s.get(Child, younger.id), today=D(2026, 11, 27)) == "Sam Small"
