"""statutory-rules.md §12: every worked example, computed through the public API."""

from datetime import date
from typing import Any

from core.timescales import Deadline, compute_deadlines

# Well before any due date in these examples, so every deadline is still "open".
EARLY = date(2025, 12, 1)


def ev(type_: str, on: str, **attrs: Any) -> dict[str, Any]:
    return {"type": type_, "date": on, **attrs}


def only(deadlines: list[Deadline], key: str) -> Deadline:
    found = [d for d in deadlines if d.key == key]
    assert len(found) == 1, f"expected one {key}, got {found}"
    return found[0]


# --------------------------------------------------------------------------- example 1


def test_example_1_request_on_5_jan_2026_gives_the_6_16_and_20_week_deadlines() -> None:
    deadlines = compute_deadlines([ev("request_received", "2026-01-05")], today=EARLY)
    # 5 Jan + 42 days = Mon 16 Feb; + 112 = Mon 27 Apr; + 140 = Mon 25 May.
    assert only(deadlines, "decision_to_assess").due == date(2026, 2, 16)
    assert only(deadlines, "decision_not_to_issue").due == date(2026, 4, 27)
    assert only(deadlines, "final_plan_issued").due == date(2026, 5, 25)
    assert {d.status for d in deadlines} == {"open"}


def test_example_1_final_plan_due_on_spring_bank_holiday_is_not_rolled_but_hints_friday() -> None:
    final = only(compute_deadlines([ev("request_received", "2026-01-05")], today=EARLY),
                 "final_plan_issued")
    assert final.due == date(2026, 5, 25)  # Spring bank holiday: no roll-forward
    assert final.non_working_day_hint == date(2026, 5, 22)
    assert final.statutory is True
    assert final.citation == "SEND Regs 2014 reg 13(2); CoP 9.40"


def test_example_1_draft_plan_latest_is_sunday_10_may_so_serve_by_friday_8_may() -> None:
    draft = only(compute_deadlines([ev("request_received", "2026-01-05")], today=EARLY),
                 "draft_plan_latest")
    # final (25 May) - 15 days = Sun 10 May = request + 125 days.
    assert draft.due == date(2026, 5, 10)
    assert draft.non_working_day_hint == date(2026, 5, 8)
    assert draft.statutory is False


# --------------------------------------------------------------------------- example 2


def test_example_2_draft_served_1_apr_2026_leaves_representations_until_15_apr() -> None:
    window = only(compute_deadlines([ev("draft_plan_served", "2026-04-01")], today=EARLY),
                  "draft_plan_representations")
    # Service day is day 1: 1 Apr + 14 = Wed 15 Apr. Good Friday (3 Apr) and Easter Monday
    # (6 Apr) do not shorten it: calendar days.
    assert window.due == date(2026, 4, 15)
    assert "2026-04-16" in (window.note or "")  # earliest finalisation Thu 16 Apr
    assert window.non_working_day_hint is None  # the family's window, not a duty


# --------------------------------------------------------------------------- example 3


def test_example_3_review_meeting_5_nov_2026_sets_notice_report_and_decision_dates() -> None:
    deadlines = compute_deadlines([ev("review_meeting_held", "2026-11-05")], today=EARLY)
    assert only(deadlines, "review_meeting_notice").due == date(2026, 10, 22)  # M - 14
    assert only(deadlines, "review_papers_circulated").due == date(2026, 10, 22)
    assert only(deadlines, "review_report_circulation").due == date(2026, 11, 19)  # M + 14
    assert only(deadlines, "post_review_decision").due == date(2026, 12, 3)  # M + 28


def test_example_3_amendment_notice_with_the_decision_gives_17_dec_and_28_jan() -> None:
    deadlines = compute_deadlines([
        ev("review_meeting_held", "2026-11-05"),
        ev("review_decision_sent", "2026-12-03", outcome="amend"),
        ev("amendment_notice_sent", "2026-12-03"),
    ], today=EARLY)
    assert only(deadlines, "amendment_notice_representations").due == date(2026, 12, 17)
    # 3 Dec + 56: 28 days to 31 Dec, 28 more = Thu 28 Jan 2027.
    assert only(deadlines, "amended_plan_issued").due == date(2027, 1, 28)
    assert only(deadlines, "amended_plan_issued").provisional is False


# --------------------------------------------------------------------------- example 4


def test_example_4_short_notice_transfer_counts_15_working_days_over_christmas() -> None:
    deadlines = compute_deadlines([
        ev("final_plan_issued", "2026-03-10"),
        ev("move_notified", "2026-12-14", move_on="2026-12-18"),
    ], today=EARLY)
    # Only 4 working days' notice (14-17 Dec). Day 1 = 14 Dec: 14-18 (5), 21-24 (9),
    # skip 25 and 28 Dec, 29-31 (12), skip 1 Jan, 4-6 Jan (15) = Wed 6 Jan 2027.
    assert only(deadlines, "transfer_of_plan_between_las").due == date(2027, 1, 6)


def test_example_4_new_council_duties_run_from_the_latest_lawful_transfer_date() -> None:
    deadlines = compute_deadlines([
        ev("final_plan_issued", "2026-03-10"),
        ev("move_notified", "2026-12-14", move_on="2026-12-18"),
    ], today=EARLY)
    notification = only(deadlines, "new_la_notification")
    assert notification.due == date(2027, 2, 17)  # 6 Jan + 42
    assert notification.provisional is True
    review = only(deadlines, "new_la_review")
    # Later of 9 Mar 2027 (12 months starting 10 Mar 2026) and 5 Apr 2027 (3 months
    # starting 6 Jan 2027).
    assert review.due == date(2027, 4, 5)
    assert review.provisional is True


