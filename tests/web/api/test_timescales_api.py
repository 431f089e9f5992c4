"""``POST /api/v1/timescales`` (api-v1.md): the public deadline calculator. No token, no council,
nothing stored, nothing read: the answer comes from the request body alone.

Expected dates are the hand-worked examples of statutory-rules.md section 12.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from core.db import Base
from core.timescales import EVENT_TYPES
from tests.conftest import JOURNEY_TO_PLAN, in_tenant
from tests.web.api.conftest import assert_problem

URL = "/api/v1/timescales"
TODAY = dt.date(2026, 11, 27)
REQUEST = {"type": "request_received", "date": "2026-01-05", "requester": "parent"}
DEADLINE_FIELDS = {"key", "due", "comparison", "statutory", "status", "citation"}


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    import core.clock

    monkeypatch.setattr(core.clock, "today", lambda: TODAY)
    return TODAY


def calculate(api: Any, body: Any, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """POST ``body``; the deadlines by key (each key once in these examples)."""
    resp = api.post(URL, json=body, **kwargs)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    deadlines = resp.get_json()["deadlines"]
    assert set(resp.get_json()) == {"deadlines"}
    by_key = {d["key"]: d for d in deadlines}
    assert len(by_key) == len(deadlines)
    return by_key


def dues(deadlines: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {key: d["due"] for key, d in deadlines.items()}


# ---------------------------------------------------------------------------------------
# Section 12, through the API


@pytest.mark.smoke
def test_a_new_request_gives_the_20_week_clocks_of_example_1(api: Any) -> None:
    found = calculate(api, {"events": [REQUEST], "today": "2026-01-06"})
    assert dues(found) == {"decision_to_assess": "2026-02-16", "decision_not_to_issue": "2026-04-27",
                           "draft_plan_latest": "2026-05-10", "final_plan_issued": "2026-05-25"}
    final = found["final_plan_issued"]
    assert DEADLINE_FIELDS <= set(final)
    assert (final["comparison"], final["statutory"], final["status"]) == ("on_or_before", True, "open")
    assert final["citation"] == "SEND Regs 2014 reg 13(2); CoP 9.40"
    # The Spring bank holiday: no roll forward, a hint to act by the Friday before.
    assert final["non_working_day_hint"] == "2026-05-22"
    # The draft's latest day is the council's planning aid, never labelled statutory.
    assert found["draft_plan_latest"]["statutory"] is False
    assert all(d["label"] for d in found.values())


def test_a_draft_served_on_1_april_leaves_until_15_april_for_comments(api: Any) -> None:
    found = calculate(api, {"events": [{"type": "draft_plan_served", "date": "2026-04-01"}], "today": "2026-04-02"})
    assert found["draft_plan_representations"]["due"] == "2026-04-15"


def test_a_review_meeting_on_5_november_gives_the_review_clocks_of_example_3(api: Any) -> None:
    found = calculate(api, {"events": [{"type": "review_meeting_held", "date": "2026-11-05"}]})
    assert dues(found) == {"review_meeting_notice": "2026-10-22", "review_papers_circulated": "2026-10-22",
                           "review_report_circulation": "2026-11-19", "post_review_decision": "2026-12-03"}
    assert found["post_review_decision"]["status"] == "open"  # on 27 Nov 2026
    assert found["review_report_circulation"]["status"] == "missed"


def test_the_appeal_deadline_over_christmas_moves_as_the_tribunal_rules_say(api: Any) -> None:
    events = [{"type": "decision_letter_sent", "date": "2026-10-02", "decision": "refuse_assess"},
              {"type": "mediation_declined", "date": "2026-11-26"},
              {"type": "mediation_certificate_issued", "date": "2026-12-01"}]
    found = calculate(api, {"events": events, "today": "2026-12-01"})
    assert dues(found) == {"mediation_adviser_contact": "2026-12-02", "mediation_certificate": "2026-12-01",
                           "appeal_deadline": "2027-01-04"}
    assert found["mediation_certificate"]["met_on"] == "2026-12-01"


def test_a_phase_transfer_is_due_before_15_february(api: Any) -> None:
    found = calculate(api, {"events": [{"type": "phase_transfer_planned", "date": "2026-09-01",
                                        "transfer_on": "2027-09-01", "kind": "school"}]})
    transfer = found["phase_transfer_school"]
    assert (transfer["due"], transfer["comparison"], transfer["last_compliant_day"]) == ("2027-02-15", "before", "2027-02-14")


def test_the_under_5_review_needs_the_childs_date_of_birth(api: Any) -> None:
    plan = [{"type": "final_plan_issued", "date": "2026-02-10"}]
    with_child = calculate(api, {"events": plan, "child": {"date_of_birth": "2023-06-01"}})
    assert dues(with_child) == {"under5_review_earliest": "2026-05-10", "under5_review": "2026-08-10",
                                "annual_review": "2027-02-09"}
    assert with_child["under5_review"]["statutory"] is False  # guidance, not law
    assert dues(calculate(api, {"events": plan})) == {"annual_review": "2027-02-09"}
    assert dues(calculate(api, {"events": plan, "child": None})) == {"annual_review": "2027-02-09"}
    assert dues(calculate(api, {"events": plan, "child": {}})) == {"annual_review": "2027-02-09"}


def test_a_re_assessment_request_counts_calendar_days_without_roll(api: Any) -> None:
    found = calculate(api, {"events": [{"type": "reassessment_request_received", "date": "2027-06-04"}]})
    assert found["reassessment_decision"]["due"] == "2027-06-19"  # a Saturday


# ---------------------------------------------------------------------------------------
# Status as of today, or as of the day asked about


def test_statuses_are_judged_today_in_england_by_default(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.clock

    assert calculate(api, {"events": [REQUEST]})["decision_to_assess"]["status"] == "missed"
    monkeypatch.setattr(core.clock, "today", lambda: dt.date(2026, 2, 16))
    assert calculate(api, {"events": [REQUEST]})["decision_to_assess"]["status"] == "open"


@pytest.mark.parametrize("today, status", [("2026-01-05", "open"), ("2026-02-16", "open"), ("2026-02-17", "missed")])
def test_today_asks_what_stood_on_a_given_day(api: Any, today: str, status: str) -> None:
    found = calculate(api, {"events": [REQUEST], "today": today})
    assert (found["decision_to_assess"]["due"], found["decision_to_assess"]["status"]) == ("2026-02-16", status)


def test_a_met_deadline_says_when(api: Any) -> None:
    found = calculate(api, {"events": [REQUEST, *JOURNEY_TO_PLAN]})
    assert {k: (d["status"], d.get("met_on")) for k, d in found.items() if k in ("decision_to_assess", "final_plan_issued")} == {
        "decision_to_assess": ("met", "2026-02-10"), "final_plan_issued": ("met", "2026-05-20")}


def test_an_exception_suspends_a_clock(api: Any) -> None:
    events = [REQUEST, {"type": "exception_recorded", "date": "2026-02-01", "code": "absent_from_area",
                        "from": "2026-01-20", "to": "2026-03-01", "affects": ["decision_not_to_issue", "final_plan_issued"]}]
    found = calculate(api, {"events": events})
    # The law lets absence suspend the later clocks, not the decision to assess.
    assert found["final_plan_issued"]["status"] == "suspended"
    assert found["final_plan_issued"]["exception"] == {"code": "absent_from_area", "from": "2026-01-20", "to": "2026-03-01"}
    assert found["decision_to_assess"]["status"] == "missed"


# ---------------------------------------------------------------------------------------
# Any well-formed sequence is answered


def test_a_sequence_the_case_workflow_would_refuse_is_still_calculated(api: Any) -> None:
    """A final plan with no decision to assess cannot be recorded on a case (409), but the
    calculator answers for it: families ask about what did happen, however irregular."""
    found = calculate(api, {"events": [REQUEST, {"type": "final_plan_issued", "date": "2026-03-01"}]})
    assert (found["final_plan_issued"]["status"], found["final_plan_issued"]["met_on"]) == ("met", "2026-03-01")
    assert "annual_review" in found


def test_the_order_of_the_events_in_the_request_does_not_matter(api: Any) -> None:
    events = [REQUEST, *JOURNEY_TO_PLAN]
    assert calculate(api, {"events": events}) == calculate(api, {"events": list(reversed(events))})


def test_an_empty_history_has_no_deadlines(api: Any) -> None:
    assert calculate(api, {"events": []}) == {}


def test_corrections_refer_to_earlier_events_by_id_or_index(api: Any) -> None:
    by_id = [{**REQUEST, "id": "req"}, {"type": "request_received", "date": "2026-01-12", "corrects": "req"}]
    by_index = [REQUEST, {"type": "request_received", "date": "2026-01-12", "corrects": 0}]
    for events in (by_id, by_index):
        assert calculate(api, {"events": events})["decision_to_assess"]["due"] == "2026-02-23"


def test_attributes_outside_the_vocabulary_are_ignored(api: Any) -> None:
    assert calculate(api, {"events": [{**REQUEST, "notes": "by e-mail"}]}) == calculate(api, {"events": [REQUEST]})


def test_a_hundred_events_are_answered_in_well_under_a_second(api: Any) -> None:
    events = [REQUEST, *JOURNEY_TO_PLAN]
    year = 2027
    while len(events) < 100:
        events += [{"type": "review_meeting_held", "date": f"{year}-03-02"},
                   {"type": "review_decision_sent", "date": f"{year}-03-20", "outcome": "amend"},
                   {"type": "amendment_notice_sent", "date": f"{year}-03-21"},
                   {"type": "amended_plan_issued", "date": f"{year}-05-01"},
                   {"type": "advice_requested", "date": f"{year}-06-01", "advice": "medical", "advice_id": f"m{year}"},
                   {"type": "advice_received", "date": f"{year}-06-20", "advice": "medical", "advice_id": f"m{year}"}]
        year += 1
    events = events[:100]
    api.post(URL, json={"events": events[:2]})  # warm-up: the first call loads the bank holiday calendar
    started = time.perf_counter()
    resp = api.post(URL, json={"events": events})
    elapsed = time.perf_counter() - started
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert len(resp.get_json()["deadlines"]) > 100
    assert elapsed < 0.5, f"{elapsed:.3f}s for 100 events"


def test_two_hundred_events_are_answered_and_more_are_refused(api: Any) -> None:
    advice = [{"type": "advice_requested", "date": "2026-02-11", "advice": "other", "advice_id": f"a{i}"} for i in range(199)]
    answered = calculate_list(api, [REQUEST, *advice])
    assert len([d for d in answered if d["key"] == "advice_returned"]) == 199  # one six-week clock per request
    resp = api.post(URL, json={"events": [REQUEST, *advice, advice[0]]})
    problem = assert_problem(resp, 422, "validation-error", fields={"events"})
    assert "200" in problem["errors"]["events"][0]


def calculate_list(api: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    resp = api.post(URL, json={"events": events})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["deadlines"]  # type: ignore[no-any-return]


def test_a_huge_event_list_is_refused_before_any_event_is_read(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import web.api.cases.schemas as schemas

    checked: list[Any] = []
    real = schemas.validate_event
    monkeypatch.setattr(schemas, "validate_event", lambda e: checked.append(e) or real(e))
    resp = api.post(URL, json={"events": [REQUEST] * 5000})
    assert_problem(resp, 422, "validation-error", fields={"events"})
    assert checked == []


# ---------------------------------------------------------------------------------------
# Problems


INVALID = [
    ("no-body-fields", {}, {"events"}),
    ("events-null", {"events": None}, {"events"}),
    ("events-not-a-list", {"events": REQUEST}, {"events"}),
    ("event-not-an-object", {"events": [REQUEST, "final_plan_issued"]}, {"events.1._schema"}),
    ("unknown-type", {"events": [REQUEST, {"type": "plan_finalised", "date": "2026-05-01"}]}, {"events.1.type"}),
    ("no-date", {"events": [{"type": "request_received"}]}, {"events.0.date"}),
    ("no-such-day", {"events": [{**REQUEST, "date": "2026-02-29"}]}, {"events.0.date"}),
    ("timestamp", {"events": [{**REQUEST, "date": "2026-01-05T10:00:00"}]}, {"events.0.date"}),
    ("several", {"events": [REQUEST, {"type": "decision_to_assess_made", "date": "2026-02-10"},
                            {"type": "phase_transfer_planned", "date": "2026-09-01", "kind": "nursery"}]},
     {"events.1.outcome", "events.2.transfer_on", "events.2.kind"}),
    ("corrects-a-later-event", {"events": [{**REQUEST, "corrects": 1}, {**REQUEST, "id": "later"}]}, {"events.0.corrects"}),
    ("corrects-an-unknown-id", {"events": [REQUEST, {**REQUEST, "corrects": "nothing"}]}, {"events.1.corrects"}),
    ("corrects-itself", {"events": [REQUEST, {**REQUEST, "corrects": 1}]}, {"events.1.corrects"}),
    ("corrects-negative", {"events": [REQUEST, {**REQUEST, "corrects": -1}]}, {"events.1.corrects"}),
    ("bad-date-of-birth", {"events": [REQUEST], "child": {"date_of_birth": "2023-02-30"}}, {"child.date_of_birth"}),
    ("child-unknown-field", {"events": [REQUEST], "child": {"name": "Ada"}}, {"child.name"}),
    ("bad-today", {"events": [REQUEST], "today": "tomorrow"}, {"today"}),
    ("unknown-field", {"events": [REQUEST], "policy": {}}, {"policy"}),
]


@pytest.mark.parametrize("body, fields", [(b, f) for _, b, f in INVALID], ids=[i for i, _, _ in INVALID])
def test_a_bad_request_gets_422_naming_each_field(api: Any, body: dict[str, Any], fields: set[str]) -> None:
    assert_problem(api.post(URL, json=body), 422, "validation-error", fields=fields)


@pytest.mark.parametrize("content_type, data", [("text/plain", json.dumps({"events": [REQUEST]})),
                                                ("application/x-www-form-urlencoded", "events=request_received")],
                         ids=["text", "form"])
def test_a_body_that_is_not_json_gets_415(api: Any, content_type: str, data: str) -> None:
    assert "application/json" in assert_problem(api.post(URL, data=data, content_type=content_type), 415,
                                                "unsupported-media-type")["detail"]


def test_malformed_json_gets_400(api: Any) -> None:
    resp = api.post(URL, data='{"events": [', content_type="application/json")
    assert "not valid JSON" in assert_problem(resp, 400, "bad-request")["detail"]


def test_only_post_is_allowed(api: Any) -> None:
    resp = api.get(URL)
    assert_problem(resp, 405, "method-not-allowed")
    assert "POST" in {m.strip() for m in resp.headers["Allow"].split(",")}


# ---------------------------------------------------------------------------------------
# No token, no council, no database


@pytest.mark.smoke
def test_no_token_is_needed_and_a_token_changes_nothing(api: Any, tenant_a: Any, api_token: Any) -> None:
    body = {"events": [REQUEST, *JOURNEY_TO_PLAN]}
    anonymous = calculate(api, body)
    token = api_token(tenant_a, "children:read")
    assert calculate(api, body, headers={"Authorization": f"Bearer {token}"}) == anonymous
    assert calculate(api, body, headers={"Authorization": "Bearer garbage"}) == anonymous
    # ...and on a council's own host the answer is the same (no council's options apply).
    assert calculate(api, body, base_url=f"https://{tenant_a.slug}.sendbridge.test") == anonymous


@contextlib.contextmanager
def database_activity() -> Iterator[list[str]]:
    """Every SQL statement run and every session transaction begun on a connection, anywhere,
    while the block runs."""
    seen: list[str] = []

    def on_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    def on_begin(session: Any, transaction: Any, connection: Any) -> None:
        seen.append("session began a transaction")

    event.listen(Engine, "before_cursor_execute", on_statement)
    event.listen(Session, "after_begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", on_statement)
        event.remove(Session, "after_begin", on_begin)


def row_counts(tenants: list[Any]) -> dict[tuple[str, str], int]:
    """Rows of every table, as each council sees them (row-level security hides the rest)."""
    counts = {}
    for tenant in tenants:
        with in_tenant(tenant) as session:
            for table in Base.metadata.sorted_tables:
                counts[(tenant.slug, table.name)] = session.execute(select(func.count()).select_from(table)).scalar_one()
    return counts


@pytest.mark.smoke
def test_the_calculator_touches_no_database_at_all(api: Any, tenant_a: Any, tenant_b: Any) -> None:
    before = row_counts([tenant_a, tenant_b])
    with database_activity() as seen:
        found = calculate(api, {"events": [REQUEST, *JOURNEY_TO_PLAN], "child": {"date_of_birth": "2015-03-01"}})
        bad = api.post(URL, json={"events": [{"type": "nonsense"}]})
    assert found and bad.status_code == 422
    assert seen == []
    assert row_counts([tenant_a, tenant_b]) == before


def test_the_activity_probe_would_see_a_database_read(api: Any, tenant_a: Any, api_token: Any) -> None:
    """The control for the test above: an ordinary API read is seen."""
    token = api_token(tenant_a, "children:read")
    with database_activity() as seen:
        assert api.get("/api/v1/children", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert seen


def test_the_rate_limit_is_60_a_minute_per_address(app: Any) -> None:
    from web.extensions import limiter

    limiter.enabled = True
    limiter.reset()
    try:
        client = app.test_client()
        body = {"events": [REQUEST]}
        codes = [client.post(URL, json=body).status_code for _ in range(60)]
        refused = client.post(URL, json=body)
        elsewhere = client.post(URL, json=body, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    finally:
        limiter.enabled = False
        limiter.reset()
    assert codes == [200] * 60
    assert_problem(refused, 429, "rate-limited")
    assert int(refused.headers["Retry-After"]) > 0
    assert elsewhere.status_code == 200  # per client address


# ---------------------------------------------------------------------------------------
# The OpenAPI description


def test_the_calculator_is_documented_without_security(app: Any) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/timescales"]["post"]
    assert op["security"] == []
    assert {"200", "400", "415", "422", "429"} <= set(op["responses"])
    assert not any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))  # it stores nothing
    schemas = spec["components"]["schemas"]
    request = schemas[op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(request["properties"]) == {"events", "child", "today"} and request["required"] == ["events"]
    assert request["properties"]["events"]["maxItems"] == 200
    event_ref = request["properties"]["events"]["items"]["$ref"].rsplit("/", 1)[1]
    assert schemas[event_ref]["properties"]["type"]["enum"] == list(EVENT_TYPES)
    response = schemas[op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert response["properties"]["deadlines"]["items"]["$ref"] == "#/components/schemas/Deadline"
