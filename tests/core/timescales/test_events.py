"""validate_event on good and bad input, and corrections of earlier events."""

from datetime import date, datetime
from typing import Any

import pytest

from core.timescales import EVENT_TYPES, InvalidEventsError, compute_deadlines, validate_event

# One well-formed example per event type, with every required attribute.
MINIMAL_EVENTS: dict[str, dict[str, Any]] = {
    "decision_to_assess_made": {"outcome": "assess"},
    "decision_to_issue_made": {"outcome": "issue"},
    "review_decision_sent": {"outcome": "maintain"},
    "phase_transfer_planned": {"transfer_on": "2027-09-01", "kind": "school"},
    "move_notified": {"move_on": "2026-12-18"},
    "health_body_aware_of_move": {"move_on": "2026-12-18"},
    "decision_letter_sent": {"decision": "refuse_assess"},
    "tribunal_order_made": {"order": "amend"},
    "exception_recorded": {"code": "personal_circumstances", "from": "2026-02-01",
                           "to": "2026-03-01", "affects": ["final_plan_issued"]},
    "review_meeting_scheduled": {"meeting_on": "2026-11-05"},
    "appeal_unopposed": {"decision": "name_school"},
}


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_accepts_a_minimal_well_formed_event(event_type: str) -> None:
    event = {"type": event_type, "date": "2026-01-05", **MINIMAL_EVENTS.get(event_type, {})}
    assert validate_event(event) == {}


def test_a_request_with_all_its_attributes_is_well_formed() -> None:
    assert validate_event({"type": "request_received", "date": "2026-01-05",
                           "requester": "parent", "brought_to_attention": False}) == {}


def test_unknown_attributes_are_allowed_as_extensions() -> None:
    assert validate_event({"type": "final_plan_issued", "date": "2026-01-05",
                           "document_id": "abc"}) == {}


def test_an_unknown_event_type_is_refused() -> None:
    assert validate_event({"type": "plan_shredded", "date": "2026-01-05"}) == {
        "type": ["unknown event type 'plan_shredded'"]}


def test_a_missing_type_and_date_are_both_reported() -> None:
    assert validate_event({}) == {"type": ["is required"], "date": ["is required"]}


def test_something_that_is_not_an_object_is_refused() -> None:
    not_an_object: Any = ["request_received"]
    assert validate_event(not_an_object) == {"event": ["must be an object"]}


@pytest.mark.parametrize(("value", "message"), [
    ("2026-02-30", "is not a real calendar date"),
    ("2026-13-01", "is not a real calendar date"),
    ("05/01/2026", "must be a date in the form YYYY-MM-DD"),
    ("20260105", "must be a date in the form YYYY-MM-DD"),
    ("2026-W02-1", "must be a date in the form YYYY-MM-DD"),
    (20260105, "must be a date in the form YYYY-MM-DD"),
    (datetime(2026, 1, 5, 9, 30), "must be a date (YYYY-MM-DD), not a timestamp"),
])
def test_bad_dates_are_refused_with_a_reason(value: object, message: str) -> None:
    assert validate_event({"type": "final_plan_issued", "date": value}) == {"date": [message]}


def test_a_date_object_is_accepted() -> None:
    assert validate_event({"type": "final_plan_issued", "date": date(2026, 1, 5)}) == {}


def test_a_missing_required_attribute_is_reported() -> None:
    assert validate_event({"type": "decision_to_assess_made", "date": "2026-02-10"}) == {
        "outcome": ["is required"]}


def test_an_attribute_outside_its_enum_is_reported_with_the_choices() -> None:
    errors = validate_event({"type": "request_received", "date": "2026-01-05",
                             "requester": "grandparent"})
    assert errors == {"requester": [
        "must be one of: parent, young_person, setting, youth_custody, other"]}


def test_a_boolean_attribute_must_be_a_real_boolean() -> None:
    errors = validate_event({"type": "mediation_requested", "date": "2026-01-05",
                             "includes_health": "yes"})
    assert errors == {"includes_health": ["must be true or false"]}


def test_a_phase_transfer_needs_a_real_transfer_date_and_kind() -> None:
    errors = validate_event({"type": "phase_transfer_planned", "date": "2026-01-05",
                             "transfer_on": "next September", "kind": "university"})
    assert set(errors) == {"transfer_on", "kind"}


def test_an_exception_must_name_known_deadline_keys() -> None:
    errors = validate_event({**MINIMAL_EVENTS["exception_recorded"], "type": "exception_recorded",
                             "date": "2026-02-01", "affects": ["final_plan", "annual_review"]})
    assert errors == {"affects": ["unknown deadline keys: final_plan"]}


@pytest.mark.parametrize("affects", [[], "final_plan_issued", None])
def test_an_exception_must_affect_a_non_empty_list(affects: object) -> None:
    errors = validate_event({**MINIMAL_EVENTS["exception_recorded"], "type": "exception_recorded",
                             "date": "2026-02-01", "affects": affects})
    assert list(errors) == ["affects"]


