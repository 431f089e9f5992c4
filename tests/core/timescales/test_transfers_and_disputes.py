"""§2.3 re-assessment, §2.4 transfers, §2.6 mediation and appeals, §8.6 orders, §8.7 concessions."""

from datetime import date
from typing import Any

from core.timescales import Deadline, compute_deadlines


def ev(type_: str, on: str, **attrs: Any) -> dict[str, Any]:
    return {"type": type_, "date": on, **attrs}


def only(deadlines: list[Deadline], key: str) -> Deadline:
    found = [d for d in deadlines if d.key == key]
    assert len(found) == 1, f"expected one {key}, got {found}"
    return found[0]


def dues(deadlines: list[Deadline]) -> dict[str, date]:
    return {d.key: d.due for d in deadlines}


# --------------------------------------------------------------------------- re-assessment


def test_a_refused_reassessment_has_no_14_week_plan_deadline() -> None:
    deadlines = compute_deadlines([
        ev("reassessment_request_received", "2027-06-04"),
        ev("reassessment_decision_notified", "2027-06-14", outcome="refuse"),
    ], today=date(2027, 7, 1))
    assert [d.key for d in deadlines] == ["reassessment_decision"]
    assert deadlines[0].status == "met"


def test_a_refusal_letter_answers_the_reassessment_request() -> None:
    deadline = only(compute_deadlines([
        ev("reassessment_request_received", "2027-06-04"),
        ev("decision_letter_sent", "2027-06-21", decision="refuse_reassess"),
    ], today=date(2027, 7, 1)), "reassessment_decision")
    assert (deadline.status, deadline.met_on) == ("missed", date(2027, 6, 21))


def test_a_closure_exception_suspends_the_reassessment_plan() -> None:
    deadline = only(compute_deadlines([
        ev("reassessment_decision_notified", "2027-06-14"),
        ev("exception_recorded", "2027-07-20", code="setting_closure",
           **{"from": "2027-07-21", "to": "2027-09-01"}, affects=["reassessment_final_plan"]),
    ], today=date(2027, 10, 1)), "reassessment_final_plan")
    assert deadline.status == "suspended"
    assert deadline.due == date(2027, 9, 20)


# --------------------------------------------------------------------------- transfers


def test_fifteen_working_days_notice_means_transfer_on_the_day_of_the_move() -> None:
    # 1-19 Jun 2026 holds exactly 15 working days (no bank holidays).
    deadline = only(compute_deadlines([
        ev("move_notified", "2026-06-01", move_on="2026-06-22"),
    ], today=date(2026, 6, 2)), "transfer_of_plan_between_las")
    assert deadline.due == date(2026, 6, 22)


def test_fourteen_working_days_notice_means_15_working_days_from_awareness() -> None:
    deadline = only(compute_deadlines([
        ev("move_notified", "2026-06-02", move_on="2026-06-22"),
    ], today=date(2026, 6, 3)), "transfer_of_plan_between_las")
    # Day 1 = Tue 2 Jun; the 15th working day is Mon 22 Jun.
    assert deadline.due == date(2026, 6, 22)
    deadline = only(compute_deadlines([
        ev("move_notified", "2026-06-03", move_on="2026-06-22"),
    ], today=date(2026, 6, 4)), "transfer_of_plan_between_las")
    assert deadline.due == date(2026, 6, 23)


def test_awareness_after_the_move_counts_15_working_days_from_awareness() -> None:
    deadline = only(compute_deadlines([
        ev("move_notified", "2026-05-22", move_on="2026-05-01"),
    ], today=date(2026, 5, 23)), "transfer_of_plan_between_las")
    # Fri 22 May is day 1; Spring bank holiday 25 May is skipped: 22, 26-29 (5), 1-5 Jun
    # (10), 8-12 Jun (15).
    assert deadline.due == date(2026, 6, 12)


def test_the_health_body_follows_the_same_notice_rule() -> None:
    deadline = only(compute_deadlines([
        ev("health_body_aware_of_move", "2026-12-14", move_on="2026-12-18"),
        ev("health_body_notified", "2027-01-05"),
    ], today=date(2027, 1, 10)), "health_body_notification_on_transfer")
    assert (deadline.due, deadline.status) == (date(2027, 1, 6), "met")
    assert deadline.citation == "SEND Regs 2014 reg 16"


def test_the_real_transfer_replaces_the_projected_new_council_dates() -> None:
    deadlines = compute_deadlines([
        ev("final_plan_issued", "2026-03-10"),
        ev("move_notified", "2026-12-14", move_on="2026-12-18"),
        ev("plan_transferred", "2026-12-18"),
    ], today=date(2026, 12, 19))
    assert only(deadlines, "new_la_notification").due == date(2027, 1, 29)  # 18 Dec + 42
    assert only(deadlines, "new_la_review").due == date(2027, 3, 17)  # later of 9 Mar, 17 Mar
    assert not any(d.provisional for d in deadlines)


# --------------------------------------------------------------------------- mediation


