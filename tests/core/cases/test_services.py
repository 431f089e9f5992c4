"""EHC case services: opening, recording events, derived deadlines and stage, plan freezing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, text

from core.audit.models import AuditEvent
from core.cases import services
from core.cases.access import access_case
from core.cases.models import Case, CaseDeadline, CaseEvent, PlanVersion
from core.children.access import access_child
from core.clock import academic_year_group
from core.errors import Conflict, NotFound, ValidationFailed
from core.plans.services import versions
from core.timescales import TimescalePolicy
from core.users.models import Role
from tests.conftest import actor_for, in_tenant, postgres_only, system_actor

pytestmark = pytest.mark.smoke

POLICY = TimescalePolicy()
TODAY = dt.date(2026, 11, 27)


def ev(kind: str, day: str, **attrs: Any) -> dict[str, Any]:
    return {"type": kind, "date": day, **attrs}


JOURNEY = [
    ev("decision_to_assess_made", "2026-02-10", outcome="assess"),
    ev("advice_requested", "2026-02-11", advice="psychological", advice_id="ep1"),
    ev("advice_received", "2026-03-20", advice="psychological", advice_id="ep1"),
    ev("decision_to_issue_made", "2026-04-20", outcome="issue"),
    ev("draft_plan_served", "2026-05-01"),
    ev("final_plan_issued", "2026-05-20"),
]


@pytest.fixture
def opened(tenant_a: Any, make_child: Any) -> Any:
    child = make_child(tenant_a, date_of_birth=dt.date(2016, 3, 4))
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = services.open_case(actor, access_child(actor, child.id, for_write=True),
                                  ev("request_received", "2026-01-05", requester="parent"), policy=POLICY, today=TODAY)
    return case


def _deadlines(tenant: Any, case: Any) -> dict[str, CaseDeadline]:
    with in_tenant(tenant) as s:
        return {d.key: d for d in s.execute(select(CaseDeadline).where(CaseDeadline.case_id == case.id)).scalars()}


def test_opening_a_case_stores_its_first_deadlines(tenant_a: Any, opened: Any) -> None:
    deadlines = _deadlines(tenant_a, opened)
    # statutory-rules.md section 12, example 1.
    assert deadlines["decision_to_assess"].due == dt.date(2026, 2, 16)
    assert deadlines["final_plan_issued"].due == dt.date(2026, 5, 25)
    assert deadlines["final_plan_issued"].citation.startswith("SEND Regs 2014 reg 13(2)")
    with in_tenant(tenant_a) as s:
        case = s.get(Case, opened.id)
        assert case.stage == "request" and case.opened_on == dt.date(2026, 1, 5) and case.event_count == 1
        assert case.next_due == dt.date(2026, 2, 16) and case.next_due_key == "decision_to_assess"


def test_the_journey_to_a_final_plan(tenant_a: Any, opened: Any) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = access_case(actor, opened.id, for_write=True)
        for event in JOURNEY:
            services.record_event(actor, case, event, policy=POLICY, today=TODAY)
    deadlines = _deadlines(tenant_a, opened)
    assert deadlines["final_plan_issued"].status == "met" and deadlines["final_plan_issued"].met_on == dt.date(2026, 5, 20)
    assert deadlines["annual_review"].due == dt.date(2027, 5, 19)
    with in_tenant(tenant_a) as s:
        case = s.get(Case, opened.id)
        assert case.stage == "plan" and case.event_count == 7 and case.next_due == dt.date(2027, 5, 19)
        plan = versions(case)
        # The draft served on the family, its working copy issued as the final plan.
        assert [(v.number, v.state) for v in plan] == [(1, "served"), (2, "issued")]
        assert plan[1].issued_on == dt.date(2026, 5, 20)


@pytest.mark.parametrize("event, field", [
    (ev("no_such_event", "2026-02-01"), "type"),
    (ev("decision_to_assess_made", "2026-02-30", outcome="assess"), "date"),
    (ev("decision_to_assess_made", "2026-02-10"), "outcome"),
    (ev("decision_to_assess_made", "2026-02-10", outcome="maybe"), "outcome"),
    ({"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess", "id": "x"}, "id"),
    ({"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess", "corrects": "not-an-event"}, "corrects"),
])
def test_a_malformed_event_is_a_validation_error_and_stores_nothing(tenant_a: Any, opened: Any, event: dict[str, Any],
                                                                    field: str) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        with pytest.raises(ValidationFailed) as exc:
            services.record_event(actor, access_case(actor, opened.id, for_write=True), event, policy=POLICY, today=TODAY)
    assert field in exc.value.errors
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == opened.id)).scalar_one() == 1


@pytest.mark.parametrize("event, reason", [
    (ev("final_plan_issued", "2026-05-20"), "decision to assess"),
    (ev("decision_to_assess_made", "2026-12-01", outcome="assess"), "future"),
])
def test_an_impossible_event_is_a_conflict_and_stores_nothing(tenant_a: Any, opened: Any, event: dict[str, Any],
                                                              reason: str) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        with pytest.raises(Conflict, match=reason):
            services.record_event(actor, access_case(actor, opened.id, for_write=True), event, policy=POLICY, today=TODAY)
    with in_tenant(tenant_a) as s:
        assert s.get(Case, opened.id).event_count == 1


def test_a_wrong_event_is_put_right_by_a_correcting_event(tenant_a: Any, opened: Any) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = access_case(actor, opened.id, for_write=True)
        wrong = services.record_event(actor, case, ev("decision_to_assess_made", "2026-02-10", outcome="refuse"),
                                      policy=POLICY, today=TODAY)
        services.record_event(actor, case, ev("decision_to_assess_made", "2026-02-12", outcome="assess",
                                              corrects=str(wrong.id)), policy=POLICY, today=TODAY)
    with in_tenant(tenant_a) as s:
        case = s.get(Case, opened.id)
        assert case.stage == "assessment" and case.event_count == 3
        # Both remain in the record: the wrong one is superseded, never edited or deleted.
        assert [e.type for e in s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).scalars()] \
            == ["request_received", "decision_to_assess_made", "decision_to_assess_made"]
    assert _deadlines(tenant_a, opened)["decision_to_assess"].met_on == dt.date(2026, 2, 12)


def test_a_plan_cannot_cease_inside_the_appeal_window(tenant_a: Any, opened: Any) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = access_case(actor, opened.id, for_write=True)
        for event in [*JOURNEY, ev("review_meeting_held", "2026-09-01"),
                      ev("review_decision_sent", "2026-09-10", outcome="cease"),
                      ev("decision_letter_sent", "2026-09-10", decision="cease")]:
            services.record_event(actor, case, event, policy=POLICY, today=TODAY)
        # 10 Sep + 2 months = 10 Nov 2026 (no mediation recorded): until then the plan continues.
        with pytest.raises(Conflict, match="2026-11-10"):
            services.record_event(actor, case, ev("plan_ceased", "2026-10-01"), policy=POLICY, today=TODAY)
        services.record_event(actor, case, ev("plan_ceased", "2026-11-11"), policy=POLICY, today=TODAY)
    with in_tenant(tenant_a) as s:
        assert s.get(Case, opened.id).stage == "ceased"


def test_everything_is_audited_against_the_child(tenant_a: Any, opened: Any, make_user: Any) -> None:
    officer = make_user(tenant_a, Role.SEND_OFFICER)
    with in_tenant(tenant_a):
        access_case(actor_for(officer), opened.id)
    with in_tenant(tenant_a) as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.object_type).where(AuditEvent.subject_id == opened.child_id)).all()
    assert ("case.opened", "case") in rows and ("case.event_recorded", "case_event") in rows and ("case.viewed", "case") in rows


def test_read_only_officers_cannot_record_events(tenant_a: Any, opened: Any, make_user: Any) -> None:
    officer = make_user(tenant_a, Role.SEND_OFFICER)
    with in_tenant(tenant_a), pytest.raises(NotFound):
        access_case(actor_for(officer), opened.id, for_write=True)


def test_caseload_filters_by_due_stage_and_caseworker(tenant_a: Any, make_child: Any, make_user: Any) -> None:
    worker = make_user(tenant_a, Role.CASEWORKER)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        cases = {}
        # decision_to_assess is due 6 weeks after the request.
        for name, received in (("overdue", "2026-10-01"), ("week", "2026-10-20"), ("later", "2026-11-20")):
            child = make_child(tenant_a)
            cases[name] = services.open_case(actor, access_child(actor, child.id, for_write=True),
                                             ev("request_received", received), policy=POLICY, today=TODAY,
                                             caseworker_id=worker.id if name == "week" else None)
        def ids(flt: services.CaseFilter) -> set[Any]:
            rows, _ = services.find_cases(actor, flt, page=1, per_page=50, today=TODAY)
            return {c.id for c in rows} & {c.id for c in cases.values()}

        assert ids(services.CaseFilter(due="overdue")) == {cases["overdue"].id}     # due 12 Nov
        assert ids(services.CaseFilter(due="this_week")) == {cases["week"].id}      # due 1 Dec
        assert ids(services.CaseFilter(due="four_weeks")) == {cases["week"].id}     # "later" is due 1 Jan
        assert ids(services.CaseFilter(caseworker_id=worker.id)) == {cases["week"].id}
        assert ids(services.CaseFilter(unassigned=True)) == {cases["overdue"].id, cases["later"].id}
        assert ids(services.CaseFilter(stage="request")) == set(c.id for c in cases.values())
        with pytest.raises(ValidationFailed):
            services.find_cases(actor, services.CaseFilter(stage="nonsense"), page=1, per_page=5, today=TODAY)
        counts = services.caseload_counts(actor, caseworker_id=worker.id, today=TODAY)
        assert counts == {"overdue": 0, "this_week": 1, "all": 1}


def test_a_caseworker_must_be_active_staff_who_can_hold_cases(tenant_a: Any, opened: Any, make_user: Any) -> None:
    officer = make_user(tenant_a, Role.SEND_OFFICER)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        with pytest.raises(ValidationFailed, match="caseworker_id"):
            services.assign_caseworker(actor, access_case(actor, opened.id, for_write=True), officer.id)


@pytest.mark.parametrize("dob, on, year", [
    # 1 Sep 2012 to 31 Aug 2013 is one year group: Year 9 in 2026/27.
    (dt.date(2012, 9, 1), dt.date(2026, 11, 27), 9),    # the oldest of Year 9
    (dt.date(2013, 8, 31), dt.date(2026, 11, 27), 9),   # the youngest of Year 9
    (dt.date(2012, 8, 31), dt.date(2026, 11, 27), 10),  # the youngest of Year 10
    (dt.date(2021, 9, 1), dt.date(2026, 9, 1), 0),      # Reception starts
    (dt.date(2012, 9, 1), dt.date(2026, 8, 31), 8),
])
def test_national_curriculum_year_groups(dob: dt.date, on: dt.date, year: int) -> None:
    assert academic_year_group(dob, on) == year


@postgres_only
@pytest.mark.parametrize("statement", ["UPDATE case_event SET type = 'x'", "DELETE FROM case_event"])
def test_the_app_role_cannot_change_or_delete_case_events(tenant_a: Any, opened: Any, statement: str) -> None:
    from sqlalchemy.exc import ProgrammingError

    from core.db import db

    session = db.session()
    session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_a.id)})
    with pytest.raises(ProgrammingError, match="permission denied"):
        session.execute(text(statement))
    session.rollback()


@postgres_only
def test_the_database_refuses_to_change_an_issued_plan(tenant_a: Any, opened: Any) -> None:
    from sqlalchemy.exc import DBAPIError

    from core.db import db

    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = access_case(actor, opened.id, for_write=True)
        for event in JOURNEY:
            services.record_event(actor, case, event, policy=POLICY, today=TODAY)
    session = db.session()
    session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_a.id)})
    with pytest.raises(DBAPIError, match="cannot be changed"):
        session.execute(text("UPDATE plan_version SET content = '{}' WHERE state = 'issued' AND case_id = :c"), {"c": opened.id})
    session.rollback()
    session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_a.id)})
    with pytest.raises(DBAPIError, match="cannot be changed"):
        session.execute(text("DELETE FROM plan_version WHERE state = 'served' AND case_id = :c"), {"c": opened.id})
    session.rollback()
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(PlanVersion).where(PlanVersion.case_id == opened.id)).scalar_one() == 2


def test_a_recorded_exception_is_stored_with_the_deadline_it_suspends(tenant_a: Any, opened: Any) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        services.record_event(actor, access_case(actor, opened.id, for_write=True),
                              ev("exception_recorded", "2026-03-01", code="absent_from_area", to="2026-03-20",
                                 affects=["final_plan_issued"], **{"from": "2026-02-01"}), policy=POLICY, today=TODAY)
    stored = _deadlines(tenant_a, opened)["final_plan_issued"]
    assert stored.status == "suspended"
    assert stored.exception["code"] == "absent_from_area" and stored.exception["from"] == "2026-02-01"


def test_a_child_has_at_most_one_active_case(tenant_a: Any, opened: Any) -> None:
    from core.children.models import Child

    with in_tenant(tenant_a) as s:
        actor = system_actor(tenant_a)
        child = s.get(Child, opened.child_id)
        with pytest.raises(Conflict, match="already has an open EHC case"):
            services.open_case(actor, child, ev("request_received", "2026-03-01"), policy=POLICY, today=TODAY)


def test_a_refused_request_does_not_stop_a_new_one(tenant_a: Any, opened: Any) -> None:
    from core.children.models import Child

    with in_tenant(tenant_a) as s:
        actor = system_actor(tenant_a)
        services.record_event(actor, access_case(actor, opened.id, for_write=True),
                              ev("decision_to_assess_made", "2026-02-10", outcome="refuse"), policy=POLICY, today=TODAY)
        again = services.open_case(actor, s.get(Child, opened.child_id), ev("request_received", "2026-09-01"),
                                   policy=POLICY, today=TODAY)
        assert again.stage == "request"


def test_the_caseload_can_be_searched_by_name_or_identifier(tenant_a: Any, make_child: Any, make_case: Any) -> None:
    child = make_child(tenant_a, given_name="Searchable", family_name="Person", nhs_number="9434765919")
    case = make_case(tenant_a, child=child)
    other = make_case(tenant_a)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        for q in ("Searchable", "sear pers", "943 476 5919"):
            rows, _ = services.find_cases(actor, services.CaseFilter(q=q), page=1, per_page=50, today=TODAY)
            assert {c.id for c in rows} == {case.id}, q
        rows, _ = services.find_cases(actor, services.CaseFilter(q="Nobody"), page=1, per_page=50, today=TODAY)
        assert other.id not in {c.id for c in rows}


def test_counts_for_cases_with_no_caseworker(tenant_a: Any, make_case: Any, make_user: Any) -> None:
    worker = make_user(tenant_a, Role.CASEWORKER)
    make_case(tenant_a, caseworker_id=worker.id)
    make_case(tenant_a)
    with in_tenant(tenant_a):
        counts = services.caseload_counts(system_actor(tenant_a), unassigned=True, today=TODAY)
        everyone = services.caseload_counts(system_actor(tenant_a), today=TODAY)
    assert counts["all"] == everyone["all"] - 1 >= 1


def test_staff_names_include_people_who_have_left(tenant_a: Any, make_user: Any) -> None:
    from core.users.models import User
    from core.users.services import staff_names

    leaver = make_user(tenant_a, Role.CASEWORKER, name="Lee Leaver")
    with in_tenant(tenant_a) as s:
        s.get(User, leaver.id).active = False
    with in_tenant(tenant_a):
        assert staff_names([str(leaver.id), "not-an-id"]) == {str(leaver.id): "Lee Leaver"}
