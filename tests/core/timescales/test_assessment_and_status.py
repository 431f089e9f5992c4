"""Statuses against an injected today, exceptions, policies and the §2.1 assessment rules."""

import dataclasses
from datetime import date
from typing import Any

import pytest

from core.timescales import (
    Deadline,
    SlaTarget,
    TimescalePolicy,
    compute_deadlines,
)

REQUEST = {"type": "request_received", "date": "2026-01-05"}  # final plan due 25 May 2026
EARLY_2026 = date(2026, 1, 6)


def ev(type_: str, on: str, **attrs: Any) -> dict[str, Any]:
    return {"type": type_, "date": on, **attrs}


def only(deadlines: list[Deadline], key: str) -> Deadline:
    found = [d for d in deadlines if d.key == key]
    assert len(found) == 1, f"expected one {key}, got {found}"
    return found[0]


def final_plan(*events: dict[str, Any], today: date) -> Deadline:
    return only(compute_deadlines([REQUEST, *events], today=today), "final_plan_issued")


# --------------------------------------------------------------------------- statuses


def test_a_deadline_is_open_until_the_end_of_its_due_day() -> None:
    assert final_plan(today=date(2026, 5, 25)).status == "open"


def test_a_deadline_not_met_by_the_due_day_is_missed_the_day_after() -> None:
    deadline = final_plan(today=date(2026, 5, 26))
    assert deadline.status == "missed"
    assert deadline.met_on is None


def test_a_step_on_the_due_day_meets_an_on_or_before_deadline() -> None:
    deadline = final_plan(ev("final_plan_issued", "2026-05-25"), today=date(2026, 6, 30))
    assert deadline.status == "met"
    assert deadline.met_on == date(2026, 5, 25)


def test_a_step_taken_late_is_missed_with_the_date_it_happened() -> None:
    deadline = final_plan(ev("final_plan_issued", "2026-05-26"), today=date(2026, 6, 30))
    assert deadline.status == "missed"
    assert deadline.met_on == date(2026, 5, 26)
    assert deadline.to_dict()["met_on"] == "2026-05-26"


def test_a_step_before_the_trigger_does_not_close_the_deadline() -> None:
    deadline = final_plan(ev("final_plan_issued", "2026-01-02"), today=date(2026, 2, 1))
    assert deadline.status == "open"
    assert deadline.met_on is None


def _phase_transfer(*events: dict[str, Any], today: date) -> Deadline:
    planned = ev("phase_transfer_planned", "2026-09-01", transfer_on="2027-09-01", kind="school")
    return only(compute_deadlines([planned, *events], today=today), "phase_transfer_school")


def test_amending_on_15_february_breaches_a_before_15_february_deadline() -> None:
    deadline = _phase_transfer(ev("amended_plan_issued", "2027-02-15"), today=date(2027, 3, 1))
    assert deadline.status == "missed"
    assert deadline.met_on == date(2027, 2, 15)


def test_amending_on_14_february_meets_a_before_15_february_deadline() -> None:
    deadline = _phase_transfer(ev("amended_plan_issued", "2027-02-14"), today=date(2027, 3, 1))
    assert deadline.status == "met"


def test_a_before_deadline_is_already_missed_on_its_due_date() -> None:
    assert _phase_transfer(today=date(2027, 2, 14)).status == "open"
    assert _phase_transfer(today=date(2027, 2, 15)).status == "missed"


# --------------------------------------------------------------------------- exceptions


def _exception(code: str, start: str, end: str | None, *keys: str) -> dict[str, Any]:
    return ev("exception_recorded", start, code=code, **{"from": start, "to": end},
              affects=list(keys))


def test_a_recorded_exception_suspends_but_never_moves_the_due_date() -> None:
    deadline = final_plan(
        _exception("personal_circumstances", "2026-03-02", "2026-04-10", "final_plan_issued"),
        today=date(2026, 6, 30))
    assert deadline.status == "suspended"
    assert deadline.due == date(2026, 5, 25)
    assert deadline.exception == {"code": "personal_circumstances", "from": date(2026, 3, 2),
                                  "to": date(2026, 4, 10)}
    assert deadline.to_dict()["exception"] == {"code": "personal_circumstances",
                                               "from": "2026-03-02", "to": "2026-04-10"}


def test_an_exception_does_not_hide_a_step_done_in_time() -> None:
    deadline = final_plan(
        _exception("personal_circumstances", "2026-03-02", "2026-04-10", "final_plan_issued"),
        ev("final_plan_issued", "2026-05-20"), today=date(2026, 6, 30))
    assert deadline.status == "met"
    assert deadline.exception is None


