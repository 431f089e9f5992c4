"""§2.2: annual and under-5 reviews, review meetings, amendments and phase transfers."""

from datetime import date
from typing import Any

from core.timescales import Deadline, compute_deadlines


def ev(type_: str, on: str, **attrs: Any) -> dict[str, Any]:
    return {"type": type_, "date": on, **attrs}


def only(deadlines: list[Deadline], key: str) -> Deadline:
    found = [d for d in deadlines if d.key == key]
    assert len(found) == 1, f"expected one {key}, got {found}"
    return found[0]


def every(deadlines: list[Deadline], key: str) -> list[Deadline]:
    return [d for d in deadlines if d.key == key]


# --------------------------------------------------------------------------- annual review


def test_the_review_decision_not_the_meeting_restarts_the_12_months() -> None:
    deadlines = compute_deadlines([
        ev("final_plan_issued", "2026-03-10"),
        ev("review_meeting_held", "2027-02-01"),
        ev("review_decision_sent", "2027-02-20", outcome="maintain"),
    ], today=date(2027, 3, 1))
    first, second = every(deadlines, "annual_review")
    assert (first.due, first.status, first.met_on) == (date(2027, 3, 9), "met",
                                                       date(2027, 2, 20))
    assert second.due == date(2028, 2, 19)  # 12 months starting with 20 Feb 2027
    assert second.status == "open"


def test_a_late_review_is_missed_and_the_next_period_runs_from_it() -> None:
    deadlines = compute_deadlines([
        ev("final_plan_issued", "2026-03-10"),
        ev("review_decision_sent", "2027-04-01", outcome="maintain"),
    ], today=date(2027, 4, 2))
    first, second = every(deadlines, "annual_review")
    assert (first.status, first.met_on) == ("missed", date(2027, 4, 1))
    assert second.due == date(2028, 3, 31)


def test_a_plan_made_on_29_february_is_reviewed_by_28_february() -> None:
    deadline = only(compute_deadlines([ev("final_plan_issued", "2028-02-29")],
                                      today=date(2028, 3, 1)), "annual_review")
    assert deadline.due == date(2029, 2, 28)


def test_a_plan_made_on_1_march_2027_is_reviewed_by_leap_day_2028() -> None:
    deadline = only(compute_deadlines([ev("final_plan_issued", "2027-03-01")],
                                      today=date(2027, 3, 2)), "annual_review")
    assert deadline.due == date(2028, 2, 29)


def test_amended_or_reissued_plans_do_not_restart_the_annual_review() -> None:
    deadlines = compute_deadlines([
        ev("final_plan_issued", "2026-03-10"),
        ev("amended_plan_issued", "2026-09-01"),
        ev("final_plan_issued", "2026-11-01"),
    ], today=date(2026, 12, 1))
    assert only(deadlines, "annual_review").due == date(2027, 3, 9)


def test_a_recorded_transfer_hands_the_running_review_to_the_new_council() -> None:
    deadlines = compute_deadlines([
        ev("final_plan_issued", "2026-03-10"),
        ev("plan_transferred", "2027-01-06"),
        ev("review_decision_sent", "2027-03-30", outcome="maintain"),
    ], today=date(2027, 4, 1))
    assert [d.trigger.date for d in every(deadlines, "annual_review")] == [date(2027, 3, 30)]
    review = only(deadlines, "new_la_review")
    assert (review.due, review.status) == (date(2027, 4, 5), "met")


def test_new_council_review_uses_the_latest_recorded_review_date() -> None:
    deadline = only(compute_deadlines([
        ev("plan_transferred", "2027-01-06", plan_made_on="2025-05-01",
           last_reviewed_on="2026-11-20"),
    ], today=date(2027, 1, 7)), "new_la_review")
    # Later of 19 Nov 2027 (12 months starting 20 Nov 2026) and 5 Apr 2027.
    assert deadline.due == date(2027, 11, 19)


def test_new_council_review_without_any_plan_date_uses_three_months_from_transfer() -> None:
    deadline = only(compute_deadlines([ev("plan_transferred", "2027-01-06")],
                                      today=date(2027, 1, 7)), "new_la_review")
    assert deadline.due == date(2027, 4, 5)
    assert "not recorded" in (deadline.note or "")


# --------------------------------------------------------------------------- under five


