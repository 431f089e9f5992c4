"""The order of statutory steps on an EHC case."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core.cases.workflow import WorkflowRefusal, check_next_event, derive_state

pytestmark = pytest.mark.smoke

TODAY = dt.date(2026, 11, 27)


def ev(kind: str, day: str, **attrs: Any) -> dict[str, Any]:
    return {"type": kind, "date": day, **attrs}


REQUEST = ev("request_received", "2026-01-05", requester="parent")
ASSESS = ev("decision_to_assess_made", "2026-02-10", outcome="assess")
ISSUE = ev("decision_to_issue_made", "2026-04-20", outcome="issue")
DRAFT = ev("draft_plan_served", "2026-05-01")
FINAL = ev("final_plan_issued", "2026-05-20")
HAPPY = [REQUEST, ASSESS, ev("advice_requested", "2026-02-11", advice="educational", advice_id="ep1"),
         ev("advice_received", "2026-03-20", advice="educational", advice_id="ep1"), ISSUE, DRAFT, FINAL]


def replay(events: list[dict[str, Any]]) -> Any:
    state = None
    for i, event in enumerate(events):
        state = check_next_event(events[:i], event, today=TODAY)
    return state


def test_the_statutory_journey_is_accepted_step_by_step() -> None:
    state = replay(HAPPY)
    assert state.stage == "plan" and state.plan_issued_on == dt.date(2026, 5, 20)


def test_a_final_plan_before_any_decision_to_assess_is_refused() -> None:
    with pytest.raises(WorkflowRefusal, match="decision to assess"):
        check_next_event([REQUEST], FINAL, today=TODAY)


@pytest.mark.parametrize("final_on, ok", [("2026-05-15", False), ("2026-05-16", True)])
def test_a_final_plan_inside_the_15_day_window_is_refused(final_on: str, ok: bool) -> None:
    # Draft served Fri 1 May: 15 days beginning with 1 May run to Fri 15 May (reg 13(1)).
    events = [REQUEST, ASSESS, ISSUE, DRAFT]
    final = ev("final_plan_issued", final_on)
    if ok:
        assert check_next_event(events, final, today=TODAY).stage == "plan"
    else:
        with pytest.raises(WorkflowRefusal, match="until 2026-05-15"):
            check_next_event(events, final, today=TODAY)


def test_the_window_counts_from_the_served_date_when_it_is_later_than_sending() -> None:
    posted = ev("draft_plan_served", "2026-05-01", served_at="2026-05-04")
    with pytest.raises(WorkflowRefusal, match="until 2026-05-18"):
        check_next_event([REQUEST, ASSESS, ISSUE, posted], ev("final_plan_issued", "2026-05-18"), today=TODAY)


@pytest.mark.parametrize("history, new, reason", [
    ([], ev("decision_to_assess_made", "2026-01-06", outcome="assess"), "starts with the request"),
    ([REQUEST], ev("request_received", "2026-01-07"), "new request starts a new case"),
    ([REQUEST], ev("decision_to_assess_made", "2026-01-01", outcome="assess"), "before the request"),
    ([REQUEST], ev("decision_to_assess_made", "2027-01-01", outcome="assess"), "future"),
    ([REQUEST, ASSESS], ev("decision_to_assess_made", "2026-02-11", outcome="refuse"), "correct it"),
    ([REQUEST], ev("advice_requested", "2026-01-06", advice="medical", advice_id="m1"), "decision to assess"),
    ([REQUEST, ASSESS], ev("advice_received", "2026-03-01", advice="medical", advice_id="m9"), "No advice with this"),
    ([REQUEST, ASSESS, ev("advice_requested", "2026-02-20", advice="medical", advice_id="m1")],
     ev("advice_received", "2026-02-19", advice="medical", advice_id="m1"), "before it was requested"),
    ([REQUEST], ev("decision_to_issue_made", "2026-02-01", outcome="issue"), "decision to assess"),
    ([REQUEST, ASSESS], DRAFT, "decision to issue"),
    ([REQUEST, ASSESS, ISSUE], FINAL, "serve the draft first"),
    ([REQUEST, ASSESS, ISSUE, DRAFT], ev("institution_responded", "2026-05-10", urn="100001"), "was consulted"),
    ([REQUEST], ev("review_meeting_held", "2026-03-01"), "issued EHC plan"),
    (HAPPY, ev("review_decision_sent", "2026-10-01", outcome="maintain"), "record the meeting first"),
    (HAPPY, ev("amended_plan_issued", "2026-10-01"), "follows an amendment notice"),
    (HAPPY, ev("decision_letter_sent", "2026-10-01", decision="cease"), "decision to cease"),
    ([REQUEST], ev("appeal_registered", "2026-02-01"), "decision letter"),
    ([REQUEST], ev("plan_ceased", "2026-02-01"), "Only an issued plan"),
])
def test_impossible_events_are_refused_with_a_reason(history: list[dict[str, Any]], new: dict[str, Any], reason: str) -> None:
    with pytest.raises(WorkflowRefusal, match=reason):
        check_next_event(history, new, today=TODAY)


def test_amendments_keep_the_15_day_window_too() -> None:
    events = [*HAPPY, ev("review_meeting_held", "2026-10-01"), ev("review_decision_sent", "2026-10-20", outcome="amend"),
              ev("amendment_notice_sent", "2026-10-20")]
    assert derive_state(events).stage == "amendment"
    with pytest.raises(WorkflowRefusal, match="until 2026-11-03"):
        check_next_event(events, ev("amended_plan_issued", "2026-11-03"), today=TODAY)
    assert check_next_event(events, ev("amended_plan_issued", "2026-11-04"), today=TODAY).stage == "plan"


def test_a_correcting_event_replaces_the_wrong_one_and_the_history_is_rechecked() -> None:
    wrong = ev("decision_to_assess_made", "2026-02-10", outcome="refuse", id="d1")
    fixed = ev("decision_to_assess_made", "2026-02-10", outcome="assess", corrects="d1")
    state = check_next_event([REQUEST, wrong], fixed, today=TODAY)
    assert state.assess_decision == "assess" and state.stage == "assessment"
    # A correction that would make later steps impossible is refused.
    later = [REQUEST, ev("decision_to_assess_made", "2026-02-10", outcome="assess", id="d2"), ISSUE]
    with pytest.raises(WorkflowRefusal):
        check_next_event(later, ev("decision_to_assess_made", "2026-02-10", outcome="refuse", corrects="d2"), today=TODAY)


def test_stages_follow_the_journey() -> None:
    stages = [derive_state(HAPPY[:n]).stage for n in range(1, len(HAPPY) + 1)]
    assert stages == ["request", "assessment", "assessment", "assessment", "drafting", "draft", "plan"]
    refused = derive_state([REQUEST, ev("decision_to_assess_made", "2026-02-10", outcome="refuse")])
    assert refused.stage == "not_assessing"


def test_a_transferred_plan_opens_the_receiving_councils_case_with_a_plan() -> None:
    incoming = ev("plan_transferred", "2027-01-06", from_la_code="886", to_la_code="991", plan_made_on="2026-03-10")
    state = check_next_event([], incoming, today=TODAY.replace(year=2027, month=2))
    assert state.stage == "plan" and state.plan_issued_on == dt.date(2026, 3, 10) and state.transferred_in
    # ... and is not something that happens on a case that already exists.
    with pytest.raises(WorkflowRefusal, match="new request starts a new case|request that opened"):
        check_next_event(HAPPY, ev("plan_transferred", "2026-10-01"), today=TODAY)


@pytest.mark.parametrize("history, new, reason", [
    (HAPPY, ev("new_la_notification_sent", "2026-10-01"), "plan's transfer to this council"),
    (HAPPY, ev("health_body_notified", "2026-10-01"), "becoming aware of the move"),
    ([*HAPPY, ev("decision_letter_sent", "2026-06-01", decision="plan_content"), ev("mediation_requested", "2026-06-10")],
     ev("mediation_agreement_actioned", "2026-08-01"), "the mediation agreement"),
])
def test_steps_that_answer_an_earlier_step_cannot_come_first(history: list[dict[str, Any]], new: dict[str, Any],
                                                            reason: str) -> None:
    with pytest.raises(WorkflowRefusal, match=reason):
        check_next_event(history, new, today=TODAY)


def test_answering_steps_are_accepted_once_the_step_they_answer_is_recorded() -> None:
    moved = [*HAPPY, ev("health_body_aware_of_move", "2026-09-01", move_on="2026-10-01")]
    assert check_next_event(moved, ev("health_body_notified", "2026-09-05"), today=TODAY).stage == "plan"
    incoming = [ev("plan_transferred", "2026-09-01", plan_made_on="2026-03-10")]
    assert check_next_event(incoming, ev("new_la_notification_sent", "2026-09-20"), today=TODAY).transferred_in