def test_a_late_step_under_an_exception_stays_suspended_and_records_its_date() -> None:
    deadline = final_plan(
        _exception("personal_circumstances", "2026-03-02", "2026-04-10", "final_plan_issued"),
        ev("final_plan_issued", "2026-06-12"), today=date(2026, 6, 30))
    assert deadline.status == "suspended"
    assert deadline.met_on == date(2026, 6, 12)


def test_a_missed_appointment_does_not_excuse_the_20_weeks() -> None:
    # Reg 8(2) relaxes only the advice-giver's 6 weeks; reg 13(3) has no such ground.
    deadline = final_plan(
        _exception("missed_appointment", "2026-03-02", "2026-03-02", "final_plan_issued"),
        today=date(2026, 6, 30))
    assert deadline.status == "missed"
    assert deadline.exception is None


def test_a_missed_appointment_does_excuse_the_advice_givers_6_weeks() -> None:
    deadlines = compute_deadlines([
        ev("advice_requested", "2026-02-02", advice="medical"),
        _exception("missed_appointment", "2026-02-20", "2026-02-20", "advice_returned"),
    ], today=date(2026, 4, 1))
    advice = only(deadlines, "advice_returned")
    assert advice.due == date(2026, 3, 16)
    assert advice.status == "suspended"


def test_an_absence_shorter_than_four_weeks_does_not_suspend_the_decision() -> None:
    deadlines = compute_deadlines([
        REQUEST, _exception("absent_from_area", "2026-01-12", "2026-02-06", "decision_to_assess"),
    ], today=date(2026, 3, 1))
    assert only(deadlines, "decision_to_assess").status == "missed"  # 26 days is too short


def test_an_absence_of_four_weeks_suspends_the_decision() -> None:
    deadlines = compute_deadlines([
        REQUEST, _exception("absent_from_area", "2026-01-12", "2026-02-08", "decision_to_assess"),
    ], today=date(2026, 3, 1))
    assert only(deadlines, "decision_to_assess").status == "suspended"  # 28 days


def test_an_exception_outside_the_running_period_excuses_nothing() -> None:
    deadlines = compute_deadlines([
        REQUEST,
        _exception("personal_circumstances", "2026-02-20", "2026-03-20", "decision_to_assess"),
    ], today=date(2026, 4, 1))
    # The decision was due 16 Feb; circumstances from 20 Feb cannot excuse it.
    assert only(deadlines, "decision_to_assess").status == "missed"


def test_an_exception_only_suspends_the_keys_it_names() -> None:
    deadlines = compute_deadlines([
        REQUEST,
        _exception("personal_circumstances", "2026-03-02", None, "final_plan_issued"),
    ], today=date(2026, 6, 30))
    assert only(deadlines, "final_plan_issued").status == "suspended"
    assert only(deadlines, "decision_not_to_issue").status == "missed"


def test_no_exception_suspends_a_key_whose_regulation_lists_none() -> None:
    deadlines = compute_deadlines([
        ev("review_meeting_held", "2026-11-05"),
        _exception("personal_circumstances", "2026-11-01", "2026-12-31", "post_review_decision"),
    ], today=date(2027, 1, 15))
    assert only(deadlines, "post_review_decision").status == "missed"


# --------------------------------------------------------------------------- §2.1 chain


def test_a_refusal_to_assess_ends_the_16_and_20_week_duties() -> None:
    deadlines = compute_deadlines([
        REQUEST, ev("decision_to_assess_made", "2026-02-10", outcome="refuse"),
    ], today=date(2026, 12, 1))
    assert [d.key for d in deadlines] == ["decision_to_assess"]
    assert deadlines[0].status == "met"


def test_a_decision_not_to_issue_ends_the_final_plan_duty() -> None:
    deadlines = compute_deadlines([
        REQUEST,
        ev("decision_to_assess_made", "2026-02-10", outcome="assess"),
        ev("decision_to_issue_made", "2026-04-20", outcome="not_issue"),
    ], today=date(2026, 12, 1))
    assert {d.key for d in deadlines} == {"decision_to_assess", "decision_not_to_issue"}
    assert only(deadlines, "decision_not_to_issue").status == "met"


def test_a_draft_plan_shows_the_decision_to_assess_was_made_by_then() -> None:
    deadlines = compute_deadlines([REQUEST, ev("draft_plan_served", "2026-02-12")],
                                  today=date(2026, 3, 1))
    assert only(deadlines, "decision_to_assess").met_on == date(2026, 2, 12)
    assert only(deadlines, "decision_not_to_issue").status == "met"


