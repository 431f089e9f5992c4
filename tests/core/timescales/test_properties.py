"""Property tests: invariants that must hold for any events, not just the examples."""

from datetime import date, timedelta
from typing import Any

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from core.timescales import EVENT_TYPES, RULES, Deadline, compute_deadlines, validate_event
from core.timescales.calendar import (
    add_months,
    count_working_days,
    end_of_months_starting_with,
    last_day_of_month,
    nth_tribunal_working_day_after,
    nth_working_day_after,
    nth_working_day_beginning_with,
)
from core.timescales.rules import BACKWARD_KEYS

# No example database: the suite must not write outside its own files, and every run
# should explore afresh. No deadline: the first call builds the bank-holiday tables.
PROPERTY = settings(database=None, deadline=None, max_examples=150)

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))

# An independent view of the bank holidays: one table over the whole range, read
# directly rather than through the engine's per-year cache.
_TABLE = holidays.country_holidays("GB", subdiv="ENG", years=range(2023, 2034))


def independent_is_working_day(day: date) -> bool:
    return day.isoweekday() <= 5 and day not in _TABLE


def independent_count(first: date, last: date) -> int:
    return sum(independent_is_working_day(first + timedelta(days=offset))
               for offset in range((last - first).days + 1))


# --------------------------------------------------------------------------- calendar


@PROPERTY
@given(DAYS, st.integers(min_value=0, max_value=400))
def test_counting_working_days_skips_exactly_the_weekends_and_bank_holidays(
        first: date, length: int) -> None:
    last = first + timedelta(days=length)
    assert count_working_days(first, last) == independent_count(first, last)


@PROPERTY
@given(DAYS, st.integers(min_value=1, max_value=60))
def test_the_nth_working_day_after_x_has_exactly_n_working_days_after_x(start: date,
                                                                        n: int) -> None:
    result = nth_working_day_after(start, n)
    assert independent_is_working_day(result)
    assert independent_count(start + timedelta(days=1), result) == n


@PROPERTY
@given(DAYS, st.integers(min_value=1, max_value=60))
def test_the_nth_working_day_beginning_with_x_counts_x_when_it_is_a_working_day(
        start: date, n: int) -> None:
    result = nth_working_day_beginning_with(start, n)
    assert independent_is_working_day(result)
    assert independent_count(start, result) == n


@PROPERTY
@given(DAYS, st.integers(min_value=1, max_value=60))
def test_tribunal_working_days_also_skip_august_and_christmas_week(start: date, n: int) -> None:
    result = nth_tribunal_working_day_after(start, n)
    counted = [start + timedelta(days=offset) for offset in range(1, (result - start).days + 1)]
    tribunal_days = [day for day in counted if independent_is_working_day(day)
                     and day.month != 8 and not (day.month == 12 and day.day >= 25)
                     and not (day.month == 1 and day.day == 1)]
    assert len(tribunal_days) == n
    assert tribunal_days[-1] == result


@PROPERTY
@given(DAYS, st.integers(min_value=-24, max_value=24))
def test_adding_months_keeps_the_day_of_month_or_clamps_to_month_end(start: date,
                                                                     months: int) -> None:
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    assert result.day == min(start.day, last_day_of_month(result.year, result.month).day)


@PROPERTY
@given(DAYS, st.integers(min_value=1, max_value=24))
def test_a_period_starting_with_x_ends_the_day_before_the_corresponding_date(start: date,
                                                                             months: int) -> None:
    end = end_of_months_starting_with(start, months)
    target = add_months(start, months)
    if target.day == start.day:
        assert end == target - timedelta(days=1)
    else:  # no corresponding day in the target month
        assert end == last_day_of_month(target.year, target.month)
    assert end >= start


# --------------------------------------------------------------------------- events