def test_requested_mediation_must_happen_within_30_days_and_tell_health_in_3() -> None:
    deadlines = compute_deadlines([
        ev("mediation_requested", "2026-11-26", includes_health=True),
        ev("mediation_health_notified", "2026-12-02"),
    ], today=date(2026, 12, 3))
    assert only(deadlines, "mediation_arranged").due == date(2026, 12, 26)
    health = only(deadlines, "mediation_health_notification")
    assert health.due == date(2026, 12, 1)
    assert health.status == "missed"


def test_a_certificate_follows_mediation_or_its_failure_within_3_working_days() -> None:
    deadlines = compute_deadlines([
        ev("mediation_not_arranged_notified", "2026-12-23"),
        ev("mediation_concluded", "2027-04-01"),
    ], today=date(2027, 4, 2))
    # 23 Dec 2026 + 3 working days: 24 Dec, skip 25 and 28 Dec, 29 and 30 Dec.
    assert only(deadlines, "mediation_certificate_not_arranged").due == date(2026, 12, 30)
    # Thu 1 Apr 2027 + 3: Fri 2, Mon 5, Tue 6 Apr (Easter 2027 was 26-29 Mar).
    assert only(deadlines, "mediation_certificate_after_mediation").due == date(2027, 4, 6)


def test_mediation_agreements_follow_reg_42() -> None:
    deadlines = compute_deadlines([
        ev("mediation_agreement_made", "2026-12-01", la_party=False),
    ], today=date(2026, 12, 2))
    assert only(deadlines, "mediation_agreement_action").due == date(2026, 12, 15)
    assert only(deadlines, "mediation_agreement_notify_la").due == date(2026, 12, 8)
    agreed = compute_deadlines([
        ev("mediation_agreement_made", "2026-12-01", agreed_due="2027-01-31"),
    ], today=date(2026, 12, 2))
    assert dues(agreed) == {"mediation_agreement_action": date(2027, 1, 31)}


# --------------------------------------------------------------------------- appeals


def test_without_mediation_the_appeal_deadline_is_two_months_from_the_letter() -> None:
    appeal = only(compute_deadlines([
        ev("decision_letter_sent", "2026-03-13", decision="not_issue"),
    ], today=date(2026, 3, 14)), "appeal_deadline")
    assert appeal.due == date(2026, 5, 13)
    assert appeal.provisional is False


def test_an_appeal_deadline_ending_in_august_moves_to_the_first_working_day_of_september() -> None:
    appeal = only(compute_deadlines([
        ev("decision_letter_sent", "2026-06-10", decision="plan_content"),
    ], today=date(2026, 6, 11)), "appeal_deadline")
    assert appeal.due == date(2026, 9, 1)
    assert "2026-08-10" in (appeal.note or "")


def test_an_appeal_deadline_on_a_saturday_moves_to_monday() -> None:
    appeal = only(compute_deadlines([
        ev("decision_letter_sent", "2026-08-17", decision="cease"),
    ], today=date(2026, 8, 18)), "appeal_deadline")
    assert appeal.due == date(2026, 10, 19)  # raw Sat 17 Oct 2026


def test_a_later_certificate_sets_the_appeal_deadline_one_month_after_it() -> None:
    appeal = only(compute_deadlines([
        ev("decision_letter_sent", "2026-03-02", decision="refuse_amend"),
        ev("mediation_requested", "2026-04-20"),
        ev("mediation_concluded", "2026-05-12"),
        ev("mediation_certificate_issued", "2026-05-14"),
    ], today=date(2026, 5, 15)), "appeal_deadline")
    assert appeal.due == date(2026, 6, 15)  # raw Sun 14 Jun rolls to Mon 15 Jun


def test_pending_mediation_projects_the_certificate_from_the_30_day_limit() -> None:
    appeal = only(compute_deadlines([
        ev("decision_letter_sent", "2026-03-02", decision="refuse_amend"),
        ev("mediation_requested", "2026-04-20"),
    ], today=date(2026, 4, 21)), "appeal_deadline")
    # Mediation by 20 May; certificate 3 working days later (21, 22, 26 May - 25 May is
    # the Spring bank holiday); + 1 month = Fri 26 Jun.
    assert appeal.due == date(2026, 6, 26)
    assert appeal.provisional is True


def test_an_appeal_sent_in_time_is_met_even_if_registered_later() -> None:
    deadlines = compute_deadlines([
        ev("decision_letter_sent", "2026-03-13", decision="not_issue"),
        ev("appeal_registered", "2026-05-20", lodged_on="2026-05-13"),
    ], today=date(2026, 6, 1))
    appeal = only(deadlines, "appeal_deadline")
    assert (appeal.status, appeal.met_on) == ("met", date(2026, 5, 13))
    assert only(deadlines, "mediation_adviser_contact").status == "missed"


def test_the_councils_response_is_due_30_tribunal_working_days_after_registration() -> None:
    deadlines = compute_deadlines([ev("appeal_registered", "2026-07-01")],
                                  today=date(2026, 7, 2))
    assert only(deadlines, "appeal_la_response").due == date(2026, 9, 10)