def test_a_late_decision_to_issue_counts_as_late_against_the_16_weeks() -> None:
    deadlines = compute_deadlines([
        REQUEST, ev("decision_to_issue_made", "2026-04-28", outcome="issue"),
    ], today=date(2026, 5, 1))
    assert only(deadlines, "decision_not_to_issue").status == "missed"


def test_each_request_runs_its_own_clock() -> None:
    deadlines = compute_deadlines([
        REQUEST,
        ev("decision_to_assess_made", "2026-02-10", outcome="refuse"),
        ev("request_received", "2026-09-07"),
    ], today=date(2026, 9, 8))
    decisions = [d for d in deadlines if d.key == "decision_to_assess"]
    assert [(d.due, d.status) for d in decisions] == [
        (date(2026, 2, 16), "met"), (date(2026, 10, 19), "open")]


def test_a_youth_custody_request_uses_the_detained_persons_keys() -> None:
    deadlines = compute_deadlines([
        ev("request_received", "2026-01-05", requester="youth_custody"),
        ev("draft_plan_served", "2026-04-01"),
    ], today=EARLY_2026)
    keys = {d.key for d in deadlines}
    assert {"dp_decision_to_assess", "dp_decision_not_to_issue", "dp_final_plan_issued",
            "dp_draft_representations"} <= keys
    assert not keys & {"decision_to_assess", "final_plan_issued", "draft_plan_representations"}
    assert only(deadlines, "dp_final_plan_issued").due == date(2026, 5, 25)
    assert only(deadlines, "dp_final_plan_issued").citation.startswith(
        "SEND (Detained Persons) Regs 2015")
    # The 16 weeks are unverified for detained persons: shown, but not as statutory.
    assert only(deadlines, "dp_decision_not_to_issue").statutory is False



def test_absence_from_the_area_is_no_exception_for_a_detained_person() -> None:
    deadlines = compute_deadlines([
        ev("request_received", "2026-01-05", requester="youth_custody"),
        _exception("absent_from_area", "2026-02-01", "2026-04-30", "dp_final_plan_issued"),
        _exception("personal_circumstances", "2026-02-01", "2026-04-30", "dp_decision_to_assess"),
    ], today=date(2026, 6, 1))
    assert only(deadlines, "dp_final_plan_issued").status == "missed"
    assert only(deadlines, "dp_decision_to_assess").status == "suspended"


def test_advice_requests_are_matched_to_their_own_replies() -> None:
    deadlines = compute_deadlines([
        ev("advice_requested", "2026-02-02", advice="medical", advice_id="m1"),
        ev("advice_requested", "2026-02-02", advice="psychological", advice_id="p1"),
        ev("advice_received", "2026-03-01", advice="psychological", advice_id="p1"),
    ], today=date(2026, 3, 20))
    by_ref = {d.ref: d for d in deadlines if d.key == "advice_returned"}
    assert by_ref["p1"].status == "met"
    assert by_ref["m1"].status == "missed"  # due 16 Mar 2026


def test_institution_consultation_is_a_non_statutory_15_day_warning() -> None:
    deadline = only(compute_deadlines([ev("institution_consulted", "2026-04-01", urn="100000")],
                                      today=date(2026, 4, 20)),
                    "institution_consultation_response")
    assert deadline.due == date(2026, 4, 16)
    assert deadline.statutory is False
    assert deadline.ref == "100000"


# --------------------------------------------------------------------------- draft windows


def test_finalising_inside_the_representations_window_breaches_it() -> None:
    deadlines = compute_deadlines([
        ev("draft_plan_served", "2026-04-01"), ev("final_plan_issued", "2026-04-15"),
    ], today=date(2026, 5, 1))
    assert only(deadlines, "draft_plan_representations").status == "missed"


def test_finalising_the_day_after_the_window_honours_it() -> None:
    deadlines = compute_deadlines([
        ev("draft_plan_served", "2026-04-01"), ev("final_plan_issued", "2026-04-16"),
    ], today=date(2026, 5, 1))
    window = only(deadlines, "draft_plan_representations")
    assert window.status == "met"
    assert window.met_on == date(2026, 4, 15)


def test_an_explicit_service_date_starts_the_window() -> None:
    window = only(compute_deadlines([
        ev("draft_plan_served", "2026-04-01", served_at="2026-04-03"),
    ], today=date(2026, 4, 2)), "draft_plan_representations")
    assert window.due == date(2026, 4, 17)
    assert window.trigger.date == date(2026, 4, 3)


# --------------------------------------------------------------------------- policy


