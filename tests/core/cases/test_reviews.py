"""Annual reviews: arranging the meeting, invitees (reg 20(2)), papers, report, the decision
(reg 20(10)), preparing for adulthood from Year 9 (reg 20(6)) and the under-5 guidance."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.cases import reviews
from core.cases import services as cases
from core.cases.access import access_case
from core.cases.models import CaseEvent, ReviewMeeting
from core.children.access import access_child
from core.children.services import add_placement
from core.errors import Conflict, NotFound, ValidationFailed
from core.timescales import TimescalePolicy
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, actor_for, in_tenant, system_actor

pytestmark = pytest.mark.smoke

POLICY = TimescalePolicy()
D = dt.date
PDF = b"%PDF-1.7\n%%EOF\n"
PFA_DONE = {"employment": "Work experience at the garden centre", "independent_living": "Travel training",
            "community_participation": "Youth club on Fridays", "health": "Moving to adult epilepsy services"}


def _schedule(tenant: Any, case: Any, meeting_on: D, today: D) -> Any:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        meeting = reviews.schedule_meeting(actor, access_case(actor, case.id, for_write=True), meeting_on=meeting_on,
                                           policy=POLICY, today=today, council_name="Council A")
    return meeting


def _events(tenant: Any, case: Any) -> list[CaseEvent]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).scalars())


def _deadlines(tenant: Any, case: Any, today: D) -> dict[str, Any]:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        found = cases.deadlines_of(access_case(actor, case.id), policy=POLICY, today=today)
    return {d.key: d for d in found}


def _step(tenant: Any, meeting: Any, step: str, on: D, today: D | None = None) -> None:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        reviews.record_step(actor, reviews.access_meeting(actor, meeting.id, for_write=True), step, on, policy=POLICY,
                            today=today or on)


def _paper(tenant: Any, meeting: Any, kind: str = "review_paper") -> None:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        reviews.add_document(actor, reviews.access_meeting(actor, meeting.id, for_write=True), kind=kind,
                             title="Advice", filename="advice.pdf", data=PDF)


def _pfa(tenant: Any, meeting: Any, data: dict[str, str]) -> list[str]:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        return reviews.save_pfa(actor, reviews.access_meeting(actor, meeting.id, for_write=True), data)


def _meeting(tenant: Any, meeting: Any) -> ReviewMeeting:
    with in_tenant(tenant) as s:
        return s.get(ReviewMeeting, meeting.id)


@pytest.fixture
def plan_case(tenant_a: Any, make_case: Any) -> Any:
    return make_case(tenant_a, JOURNEY_TO_PLAN)


# ---------------------------------------------------------------------------------------
# Arranging the meeting


def test_worked_example_3_a_review_walked_from_meeting_to_amendment(tenant_a: Any, plan_case: Any) -> None:
    """statutory-rules.md section 12 example 3: meeting Thu 5 Nov 2026."""
    meeting = _schedule(tenant_a, plan_case, D(2026, 11, 5), today=D(2026, 10, 1))
    scheduled = _events(tenant_a, plan_case)[-1]
    assert scheduled.type == "review_meeting_scheduled"
    assert scheduled.date == D(2026, 10, 1)
    assert scheduled.attributes == {"meeting_on": "2026-11-05", "review_meeting_id": str(meeting.id)}
    # Reg 20(3)-(4), counted back from the meeting before it happens.
    before = _deadlines(tenant_a, plan_case, D(2026, 10, 1))
    assert before["review_meeting_notice"].due == D(2026, 10, 22)
    assert before["review_papers_circulated"].due == D(2026, 10, 22)
    assert before["review_meeting_notice"].status == "open"

    _step(tenant_a, meeting, "invitations", D(2026, 10, 20))
    _paper(tenant_a, meeting)
    _step(tenant_a, meeting, "papers", D(2026, 10, 21))
    _step(tenant_a, meeting, "held", D(2026, 11, 5))
    _paper(tenant_a, meeting, "review_report")
    _step(tenant_a, meeting, "report", D(2026, 11, 18))
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        recorded = reviews.record_decision(actor, reviews.access_meeting(actor, meeting.id, for_write=True),
                                           outcome="amend", on=D(2026, 12, 3), policy=POLICY, notice_sent=True,
                                           today=D(2026, 12, 3))
    assert recorded == ["review_decision_sent", "amendment_notice_sent"]
    after = _deadlines(tenant_a, plan_case, D(2026, 12, 3))
    assert after["review_report_circulation"].due == D(2026, 11, 19)
    assert after["post_review_decision"].due == D(2026, 12, 3)
    assert after["amendment_notice_representations"].due == D(2026, 12, 17)
    assert after["amended_plan_issued"].due == D(2027, 1, 28)
    for key in ("review_meeting_notice", "review_papers_circulated", "review_report_circulation", "post_review_decision"):
        assert after[key].status == "met", key
    # Every step is the meeting's own, by id.
    linked = [e.type for e in _events(tenant_a, plan_case) if e.attributes.get("review_meeting_id") == str(meeting.id)]
    assert linked == ["review_meeting_scheduled", "review_invitations_sent", "review_papers_sent", "review_meeting_held",
                      "review_report_sent", "review_decision_sent", "amendment_notice_sent"]
    with in_tenant(tenant_a):
        o = reviews.meeting_overview(reviews.access_meeting(system_actor(tenant_a), meeting.id), policy=POLICY,
                                     today=D(2026, 12, 3))
    assert [s.done_on for s in o.steps] == [D(2026, 10, 20), D(2026, 10, 21), D(2026, 11, 5), D(2026, 11, 18),
                                            D(2026, 12, 3)]
    assert o.decision == "amend" and o.notice_sent
    assert {d.key for d in o.follow_on} >= {"amendment_notice_representations", "amended_plan_issued",
                                            "amended_plan_after_review_latest"}


def test_a_review_needs_an_issued_plan_and_nothing_is_stored_without_one(tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN[:3])
    with pytest.raises(Conflict, match="issued EHC plan"):
        _schedule(tenant_a, case, D(2026, 12, 10), today=D(2026, 11, 27))
    with in_tenant(tenant_a) as s:
        assert s.execute(select(ReviewMeeting).where(ReviewMeeting.case_id == case.id)).first() is None
    assert [e.type for e in _events(tenant_a, case)][-1] == "advice_received"


def test_only_one_meeting_is_arranged_at_a_time(tenant_a: Any, plan_case: Any) -> None:
    _schedule(tenant_a, plan_case, D(2026, 12, 10), today=D(2026, 11, 27))
    with pytest.raises(Conflict, match="already arranged for 10 December 2026"):
        _schedule(tenant_a, plan_case, D(2026, 12, 17), today=D(2026, 11, 27))


def test_a_meeting_date_far_from_today_is_a_typing_mistake(tenant_a: Any, plan_case: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _schedule(tenant_a, plan_case, D(2030, 1, 1), today=D(2026, 11, 27))
    assert "meeting_on" in exc.value.errors


def test_a_read_only_officer_cannot_arrange_a_meeting(tenant_a: Any, plan_case: Any, make_user: Any) -> None:
    officer = actor_for(make_user(tenant_a, Role.SEND_OFFICER))
    with in_tenant(tenant_a):
        with pytest.raises(NotFound):
            access_case(officer, plan_case.id, for_write=True)
        case = access_case(officer, plan_case.id)
        with pytest.raises(Exception, match="cases.write"):
            reviews.schedule_meeting(officer, case, meeting_on=D(2026, 12, 10), policy=POLICY, today=D(2026, 11, 27))


def test_another_councils_meeting_is_not_found(tenant_a: Any, tenant_b: Any, plan_case: Any) -> None:
    meeting = _schedule(tenant_a, plan_case, D(2026, 12, 10), today=D(2026, 11, 27))
    with in_tenant(tenant_b):
        for meeting_id in (meeting.id, "not-an-id", "01a21ea2-0000-7000-8000-000000000000"):
            with pytest.raises(NotFound):
                reviews.access_meeting(system_actor(tenant_b), meeting_id)


# ---------------------------------------------------------------------------------------
# Invitees (reg 20(2))


def test_suggested_invitees_come_from_contacts_setting_and_caseworker(tenant_a: Any, make_child: Any, make_contact: Any,
                                                                      make_case: Any, make_user: Any,
                                                                      institution: int) -> None:
    child = make_child(tenant_a, date_of_birth=D(2016, 3, 4))
    make_contact(tenant_a, child, given_name="Ann", family_name="Mum", email="ann@example.com")
    make_contact(tenant_a, child, given_name="Bob", family_name="Dad", relationship="father")
    make_contact(tenant_a, child, given_name="Gran", family_name="Ma", relationship="grandparent",
                 parental_responsibility=False)
    make_contact(tenant_a, child, given_name="Jo", family_name="Carter", relationship="social_worker",
                 parental_responsibility=False, email="jo@council-a.example.gov.uk")
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        add_placement(actor, access_child(actor, child.id, for_write=True), urn=institution, started_on=D(2021, 9, 1))
    caseworker = make_user(tenant_a, Role.CASEWORKER, name="Casey Worker")
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child, caseworker_id=caseworker.id)
    meeting = _schedule(tenant_a, case, D(2026, 12, 10), today=D(2026, 11, 27))
    got = [(i["role"], i["name"], i["organisation"], i["email"]) for i in _meeting(tenant_a, meeting).invitees]
    assert got == [
        ("parent", "Ann Mum", "", "ann@example.com"),
        ("parent", "Bob Dad", "", ""),  # every contact with parental responsibility; not the grandparent
        ("head_teacher", "", "Test Primary School", ""),
        ("la_sen_officer", "Casey Worker", "Council A", caseworker.email),
        ("health_professional", "", "Integrated care board", ""),
        ("la_social_care", "Jo Carter", "Council A", "jo@council-a.example.gov.uk"),
    ]
    assert all(len(i["id"]) == 12 for i in _meeting(tenant_a, meeting).invitees)
    with in_tenant(tenant_a):
        assert reviews.missing_roles(_meeting(tenant_a, meeting).invitees) == []


def test_a_young_person_is_invited_in_their_own_right(tenant_a: Any, make_child: Any, make_contact: Any,
                                                     make_case: Any) -> None:
    # Born 15 Jan 2009: Year 12 in November 2026, over compulsory school age.
    child = make_child(tenant_a, date_of_birth=D(2009, 1, 15))
    make_contact(tenant_a, child, given_name="Ann", family_name="Mum")
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child)
    meeting = _schedule(tenant_a, case, D(2026, 12, 10), today=D(2026, 11, 27))
    invitees = _meeting(tenant_a, meeting).invitees
    assert [(i["role"], i["name"]) for i in invitees if i["role"] in ("parent", "young_person")] == \
        [("young_person", child.full_name)]
    # No caseworker, no social worker, no setting: the gaps are on the list to be filled in.
    assert {i["role"] for i in invitees if not i["name"]} == {"head_teacher", "la_sen_officer", "health_professional",
                                                              "la_social_care"}


@pytest.mark.parametrize("on, expected", [
    (D(2027, 6, 25), False),  # the last Friday in June of Year 11: still of compulsory school age
    (D(2027, 6, 26), True),
    (D(2026, 11, 27), False),  # Year 11, autumn
    (D(2027, 9, 1), True),  # Year 12
    (D(2026, 8, 31), False),  # Year 10
])
def test_compulsory_school_age_ends_after_the_last_friday_in_june_of_year_11(on: D, expected: bool) -> None:
    assert reviews.is_young_person(D(2011, 1, 15), on) is expected


def test_invitees_can_be_added_changed_and_removed_and_each_change_is_audited(tenant_a: Any, plan_case: Any) -> None:
    meeting = _schedule(tenant_a, plan_case, D(2026, 12, 10), today=D(2026, 11, 27))
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        m = reviews.access_meeting(actor, meeting.id, for_write=True)
        added = reviews.add_invitee(actor, m, {"name": "Dr Patel", "role": "health_professional",
                                               "organisation": "Northshire ICB", "email": "patel@nhs.example"})
        reviews.change_invitee(actor, m, added["id"], {"name": "Dr Priya Patel", "role": "health_professional",
                                                       "organisation": "Northshire ICB", "email": "patel@nhs.example"})
        parent = next(i for i in m.invitees if i["role"] == "parent")
        reviews.remove_invitee(actor, m, parent["id"])
        with pytest.raises(NotFound):
            reviews.change_invitee(actor, m, "nope", {"name": "X", "role": "other"})
    stored = _meeting(tenant_a, meeting).invitees
    assert any(i["name"] == "Dr Priya Patel" for i in stored)
    assert not any(i["role"] == "parent" for i in stored)
    with in_tenant(tenant_a) as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.fields, AuditEvent.subject_id)
                         .where(AuditEvent.object_id == meeting.id).order_by(AuditEvent.occurred_at)).all()
    assert [r.action for r in rows] == ["review_meeting.scheduled", "review_meeting.invitee_added",
                                        "review_meeting.invitee_changed", "review_meeting.invitee_removed"]
    assert {r.subject_id for r in rows} == {plan_case.child_id}  # audited against the child
    assert rows[2].fields == "name"


@pytest.mark.parametrize("data, field", [
    ({"name": "", "role": "other", "organisation": ""}, "name"),
    ({"name": "X", "role": "wizard"}, "role"),
    ({"name": "X", "role": "other", "email": "not-an-email"}, "email"),
    ({"name": "X" * 121, "role": "other"}, "name"),
    ({"name": "X", "role": "other", "secret": "y"}, "secret"),
])
def test_a_bad_invitee_is_refused(data: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        reviews.validate_invitee(data)
    assert field in exc.value.errors


def test_the_invitations_need_the_parent_or_young_person_on_the_list(tenant_a: Any, plan_case: Any) -> None:
    meeting = _schedule(tenant_a, plan_case, D(2026, 12, 10), today=D(2026, 11, 27))
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        m = reviews.access_meeting(actor, meeting.id, for_write=True)
        for invitee in [i for i in m.invitees if i["role"] == "parent"]:
            reviews.remove_invitee(actor, m, invitee["id"])
    with pytest.raises(Conflict, match="parent or young person"):
        _step(tenant_a, meeting, "invitations", D(2026, 11, 27))
    assert _events(tenant_a, plan_case)[-1].type == "review_meeting_scheduled"


# ---------------------------------------------------------------------------------------
# The steps


def test_steps_that_cannot_have_happened_are_refused_and_store_nothing(tenant_a: Any, plan_case: Any) -> None:
    meeting = _schedule(tenant_a, plan_case, D(2026, 11, 20), today=D(2026, 11, 1))
    count = len(_events(tenant_a, plan_case))
    with pytest.raises(ValidationFailed, match="today or in the past"):
        _step(tenant_a, meeting, "invitations", D(2026, 11, 5), today=D(2026, 11, 1))
    with pytest.raises(ValidationFailed, match="on or before the day of the meeting"):
        _step(tenant_a, meeting, "invitations", D(2026, 11, 21), today=D(2026, 11, 27))
    with pytest.raises(Conflict, match="at least one paper"):
        _step(tenant_a, meeting, "papers", D(2026, 11, 5), today=D(2026, 11, 5))
    with pytest.raises(Conflict, match="held first"):
        _step(tenant_a, meeting, "report", D(2026, 11, 25), today=D(2026, 11, 27))
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        with pytest.raises(Conflict, match="held first"):
            reviews.record_decision(actor, reviews.access_meeting(actor, meeting.id, for_write=True), outcome="maintain",
                                    on=D(2026, 11, 25), policy=POLICY, today=D(2026, 11, 27))
        with pytest.raises(NotFound):
            reviews.record_step(actor, reviews.access_meeting(actor, meeting.id, for_write=True), "decision",
                                D(2026, 11, 25), policy=POLICY, today=D(2026, 11, 27))
    assert len(_events(tenant_a, plan_case)) == count
    _step(tenant_a, meeting, "invitations", D(2026, 11, 5))
    with pytest.raises(Conflict, match="recorded on 5 November 2026"):
        _step(tenant_a, meeting, "invitations", D(2026, 11, 6))
    with pytest.raises(ValidationFailed, match="cannot be before the invitations"):
        _step(tenant_a, meeting, "held", D(2026, 11, 4), today=D(2026, 11, 27))
    _step(tenant_a, meeting, "held", D(2026, 11, 20), today=D(2026, 11, 27))
    with pytest.raises(ValidationFailed, match="before the meeting"):
        _step(tenant_a, meeting, "report", D(2026, 11, 19), today=D(2026, 11, 27))
    with pytest.raises(Conflict, match="Upload the review report"):
        _step(tenant_a, meeting, "report", D(2026, 11, 25), today=D(2026, 11, 27))
    # Once held, the list of who was invited is part of the record.
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        with pytest.raises(Conflict, match="has been held"):
            reviews.add_invitee(actor, reviews.access_meeting(actor, meeting.id, for_write=True),
                                {"name": "Late", "role": "other"})


def test_a_meeting_held_on_another_day_moves_the_clocks_to_that_day(tenant_a: Any, plan_case: Any) -> None:
    meeting = _schedule(tenant_a, plan_case, D(2026, 11, 20), today=D(2026, 11, 1))
    _step(tenant_a, meeting, "held", D(2026, 11, 24), today=D(2026, 11, 27))
    assert _meeting(tenant_a, meeting).meeting_on == D(2026, 11, 24)
    deadlines = _deadlines(tenant_a, plan_case, D(2026, 11, 27))
    assert deadlines["review_report_circulation"].due == D(2026, 12, 8)
    assert deadlines["post_review_decision"].due == D(2026, 12, 22)


# ---------------------------------------------------------------------------------------
# The decision (reg 20(10)) and what follows


def _held_meeting(tenant: Any, make_case: Any) -> tuple[Any, Any]:
    case = make_case(tenant, JOURNEY_TO_PLAN)
    meeting = _schedule(tenant, case, D(2026, 11, 10), today=D(2026, 11, 1))
    _step(tenant, meeting, "held", D(2026, 11, 10), today=D(2026, 11, 10))
    return case, meeting


def _decide(tenant: Any, meeting: Any, outcome: str, **kw: Any) -> list[str]:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        return reviews.record_decision(actor, reviews.access_meeting(actor, meeting.id, for_write=True),
                                       outcome=outcome, on=D(2026, 11, 27), policy=POLICY, today=D(2026, 11, 27), **kw)


def test_keeping_the_plan_with_the_letter_starts_the_appeal_window(tenant_a: Any, make_case: Any) -> None:
    case, meeting = _held_meeting(tenant_a, make_case)
    assert _decide(tenant_a, meeting, "maintain", notice_sent=True) == ["review_decision_sent", "decision_letter_sent"]
    letter = _events(tenant_a, case)[-1]
    assert letter.attributes["decision"] == "refuse_amend"  # CFA 2014 s51(2)(e)
    deadlines = _deadlines(tenant_a, case, D(2026, 11, 27))
    assert deadlines["appeal_deadline"].due == D(2027, 1, 27)
    assert deadlines["post_review_decision"].status == "met"
    # The annual review restarts from the decision (CFA s44(1); statutory-rules.md 2.2).
    assert deadlines["annual_review"].due == D(2027, 11, 26)


def test_ceasing_needs_the_reg_31_consultation_first(tenant_a: Any, make_case: Any) -> None:
    case, meeting = _held_meeting(tenant_a, make_case)
    count = len(_events(tenant_a, case))
    with pytest.raises(ValidationFailed) as exc:
        _decide(tenant_a, meeting, "cease", notice_sent=True)
    assert "consulted" in exc.value.errors
    assert len(_events(tenant_a, case)) == count
    assert _decide(tenant_a, meeting, "cease", notice_sent=True, consulted=True) == ["review_decision_sent",
                                                                                     "decision_letter_sent"]
    assert _events(tenant_a, case)[-1].attributes["decision"] == "cease"


def test_amending_without_the_notice_shows_the_projected_amendment_deadline(tenant_a: Any, make_case: Any) -> None:
    case, meeting = _held_meeting(tenant_a, make_case)
    assert _decide(tenant_a, meeting, "amend") == ["review_decision_sent"]
    deadlines = _deadlines(tenant_a, case, D(2026, 11, 27))
    assert deadlines["amended_plan_issued"].provisional
    assert deadlines["amended_plan_issued"].due == D(2027, 1, 22)
    assert deadlines["amended_plan_after_review_latest"].due == D(2027, 2, 2)  # Devon: meeting + 12 weeks


def test_a_decision_whose_notice_is_refused_is_not_recorded_either(tenant_a: Any, make_case: Any) -> None:
    case, meeting = _held_meeting(tenant_a, make_case)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        cases.record_event(actor, access_case(actor, case.id, for_write=True),
                           {"type": "amendment_notice_sent", "date": "2026-11-12"}, policy=POLICY, today=D(2026, 11, 27))
    count = len(_events(tenant_a, case))
    with pytest.raises(Conflict, match="amendment is already in progress"):
        _decide(tenant_a, meeting, "amend", notice_sent=True)
    assert len(_events(tenant_a, case)) == count


def test_a_bad_outcome_or_a_future_date_is_refused(tenant_a: Any, make_case: Any) -> None:
    _, meeting = _held_meeting(tenant_a, make_case)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        m = reviews.access_meeting(actor, meeting.id, for_write=True)
        with pytest.raises(ValidationFailed) as exc:
            reviews.record_decision(actor, m, outcome="shred", on=D(2026, 12, 25), policy=POLICY, today=D(2026, 11, 27))
    assert set(exc.value.errors) == {"outcome", "decision_on"}


# ---------------------------------------------------------------------------------------
# Preparing for adulthood from Year 9 (reg 20(6))


@pytest.mark.parametrize("dob, year, required", [
    (D(2013, 8, 31), 9, True),   # the youngest of Year 9 on 20 Nov 2026
    (D(2013, 9, 1), 8, False),   # the oldest of Year 8
])
def test_the_checklist_is_required_from_year_9_by_date_of_birth(tenant_a: Any, make_child: Any, make_case: Any,
                                                               dob: D, year: int, required: bool) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=make_child(tenant_a, date_of_birth=dob))
    meeting = _schedule(tenant_a, case, D(2026, 11, 20), today=D(2026, 11, 1))
    with in_tenant(tenant_a):
        o = reviews.meeting_overview(reviews.access_meeting(system_actor(tenant_a), meeting.id), policy=POLICY,
                                     today=D(2026, 11, 20))
    assert (o.year_group, o.pfa_required) == (year, required)
    if required:
        with pytest.raises(Conflict, match="reg 20\\(6\\).*Year 9"):
            _step(tenant_a, meeting, "held", D(2026, 11, 20))
        assert _events(tenant_a, case)[-1].type == "review_meeting_scheduled"
        _pfa(tenant_a, meeting, PFA_DONE)
    _step(tenant_a, meeting, "held", D(2026, 11, 20))
    assert _events(tenant_a, case)[-1].type == "review_meeting_held"


@pytest.mark.parametrize("arranged, held, required", [
    (D(2027, 8, 31), D(2027, 8, 31), False),  # the last day of Year 8
    (D(2027, 9, 1), D(2027, 9, 1), True),     # the first day of Year 9
    (D(2027, 8, 31), D(2027, 9, 1), True),    # moved into Year 9: required
    (D(2027, 9, 2), D(2027, 8, 31), True),    # arranged in Year 9, brought forward: still required
])
def test_the_checklist_is_required_from_year_9_by_the_meeting_date(tenant_a: Any, make_child: Any, make_case: Any,
                                                                  arranged: D, held: D, required: bool) -> None:
    # Born 1 Sep 2013: the oldest of their year, in Year 8 until 31 Aug 2027.
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=make_child(tenant_a, date_of_birth=D(2013, 9, 1)))
    meeting = _schedule(tenant_a, case, arranged, today=D(2027, 8, 1))
    if required:
        with pytest.raises(Conflict, match="preparing for adulthood"):
            _step(tenant_a, meeting, "held", held, today=D(2027, 9, 10))
        _pfa(tenant_a, meeting, PFA_DONE)
    _step(tenant_a, meeting, "held", held, today=D(2027, 9, 10))
    assert _events(tenant_a, case)[-1].type == "review_meeting_held"


def test_three_areas_of_four_is_not_a_year_9_review(tenant_a: Any, make_child: Any, make_case: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=make_child(tenant_a, date_of_birth=D(2011, 3, 1)))
    meeting = _schedule(tenant_a, case, D(2026, 11, 20), today=D(2026, 11, 1))
    assert _pfa(tenant_a, meeting, {**PFA_DONE, "health": ""}) == list(reviews.PFA_AREAS)
    assert not reviews.pfa_complete(_meeting(tenant_a, meeting).pfa_checklist)
    with pytest.raises(Conflict):
        _step(tenant_a, meeting, "held", D(2026, 11, 20))
    _pfa(tenant_a, meeting, PFA_DONE)
    assert _meeting(tenant_a, meeting).pfa_checklist["health"] == {"discussed": True,
                                                                  "notes": "Moving to adult epilepsy services"}
    _step(tenant_a, meeting, "held", D(2026, 11, 20))
    # Once held, the record of a Year 9+ review cannot lose its preparing-for-adulthood part.
    with pytest.raises(ValidationFailed) as exc:
        _pfa(tenant_a, meeting, {**PFA_DONE, "employment": ""})
    assert list(exc.value.errors) == ["employment"]
    assert _pfa(tenant_a, meeting, {**PFA_DONE, "employment": "Supported internship"}) == ["employment"]


def test_the_checklist_given_with_the_meeting_is_saved_only_if_the_meeting_is_recorded(tenant_a: Any, make_child: Any,
                                                                                       make_case: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=make_child(tenant_a, date_of_birth=D(2011, 3, 1)))
    meeting = _schedule(tenant_a, case, D(2026, 11, 20), today=D(2026, 11, 1))
    _step(tenant_a, meeting, "invitations", D(2026, 11, 5))
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        m = reviews.access_meeting(actor, meeting.id, for_write=True)
        with pytest.raises(ValidationFailed) as exc:
            reviews.record_held(actor, m, D(2026, 11, 20), policy=POLICY, pfa={**PFA_DONE, "health": ""},
                                today=D(2026, 11, 27))
        assert list(exc.value.errors) == ["health"]
        with pytest.raises(ValidationFailed, match="before the invitations"):
            reviews.record_held(actor, m, D(2026, 11, 4), policy=POLICY, pfa=PFA_DONE, today=D(2026, 11, 27))
    assert _meeting(tenant_a, meeting).pfa_checklist == {}
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        reviews.record_held(actor, reviews.access_meeting(actor, meeting.id, for_write=True), D(2026, 11, 20),
                            policy=POLICY, pfa=PFA_DONE, today=D(2026, 11, 27))
    assert reviews.pfa_complete(_meeting(tenant_a, meeting).pfa_checklist)
    assert _events(tenant_a, case)[-1].type == "review_meeting_held"


def test_checklist_notes_are_limited_and_unknown_areas_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        reviews.validate_pfa({"employment": "x" * 2001, "astrology": "y"})
    assert set(exc.value.errors) == {"employment", "astrology"}


# ---------------------------------------------------------------------------------------
# Under 5 (CoP 9.178): guidance, shown as guidance


UNDER5_JOURNEY = [
    {"type": "request_received", "date": "2025-10-01", "requester": "parent"},
    {"type": "decision_to_assess_made", "date": "2025-11-01", "outcome": "assess"},
    {"type": "decision_to_issue_made", "date": "2026-01-10", "outcome": "issue"},
    {"type": "draft_plan_served", "date": "2026-01-20"},
    {"type": "final_plan_issued", "date": "2026-02-10"},
]


def test_worked_example_9_under_fives_get_the_3_to_6_monthly_guidance(tenant_a: Any, make_child: Any,
                                                                      make_case: Any) -> None:
    child = make_child(tenant_a, date_of_birth=D(2022, 6, 1))
    case = make_case(tenant_a, UNDER5_JOURNEY, child=child, today=D(2026, 3, 1))
    with in_tenant(tenant_a):
        o = reviews.case_reviews(access_case(system_actor(tenant_a), case.id), policy=POLICY, today=D(2026, 3, 1))
    assert [(d.key, d.due, d.statutory) for d in o.under5] == [
        ("under5_review_earliest", D(2026, 5, 10), False), ("under5_review", D(2026, 8, 10), False)]
    assert o.annual_review is not None and o.annual_review.due == D(2027, 2, 9)
    assert o.has_plan and o.open_meeting is None


def test_no_under_5_guidance_for_an_older_child(tenant_a: Any, make_child: Any, make_case: Any) -> None:
    child = make_child(tenant_a, date_of_birth=D(2020, 6, 1))
    case = make_case(tenant_a, UNDER5_JOURNEY, child=child, today=D(2026, 3, 1))
    with in_tenant(tenant_a):
        o = reviews.case_reviews(access_case(system_actor(tenant_a), case.id), policy=POLICY, today=D(2026, 3, 1))
    assert o.under5 == []
    assert o.annual_review is not None