def test_no_under_five_guidance_without_a_date_of_birth() -> None:
    deadlines = compute_deadlines([ev("final_plan_issued", "2026-02-10")],
                                  today=date(2026, 2, 11))
    assert not [d for d in deadlines if d.key.startswith("under5")]


def test_no_under_five_guidance_once_the_child_is_five() -> None:
    deadlines = compute_deadlines([ev("final_plan_issued", "2026-02-10")],
                                  child={"date_of_birth": "2021-02-10"}, today=date(2026, 2, 11))
    assert not [d for d in deadlines if d.key.startswith("under5")]


def test_under_five_guidance_applies_the_day_before_the_fifth_birthday() -> None:
    deadlines = compute_deadlines([ev("final_plan_issued", "2026-02-09")],
                                  child={"date_of_birth": "2021-02-10"}, today=date(2026, 2, 11))
    assert only(deadlines, "under5_review").due == date(2026, 8, 9)


def test_the_earliest_under_five_review_is_a_reminder_that_is_never_missed() -> None:
    deadlines = compute_deadlines([ev("final_plan_issued", "2026-02-10")],
                                  child={"date_of_birth": "2023-06-01"}, today=date(2026, 9, 1))
    assert only(deadlines, "under5_review_earliest").status == "open"
    assert only(deadlines, "under5_review").status == "missed"


def test_an_under_five_review_meeting_meets_the_guidance() -> None:
    deadlines = compute_deadlines([
        ev("final_plan_issued", "2026-02-10"), ev("review_meeting_held", "2026-07-01"),
    ], child={"date_of_birth": "2023-06-01"}, today=date(2026, 9, 1))
    assert only(deadlines, "under5_review").status == "met"
    assert only(deadlines, "under5_review_earliest").met_on == date(2026, 7, 1)


# --------------------------------------------------------------------------- review meetings


def test_a_scheduled_meeting_shows_the_notice_date_before_it_happens() -> None:
    deadlines = compute_deadlines([
        ev("review_meeting_scheduled", "2026-09-10", meeting_on="2026-11-05"),
    ], today=date(2026, 9, 11))
    notice = only(deadlines, "review_meeting_notice")
    assert notice.due == date(2026, 10, 22)
    assert notice.trigger.date == date(2026, 11, 5)
    assert notice.status == "open"
    assert not every(deadlines, "post_review_decision")


def test_invitations_sent_two_weeks_ahead_meet_the_notice_rule() -> None:
    deadlines = compute_deadlines([
        ev("review_meeting_scheduled", "2026-09-10", meeting_on="2026-11-05"),
        ev("review_invitations_sent", "2026-10-22"),
        ev("review_papers_sent", "2026-10-23"),
        ev("review_meeting_held", "2026-11-05"),
    ], today=date(2026, 11, 6))
    assert only(deadlines, "review_meeting_notice").status == "met"
    assert only(deadlines, "review_papers_circulated").status == "missed"


def test_a_notice_date_on_a_weekend_gets_a_friday_hint() -> None:
    notice = only(compute_deadlines([ev("review_meeting_held", "2026-11-08")],  # a Sunday
                                    today=date(2026, 10, 1)), "review_meeting_notice")
    assert notice.due == date(2026, 10, 25)  # Sunday
    assert notice.non_working_day_hint == date(2026, 10, 23)


def test_report_and_decision_close_with_their_own_events() -> None:
    deadlines = compute_deadlines([
        ev("review_meeting_held", "2026-11-05"),
        ev("review_report_sent", "2026-11-18"),
        ev("review_decision_sent", "2026-12-04", outcome="maintain"),
    ], today=date(2026, 12, 10))
    assert only(deadlines, "review_report_circulation").status == "met"
    assert (only(deadlines, "post_review_decision").status,
            only(deadlines, "post_review_decision").met_on) == ("missed", date(2026, 12, 4))


# --------------------------------------------------------------------------- amendments


def test_an_amend_decision_without_a_notice_projects_the_amended_plan_from_the_decision() -> None:
    deadlines = compute_deadlines([
        ev("review_meeting_held", "2026-11-05"),
        ev("review_decision_sent", "2026-11-26", outcome="amend"),
    ], today=date(2026, 11, 27))
    amended = only(deadlines, "amended_plan_issued")
    assert amended.due == date(2027, 1, 21)  # 26 Nov + 56
    assert amended.provisional is True
    assert only(deadlines, "amended_plan_after_review_latest").due == date(2027, 1, 28)