def test_weekend_receipt_counts_from_the_actual_day_by_default() -> None:
    deadlines = compute_deadlines([ev("request_received", "2026-01-03")],  # a Saturday
                                  today=EARLY_2026)
    assert only(deadlines, "decision_to_assess").due == date(2026, 2, 14)


def test_a_council_may_deem_weekend_receipt_to_be_the_next_working_day() -> None:
    policy = TimescalePolicy(deem_weekend_receipt_next_working_day=True)
    deadlines = compute_deadlines([ev("request_received", "2026-01-03")], today=EARLY_2026,
                                  policy=policy)
    deadline = only(deadlines, "decision_to_assess")
    assert deadline.due == date(2026, 2, 16)
    assert deadline.trigger.date == date(2026, 1, 5)
    assert "deemed received on 2026-01-05" in (deadline.note or "")


def test_deemed_service_days_extend_the_familys_window_only() -> None:
    policy = TimescalePolicy(deemed_service_days=2)
    deadlines = compute_deadlines([
        ev("amendment_notice_sent", "2026-12-03"),
    ], today=date(2026, 12, 4), policy=policy)
    assert only(deadlines, "amendment_notice_representations").due == date(2026, 12, 19)
    # The council's 8 weeks still run from sending (reg 22(3)).
    assert only(deadlines, "amended_plan_issued").due == date(2027, 1, 28)


def test_policy_refuses_negative_deemed_service() -> None:
    with pytest.raises(ValueError):
        TimescalePolicy(deemed_service_days=-1)


def test_council_sla_targets_are_never_statutory_and_may_skip_closure_days() -> None:
    policy = TimescalePolicy(
        sla_targets=(SlaTarget("request_acknowledged", "request_received", 3,
                               closed_by=("decision_to_assess_made",)),),
        closure_days=frozenset({date(2026, 1, 6)}))
    deadlines = compute_deadlines([REQUEST], today=EARLY_2026, policy=policy)
    sla = only(deadlines, "request_acknowledged")
    assert sla.statutory is False
    assert sla.due == date(2026, 1, 9)  # Tue 6 Jan is a council closure day
    # Closure days never touch a statutory date.
    assert only(deadlines, "decision_to_assess").due == date(2026, 2, 16)


def test_sla_targets_must_use_a_reserved_sla_key() -> None:
    with pytest.raises(ValueError, match="not a council SLA key"):
        SlaTarget("final_plan_issued", "request_received", 5)


# --------------------------------------------------------------------------- the object


def test_to_dict_gives_the_api_v1_shape_with_iso_dates() -> None:
    data = final_plan(ev("final_plan_issued", "2026-05-20"), today=date(2026, 6, 1)).to_dict()
    assert {k: data[k] for k in ("key", "due", "comparison", "statutory", "status", "citation",
                                 "met_on")} == {
        "key": "final_plan_issued", "due": "2026-05-25", "comparison": "on_or_before",
        "statutory": True, "status": "met", "citation": "SEND Regs 2014 reg 13(2); CoP 9.40",
        "met_on": "2026-05-20"}
    assert data["trigger"] == {"type": "request_received", "date": "2026-01-05"}
    assert data["label"] == "The council must issue the final EHC plan"
    assert data["non_working_day_hint"] == "2026-05-22"
    assert "exception" not in data


def test_to_dict_leaves_out_met_on_and_exception_when_open() -> None:
    data = final_plan(today=date(2026, 2, 1)).to_dict()
    assert "met_on" not in data and "exception" not in data
    assert data["status"] == "open"


def test_deadlines_are_immutable() -> None:
    deadline = final_plan(today=date(2026, 2, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        deadline.due = date(2030, 1, 1)  # type: ignore[misc]


def test_events_may_carry_date_objects_and_arrive_in_any_order() -> None:
    forwards = compute_deadlines([REQUEST, ev("final_plan_issued", "2026-05-01")],
                                 today=date(2026, 6, 1))
    backwards = compute_deadlines([{"type": "final_plan_issued", "date": date(2026, 5, 1)},
                                   {"type": "request_received", "date": date(2026, 1, 5)}],
                                  today=date(2026, 6, 1))
    assert [(d.key, d.due, d.status) for d in forwards] == \
        [(d.key, d.due, d.status) for d in backwards]


def test_a_bad_date_of_birth_is_refused() -> None:
    with pytest.raises(ValueError, match="date_of_birth"):
        compute_deadlines([REQUEST], child={"date_of_birth": "01/06/2023"}, today=EARLY_2026)


def test_no_events_give_no_deadlines() -> None:
    assert compute_deadlines([], today=EARLY_2026) == []
