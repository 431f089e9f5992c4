"""A child's specific circumstances (CoP ch.10): validation, overlap, audit, access, review
invitees, and youth custody on the EHC case (CFA 2014 ss70-75, DP Regs 2015)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from core.actors import Actor
from core.audit.models import AuditEvent
from core.cases import reviews
from core.cases import services as cases
from core.cases.access import access_case
from core.cases.models import CaseEvent
from core.children.access import access_child
from core.circumstances import services
from core.circumstances.access import access_circumstance
from core.circumstances.models import Circumstance, CircumstanceKind
from core.errors import Conflict, NotFound, ValidationFailed
from core.permissions import CHILDREN_READ, CHILDREN_WRITE
from core.timescales import TimescalePolicy
from tests.conftest import JOURNEY_TO_PLAN, in_tenant, system_actor

D = dt.date
TODAY = D(2026, 11, 27)
POLICY = cases.policy_from_settings({})
LAC = CircumstanceKind.LOOKED_AFTER
CUSTODY = CircumstanceKind.YOUTH_CUSTODY


def _create(tenant: Any, child: Any, kind: Any, data: dict[str, Any], *, actor: Actor | None = None,
            policy: TimescalePolicy = POLICY, today: D = TODAY) -> Circumstance:
    with in_tenant(tenant):
        actor = actor or system_actor(tenant)
        return services.create_circumstance(actor, access_child(system_actor(tenant), child.id, for_write=True), kind,
                                            data, policy=policy, home_la_code=tenant.la_code, today=today)


def _update(tenant: Any, child: Any, row: Circumstance, changes: dict[str, Any], *, today: D = TODAY,
            policy: TimescalePolicy = POLICY) -> list[str]:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        child = access_child(actor, child.id, for_write=True)
        return services.update_circumstance(actor, child, access_circumstance(actor, child, row.id, for_write=True),
                                            changes, policy=policy, home_la_code=tenant.la_code, today=today)


def _errors(tenant: Any, child: Any, kind: Any, data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as exc:
        _create(tenant, child, kind, data)
    with in_tenant(tenant) as s:
        assert s.execute(select(Circumstance).where(Circumstance.child_id == child.id)).first() is None
    return exc.value.errors


def _events(tenant: Any, case: Any) -> list[CaseEvent]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).scalars())


def _deadlines(tenant: Any, case: Any, *, policy: TimescalePolicy = POLICY, today: D = TODAY) -> dict[str, Any]:
    with in_tenant(tenant):
        found = cases.deadlines_of(access_case(system_actor(tenant), case.id), policy=policy, today=today)
    return {d.key: d for d in found}


# ---------------------------------------------------------------------------------------
# Recording and validation


def test_a_looked_after_record_keeps_its_people_and_is_audited(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    row = _create(tenant_a, child, "looked_after", {
        "started_on": D(2025, 9, 1), "social_worker_name": "Sam  Okoro", "social_worker_email": "sam@example.gov.uk",
        "virtual_school_head_name": "Val Head", "designated_teacher_name": "Dee Teacher", "responsible_la_code": "886",
        "pep_url": "https://pep.example.gov.uk/123", "pep_reviewed_on": D(2026, 10, 1)})
    with in_tenant(tenant_a) as s:
        stored = s.get(Circumstance, row.id)
        assert stored.kind == LAC and stored.social_worker_name == "Sam Okoro" and stored.ended_on is None
        assert stored.responsible_la_code == "886" and stored.pep_reviewed_on == D(2026, 10, 1)
        actions = [e.action for e in s.execute(select(AuditEvent).where(AuditEvent.subject_id == child.id)).scalars()]
    assert "circumstance.created" in actions


@pytest.mark.parametrize("kind, data, field", [
    ("looked_after", {"started_on": D(2026, 5, 1), "ended_on": D(2026, 4, 30)}, "ended_on"),
    ("looked_after", {"started_on": D(2026, 5, 1), "given_name": "x"}, "given_name"),
    ("looked_after", {"started_on": D(2026, 5, 1), "yot_name": "A YOT"}, "yot_name"),
    ("looked_after", {"started_on": D(2026, 5, 1), "social_worker_email": "not-an-email"}, "social_worker_email"),
    ("looked_after", {"started_on": D(2026, 5, 1), "responsible_la_code": "88"}, "responsible_la_code"),
    ("looked_after", {"started_on": D(2026, 5, 1), "pep_url": "http://pep.example"}, "pep_url"),
    ("looked_after", {"started_on": D(2026, 5, 1), "pep_reviewed_on": D(2026, 12, 25)}, "pep_reviewed_on"),
    ("looked_after", {}, "started_on"),
    ("looked_after", {"started_on": D(2028, 1, 1)}, "started_on"),
    ("youth_custody", {"started_on": D(2026, 11, 28), "establishment": "HMYOI Wetherby"}, "started_on"),
    ("youth_custody", {"started_on": D(2026, 6, 1)}, "establishment"),
    ("youth_custody", {"started_on": D(2026, 6, 1), "establishment": "HMYOI Wetherby",
                       "ended_on": D(2026, 12, 1)}, "ended_on"),
    ("youth_custody", {"started_on": D(2026, 6, 1), "establishment": "HMYOI Wetherby",
                       "expected_release_on": D(2026, 5, 1)}, "expected_release_on"),
    ("alternative_provision", {"started_on": D(2026, 6, 1), "provision_type": "pru"}, "urn"),
    ("alternative_provision", {"started_on": D(2026, 6, 1), "provision_type": "eotas"}, "provider"),
    ("alternative_provision", {"started_on": D(2026, 6, 1), "provision_type": "school"}, "provision_type"),
    ("alternative_provision", {"started_on": D(2026, 6, 1), "provision_type": "ap", "urn": "999999"}, "urn"),
    ("elective_home_education", {"started_on": D(2026, 6, 1)}, "parents_arrangements_suitable"),
    ("service_child", {"started_on": D(2026, 6, 1)}, "service_branch"),
    ("out_of_area", {"started_on": D(2026, 6, 1)}, "placement_la_code"),
    ("nonsense", {"started_on": D(2026, 6, 1)}, "kind"),
])
def test_wrong_details_are_refused_and_nothing_is_stored(tenant_a: Any, make_child: Any, kind: str,
                                                         data: dict[str, Any], field: str) -> None:
    assert field in _errors(tenant_a, make_child(tenant_a), kind, data)


def test_out_of_area_cannot_name_the_councils_own_area(tenant_a: Any, make_child: Any) -> None:
    errors = _errors(tenant_a, make_child(tenant_a), "out_of_area",
                     {"started_on": D(2026, 6, 1), "placement_la_code": tenant_a.la_code})
    assert "own code" in errors["placement_la_code"][0]


def test_records_of_one_kind_may_not_overlap_but_other_kinds_and_later_periods_may(tenant_a: Any,
                                                                                   make_child: Any) -> None:
    child = make_child(tenant_a)
    first = _create(tenant_a, child, "child_in_need", {"started_on": D(2025, 1, 6), "ended_on": D(2025, 12, 31)})
    with pytest.raises(ValidationFailed) as exc:
        _create(tenant_a, child, "child_in_need", {"started_on": D(2025, 12, 31)})
    assert "2025-01-06 to 2025-12-31" in exc.value.errors["started_on"][0]
    _create(tenant_a, child, "child_in_need", {"started_on": D(2026, 1, 1)})
    _create(tenant_a, child, "child_protection", {"started_on": D(2025, 6, 1)})
    # Stretching the first record into the second is refused too.
    with pytest.raises(ValidationFailed):
        _update(tenant_a, child, first, {"ended_on": D(2026, 2, 1)})
    with in_tenant(tenant_a) as s:
        assert s.get(Circumstance, first.id).ended_on == D(2025, 12, 31)


def test_a_change_is_checked_against_the_whole_record_and_audits_field_names(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    row = _create(tenant_a, child, "alternative_provision", {"started_on": D(2026, 4, 1), "provision_type": "eotas",
                                                             "provider": "Tutoring three mornings a week"})
    with pytest.raises(ValidationFailed) as exc:
        _update(tenant_a, child, row, {"provider": None})
    assert "provider" in exc.value.errors
    with pytest.raises(ValidationFailed):
        _update(tenant_a, child, row, {"kind": "looked_after"})
    assert _update(tenant_a, child, row, {"provider": "Tutoring and a farm programme", "notes": "Reviewed"}) \
        == ["provider", "notes"]
    assert _update(tenant_a, child, row, {"notes": "Reviewed"}) == []
    with in_tenant(tenant_a) as s:
        updated = s.execute(select(AuditEvent).where(AuditEvent.action == "circumstance.updated",
                                                     AuditEvent.subject_id == child.id)).scalars().one()
        assert updated.fields == "notes,provider"


def test_ending_a_record_sets_its_last_day_once(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    row = _create(tenant_a, child, "service_child", {"started_on": D(2024, 9, 1), "service_branch": "army",
                                                     "overseas": True, "overseas_school": "SHAPE International"})
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        accessed = access_child(actor, child.id, for_write=True)
        services.end_circumstance(actor, accessed, access_circumstance(actor, accessed, row.id, for_write=True),
                                  D(2026, 7, 20), policy=POLICY, today=TODAY)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        accessed = access_child(actor, child.id, for_write=True)
        with pytest.raises(ValidationFailed, match="already ended on 2026-07-20"):
            services.end_circumstance(actor, accessed, access_circumstance(actor, accessed, row.id, for_write=True),
                                      D(2026, 8, 1), policy=POLICY, today=TODAY)


# ---------------------------------------------------------------------------------------
# Access


def test_a_circumstance_is_found_only_through_its_own_child_and_by_council_staff(tenant_a: Any,
                                                                                 make_child: Any) -> None:
    child, other = make_child(tenant_a), make_child(tenant_a)
    row = _create(tenant_a, child, "child_in_need", {"started_on": D(2026, 1, 5)})
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        with pytest.raises(NotFound):
            access_circumstance(actor, access_child(actor, other.id), row.id)
        with pytest.raises(NotFound):
            access_circumstance(actor, access_child(actor, child.id), "not-an-id")
        reader = Actor(tenant_id=tenant_a.id, kind="user", id="reader", permissions=frozenset({CHILDREN_READ}))
        with pytest.raises(NotFound):
            access_circumstance(reader, access_child(actor, child.id), row.id, for_write=True)
        assert access_circumstance(reader, access_child(actor, child.id), row.id).id == row.id
        portal = Actor(tenant_id=tenant_a.id, kind="identity", id="parent", scope=object(),  # type: ignore[arg-type]
                       permissions=frozenset({CHILDREN_READ, CHILDREN_WRITE}))
        with pytest.raises(NotFound):
            access_circumstance(portal, access_child(actor, child.id), row.id)


def test_another_councils_circumstance_is_not_found(tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    row = _create(tenant_a, child, "child_in_need", {"started_on": D(2026, 1, 5)})
    own = make_child(tenant_b)
    with in_tenant(tenant_b):
        actor = system_actor(tenant_b)
        with pytest.raises(NotFound):
            access_circumstance(actor, access_child(actor, own.id), row.id)
        with pytest.raises(NotFound):
            access_child(actor, child.id)


# ---------------------------------------------------------------------------------------
# Review invitees (reg 20(2); CoP ch.10)


def test_a_looked_after_childs_people_are_suggested_for_the_review(tenant_a: Any, make_case: Any,
                                                                    make_child: Any) -> None:
    child = make_child(tenant_a)
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child)
    _create(tenant_a, child, "looked_after", {
        "started_on": D(2025, 9, 1), "social_worker_name": "Sam Okoro", "social_worker_email": "sam@example.gov.uk",
        "virtual_school_head_name": "Val Head", "virtual_school_head_email": "vsh@example.gov.uk",
        "designated_teacher_name": "Dee Teacher"})
    _create(tenant_a, child, "child_in_need", {"started_on": D(2024, 1, 1), "ended_on": D(2024, 12, 31),
                                               "social_worker_name": "Former Worker"})
    with in_tenant(tenant_a):
        invitees = reviews.suggest_invitees(access_case(system_actor(tenant_a), case.id), on=D(2027, 3, 1))
    by_name = {i["name"]: i for i in invitees}
    assert by_name["Sam Okoro"]["role"] == "la_social_care" and by_name["Sam Okoro"]["email"] == "sam@example.gov.uk"
    assert by_name["Val Head"]["organisation"] == "Virtual school head"
    assert by_name["Dee Teacher"]["organisation"].startswith("Designated teacher")
    assert "Former Worker" not in by_name  # that record had ended
    # The social worker fills the reg 20(2)(e) place: no blank "social care officer" gap.
    assert [i for i in invitees if i["role"] == "la_social_care"] == [by_name["Sam Okoro"]]


# ---------------------------------------------------------------------------------------
# Youth custody on the EHC case


def _custody_case(tenant: Any, make_case: Any, make_child: Any) -> tuple[Any, Any]:
    child = make_child(tenant)
    return child, make_case(tenant, JOURNEY_TO_PLAN, child=child)  # plan issued 20 May 2026


def test_detention_and_release_are_recorded_on_the_case_and_start_the_release_review(
        tenant_a: Any, make_case: Any, make_child: Any) -> None:
    child, case = _custody_case(tenant_a, make_case, make_child)
    row = _create(tenant_a, child, "youth_custody", {"started_on": D(2026, 6, 10), "establishment": "HMYOI Wetherby",
                                                     "yot_name": "Westford YOT", "expected_release_on": D(2026, 12, 1)})
    events = _events(tenant_a, case)
    assert events[-1].type == "detention_started" and events[-1].date == D(2026, 6, 10)
    assert events[-1].attributes["circumstance_id"] == str(row.id)
    assert events[-1].attributes["establishment"] == "HMYOI Wetherby"
    before = _deadlines(tenant_a, case)
    assert "release_review" not in before
    # Release on Mon 30 Nov 2026 (today pinned to 7 Dec): the council's own 4-week target is
    # 28 days later, Mon 28 Dec 2026 -- the substitute Boxing Day bank holiday, so act by
    # Thu 24 Dec. It is never statutory.
    _update(tenant_a, child, row, {"ended_on": D(2026, 11, 30)}, today=D(2026, 12, 7))
    events = _events(tenant_a, case)
    assert events[-1].type == "released_from_detention" and events[-1].date == D(2026, 11, 30)
    found = _deadlines(tenant_a, case, today=D(2026, 12, 7))
    review = found["release_review"]
    assert review.due == D(2026, 12, 28) and review.statutory is False and review.status == "open"
    assert review.non_working_day_hint == D(2026, 12, 24)
    assert "not statutory" in review.citation.lower()
    # A tenant's own period (release_review_weeks) moves it: 6 weeks -> Mon 11 Jan 2027.
    six = cases.policy_from_settings({"release_review_weeks": 6})
    assert _deadlines(tenant_a, case, policy=six, today=D(2026, 12, 7))["release_review"].due == D(2027, 1, 11)


def test_detention_does_not_stop_the_annual_review_clock(tenant_a: Any, make_case: Any, make_child: Any) -> None:
    child, case = _custody_case(tenant_a, make_case, make_child)
    plain = _deadlines(tenant_a, case)["annual_review"]
    # CFA s44(1): plan made 20 May 2026 -> the 12 months starting with it end 19 May 2027.
    assert plain.due == D(2027, 5, 19)
    _create(tenant_a, child, "youth_custody", {"started_on": D(2026, 6, 10), "establishment": "HMYOI Wetherby"})
    during = _deadlines(tenant_a, case)["annual_review"]
    assert (during.due, during.status, during.exception) == (plain.due, plain.status, None)
    # And it still falls due, and is missed, while the young person remains detained.
    late = _deadlines(tenant_a, case, today=D(2027, 6, 1))["annual_review"]
    assert late.status == "missed"


def test_a_changed_detention_date_corrects_the_case_event_instead_of_adding_one(
        tenant_a: Any, make_case: Any, make_child: Any) -> None:
    child, case = _custody_case(tenant_a, make_case, make_child)
    row = _create(tenant_a, child, "youth_custody", {"started_on": D(2026, 6, 10), "establishment": "HMYOI Wetherby"})
    first = _events(tenant_a, case)[-1]
    _update(tenant_a, child, row, {"started_on": D(2026, 6, 8)})
    correction = _events(tenant_a, case)[-1]
    assert correction.type == "detention_started" and correction.corrects_event_id == first.id
    assert correction.date == D(2026, 6, 8)
    with in_tenant(tenant_a):
        state = cases.derive_state(cases.events_of(access_case(system_actor(tenant_a), case.id)))
    assert state.detained_since == D(2026, 6, 8)
    # Removing a recorded release is refused: the case's history is corrected, not erased.
    _update(tenant_a, child, row, {"ended_on": D(2026, 9, 1)})
    with pytest.raises(ValidationFailed, match="correct its date"):
        _update(tenant_a, child, row, {"ended_on": None})


def test_a_second_detention_cannot_start_while_one_is_open_on_the_case(tenant_a: Any, make_case: Any,
                                                                        make_child: Any) -> None:
    child, case = _custody_case(tenant_a, make_case, make_child)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        with pytest.raises(Conflict, match="release follows a detention"):
            cases.record_event(actor, access_case(actor, case.id, for_write=True),
                               {"type": "released_from_detention", "date": "2026-07-01"}, policy=POLICY, today=TODAY)
        cases.record_event(actor, access_case(actor, case.id, for_write=True),
                           {"type": "detention_started", "date": "2026-07-01"}, policy=POLICY, today=TODAY)
    # A youth custody record while the case already shows a detention: refused, and the
    # circumstance is not kept either (one transaction).
    with pytest.raises(Conflict, match="already recorded"):
        _create(tenant_a, child, "youth_custody", {"started_on": D(2026, 8, 1), "establishment": "HMYOI Wetherby"})
    with in_tenant(tenant_a) as s:
        assert s.execute(select(Circumstance).where(Circumstance.child_id == child.id)).first() is None


def test_someone_who_cannot_record_case_events_leaves_the_case_for_a_caseworker(
        tenant_a: Any, make_case: Any, make_child: Any) -> None:
    child, case = _custody_case(tenant_a, make_case, make_child)
    children_only = Actor(tenant_id=tenant_a.id, kind="api_client", id="mis",
                          permissions=frozenset({CHILDREN_READ, CHILDREN_WRITE}))
    row = _create(tenant_a, child, "youth_custody", {"started_on": D(2026, 6, 10), "establishment": "HMYOI Wetherby"},
                  actor=children_only)
    assert _events(tenant_a, case)[-1].type == "final_plan_issued"
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        accessed = access_child(actor, child.id)
        circumstance = access_circumstance(actor, accessed, row.id)
        assert services.custody_picture(actor, accessed, circumstance).recorded is False
        assert services.record_custody_on_case(actor, accessed, circumstance, policy=POLICY, today=TODAY) is True
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        accessed = access_child(actor, child.id)
        picture = services.custody_picture(actor, accessed, access_circumstance(actor, accessed, row.id))
    assert picture.recorded is True and picture.case is not None
    assert "annual_review" in {d.key for d in picture.deadlines}


def test_a_request_made_in_custody_runs_on_the_detained_persons_clocks(tenant_a: Any, make_case: Any,
                                                                         make_child: Any) -> None:
    child = make_child(tenant_a)
    _create(tenant_a, child, "youth_custody", {"started_on": D(2026, 9, 1), "establishment": "HMYOI Wetherby"})
    case = make_case(tenant_a, [{"type": "request_received", "date": "2026-10-05", "requester": "youth_custody"}],
                     child=child)
    found = _deadlines(tenant_a, case)
    # DP reg 5: 6 weeks from Mon 5 Oct 2026 -> Mon 16 Nov 2026; reg 13(2): 20 weeks -> Mon 22 Feb 2027.
    assert found["dp_decision_to_assess"].due == D(2026, 11, 16)
    assert found["dp_final_plan_issued"].due == D(2027, 2, 22)
    assert "decision_to_assess" not in found


def test_the_demo_circumstances_seed_through_the_services(tenant_a: Any, make_child: Any, make_case: Any) -> None:
    from tenants.demo_circumstances import seed_circumstances

    kids = [make_child(tenant_a) for _ in range(12)]
    detained = make_case(tenant_a, JOURNEY_TO_PLAN, child=kids[9])
    released = make_case(tenant_a, JOURNEY_TO_PLAN, child=kids[11])
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        seed_circumstances(actor, [access_child(actor, k.id, for_write=True) for k in kids], la_code=tenant_a.la_code,
                           today=TODAY)
    with in_tenant(tenant_a) as s:
        kinds = sorted(r.kind.value for r in s.execute(select(Circumstance)).scalars())
    assert kinds == sorted(["looked_after", "service_child", "out_of_area", "elective_home_education",
                            "youth_custody", "child_in_need", "youth_custody"])
    assert _events(tenant_a, detained)[-1].type == "detention_started"
    assert [e.type for e in _events(tenant_a, released)[-2:]] == ["detention_started", "released_from_detention"]
    # Released 17 Nov 2026: the council's own 4-week review target is 15 Dec 2026.
    assert _deadlines(tenant_a, released)["release_review"].due == D(2026, 12, 15)