ENUMS: dict[str, dict[str, list[Any]]] = {
    "request_received": {"requester": ["parent", "young_person", "setting", "youth_custody",
                                       "other"]},
    "decision_to_assess_made": {"outcome": ["assess", "refuse"]},
    "decision_to_issue_made": {"outcome": ["issue", "not_issue"]},
    "advice_requested": {"advice": ["educational", "medical"], "advice_id": ["a", "b"]},
    "advice_received": {"advice": ["educational", "medical"], "advice_id": ["a", "b"]},
    "institution_consulted": {"urn": ["100001", "100002"]},
    "institution_responded": {"urn": ["100001", "100002"]},
    "review_decision_sent": {"outcome": ["maintain", "amend", "cease"]},
    "phase_transfer_planned": {"kind": ["school", "post16", "post16_institution"]},
    "reassessment_decision_notified": {"outcome": ["reassess", "refuse"]},
    "decision_letter_sent": {"decision": ["refuse_assess", "not_issue", "plan_content",
                                          "refuse_reassess", "refuse_amend", "cease"]},
    "mediation_requested": {"includes_health": [True, False]},
    "tribunal_order_made": {"order": ["assess", "issue_plan", "amend", "name_school",
                                      "continue", "cease"]},
    "exception_recorded": {"code": ["setting_closure", "personal_circumstances",
                                    "absent_from_area", "missed_appointment"]},
    "mediation_agreement_made": {"appealable": [True, False], "la_party": [True, False]},
    "appeal_unopposed": {"decision": ["refuse_assess", "not_issue", "plan_content",
                                      "refuse_reassess", "refuse_amend", "cease",
                                      "name_school"]},
}
#: Date attributes and how they relate to the event's own date (offset range in days).
DATE_ATTRS: dict[str, dict[str, tuple[int, int]]] = {
    "phase_transfer_planned": {"transfer_on": (-60, 700)},
    "move_notified": {"move_on": (-30, 120)},
    "health_body_aware_of_move": {"move_on": (-30, 120)},
    "review_meeting_scheduled": {"meeting_on": (0, 120)},
    "plan_transferred": {"plan_made_on": (-900, 0), "last_reviewed_on": (-400, 0)},
    "draft_plan_served": {"served_at": (0, 5)},
    "amendment_notice_sent": {"served_at": (0, 5)},
    "appeal_registered": {"response_due": (0, 90), "lodged_on": (-20, 0)},
    "mediation_agreement_made": {"agreed_due": (0, 60)},
}


@st.composite
def events(draw: st.DrawFn, types: list[str] | None = None) -> dict[str, Any]:
    event_type = draw(st.sampled_from(types or sorted(EVENT_TYPES)))
    on = draw(DAYS)
    event: dict[str, Any] = {"type": event_type, "date": on.isoformat()}
    for name, choices in ENUMS.get(event_type, {}).items():
        event[name] = draw(st.sampled_from(choices))
    for name, (low, high) in DATE_ATTRS.get(event_type, {}).items():
        if name in ("transfer_on", "move_on", "meeting_on") or draw(st.booleans()):
            offset = draw(st.integers(min_value=low, max_value=high))
            event[name] = (on + timedelta(days=offset)).isoformat()
    if event_type == "exception_recorded":
        start = on - timedelta(days=draw(st.integers(min_value=0, max_value=200)))
        event["from"] = start.isoformat()
        length = draw(st.none() | st.integers(min_value=0, max_value=90))
        event["to"] = None if length is None else (start + timedelta(days=length)).isoformat()
        event["affects"] = draw(st.lists(st.sampled_from(sorted(RULES)), min_size=1, max_size=4))
    assert validate_event(event) == {}, event
    return event


def identity(deadline: Deadline) -> tuple[str, date, str, str | None]:
    return deadline.key, deadline.trigger.date, deadline.trigger.type, deadline.ref


@PROPERTY
@given(st.lists(events(), max_size=12), DAYS)
def test_no_deadline_precedes_the_date_it_derives_from(case: list[dict[str, Any]],
                                                       today: date) -> None:
    for deadline in compute_deadlines(case, today=today):
        if deadline.key in BACKWARD_KEYS:
            assert deadline.due <= deadline.trigger.date, deadline
        else:
            assert deadline.due >= deadline.trigger.date, deadline


@PROPERTY
@given(st.lists(events(["review_meeting_held", "review_meeting_scheduled",
                        "phase_transfer_planned"]), min_size=1, max_size=4), DAYS)