def test_example_4_recorded_transfer_on_6_jan_gives_the_same_new_council_dates() -> None:
    deadlines = compute_deadlines([
        ev("final_plan_issued", "2026-03-10"),
        ev("move_notified", "2026-12-14", move_on="2026-12-18"),
        ev("plan_transferred", "2027-01-06", plan_made_on="2026-03-10"),
    ], today=date(2027, 1, 7))
    assert only(deadlines, "transfer_of_plan_between_las").status == "met"
    assert only(deadlines, "new_la_notification").due == date(2027, 2, 17)
    assert only(deadlines, "new_la_review").due == date(2027, 4, 5)
    assert not any(d.provisional for d in deadlines)


# --------------------------------------------------------------------------- example 5


def test_example_5_adviser_contact_is_due_two_months_after_the_decision_letter() -> None:
    deadlines = compute_deadlines(
        [ev("decision_letter_sent", "2026-10-02", decision="refuse_assess")], today=EARLY)
    assert only(deadlines, "mediation_adviser_contact").due == date(2026, 12, 2)


def test_example_5_declining_mediation_on_26_nov_gives_certificate_by_1_dec() -> None:
    deadlines = compute_deadlines([
        ev("decision_letter_sent", "2026-10-02", decision="refuse_assess"),
        ev("mediation_declined", "2026-11-26"),
    ], today=EARLY)
    # 3 working days after Thu 26 Nov: Fri 27, Mon 30, Tue 1 Dec.
    assert only(deadlines, "mediation_certificate").due == date(2026, 12, 1)


def test_example_5_appeal_deadline_on_1_jan_moves_to_monday_4_jan_2027() -> None:
    deadlines = compute_deadlines([
        ev("decision_letter_sent", "2026-10-02", decision="refuse_assess"),
        ev("mediation_declined", "2026-11-26"),
        ev("mediation_certificate_issued", "2026-12-01"),
    ], today=EARLY)
    appeal = only(deadlines, "appeal_deadline")
    # max(2 Dec 2026, 1 Dec + 1 month = Fri 1 Jan 2027) is in the 25 Dec - 1 Jan band.
    assert appeal.due == date(2027, 1, 4)
    assert appeal.provisional is False
    assert appeal.trigger.type == "mediation_certificate_issued"


def test_example_5_appeal_deadline_is_projected_before_the_certificate_arrives() -> None:
    deadlines = compute_deadlines([
        ev("decision_letter_sent", "2026-10-02", decision="refuse_assess"),
        ev("mediation_declined", "2026-11-26"),
    ], today=EARLY)
    appeal = only(deadlines, "appeal_deadline")
    assert appeal.due == date(2027, 1, 4)
    assert appeal.provisional is True


# --------------------------------------------------------------------------- example 6


def test_example_6_order_to_amend_on_14_jul_2026_is_due_18_aug() -> None:
    deadlines = compute_deadlines([ev("tribunal_order_made", "2026-07-14", order="amend")],
                                  today=EARLY)
    # 5 weeks; August does not extend a council's duty (only Tribunal procedure rolls).
    assert only(deadlines, "tribunal_order_amend").due == date(2026, 8, 18)


def test_example_6_order_to_change_only_section_i_is_due_28_jul() -> None:
    deadlines = compute_deadlines([ev("tribunal_order_made", "2026-07-14", order="name_school")],
                                  today=EARLY)
    assert only(deadlines, "tribunal_order_name_school").due == date(2026, 7, 28)


# --------------------------------------------------------------------------- example 7


def test_example_7_move_to_secondary_in_sept_2027_must_be_done_before_15_feb() -> None:
    deadline = only(compute_deadlines([
        ev("phase_transfer_planned", "2026-09-01", transfer_on="2027-09-01", kind="school"),
    ], today=EARLY), "phase_transfer_school")
    assert deadline.due == date(2027, 2, 15)
    assert deadline.comparison == "before"
    assert deadline.last_compliant_day == date(2027, 2, 14)  # a Sunday
    assert deadline.non_working_day_hint == date(2027, 2, 12)  # so in practice Fri 12 Feb


# --------------------------------------------------------------------------- example 8


def test_example_8_reassessment_decision_is_due_on_saturday_19_jun_without_roll() -> None:
    deadline = only(compute_deadlines([ev("reassessment_request_received", "2027-06-04")],
                                      today=EARLY), "reassessment_decision")
    assert deadline.due == date(2027, 6, 19)  # Fri 4 Jun + 15 calendar days
    assert deadline.non_working_day_hint == date(2027, 6, 18)


def test_example_8_reassessment_plan_is_due_14_weeks_after_the_decision_on_20_sep() -> None:
    deadline = only(compute_deadlines([
        ev("reassessment_request_received", "2027-06-04"),
        ev("reassessment_decision_notified", "2027-06-14", outcome="reassess"),
    ], today=EARLY), "reassessment_final_plan")
    # 14 Jun + 98: 16 days to 30 Jun, 31 in Jul, 31 in Aug (78), then 20 Sep.
    assert deadline.due == date(2027, 9, 20)


# --------------------------------------------------------------------------- example 9


def test_example_9_under_five_plan_gets_advisory_reviews_and_the_annual_backstop() -> None:
    deadlines = compute_deadlines([ev("final_plan_issued", "2026-02-10")],
                                  child={"date_of_birth": "2023-06-01"}, today=EARLY)
    earliest = only(deadlines, "under5_review_earliest")
    latest = only(deadlines, "under5_review")
    assert earliest.due == date(2026, 5, 10)  # Sunday
    assert latest.due == date(2026, 8, 10)  # Monday
    assert not earliest.statutory and not latest.statutory
    assert only(deadlines, "annual_review").due == date(2027, 2, 9)
    assert only(deadlines, "annual_review").statutory is True
