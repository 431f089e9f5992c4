"""Disagreements through their services (issue 6 item 3): every step and refusal, and the
clocks checked against hand-worked dates (statutory-rules.md §12 examples 5 and 6, an August
appeal deadline, a bank-holiday certificate, reg 45, reg 42)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.cases.access import access_case
from core.cases.models import CaseEvent
from core.disagreements import services as disputes
from core.disagreements.models import Disagreement, DisagreementStep, TribunalOrder
from core.errors import Forbidden, NotFound, ValidationFailed
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, actor_for, in_tenant, system_actor

pytestmark = pytest.mark.smoke

D = dt.date
POLICY = disputes.DisagreementPolicy()


def _letter(day: str, decision: str = "plan_content") -> dict[str, Any]:
    return {"type": "decision_letter_sent", "date": day, "decision": decision}


@pytest.fixture
def plan_case(tenant_a: Any, make_case: Any) -> Any:
    """A case with an issued plan (20 May 2026) and no decision letter yet."""
    return make_case(tenant_a, list(JOURNEY_TO_PLAN), today=D(2026, 5, 20))


def _case_with_letter(make_case: Any, tenant: Any, day: str, decision: str = "plan_content") -> Any:
    return make_case(tenant, [*JOURNEY_TO_PLAN, _letter(day, decision)], today=D.fromisoformat(day))


def _open(tenant: Any, case: Any, today: D, **data: Any) -> Disagreement:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        return disputes.open_disagreement(actor, access_case(actor, case.id, for_write=True), data, policy=POLICY,
                                          today=today)


def _step(tenant: Any, d: Disagreement, today: D | None = None, **step: Any) -> None:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        found = disputes.access_disagreement(actor, d.id, for_write=True)
        disputes.record_step(actor, found, step, policy=POLICY, today=today or D.fromisoformat(step["date"]))


def _clocks(tenant: Any, d: Disagreement, today: D) -> dict[str, dict[str, Any]]:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        found = disputes.access_disagreement(actor, d.id)
        return {c["key"] + (f":{c['ref']}" if c.get("ref") else ""): c
                for c in disputes.clocks_of(found, policy=POLICY, today=today)}


def _reload(tenant: Any, d: Disagreement) -> Disagreement:
    with in_tenant(tenant) as s:
        found = s.get(Disagreement, d.id)
        s.expunge(found)
        return found


def _counts(tenant: Any, d: Disagreement) -> tuple[int, int]:
    with in_tenant(tenant) as s:
        steps = s.execute(select(func.count()).select_from(DisagreementStep)
                          .where(DisagreementStep.disagreement_id == d.id)).scalar_one()
        events = s.execute(select(func.count()).select_from(CaseEvent)
                           .where(CaseEvent.case_id == d.case_id)).scalar_one()
    return steps, events


def _refused(tenant: Any, d: Disagreement, field: str, today: D | None = None, **step: Any) -> str:
    before = _counts(tenant, d)
    with pytest.raises(ValidationFailed) as exc:
        _step(tenant, d, today, **step)
    assert field in exc.value.errors, exc.value.errors
    assert _counts(tenant, d) == before
    return " ".join(exc.value.errors[field])


# ---------------------------------------------------------------------------------------
# Opening


def test_mediation_is_about_the_latest_decision_letter_by_default(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-10-02")
    d = _open(tenant_a, case, D(2026, 10, 5), kind="mediation", summary="Section F is too vague")
    assert (d.kind, d.status, d.decision, d.decision_sent_on) == ("mediation", "open", "plan_content", D(2026, 10, 2))
    assert d.decision_event_id is not None
    with in_tenant(tenant_a) as s:
        audits = s.execute(select(AuditEvent).where(AuditEvent.action == "disagreement.opened",
                                                    AuditEvent.object_id == d.id)).scalars().all()
    assert [a.subject_id for a in audits] == [case.child_id]


def test_mediation_without_a_decision_letter_is_refused(tenant_a: Any, plan_case: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _open(tenant_a, plan_case, D(2026, 6, 1), kind="mediation")
    assert "decision letter" in exc.value.errors["decision_event_id"][0]
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(Disagreement)
                         .where(Disagreement.case_id == plan_case.id)).scalar_one() == 0


def test_appeal_grounds_must_match_the_decision(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-10")
    with pytest.raises(ValidationFailed) as exc:
        _open(tenant_a, case, D(2026, 6, 20), kind="appeal", grounds=["refuse_assess"])
    assert "grounds" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        _open(tenant_a, case, D(2026, 6, 20), kind="appeal")
    assert "grounds" in exc.value.errors
    d = _open(tenant_a, case, D(2026, 6, 20), kind="appeal", grounds=["plan_content_b", "plan_content_i"],
              tribunal_reference="EH886/26/00001")
    assert d.grounds == ["plan_content_b", "plan_content_i"]


def test_a_second_open_mediation_about_the_same_decision_is_refused(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-10-02")
    _open(tenant_a, case, D(2026, 10, 5), kind="mediation")
    with pytest.raises(ValidationFailed) as exc:
        _open(tenant_a, case, D(2026, 10, 6), kind="mediation")
    assert "already an open mediation" in exc.value.errors["decision_event_id"][0]


def test_opening_refuses_unknown_kind_fields_and_future_dates(tenant_a: Any, plan_case: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _open(tenant_a, plan_case, D(2026, 6, 1), kind="feud")
    assert set(exc.value.errors) == {"kind"}
    with pytest.raises(ValidationFailed) as exc:
        _open(tenant_a, plan_case, D(2026, 6, 1), kind="complaint", summary="x", opened_on="2026-06-02",
              grounds=["cease"])
    assert set(exc.value.errors) == {"opened_on", "grounds"}
    with pytest.raises(ValidationFailed) as exc:
        _open(tenant_a, plan_case, D(2026, 6, 1), kind="dr_referral", summary="Transport")
    assert set(exc.value.errors) == {"parties"}


def test_a_send_officer_cannot_open_a_disagreement(tenant_a: Any, plan_case: Any, make_user: Any) -> None:
    officer = make_user(tenant_a, Role.SEND_OFFICER)
    with in_tenant(tenant_a):
        actor = actor_for(officer)
        with pytest.raises(Forbidden):
            disputes.open_disagreement(actor, access_case(actor, plan_case.id), {"kind": "complaint", "summary": "x"},
                                       policy=POLICY, today=D(2026, 6, 1))


def test_another_councils_disagreement_is_not_found(tenant_a: Any, tenant_b: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-10-02")
    d = _open(tenant_a, case, D(2026, 10, 5), kind="mediation")
    with in_tenant(tenant_b):
        with pytest.raises(NotFound):
            disputes.access_disagreement(system_actor(tenant_b), d.id)
        with pytest.raises(NotFound):
            disputes.access_disagreement(system_actor(tenant_b), "not-an-id")


# ---------------------------------------------------------------------------------------
# Mediation: worked example 5, the bank-holiday certificate, reg 42


def test_worked_example_5_declined_mediation_certificate_and_christmas_appeal_deadline(
        tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-10-02")
    d = _open(tenant_a, case, D(2026, 10, 5), kind="mediation")
    clocks = _clocks(tenant_a, d, D(2026, 10, 5))
    assert clocks["mediation_adviser_contact"]["due"] == "2026-12-02"
    _step(tenant_a, d, type="mediation_declined", date="2026-11-26")
    clocks = _clocks(tenant_a, d, D(2026, 11, 26))
    assert clocks["mediation_adviser_contact"]["status"] == "met"
    assert clocks["mediation_certificate"]["due"] == "2026-12-01"
    _step(tenant_a, d, type="mediation_certificate_issued", date="2026-12-01")
    clocks = _clocks(tenant_a, d, D(2026, 12, 1))
    assert clocks["mediation_certificate"]["status"] == "met"
    # max(2 Dec 2026, 1 Jan 2027) = 1 Jan, in the Christmas band: Mon 4 Jan 2027 (HESC r.12).
    assert clocks["appeal_deadline"]["due"] == "2027-01-04"
    found = _reload(tenant_a, d)
    assert (found.wants_mediation, found.adviser_contacted_on, found.certificate_kind,
            found.certificate_issued_on) == (False, D(2026, 11, 26), "declined", D(2026, 12, 1))


def test_certificate_after_declining_on_christmas_eve_skips_the_bank_holidays(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-12-02")
    d = _open(tenant_a, case, D(2026, 12, 3), kind="mediation")
    _step(tenant_a, d, type="mediation_declined", date="2026-12-24")
    # 3 working days of Thu 24 Dec: 25 Dec and Mon 28 Dec (Boxing Day substitute) skipped.
    assert _clocks(tenant_a, d, D(2026, 12, 24))["mediation_certificate"]["due"] == "2026-12-31"


def test_mediation_with_health_issues_arranged_concluded_and_agreement_followed_up(
        tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-01")
    d = _open(tenant_a, case, D(2026, 6, 2), kind="mediation")
    _step(tenant_a, d, type="mediation_requested", date="2026-06-05", includes_health=True,
          health_bodies=["NHS Kent and Medway ICB"])
    clocks = _clocks(tenant_a, d, D(2026, 6, 5))
    assert clocks["mediation_arranged"]["due"] == "2026-07-05"  # 30 calendar days (regs 35-36)
    assert clocks["mediation_health_notification"]["due"] == "2026-06-10"  # 3 working days (reg 36)
    _step(tenant_a, d, type="mediation_health_notified", date="2026-06-08")
    _step(tenant_a, d, type="mediation_arranged", date="2026-06-09", arranged_for="2026-06-30",
          provider="Global Mediation", mediator="A. Mediator")
    _step(tenant_a, d, type="mediation_concluded", date="2026-06-30", outcome="partly_resolved")
    _step(tenant_a, d, type="mediation_agreement_made", date="2026-07-01", appealable=False, la_party=True,
          text="The council will fund 10 hours of speech and language therapy a term")
    clocks = _clocks(tenant_a, d, D(2026, 7, 1))
    assert clocks["mediation_arranged"]["status"] == "met"
    assert clocks["mediation_health_notification"]["status"] == "met"
    assert clocks["mediation_certificate_after_mediation"]["due"] == "2026-07-03"
    # Reg 42(3): 2 weeks for an agreement on a non-appealable matter.
    assert clocks["mediation_agreement_action"]["due"] == "2026-07-15"
    _step(tenant_a, d, type="mediation_agreement_actioned", date="2026-07-14")
    _step(tenant_a, d, type="mediation_certificate_issued", date="2026-07-02")
    clocks = _clocks(tenant_a, d, D(2026, 7, 14))
    assert clocks["mediation_agreement_action"]["status"] == "met"
    found = _reload(tenant_a, d)
    assert (found.provider, found.mediator, found.arranged_for, found.held_on, found.mediation_outcome) == \
        ("Global Mediation", "A. Mediator", D(2026, 6, 30), D(2026, 6, 30), "partly_resolved")
    assert (found.health_bodies, found.health_notified_on, found.certificate_kind) == \
        (["NHS Kent and Medway ICB"], D(2026, 6, 8), "after_mediation")
    assert (found.agreement_appealable, found.agreement_actioned_on) == (False, D(2026, 7, 14))


def test_agreement_where_the_council_was_not_a_party_and_agreed_timescale(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-01")
    d = _open(tenant_a, case, D(2026, 6, 2), kind="mediation")
    _step(tenant_a, d, type="mediation_requested", date="2026-06-05")
    _step(tenant_a, d, type="mediation_concluded", date="2026-06-30")
    _step(tenant_a, d, type="mediation_agreement_made", date="2026-07-01", appealable=False, la_party=False,
          agreed_due="2026-09-30")
    clocks = _clocks(tenant_a, d, D(2026, 7, 1))
    assert clocks["mediation_agreement_action"]["due"] == "2026-09-30"  # reg 42(5)
    assert clocks["mediation_agreement_notify_la"]["due"] == "2026-07-08"  # reg 42(4)
    _step(tenant_a, d, type="mediation_agreement_la_notified", date="2026-07-06")
    assert _clocks(tenant_a, d, D(2026, 7, 6))["mediation_agreement_notify_la"]["status"] == "met"


def test_mediation_steps_out_of_order_are_refused_and_change_nothing(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-01")
    d = _open(tenant_a, case, D(2026, 6, 2), kind="mediation")
    assert "asked for mediation" in _refused(tenant_a, d, "type", type="mediation_concluded", date="2026-06-03")
    assert "choice" in _refused(tenant_a, d, "type", type="mediation_certificate_issued", date="2026-06-03")
    _refused(tenant_a, d, "type", type="appeal_registered", date="2026-06-03")
    _refused(tenant_a, d, "date", type="mediation_declined", date="2026-05-30")  # before the letter
    _refused(tenant_a, d, "date", today=D(2026, 6, 3), type="mediation_declined", date="2026-06-04")  # future
    _refused(tenant_a, d, "includes_health", type="mediation_requested", date="2026-06-03", includes_health="yes")
    _refused(tenant_a, d, "colour", type="mediation_declined", date="2026-06-03", colour="red")
    _step(tenant_a, d, type="mediation_requested", date="2026-06-05")
    assert "already" in _refused(tenant_a, d, "type", type="mediation_declined", date="2026-06-06")
    _refused(tenant_a, d, "type", type="mediation_health_notified", date="2026-06-06")  # no health issues
    assert "mediation_concluded" in _refused(tenant_a, d, "type", type="mediation_certificate_issued",
                                             date="2026-06-06")
    _refused(tenant_a, d, "type", type="mediation_agreement_made", date="2026-06-06", appealable=False)
    _refused(tenant_a, d, "type", type="mediation_agreement_actioned", date="2026-06-06")
    _step(tenant_a, d, type="mediation_not_arranged_notified", date="2026-06-20")
    assert "not_arranged" in _refused(tenant_a, d, "certificate_kind", type="mediation_certificate_issued",
                                      date="2026-06-22", certificate_kind="declined")
    _step(tenant_a, d, type="mediation_certificate_issued", date="2026-06-22")
    assert _reload(tenant_a, d).certificate_kind == "not_arranged"


# ---------------------------------------------------------------------------------------
# Appeals: August deadline, worked example 6, reg 45, orders and their compliance


def test_an_appeal_deadline_ending_in_august_moves_to_the_first_working_day_after(tenant_a: Any,
                                                                                   make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-10")
    d = _open(tenant_a, case, D(2026, 6, 11), kind="appeal", grounds=["plan_content_f"])
    clock = _clocks(tenant_a, d, D(2026, 6, 11))["appeal_deadline"]
    # 10 Jun + 2 months = 10 Aug (August is not counted, r.12); 31 Aug 2026 is the Summer
    # bank holiday, so the first working day after August is Tue 1 Sep 2026.
    assert clock["due"] == "2026-09-01" and clock["status"] == "open"


def test_worked_example_6_tribunal_orders_and_their_compliance(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-05-21")
    d = _open(tenant_a, case, D(2026, 5, 22), kind="appeal", grounds=["plan_content_f", "plan_content_i"])
    _step(tenant_a, d, type="appeal_registered", date="2026-06-10", lodged_on="2026-06-08",
          response_due="2026-07-08", tribunal_reference="EH886/26/00042")
    clocks = _clocks(tenant_a, d, D(2026, 6, 10))
    assert clocks["appeal_la_response"]["due"] == "2026-07-08"
    assert clocks["appeal_deadline"]["status"] == "met" and clocks["appeal_deadline"]["met_on"] == "2026-06-08"
    _step(tenant_a, d, type="appeal_response_submitted", date="2026-07-07")
    _step(tenant_a, d, type="hearing_listed", date="2026-07-01", today=D(2026, 7, 7), hearing_on="2026-07-13")
    _step(tenant_a, d, type="appeal_decided", date="2026-07-14", outcome="allowed")
    _step(tenant_a, d, type="tribunal_order_made", date="2026-07-14", order="amend",
          requires="Amend section F as the Tribunal directed")
    _step(tenant_a, d, type="tribunal_order_made", date="2026-07-14", order="name_school")
    clocks = _clocks(tenant_a, d, D(2026, 7, 14))
    assert clocks["tribunal_order_amend"]["due"] == "2026-08-18"
    assert clocks["tribunal_order_name_school"]["due"] == "2026-07-28"
    assert clocks["appeal_la_response"]["status"] == "met"
    with in_tenant(tenant_a) as s:
        orders = s.execute(select(TribunalOrder).where(TribunalOrder.disagreement_id == d.id)).scalars().all()
        assert sorted(o.order for o in orders) == ["amend", "name_school"]
        assert all(o.complied_on is None for o in orders)
    # Closing with orders not complied with is refused (reg 44; reading 3).
    assert "reg 44" in _refused(tenant_a, d, "type", type="disagreement_closed", date="2026-07-20")
    # The amended plan complies with both orders; the engine says so, and the orders follow.
    # The family's 15 days for comments (reg 22(2)) make section I late: done, but late.
    with in_tenant(tenant_a):
        from core.cases import services as cases
        actor = system_actor(tenant_a)
        c = access_case(actor, case.id, for_write=True)
        for event in ({"type": "review_meeting_held", "date": "2026-07-14"},
                      {"type": "review_decision_sent", "date": "2026-07-14", "outcome": "amend"},
                      {"type": "amendment_notice_sent", "date": "2026-07-14"},
                      {"type": "amended_plan_issued", "date": "2026-07-29"}):
            cases.record_event(actor, c, event, policy=POLICY.timescales, today=D(2026, 7, 29))
    clocks = _clocks(tenant_a, d, D(2026, 7, 29))
    assert clocks["tribunal_order_amend"]["status"] == "met"
    assert (clocks["tribunal_order_name_school"]["status"], clocks["tribunal_order_name_school"]["met_on"]) == \
        ("missed", "2026-07-29")
    with in_tenant(tenant_a) as s:
        orders = s.execute(select(TribunalOrder).where(TribunalOrder.disagreement_id == d.id)).scalars().all()
        assert {o.complied_on for o in orders} == {D(2026, 7, 29)}
    _step(tenant_a, d, type="disagreement_closed", date="2026-07-30", reason="Orders complied with")
    found = _reload(tenant_a, d)
    assert (found.status, found.closed_on, found.appeal_outcome, found.hearing_on, found.lodged_on) == \
        ("closed", D(2026, 7, 30), "allowed", D(2026, 7, 13), D(2026, 6, 8))
    assert "closed" in _refused(tenant_a, d, "type", type="hearing_listed", date="2026-07-31", hearing_on="2026-08-01")


def test_reg_45_unopposed_appeal_about_section_i_only_gives_two_weeks(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-01")
    d = _open(tenant_a, case, D(2026, 6, 2), kind="appeal", grounds=["plan_content_i"])
    _step(tenant_a, d, type="appeal_registered", date="2026-07-01")
    clocks = _clocks(tenant_a, d, D(2026, 7, 1))
    # No date from the registration letter: 30 Tribunal working days, none counted in August.
    # 2 Jul - 31 Jul: 22 days; August skipped; 1 - 10 Sep: 8 more.
    assert clocks["appeal_la_response"]["due"] == "2026-09-10"
    _step(tenant_a, d, type="appeal_unopposed", date="2026-07-06")
    clocks = _clocks(tenant_a, d, D(2026, 7, 6))
    assert clocks["unopposed_appeal_name_school"]["due"] == "2026-07-20"
    assert clocks["appeal_la_response"]["status"] == "met"
    assert _reload(tenant_a, d).conceded_on == D(2026, 7, 6)
    assert "conceded" in _refused(tenant_a, d, "type", type="appeal_response_submitted", date="2026-07-07")


def test_reg_45_unopposed_content_appeal_gives_five_weeks(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-01")
    d = _open(tenant_a, case, D(2026, 6, 2), kind="appeal", grounds=["plan_content_b", "plan_content_f"])
    _step(tenant_a, d, type="appeal_registered", date="2026-07-01")
    _step(tenant_a, d, type="appeal_unopposed", date="2026-07-06")
    assert _clocks(tenant_a, d, D(2026, 7, 6))["unopposed_appeal_amended_plan"]["due"] == "2026-08-10"


def test_appeal_steps_out_of_order_are_refused(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-01")
    d = _open(tenant_a, case, D(2026, 6, 2), kind="appeal", grounds=["plan_content_b"])
    assert "registration" in _refused(tenant_a, d, "type", type="appeal_decided", date="2026-06-03",
                                      outcome="allowed")
    _refused(tenant_a, d, "type", type="mediation_requested", date="2026-06-03")
    _step(tenant_a, d, type="appeal_registered", date="2026-06-10")
    _refused(tenant_a, d, "type", type="appeal_registered", date="2026-06-11")
    _refused(tenant_a, d, "date", type="appeal_response_submitted", date="2026-06-09")
    _refused(tenant_a, d, "outcome", type="appeal_decided", date="2026-06-11", outcome="won")
    _step(tenant_a, d, type="appeal_response_submitted", date="2026-06-20")
    assert "already responded" in _refused(tenant_a, d, "type", type="appeal_unopposed", date="2026-06-21")
    _step(tenant_a, d, type="appeal_decided", date="2026-07-01", outcome="dismissed")
    assert "dismissed" in _refused(tenant_a, d, "order", type="tribunal_order_made", date="2026-07-01",
                                   order="amend")
    _refused(tenant_a, d, "type", type="appeal_decided", date="2026-07-02", outcome="allowed")


def test_a_withdrawn_appeal_takes_no_orders(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-01")
    d = _open(tenant_a, case, D(2026, 6, 2), kind="appeal", grounds=["plan_content_b"])
    _step(tenant_a, d, type="appeal_registered", date="2026-06-10")
    _step(tenant_a, d, type="appeal_decided", date="2026-06-20", outcome="withdrawn")
    _refused(tenant_a, d, "order", type="tribunal_order_made", date="2026-06-20", order="amend")


# ---------------------------------------------------------------------------------------
# Disagreement resolution (s57) and complaints


def test_a_dr_referral_has_no_statutory_clock_and_records_its_steps(tenant_a: Any, plan_case: Any) -> None:
    d = _open(tenant_a, plan_case, D(2026, 6, 1), kind="dr_referral", summary="Provision in section F not delivered",
              parties=["school", "council"], provider="Global Mediation", referred_on="2026-05-28")
    assert _clocks(tenant_a, d, D(2026, 6, 1)) == {}
    _refused(tenant_a, d, "date", type="dr_meeting_held", date="2026-05-27", today=D(2026, 6, 1))
    _step(tenant_a, d, type="dr_meeting_held", date="2026-06-15")
    _step(tenant_a, d, type="dr_concluded", date="2026-06-16", outcome="The school will provide a keyworker")
    found = _reload(tenant_a, d)
    assert (found.parties, found.referred_on, found.meeting_on, found.outcome) == \
        (["school", "council"], D(2026, 5, 28), D(2026, 6, 15), "The school will provide a keyworker")


def test_complaint_stages_have_council_targets_in_working_days_not_statutory(tenant_a: Any, plan_case: Any) -> None:
    d = _open(tenant_a, plan_case, D(2026, 12, 17), kind="complaint", summary="Annual review late",
              reference="COMP-1", opened_on="2026-12-17", aware_on="2026-12-01")
    clocks = _clocks(tenant_a, d, D(2026, 12, 17))
    stage1 = clocks["complaint_response:stage_1"]
    # 10 working days after Thu 17 Dec 2026, skipping 25 and 28 Dec and 1 Jan: Tue 5 Jan 2027.
    assert (stage1["due"], stage1["statutory"], stage1["status"]) == ("2027-01-05", False, "open")
    guidance = clocks["lgsco_complaint_guidance"]
    assert (guidance["due"], guidance["statutory"], guidance["guidance"]) == ("2027-12-01", False, True)
    assert "already" in _refused(tenant_a, d, "stage", today=D(2026, 12, 18), type="complaint_stage_received",
                                 date="2026-12-18", stage="stage_1")
    _step(tenant_a, d, today=D(2027, 1, 6), type="complaint_stage_responded", date="2027-01-06", stage="stage_1",
          outcome="not_upheld")
    _step(tenant_a, d, today=D(2027, 1, 7), type="complaint_stage_received", date="2027-01-07", stage="stage_2")
    clocks = _clocks(tenant_a, d, D(2027, 1, 7))
    assert clocks["complaint_response:stage_1"]["status"] == "missed"  # answered a day late
    assert clocks["complaint_response:stage_2"]["due"] == "2027-02-04"  # 20 working days
    _refused(tenant_a, d, "stage", today=D(2027, 1, 8), type="complaint_stage_responded", date="2027-01-08",
             stage="lgsco", outcome="upheld")


def test_complaint_targets_follow_the_councils_settings() -> None:
    policy = disputes.policy_from_settings({"complaint_stage_1_working_days": 15,
                                            "complaint_stage_2_working_days": "x"})
    assert (policy.complaint_stage_1_working_days, policy.complaint_stage_2_working_days) == (15, 20)


# ---------------------------------------------------------------------------------------
# The workbench and lists


def test_workbench_lists_open_disputes_with_open_clocks_overdue_first(tenant_a: Any, make_case: Any,
                                                                      make_user: Any) -> None:
    early = _case_with_letter(make_case, tenant_a, "2026-06-01")
    late = _case_with_letter(make_case, tenant_a, "2026-10-02")
    calm = _open(tenant_a, late, D(2026, 10, 5), kind="mediation")
    overdue = _open(tenant_a, early, D(2026, 6, 2), kind="mediation")
    _step(tenant_a, overdue, type="mediation_requested", date="2026-06-05")  # arranged due 5 Jul, missed
    closed = _open(tenant_a, early, D(2026, 6, 2), kind="complaint", summary="x")
    _step(tenant_a, closed, type="disagreement_closed", date="2026-06-03")
    manager = make_user(tenant_a, Role.TEAM_MANAGER)
    with in_tenant(tenant_a):
        rows = disputes.workbench(actor_for(manager), policy=POLICY, today=D(2026, 10, 6))
    ids = [r.disagreement.id for r in rows]
    assert closed.id not in ids
    assert ids.index(overdue.id) < ids.index(calm.id)
    first = rows[ids.index(overdue.id)]
    assert first.overdue and "mediation_arranged" in {c["key"] for c in first.clocks}
    assert {c["key"] for c in rows[ids.index(calm.id)].clocks} >= {"mediation_adviser_contact", "appeal_deadline"}
    caseworker = make_user(tenant_a, Role.CASEWORKER)
    with in_tenant(tenant_a), pytest.raises(Forbidden):
        disputes.workbench(actor_for(caseworker), policy=POLICY, today=D(2026, 10, 6))


def test_list_pages_filter_and_never_show_another_council(tenant_a: Any, tenant_b: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-10-02")
    mine = [_open(tenant_a, case, D(2026, 10, 5), kind="complaint", summary=f"c{i}") for i in range(3)]
    other = _case_with_letter(make_case, tenant_b, "2026-10-02")
    theirs = _open(tenant_b, other, D(2026, 10, 5), kind="complaint", summary="b")
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        page, after = disputes.list_disagreements_page(actor, case_id=case.id, limit=2)
        assert len(page) == 2 and after == page[-1].id
        rest, end = disputes.list_disagreements_page(actor, case_id=case.id, after=after, limit=2)
        assert len(rest) == 1 and end is None
        every, _ = disputes.list_disagreements_page(actor, limit=200)
        assert theirs.id not in {d.id for d in every}
        assert {d.id for d in page + rest} == {d.id for d in mine}
        assert disputes.list_disagreements_page(actor, case_id=case.id, kind="appeal")[0] == []
        assert len(disputes.disagreements_of_case(actor, access_case(actor, case.id))) == 3


def test_update_changes_particulars_and_refuses_opening_only_fields(tenant_a: Any, make_case: Any,
                                                                    make_user: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-06-01")
    d = _open(tenant_a, case, D(2026, 6, 2), kind="appeal", grounds=["plan_content_b"])
    owner = make_user(tenant_a, Role.CASEWORKER)
    officer = make_user(tenant_a, Role.SEND_OFFICER)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        found = disputes.access_disagreement(actor, d.id, for_write=True)
        changed = disputes.update_disagreement(actor, found, {"tribunal_reference": "EH1", "owner_id": str(owner.id),
                                                              "grounds": ["plan_content_b", "plan_content_f"]})
        assert sorted(changed) == ["grounds", "owner_id", "tribunal_reference"]
        with pytest.raises(ValidationFailed) as exc:
            disputes.update_disagreement(actor, found, {"decision_event_id": None, "owner_id": str(officer.id)})
        assert "decision_event_id" in exc.value.errors
        with pytest.raises(ValidationFailed) as exc:
            disputes.update_disagreement(actor, found, {"owner_id": str(officer.id)})
        assert "owner_id" in exc.value.errors


def test_a_dr_referral_does_not_touch_the_appeal_clock(tenant_a: Any, make_case: Any) -> None:
    # s57 and CoP 11.7ff: using disagreement resolution does not affect appeal rights.
    case = _case_with_letter(make_case, tenant_a, "2026-10-02")
    appeal = _open(tenant_a, case, D(2026, 10, 5), kind="appeal", grounds=["plan_content_f"])
    before = _clocks(tenant_a, appeal, D(2026, 10, 5))["appeal_deadline"]
    dr = _open(tenant_a, case, D(2026, 10, 6), kind="dr_referral", summary="Transport to school", parties=["council"])
    steps, events = _counts(tenant_a, dr)
    _step(tenant_a, dr, type="dr_meeting_held", date="2026-10-20")
    after = _clocks(tenant_a, appeal, D(2026, 10, 20))["appeal_deadline"]
    assert before["due"] == after["due"] == "2026-12-02"
    assert _counts(tenant_a, dr) == (steps + 1, events)  # a step of the dispute, no case event


def test_dates_must_be_strict_iso_dates(tenant_a: Any, plan_case: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _open(tenant_a, plan_case, D(2026, 6, 1), kind="complaint", summary="x", opened_on="20260601")
    assert set(exc.value.errors) == {"opened_on"}


def test_a_late_appeal_admitted_by_the_tribunal_is_recorded(tenant_a: Any, make_case: Any) -> None:
    case = _case_with_letter(make_case, tenant_a, "2026-05-21")
    d = _open(tenant_a, case, D(2026, 9, 1), kind="appeal", grounds=["plan_content_b"])
    _step(tenant_a, d, type="appeal_registered", date="2026-09-10", lodged_on="2026-09-03",
          late_permission_granted=True)
    clock = _clocks(tenant_a, d, D(2026, 9, 10))["appeal_deadline"]
    # 21 May + 2 months = 21 Jul 2026; sent 3 Sep: late, admitted by the Tribunal.
    assert (clock["due"], clock["status"], clock["met_on"]) == ("2026-07-21", "missed", "2026-09-03")
    assert "admitted the appeal late" in clock["note"]
    assert _reload(tenant_a, d).late_permission is True


def test_an_appealable_agreement_runs_on_the_tribunal_order_limits(tenant_a: Any, make_case: Any) -> None:
    """Reg 42(2): an agreement on an appealable matter is carried out within the reg 44 limits
    as if it were a Tribunal order; until what it requires is known, the shortest (2 weeks)."""
    case = _case_with_letter(make_case, tenant_a, "2026-06-01")
    d = _open(tenant_a, case, D(2026, 6, 2), kind="mediation")
    _step(tenant_a, d, type="mediation_requested", date="2026-06-05")
    _step(tenant_a, d, type="mediation_concluded", date="2026-06-30")
    _step(tenant_a, d, type="mediation_agreement_made", date="2026-07-14", appealable=True, requires="amend",
          text="Section F will specify 2 hours of occupational therapy a week")
    clocks = _clocks(tenant_a, d, D(2026, 7, 14))
    # Worked example 6's dates: an amend order of Tue 14 Jul 2026 is due Tue 18 Aug 2026.
    assert clocks["tribunal_order_amend"]["due"] == "2026-08-18"
    assert "mediation_agreement_action" not in clocks
    _refused(tenant_a, d, "requires", type="mediation_agreement_made", date="2026-07-15", appealable=True,
             requires="something")

    other = _open(tenant_a, _case_with_letter(make_case, tenant_a, "2026-06-01"), D(2026, 6, 2), kind="mediation")
    _step(tenant_a, other, type="mediation_requested", date="2026-06-05")
    _step(tenant_a, other, type="mediation_concluded", date="2026-06-30")
    _step(tenant_a, other, type="mediation_agreement_made", date="2026-07-14", appealable=True)
    assert _clocks(tenant_a, other, D(2026, 7, 14))["mediation_agreement_action"]["due"] == "2026-07-28"