def test_a_late_amendment_notice_is_flagged_as_resting_on_a_breach() -> None:
    deadlines = compute_deadlines([
        ev("review_meeting_held", "2026-11-05"),
        ev("review_decision_sent", "2026-12-03", outcome="amend"),
        ev("amendment_notice_sent", "2027-01-11"),
    ], today=date(2027, 1, 12))
    amended = only(deadlines, "amended_plan_issued")
    assert amended.due == date(2027, 3, 8)  # 11 Jan + 56
    assert "rests on a breach" in (amended.note or "")
    backstop = only(deadlines, "amended_plan_after_review_latest")
    assert backstop.due == date(2027, 1, 28)
    assert backstop.statutory is False


def test_a_refusal_to_amend_after_the_notice_is_the_decision_not_to_amend() -> None:
    deadlines = compute_deadlines([
        ev("amendment_notice_sent", "2026-12-03"),
        ev("decision_letter_sent", "2027-01-20", decision="refuse_amend"),
    ], today=date(2027, 2, 1))
    refusal = only(deadlines, "decision_not_to_amend")
    assert (refusal.due, refusal.status) == (date(2027, 1, 28), "met")
    assert not every(deadlines, "amended_plan_issued")


def test_issuing_the_amended_plan_inside_the_15_days_breaches_the_familys_window() -> None:
    deadlines = compute_deadlines([
        ev("amendment_notice_sent", "2026-12-03"),
        ev("amended_plan_issued", "2026-12-10"),
    ], today=date(2027, 2, 1))
    assert only(deadlines, "amendment_notice_representations").status == "missed"
    assert only(deadlines, "amended_plan_issued").status == "met"


# --------------------------------------------------------------------------- phase transfers


def test_a_move_to_post_16_must_be_amended_before_31_march() -> None:
    deadline = only(compute_deadlines([
        ev("phase_transfer_planned", "2026-09-01", transfer_on="2027-09-06", kind="post16"),
    ], today=date(2026, 9, 2)), "phase_transfer_post16")
    assert (deadline.due, deadline.comparison) == (date(2027, 3, 31), "before")
    assert deadline.last_compliant_day == date(2027, 3, 30)


def test_a_post_16_institution_move_is_counted_five_months_back_with_month_end_clamp() -> None:
    deadline = only(compute_deadlines([
        ev("phase_transfer_planned", "2026-09-01", transfer_on="2027-07-31",
           kind="post16_institution"),
    ], today=date(2026, 9, 2)), "post16_institution_transfer")
    assert deadline.due == date(2027, 2, 28)  # 31 Jul - 5 months: no 31 Feb
    assert deadline.comparison == "before"
    assert deadline.trigger.date == date(2027, 7, 31)


def test_a_january_school_start_must_be_amended_before_the_move_itself() -> None:
    deadline = only(compute_deadlines([
        ev("phase_transfer_planned", "2026-09-01", transfer_on="2027-01-06", kind="school"),
    ], today=date(2026, 9, 2)), "phase_transfer_school")
    assert deadline.due == date(2027, 1, 6)


def test_a_re_planned_transfer_replaces_the_earlier_plan() -> None:
    deadlines = compute_deadlines([
        ev("phase_transfer_planned", "2026-09-01", transfer_on="2027-09-01", kind="school"),
        ev("phase_transfer_planned", "2026-10-01", transfer_on="2028-09-01", kind="school"),
    ], today=date(2026, 10, 2))
    assert only(deadlines, "phase_transfer_school").due == date(2028, 2, 15)


def test_only_an_issued_plan_within_the_year_before_the_move_meets_a_phase_transfer() -> None:
    deadlines = compute_deadlines([
        ev("phase_transfer_planned", "2026-01-10", transfer_on="2027-09-01", kind="school"),
        ev("amended_plan_issued", "2026-06-01"),  # more than 12 months before the move
        ev("review_decision_sent", "2026-12-01", outcome="maintain"),
    ], today=date(2027, 2, 16))
    assert only(deadlines, "phase_transfer_school").status == "missed"
