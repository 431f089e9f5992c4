"""Cases worked out by hand from statutory-rules.md section 1, independently of the engine's
author, each with the counting written out. They complement the section 12 examples."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core.timescales import TimescalePolicy, compute_deadlines

pytestmark = pytest.mark.smoke

D = dt.date
TODAY = D(2030, 1, 1)  # after everything, so nothing is "open" by accident


def deadlines(events: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {d.key: d for d in compute_deadlines(events, today=kw.pop("today", TODAY), **kw)}


def ev(type_: str, day: str, **attrs: Any) -> dict[str, Any]:
    return {"type": type_, "date": day, **attrs}


def test_a_request_received_on_a_saturday_counts_from_the_saturday_by_default() -> None:
    # Sat 3 Jan 2026 + 42 days = Sat 14 Feb 2026: no roll-forward for council duties (1.3.1),
    # with a hint to act by the working day before, Fri 13 Feb.
    d = deadlines([ev("request_received", "2026-01-03")], today=D(2026, 1, 4))
    assert d["decision_to_assess"].due == D(2026, 2, 14)
    assert d["decision_to_assess"].non_working_day_hint == D(2026, 2, 13)
    # + 140 days = Sat 23 May 2026; the Monday after is the spring bank holiday, but the hint
    # looks backwards: Fri 22 May.
    assert d["final_plan_issued"].due == D(2026, 5, 23)
    assert d["final_plan_issued"].non_working_day_hint == D(2026, 5, 22)


def test_the_deem_next_working_day_policy_moves_a_weekend_receipt_to_monday() -> None:
    # 1.3.2: off by default; a council may choose it. Deemed received Mon 5 Jan -> Mon 16 Feb.
    d = deadlines([ev("request_received", "2026-01-03")], today=D(2026, 1, 4),
                  policy=TimescalePolicy(deem_weekend_receipt_next_working_day=True))
    assert d["decision_to_assess"].due == D(2026, 2, 16)


def test_an_appeal_deadline_that_lands_in_august_moves_to_the_first_working_day_after_it() -> None:
    # Decision letter Tue 15 Jun 2027 + 2 months = Sun 15 Aug 2027: inside August, so the
    # Tribunal's rule (8.5) moves it to the first working day after 31 Aug: Wed 1 Sep 2027
    # (Mon 30 Aug 2027 is the summer bank holiday, but it is still inside August).
    d = deadlines([ev("request_received", "2027-01-04"),
                   ev("decision_to_assess_made", "2027-02-01", outcome="refuse"),
                   ev("decision_letter_sent", "2027-06-15", decision="refuse_assess")])
    assert d["appeal_deadline"].due == D(2027, 9, 1)
    assert d["mediation_adviser_contact"].due == D(2027, 8, 15)  # a family step: no roll


def test_a_twelve_month_period_starting_on_29_february_ends_on_28_february() -> None:
    # 1.2: "period of 12 months starting with X" ends the day before the corresponding date;
    # 29 Feb 2029 does not exist, so the period ends on the last day of February 2029.
    d = deadlines([ev("request_received", "2027-10-04"), ev("decision_to_assess_made", "2027-11-01", outcome="assess"),
                   ev("decision_to_issue_made", "2028-01-10", outcome="issue"), ev("draft_plan_served", "2028-02-01"),
                   ev("final_plan_issued", "2028-02-29")])
    assert d["annual_review"].due == D(2029, 2, 28)


@pytest.mark.parametrize("aware, move, due", [
    # Working days from awareness (inclusive) to the day before the move: 2-6, 9-13, 16-20 Nov
    # 2026 = 15. Fifteen or more -> the plan transfers on the day of the move (reg 15(2)).
    ("2026-11-02", "2026-11-23", "2026-11-23"),
    # Move on Fri 20 Nov: only 14 working days' notice -> the 15th working day beginning with
    # awareness, which is Fri 20 Nov itself.
    ("2026-11-02", "2026-11-20", "2026-11-20"),
    # Aware Wed 23 Dec 2026, move Thu 24 Dec: day 1 = 23 Dec, 24 Dec (2), skip 25 and 28 Dec
    # (Christmas, Boxing Day substitute), 29-31 Dec (5), skip 1 Jan, 4-8 Jan (10), 11-15 Jan (15).
    ("2026-12-23", "2026-12-24", "2027-01-15"),
])
def test_transfer_between_councils_on_the_move_or_within_15_working_days(aware: str, move: str, due: str) -> None:
    d = deadlines(_plan() + [ev("move_notified", aware, move_on=move, to_la_code="886")], today=D(2026, 12, 1))
    assert d["transfer_of_plan_between_las"].due == D.fromisoformat(due)


def _plan() -> list[dict[str, Any]]:
    return [ev("request_received", "2026-01-05"), ev("decision_to_assess_made", "2026-02-10", outcome="assess"),
            ev("decision_to_issue_made", "2026-04-20", outcome="issue"), ev("draft_plan_served", "2026-05-01"),
            ev("final_plan_issued", "2026-05-20")]


@pytest.mark.parametrize("told, due", [
    ("2026-12-18", "2026-12-23"),  # 3 working days after Fri 18 Dec: Mon 21, Tue 22, Wed 23
    ("2026-12-23", "2026-12-30"),  # after Wed 23 Dec: Thu 24, (25, 28 holidays), Tue 29, Wed 30
])
def test_mediation_certificates_count_working_days_after_the_adviser_is_told(told: str, due: str) -> None:
    d = deadlines([ev("request_received", "2026-06-01"), ev("decision_to_assess_made", "2026-07-01", outcome="refuse"),
                   ev("decision_letter_sent", "2026-07-02", decision="refuse_assess"), ev("mediation_declined", told)])
    assert d["mediation_certificate"].due == D.fromisoformat(due)


def test_an_absence_of_four_weeks_or_more_suspends_the_20_weeks_but_a_shorter_one_does_not() -> None:
    # Reg 13(3) with 10(4)(d): absence from the area for at least 4 continuous weeks.
    base = [ev("request_received", "2026-01-05")]
    long = deadlines(base + [ev("exception_recorded", "2026-03-01", code="absent_from_area", **{"from": "2026-02-01"},
                                to="2026-03-15", affects=["final_plan_issued"])], today=D(2026, 6, 1))
    assert long["final_plan_issued"].status == "suspended"
    assert long["final_plan_issued"].due == D(2026, 5, 25)  # suspended, never moved (1.3.4)
    assert long["decision_to_assess"].status != "suspended"  # not in "affects"
    short = deadlines(base + [ev("exception_recorded", "2026-03-01", code="absent_from_area", **{"from": "2026-02-01"},
                                 to="2026-02-20", affects=["final_plan_issued"])], today=D(2026, 6, 1))
    assert short["final_plan_issued"].status == "missed"


def test_a_missed_appointment_relaxes_only_the_advice_clock_never_the_20_weeks() -> None:
    # Reg 8(2): a missed appointment excuses the adviser's 6 weeks; it is not a reg 13(3)
    # exception for the council (2.1: "Failure of professionals to supply advice is NOT an LA
    # exception").
    d = deadlines([ev("request_received", "2026-01-05"), ev("decision_to_assess_made", "2026-02-10", outcome="assess"),
                   ev("advice_requested", "2026-02-11", advice="medical", advice_id="m1"),
                   ev("exception_recorded", "2026-03-01", code="missed_appointment", **{"from": "2026-02-20"},
                      to="2026-03-01", affects=["advice_returned", "final_plan_issued"])], today=D(2026, 6, 1))
    assert d["advice_returned"].status == "suspended"
    assert d["final_plan_issued"].status == "missed"


@pytest.mark.parametrize("issued_on, status", [("2027-02-12", "met"), ("2027-02-14", "met"), ("2027-02-15", "missed")])
def test_a_phase_transfer_amendment_must_be_issued_before_15_february(issued_on: str, status: str) -> None:
    # Reg 18(1)(b): "before 15 February" of the calendar year of transfer; 15 Feb itself is late.
    events = _plan() + [
        ev("phase_transfer_planned", "2026-09-10", transfer_on="2027-09-01", kind="school"),
        ev("review_meeting_held", "2026-11-20"), ev("review_decision_sent", "2026-12-01", outcome="amend"),
        ev("amendment_notice_sent", "2026-12-01"), ev("amended_plan_issued", issued_on),
    ]
    d = deadlines(events, today=D(2027, 3, 1))["phase_transfer_school"]
    assert (d.due, d.comparison, d.status) == (D(2027, 2, 15), "before", status)


def test_deadlines_are_never_statutory_when_the_law_is_unverified_or_a_council_target() -> None:
    d = compute_deadlines([ev("request_received", "2026-01-05")], today=D(2026, 1, 6))
    by_key = {x.key: x for x in d}
    assert by_key["draft_plan_latest"].statutory is False  # a derived planning hint, 2.1
    assert all(x.citation for x in d)