def test_an_exception_may_not_end_before_it_starts() -> None:
    errors = validate_event({**MINIMAL_EVENTS["exception_recorded"], "type": "exception_recorded",
                             "date": "2026-02-01", "from": "2026-03-01", "to": "2026-02-01"})
    assert errors == {"to": ["must not be before 'from'"]}


def test_an_ongoing_exception_has_a_null_end() -> None:
    assert validate_event({**MINIMAL_EVENTS["exception_recorded"], "type": "exception_recorded",
                           "date": "2026-02-01", "to": None}) == {}


def test_an_exception_code_outside_the_law_is_refused() -> None:
    errors = validate_event({**MINIMAL_EVENTS["exception_recorded"], "type": "exception_recorded",
                             "date": "2026-02-01", "code": "advice_late"})
    assert list(errors) == ["code"]


def test_dates_that_must_follow_the_event_may_not_precede_it() -> None:
    assert validate_event({"type": "appeal_registered", "date": "2026-07-01",
                           "response_due": "2026-06-30"}) == {
        "response_due": ["must not be before the event's date"]}
    assert validate_event({"type": "appeal_registered", "date": "2026-07-01",
                           "lodged_on": "2026-07-02"}) == {
        "lodged_on": ["must not be after the date the appeal was registered"]}


@pytest.mark.parametrize(("field", "value"), [
    ("id", 7), ("id", ""), ("corrects", -1), ("corrects", ""), ("corrects", True),
    ("corrects", 1.5),
])
def test_malformed_ids_and_corrections_are_refused(field: str, value: object) -> None:
    errors = validate_event({"type": "final_plan_issued", "date": "2026-01-05", field: value})
    assert list(errors) == [field]


# --------------------------------------------------------------------------- compute_deadlines


def test_compute_deadlines_refuses_malformed_events_by_index() -> None:
    with pytest.raises(InvalidEventsError) as caught:
        compute_deadlines([{"type": "request_received", "date": "2026-01-05"},
                           {"type": "decision_to_assess_made", "date": "2026-02-30"}],
                          today=date(2026, 3, 1))
    assert caught.value.errors == {1: {"date": ["is not a real calendar date"],
                                       "outcome": ["is required"]}}


def test_a_correction_by_index_replaces_the_earlier_event() -> None:
    deadlines = compute_deadlines([
        {"type": "request_received", "date": "2026-01-12"},
        {"type": "request_received", "date": "2026-01-05", "corrects": 0},
    ], today=date(2026, 1, 6))
    assert [d.due for d in deadlines if d.key == "decision_to_assess"] == [date(2026, 2, 16)]


def test_a_correction_by_id_replaces_the_earlier_event_and_chains_resolve() -> None:
    deadlines = compute_deadlines([
        {"type": "request_received", "date": "2026-01-12", "id": "a"},
        {"type": "request_received", "date": "2026-01-19", "id": "b", "corrects": "a"},
        {"type": "request_received", "date": "2026-01-05", "corrects": "b"},
    ], today=date(2026, 1, 6))
    assert [d.due for d in deadlines if d.key == "decision_to_assess"] == [date(2026, 2, 16)]


def test_a_second_correction_of_the_same_event_replaces_the_first_correction() -> None:
    deadlines = compute_deadlines([
        {"type": "request_received", "date": "2026-01-12"},
        {"type": "request_received", "date": "2026-01-19", "corrects": 0},
        {"type": "request_received", "date": "2026-01-05", "corrects": 0},
    ], today=date(2026, 1, 6))
    assert [d.due for d in deadlines if d.key == "decision_to_assess"] == [date(2026, 2, 16)]


def test_a_correction_may_change_the_type_of_the_event() -> None:
    deadlines = compute_deadlines([
        {"type": "request_received", "date": "2026-01-05", "id": "r"},
        {"type": "reassessment_request_received", "date": "2026-01-05", "corrects": "r"},
    ], today=date(2026, 1, 6))
    assert [d.key for d in deadlines] == ["reassessment_decision"]


@pytest.mark.parametrize("target", [1, 5, "missing"])
def test_a_correction_must_point_at_an_earlier_event(target: object) -> None:
    with pytest.raises(InvalidEventsError) as caught:
        compute_deadlines([
            {"type": "request_received", "date": "2026-01-12", "corrects": target},
            {"type": "request_received", "date": "2026-01-05", "id": "missing"},
        ], today=date(2026, 1, 6))
    assert caught.value.errors == {0: {"corrects": ["must refer to an earlier event in the list"]}}


def test_a_correction_by_an_ambiguous_id_is_refused() -> None:
    with pytest.raises(InvalidEventsError) as caught:
        compute_deadlines([
            {"type": "request_received", "date": "2026-01-12", "id": "x"},
            {"type": "request_received", "date": "2026-01-13", "id": "x"},
            {"type": "request_received", "date": "2026-01-05", "corrects": "x"},
        ], today=date(2026, 1, 6))
    assert caught.value.errors == {2: {"corrects": ["matches more than one earlier event"]}}