def test_backwards_counted_deadlines_count_back_from_the_meeting_or_the_move(
        case: list[dict[str, Any]], today: date) -> None:
    deadlines = [d for d in compute_deadlines(case, today=today) if d.key in BACKWARD_KEYS]
    assert deadlines
    for deadline in deadlines:
        anchor = deadline.trigger.date
        if deadline.key in ("review_meeting_notice", "review_papers_circulated"):
            assert deadline.due == anchor - timedelta(days=14)
        elif deadline.key == "post16_institution_transfer":
            assert deadline.due == add_months(anchor, -5)
        else:
            statutory = date(anchor.year, 2, 15) if deadline.key == "phase_transfer_school" \
                else date(anchor.year, 3, 31)
            assert deadline.due == min(statutory, anchor)
        assert deadline.comparison == ("on_or_before" if deadline.key.startswith("review")
                                       else "before")


#: Events that only ever close (or excuse) a deadline: adding one may change a status
#: but never which deadlines exist or when they are due.
PURE_CLOSERS = ["exception_recorded", "advice_received", "institution_responded",
                "review_invitations_sent", "review_papers_sent", "review_report_sent",
                "new_la_notification_sent", "health_body_notified", "mediation_health_notified",
                "mediation_agreement_actioned", "mediation_agreement_la_notified",
                "appeal_response_submitted", "appeal_decided", "plan_ceased"]

#: Events whose date a due date can depend on (anchors of later periods, or the
#: certificate and transfer the api-v1 projections wait for). Everything else is
#: unrelated to existing due dates.
DUE_DATE_INPUTS = {"final_plan_issued", "review_decision_sent", "plan_transferred",
                   "move_notified", "phase_transfer_planned", "review_meeting_scheduled",
                   "mediation_declined", "mediation_requested", "mediation_concluded",
                   "mediation_not_arranged_notified", "mediation_certificate_issued"}


@PROPERTY
@given(st.lists(events(), max_size=10), events(PURE_CLOSERS), DAYS)
def test_a_closing_or_exception_event_never_adds_removes_or_moves_a_deadline(
        case: list[dict[str, Any]], extra: dict[str, Any], today: date) -> None:
    before = sorted((identity(d), d.due) for d in compute_deadlines(case, today=today))
    after = sorted((identity(d), d.due) for d in compute_deadlines([*case, extra], today=today))
    assert before == after


@PROPERTY
@given(st.lists(events(), max_size=10),
       events(sorted(set(EVENT_TYPES) - DUE_DATE_INPUTS)), DAYS)
def test_an_unrelated_event_never_moves_an_existing_deadline(
        case: list[dict[str, Any]], extra: dict[str, Any], today: date) -> None:
    def settled(deadlines: list[Deadline]) -> dict[tuple[Any, ...], list[date]]:
        found: dict[tuple[Any, ...], list[date]] = {}
        for deadline in deadlines:
            if not deadline.provisional:
                found.setdefault(identity(deadline), []).append(deadline.due)
        return found

    before = settled(compute_deadlines(case, today=today))
    after = settled(compute_deadlines([*case, extra], today=today))
    for key, dues in before.items():
        if key in after:
            # The extra event may start another deadline from an identical trigger, or
            # end one (a refusal ends the 20 weeks), but never shift a due date.
            old, new = set(dues), set(after[key])
            assert old <= new or new <= old, key


@PROPERTY
@given(st.lists(events(), max_size=10), DAYS)
def test_the_result_does_not_depend_on_the_order_events_are_listed_in(
        case: list[dict[str, Any]], today: date) -> None:
    forwards = compute_deadlines(case, today=today)
    backwards = compute_deadlines(sorted(case, key=lambda e: e["date"]), today=today)
    # Same-day events keep list order, so compare only when the dates are all distinct.
    if len({e["date"] for e in case}) == len(case):
        assert [d.to_dict() for d in forwards] == [d.to_dict() for d in backwards]
    assert all(d.status in ("open", "met", "missed", "suspended") for d in forwards)