def test_the_date_in_the_tribunals_letter_overrides_the_default_response_date() -> None:
    deadlines = compute_deadlines([
        ev("appeal_registered", "2026-07-01", response_due="2026-09-14"),
        ev("appeal_response_submitted", "2026-09-14"),
    ], today=date(2026, 9, 20))
    response = only(deadlines, "appeal_la_response")
    assert (response.due, response.status) == (date(2026, 9, 14), "met")


# --------------------------------------------------------------------------- Tribunal orders


def test_an_order_to_assess_sets_2_10_and_14_week_limits() -> None:
    deadlines = compute_deadlines([ev("tribunal_order_made", "2026-07-14", order="assess")],
                                  today=date(2026, 7, 15))
    assert dues(deadlines) == {
        "tribunal_order_assess_notify": date(2026, 7, 28),
        "tribunal_order_assess_no_plan": date(2026, 9, 22),
        "tribunal_order_assess_final_plan": date(2026, 10, 20),
    }


def test_an_ordered_assessment_is_not_ended_by_the_original_refusal() -> None:
    deadlines = compute_deadlines([
        ev("request_received", "2026-01-05"),
        ev("decision_to_assess_made", "2026-02-10", outcome="refuse"),
        ev("tribunal_order_made", "2026-07-14", order="assess"),
        ev("decision_to_assess_made", "2026-07-20", outcome="assess"),
    ], today=date(2026, 7, 21))
    assert "final_plan_issued" not in dues(deadlines)
    assert only(deadlines, "tribunal_order_assess_notify").status == "met"


def test_an_order_to_issue_a_plan_sets_5_and_11_week_limits() -> None:
    deadlines = compute_deadlines([ev("tribunal_order_made", "2026-07-14", order="issue_plan")],
                                  today=date(2026, 7, 15))
    assert dues(deadlines) == {"tribunal_order_issue_draft": date(2026, 8, 18),
                               "tribunal_order_issue_final": date(2026, 9, 29)}


def test_an_order_to_continue_is_breached_only_by_ceasing_the_plan() -> None:
    kept = compute_deadlines([ev("tribunal_order_made", "2026-07-14", order="continue")],
                             today=date(2027, 1, 1))
    assert only(kept, "tribunal_order_continue_maintain").status == "met"
    ceased = compute_deadlines([ev("tribunal_order_made", "2026-07-14", order="continue"),
                                ev("plan_ceased", "2026-09-01")], today=date(2027, 1, 1))
    assert only(ceased, "tribunal_order_continue_maintain").status == "missed"


def test_an_order_dismissing_a_cessation_appeal_means_cease_immediately() -> None:
    deadline = only(compute_deadlines([
        ev("tribunal_order_made", "2026-07-14", order="cease"), ev("plan_ceased", "2026-07-14"),
    ], today=date(2026, 8, 1)), "tribunal_order_cease")
    assert (deadline.due, deadline.status) == (date(2026, 7, 14), "met")


def test_a_two_week_absence_suspends_a_tribunal_order_but_not_the_original_20_weeks() -> None:
    absence = {"from": "2026-07-20", "to": "2026-08-02"}  # 14 days
    deadlines = compute_deadlines([
        ev("request_received", "2026-04-06"),
        ev("tribunal_order_made", "2026-07-14", order="amend"),
        ev("exception_recorded", "2026-08-03", code="absent_from_area", **absence,
           affects=["tribunal_order_amend", "decision_not_to_issue"]),
    ], today=date(2026, 9, 1))
    assert only(deadlines, "tribunal_order_amend").status == "suspended"
    assert only(deadlines, "decision_not_to_issue").status == "missed"


# --------------------------------------------------------------------------- concessions


def test_conceding_an_assessment_appeal_sets_2_10_and_14_week_limits() -> None:
    deadlines = compute_deadlines([ev("appeal_unopposed", "2026-03-02", decision="refuse_assess")],
                                  today=date(2026, 3, 3))
    assert dues(deadlines) == {"unopposed_appeal_notify": date(2026, 3, 16),
                               "unopposed_appeal_no_plan": date(2026, 5, 11),
                               "unopposed_appeal_final_plan": date(2026, 6, 8)}


def test_conceding_other_appeals_sets_their_reg_45_limits() -> None:
    def concede(decision: str) -> dict[str, date]:
        return dues(compute_deadlines([ev("appeal_unopposed", "2026-03-02", decision=decision)],
                                      today=date(2026, 3, 3)))

    assert concede("refuse_amend") == {"unopposed_appeal_amended_plan": date(2026, 4, 6)}
    assert concede("name_school") == {"unopposed_appeal_name_school": date(2026, 3, 16)}
    assert concede("not_issue") == {"unopposed_appeal_issue_draft": date(2026, 4, 6),
                                    "unopposed_appeal_issue_final": date(2026, 5, 18)}
    assert concede("cease") == {}


def test_conceding_an_appeal_closes_the_councils_response() -> None:
    deadlines = compute_deadlines([
        ev("appeal_registered", "2026-03-02"),
        ev("appeal_unopposed", "2026-03-20", decision="plan_content"),
    ], today=date(2026, 6, 1))
    assert only(deadlines, "appeal_la_response").status == "met"
