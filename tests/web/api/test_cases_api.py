"""``/api/v1/cases`` (api-v1.md): open cases, record events, read cases with their events and
deadlines; problems for bad input that change nothing; the audit trail; ``Idempotency-Key``.

Dates are those of statutory-rules.md section 12 and of ``JOURNEY_TO_PLAN`` (request Mon 5 Jan
2026); "today" is pinned to Fri 27 Nov 2026, the day ``make_case`` records as of.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from core.cases.workflow import STAGES
from core.timescales import EVENT_TYPES
from tests.conftest import JOURNEY_TO_PLAN, in_tenant
from tests.web.api.conftest import MISSING_ID, Snapshot, assert_problem, audit_events, new_key, snapshot

TODAY = dt.date(2026, 11, 27)
REQUEST = {"type": "request_received", "date": "2026-01-05", "requester": "parent"}
CASE_FIELDS = {"id", "child_id", "status", "stage", "opened_on", "caseworker_id", "events", "deadlines", "created_at",
               "updated_at"}
DEADLINE_FIELDS = {"key", "due", "comparison", "statutory", "status", "citation"}
ALL_CASES = "children:read children:write cases:read cases:write"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    """Pin "today in England" for the routes and the services alike."""
    import core.clock

    monkeypatch.setattr(core.clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def caser_a(tenant_a: Any, credentials: Any) -> Any:
    """A client of council A that may read and write children and cases."""
    return credentials(tenant_a, ALL_CASES)


@pytest.fixture
def child_a(tenant_a: Any, make_child: Any) -> Any:
    return make_child(tenant_a)


# ---------------------------------------------------------------------------------------
# Helpers


def open_case(api: Any, who: Any, child_id: Any, first: dict[str, Any] = REQUEST, **extra: Any) -> dict[str, Any]:
    resp = api.post("/api/v1/cases", json={"child_id": str(child_id), "events": [first], **extra}, headers=who.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()  # type: ignore[no-any-return]


def record(api: Any, who: Any, case_id: Any, event: dict[str, Any], **headers: str) -> Any:
    return api.post(f"/api/v1/cases/{case_id}/events", json=event, headers={**who.headers, **headers})


def recorded(api: Any, who: Any, case_id: Any, *events: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for event in events:
        resp = record(api, who, case_id, event)
        assert resp.status_code == 201, (event, resp.get_data(as_text=True))
        body = resp.get_json()
    return body


def read(api: Any, who: Any, case_id: Any) -> dict[str, Any]:
    resp = api.get(f"/api/v1/cases/{case_id}", headers=who.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()  # type: ignore[no-any-return]


def deadline(case: dict[str, Any], key: str) -> dict[str, Any]:
    [found] = [d for d in case["deadlines"] if d["key"] == key]
    return found


def _no_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "request_id"}


@dataclass(frozen=True)
class CaseSnapshot:
    base: Snapshot
    cases: tuple[tuple[Any, ...], ...]
    events: tuple[tuple[Any, ...], ...]
    deadlines: tuple[tuple[Any, ...], ...]
    plan_versions: tuple[tuple[Any, ...], ...]


def case_snapshot(tenant: Any) -> CaseSnapshot:
    """Everything a cases API write could change in ``tenant``: children, audit events and
    stored idempotent responses (the shared snapshot), and every column of every case, event,
    stored deadline and plan version."""
    from core.cases.models import Case, CaseDeadline, CaseEvent, PlanVersion

    def rows(model: Any) -> tuple[tuple[Any, ...], ...]:
        columns = list(model.__table__.columns)
        return tuple(tuple(r) for r in session.execute(select(*columns).order_by(model.id)).all())

    base = snapshot(tenant)
    with in_tenant(tenant) as session:
        return CaseSnapshot(base, rows(Case), rows(CaseEvent), rows(CaseDeadline), rows(PlanVersion))


def case_count(tenant: Any) -> int:
    return len(case_snapshot(tenant).cases)


# ---------------------------------------------------------------------------------------
# Opening a case


@pytest.mark.smoke
def test_opening_a_case_answers_201_with_location_and_the_deadlines_of_section_12(api: Any, tenant_a: Any,
                                                                                   caser_a: Any, child_a: Any) -> None:
    resp = api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [REQUEST]}, headers=caser_a.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    case = resp.get_json()
    assert set(case) == CASE_FIELDS
    assert resp.headers["Location"] == f"/api/v1/cases/{case['id']}"
    assert (case["child_id"], case["status"], case["stage"], case["opened_on"], case["caseworker_id"]) == (
        str(child_a.id), "request", "request", "2026-01-05", None)
    [event] = case["events"]
    assert set(event) == {"id", "type", "date", "requester", "recorded_at"}
    assert (event["type"], event["date"], event["requester"]) == ("request_received", "2026-01-05", "parent")
    for stamp in (case["created_at"], case["updated_at"], event["recorded_at"]):
        assert stamp.endswith("Z")  # RFC 3339, UTC
        dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    # statutory-rules.md section 12, example 1: request Mon 5 Jan 2026.
    expected = {"decision_to_assess": "2026-02-16", "decision_not_to_issue": "2026-04-27", "final_plan_issued": "2026-05-25"}
    for key, due in expected.items():
        d = deadline(case, key)
        assert DEADLINE_FIELDS <= set(d)
        assert (d["due"], d["comparison"], d["statutory"]) == (due, "on_or_before", True)
        assert d["status"] == "missed"  # open statutory clocks whose day passed months before 27 Nov 2026
        assert d["citation"].startswith("SEND Regs 2014 reg")
    # 25 May 2026 is the Spring bank holiday: no roll forward, but a hint to act by Fri 22 May.
    assert deadline(case, "final_plan_issued")["non_working_day_hint"] == "2026-05-22"
    assert case_count(tenant_a) == 1


def test_the_opened_case_reads_back_the_same_at_its_location(api: Any, tenant_a: Any, caser_a: Any, child_a: Any) -> None:
    resp = api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [REQUEST]}, headers=caser_a.headers)
    again = api.get(resp.headers["Location"], headers=caser_a.headers)
    assert again.status_code == 200
    assert again.get_json() == resp.get_json()


def test_a_case_can_be_given_to_a_caseworker_when_it_opens(api: Any, tenant_a: Any, caser_a: Any, child_a: Any,
                                                           make_user: Any) -> None:
    worker = make_user(tenant_a)
    case = open_case(api, caser_a, child_a.id, caseworker_id=str(worker.id))
    assert case["caseworker_id"] == str(worker.id)


def test_the_deadlines_use_the_councils_own_timescale_options(api: Any, tenant_a: Any, caser_a: Any, child_a: Any,
                                                              create_tenant: Any, owner_engine: Any, credentials: Any,
                                                              make_child: Any) -> None:
    """A request received on Saturday 10 Jan 2026: counted from that day by default (the law
    counts from receipt), from Monday 12 Jan in a council that has chosen to deem it so."""
    from sqlalchemy import update

    from tenants.models import Tenant

    saturday = {"type": "request_received", "date": "2026-01-10"}
    plain = open_case(api, caser_a, child_a.id, saturday)
    assert deadline(plain, "decision_to_assess")["due"] == "2026-02-21"
    deeming = create_tenant()
    with owner_engine.begin() as conn:
        conn.execute(update(Tenant.__table__).where(Tenant.__table__.c.slug == deeming.slug)
                     .values(settings={"deem_weekend_receipt_next_working_day": True}))
    caser = credentials(deeming, ALL_CASES)
    deemed = open_case(api, caser, make_child(deeming).id, saturday)
    assert deadline(deemed, "decision_to_assess")["due"] == "2026-02-23"
    assert read(api, caser, deemed["id"]) == deemed
    assert read(api, caser_a, plain["id"]) == plain  # council A's own choice is untouched


# ---------------------------------------------------------------------------------------
# Opening a case: problems that change nothing


INVALID_CREATES = [
    ("no-body-fields", {}, {"child_id", "events"}),
    ("no-events", {"child_id": "{child}"}, {"events"}),
    ("empty-events", {"child_id": "{child}", "events": []}, {"events"}),
    ("two-events", {"child_id": "{child}", "events": [REQUEST, {"type": "decision_to_assess_made", "date": "2026-02-10",
                                                                 "outcome": "assess"}]}, {"events"}),
    ("events-not-a-list", {"child_id": "{child}", "events": REQUEST}, {"events"}),
    ("event-not-an-object", {"child_id": "{child}", "events": ["request_received"]}, {"events.0._schema"}),
    ("no-date", {"child_id": "{child}", "events": [{"type": "request_received"}]}, {"events.0.date"}),
    ("bad-date", {"child_id": "{child}", "events": [{**REQUEST, "date": "2026-02-30"}]}, {"events.0.date"}),
    ("timestamp", {"child_id": "{child}", "events": [{**REQUEST, "date": "2026-01-05T09:00:00Z"}]}, {"events.0.date"}),
    ("unknown-type", {"child_id": "{child}", "events": [{"type": "request_recieved", "date": "2026-01-05"}]},
     {"events.0.type"}),
    ("bad-requester", {"child_id": "{child}", "events": [{**REQUEST, "requester": "aunt"}]}, {"events.0.requester"}),
    ("several-bad-fields", {"child_id": "{child}", "events": [{"type": "request_received", "date": "5/1/2026",
                                                               "requester": 1, "brought_to_attention": "yes"}]},
     {"events.0.date", "events.0.requester", "events.0.brought_to_attention"}),
    ("event-id", {"child_id": "{child}", "events": [{**REQUEST, "id": "mine"}]}, {"events.0.id"}),
    ("recorded-at", {"child_id": "{child}", "events": [{**REQUEST, "recorded_at": "2026-01-05T09:00:00Z"}]},
     {"events.0.recorded_at"}),
    ("unknown-field", {"child_id": "{child}", "events": [REQUEST], "status": "plan"}, {"status"}),
    ("bad-caseworker-id", {"child_id": "{child}", "events": [REQUEST], "caseworker_id": "nobody"}, {"caseworker_id"}),
    ("missing-caseworker", {"child_id": "{child}", "events": [REQUEST], "caseworker_id": MISSING_ID}, {"caseworker_id"}),
    ("child-id-not-text", {"child_id": 5, "events": [REQUEST]}, {"child_id"}),
    ("first-event-corrects", {"child_id": "{child}", "events": [{**REQUEST, "corrects": MISSING_ID}]},
     {"events.0.corrects"}),
]


@pytest.mark.parametrize("body, fields", [(b, f) for _, b, f in INVALID_CREATES], ids=[i for i, _, _ in INVALID_CREATES])
def test_an_invalid_case_gets_a_422_naming_each_bad_field_and_nothing_is_created(api: Any, tenant_a: Any, caser_a: Any,
                                                                                 child_a: Any, body: dict[str, Any],
                                                                                 fields: set[str]) -> None:
    body = json.loads(json.dumps(body).replace("{child}", str(child_a.id)))
    before = case_snapshot(tenant_a)
    resp = api.post("/api/v1/cases", json=body, headers=caser_a.headers)
    assert_problem(resp, 422, "validation-error", fields=fields)
    assert case_snapshot(tenant_a) == before


def test_another_councils_caseworker_cannot_be_given_a_case(api: Any, tenant_a: Any, tenant_b: Any, caser_a: Any,
                                                            child_a: Any, make_user: Any) -> None:
    worker_b = make_user(tenant_b)
    before = case_snapshot(tenant_a)
    resp = api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [REQUEST],
                                           "caseworker_id": str(worker_b.id)}, headers=caser_a.headers)
    missing = api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [REQUEST],
                                              "caseworker_id": MISSING_ID}, headers=caser_a.headers)
    # The same words as for a user who does not exist: nothing about council B leaks.
    assert _no_request_id(assert_problem(resp, 422, "validation-error", fields={"caseworker_id"})) == \
        _no_request_id(assert_problem(missing, 422, "validation-error", fields={"caseworker_id"}))
    assert case_snapshot(tenant_a) == before


@pytest.mark.parametrize("first, field, words", [
    ({"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}, "events.0.type", "request_received"),
    ({"type": "final_plan_issued", "date": "2026-05-20"}, "events.0.type", "request_received"),
    ({**REQUEST, "date": "2026-11-28"}, "events.0.date", "future"),
], ids=["decision-first", "final-plan-first", "tomorrow"])
def test_a_first_event_that_cannot_open_a_case_gets_409_and_nothing_is_created(api: Any, tenant_a: Any, caser_a: Any,
                                                                               child_a: Any, first: dict[str, Any],
                                                                               field: str, words: str) -> None:
    before = case_snapshot(tenant_a)
    resp = api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [first]}, headers=caser_a.headers)
    problem = assert_problem(resp, 409, "conflict", fields={field})
    assert words in problem["detail"]
    assert case_snapshot(tenant_a) == before


@pytest.mark.parametrize("child_id", ["nope", MISSING_ID, "01a21ea2000070008000000000000000", ""])
def test_a_missing_or_malformed_child_gets_404_and_nothing_is_created(api: Any, tenant_a: Any, caser_a: Any,
                                                                      child_a: Any, child_id: str) -> None:
    before = case_snapshot(tenant_a)
    resp = api.post("/api/v1/cases", json={"child_id": child_id, "events": [REQUEST]}, headers=caser_a.headers)
    assert_problem(resp, 404, "not-found")
    assert case_snapshot(tenant_a) == before


def test_another_councils_child_gets_the_same_404_as_a_missing_one(api: Any, tenant_a: Any, tenant_b: Any,
                                                                   credentials: Any, child_a: Any) -> None:
    caser_b = credentials(tenant_b, ALL_CASES)
    before = case_snapshot(tenant_a)
    theirs = api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [REQUEST]}, headers=caser_b.headers)
    missing = api.post("/api/v1/cases", json={"child_id": MISSING_ID, "events": [REQUEST]}, headers=caser_b.headers)
    assert _no_request_id(assert_problem(theirs, 404, "not-found")) == _no_request_id(assert_problem(missing, 404, "not-found"))
    assert case_snapshot(tenant_a) == before
    assert case_count(tenant_b) == 0


def test_opening_a_case_needs_cases_write_but_not_write_access_to_the_childs_record(
        api: Any, tenant_a: Any, credentials: Any, child_a: Any) -> None:
    """Opening a case does not change the child's record: cases:write (which implies reading
    children) is enough, and children:write alone is not."""
    children_only = credentials(tenant_a, "children:read children:write")
    before = case_snapshot(tenant_a)
    resp = api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [REQUEST]}, headers=children_only.headers)
    assert_problem(resp, 403, "insufficient-scope")
    assert case_snapshot(tenant_a) == before
    cases_only = credentials(tenant_a, "cases:read cases:write")
    resp = api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [REQUEST]}, headers=cases_only.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)


# ---------------------------------------------------------------------------------------
# Recording events


def test_the_journey_to_an_issued_plan_and_its_first_annual_review_through_the_api(api: Any, tenant_a: Any,
                                                                                   caser_a: Any, child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    statuses = []
    for event in JOURNEY_TO_PLAN:
        case = recorded(api, caser_a, case["id"], event)
        statuses.append(case["status"])
    assert statuses == ["assessment", "assessment", "assessment", "drafting", "draft", "plan"]
    assessed = deadline(case, "decision_to_assess")
    assert (assessed["due"], assessed["status"], assessed["met_on"]) == ("2026-02-16", "met", "2026-02-10")
    issued = deadline(case, "final_plan_issued")
    assert (issued["due"], issued["comparison"], issued["statutory"], issued["status"], issued["met_on"]) == (
        "2026-05-25", "on_or_before", True, "met", "2026-05-20")
    # Annual review: the end of 12 months beginning with the day the plan was issued.
    assert (deadline(case, "annual_review")["due"], deadline(case, "annual_review")["status"]) == ("2027-05-19", "open")
    # Section 12, example 3: review meeting Thu 5 Nov 2026.
    case = recorded(api, caser_a, case["id"], {"type": "review_meeting_held", "date": "2026-11-05"})
    assert case["status"] == "review"
    assert deadline(case, "review_report_circulation")["due"] == "2026-11-19"
    decision = deadline(case, "post_review_decision")
    assert (decision["due"], decision["status"]) == ("2026-12-03", "open")
    case = recorded(api, caser_a, case["id"], {"type": "review_decision_sent", "date": "2026-11-20", "outcome": "maintain"})
    assert case["status"] == "plan"
    decision = deadline(case, "post_review_decision")
    assert (decision["status"], decision["met_on"]) == ("met", "2026-11-20")
    assert [e["type"] for e in case["events"]] == ["request_received"] + [e["type"] for e in JOURNEY_TO_PLAN] + [
        "review_meeting_held", "review_decision_sent"]
    assert read(api, caser_a, case["id"]) == case


@pytest.mark.smoke
def test_a_final_plan_before_any_decision_to_assess_gets_409_and_nothing_changes(api: Any, tenant_a: Any, caser_a: Any,
                                                                                  child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    before = case_snapshot(tenant_a)
    resp = record(api, caser_a, case["id"], {"type": "final_plan_issued", "date": "2026-05-20"})
    problem = assert_problem(resp, 409, "conflict")
    assert "decision to assess" in problem["detail"]
    assert case_snapshot(tenant_a) == before
    assert read(api, caser_a, case["id"])["events"] == case["events"]
    assert read(api, caser_a, case["id"])["deadlines"] == case["deadlines"]


DRAFT_ON_1_APRIL = [
    {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
    {"type": "decision_to_issue_made", "date": "2026-03-30", "outcome": "issue"},
    {"type": "draft_plan_served", "date": "2026-04-01"},
]


@pytest.mark.parametrize("day", ["2026-04-02", "2026-04-14", "2026-04-15"])
def test_a_final_plan_inside_the_15_days_for_comments_gets_409_and_nothing_changes(api: Any, tenant_a: Any, caser_a: Any,
                                                                                    child_a: Any, day: str) -> None:
    """Section 12, example 2: a draft served Wed 1 Apr 2026 leaves the family until Wed 15
    April to comment (Good Friday and Easter Monday do not shorten it)."""
    case = recorded(api, caser_a, open_case(api, caser_a, child_a.id)["id"], *DRAFT_ON_1_APRIL)
    assert deadline(case, "draft_plan_representations")["due"] == "2026-04-15"
    before = case_snapshot(tenant_a)
    resp = record(api, caser_a, case["id"], {"type": "final_plan_issued", "date": day})
    problem = assert_problem(resp, 409, "conflict")
    assert "2026-04-15" in problem["detail"] and "reg 13(1)" in problem["detail"] and "2026-04-16" in problem["detail"]
    assert case_snapshot(tenant_a) == before
    after = read(api, caser_a, case["id"])
    assert (after["events"], after["deadlines"], after["status"]) == (case["events"], case["deadlines"], "draft")


def test_a_final_plan_on_the_first_day_after_the_15_days_is_recorded(api: Any, tenant_a: Any, caser_a: Any,
                                                                     child_a: Any) -> None:
    case = recorded(api, caser_a, open_case(api, caser_a, child_a.id)["id"], *DRAFT_ON_1_APRIL,
                    {"type": "final_plan_issued", "date": "2026-04-16"})
    assert case["status"] == "plan"
    assert deadline(case, "final_plan_issued")["met_on"] == "2026-04-16"


@pytest.mark.parametrize("event, field, words", [
    ({"type": "decision_to_issue_made", "date": "2026-04-20", "outcome": "issue"}, "type", "decision to assess"),
    ({"type": "draft_plan_served", "date": "2026-05-01"}, "type", "decision to issue"),
    ({"type": "request_received", "date": "2026-02-01"}, "type", "new case"),
    ({"type": "decision_to_assess_made", "date": "2026-01-04", "outcome": "assess"}, "date", "before the request"),
    ({"type": "decision_to_assess_made", "date": "2026-11-28", "outcome": "assess"}, "date", "future"),
    ({"type": "advice_received", "date": "2026-03-01", "advice": "medical", "advice_id": "nobody-asked"}, "type",
     "advice_id"),
], ids=["issue-before-assess", "draft-before-issue", "second-request", "before-request", "tomorrow", "unrequested-advice"])
def test_an_event_that_cannot_happen_now_gets_409_saying_why_and_nothing_changes(api: Any, tenant_a: Any, caser_a: Any,
                                                                                  child_a: Any, event: dict[str, Any],
                                                                                  field: str, words: str) -> None:
    case = open_case(api, caser_a, child_a.id)
    before = case_snapshot(tenant_a)
    problem = assert_problem(record(api, caser_a, case["id"], event), 409, "conflict", fields={field})
    assert words in problem["detail"]
    assert case_snapshot(tenant_a) == before
    assert read(api, caser_a, case["id"])["events"] == case["events"]


INVALID_EVENTS: list[tuple[str, Any, set[str]]] = [
    ("empty", {}, {"type", "date"}),
    ("no-type", {"date": "2026-02-10"}, {"type"}),
    ("unknown-type", {"type": "assessed", "date": "2026-02-10"}, {"type"}),
    ("no-date", {"type": "decision_to_assess_made", "outcome": "assess"}, {"date"}),
    ("not-a-date", {"type": "decision_to_assess_made", "date": "10/02/2026", "outcome": "assess"}, {"date"}),
    ("no-such-day", {"type": "decision_to_assess_made", "date": "2026-02-29", "outcome": "assess"}, {"date"}),
    ("no-outcome", {"type": "decision_to_assess_made", "date": "2026-02-10"}, {"outcome"}),
    ("bad-outcome", {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "maybe"}, {"outcome"}),
    ("everything-wrong", {"type": "phase_transfer_planned", "date": "2026-13-01", "kind": "college"},
     {"date", "kind", "transfer_on"}),
    ("exception-backwards", {"type": "exception_recorded", "date": "2026-02-01", "code": "setting_closure",
                             "from": "2026-02-10", "to": "2026-02-01", "affects": ["decision_to_assess"]}, {"to"}),
    ("exception-unknown-key", {"type": "exception_recorded", "date": "2026-02-01", "code": "setting_closure",
                               "from": "2026-02-01", "affects": ["nonsense"]}, {"affects"}),
    ("event-id", {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess", "id": "x"}, {"id"}),
    ("superseded-by", {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess",
                       "superseded_by": "x"}, {"superseded_by"}),
    ("corrects-nothing", {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess",
                          "corrects": MISSING_ID}, {"corrects"}),
    ("corrects-an-index", {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess",
                           "corrects": 0}, {"corrects"}),
    ("a-list", [{"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}], {"_schema"}),
]


@pytest.mark.parametrize("event, fields", [(e, f) for _, e, f in INVALID_EVENTS], ids=[i for i, _, _ in INVALID_EVENTS])
def test_a_malformed_event_gets_422_naming_each_bad_field_and_nothing_changes(api: Any, tenant_a: Any, caser_a: Any,
                                                                              child_a: Any, event: Any,
                                                                              fields: set[str]) -> None:
    case = open_case(api, caser_a, child_a.id)
    before = case_snapshot(tenant_a)
    assert_problem(record(api, caser_a, case["id"], event), 422, "validation-error", fields=fields)
    assert case_snapshot(tenant_a) == before
    after = read(api, caser_a, case["id"])
    assert (after["events"], after["deadlines"]) == (case["events"], case["deadlines"])


def test_an_event_of_another_case_cannot_be_corrected_here(api: Any, tenant_a: Any, caser_a: Any, make_child: Any) -> None:
    first = open_case(api, caser_a, make_child(tenant_a).id)
    other = open_case(api, caser_a, make_child(tenant_a).id)
    before = case_snapshot(tenant_a)
    resp = record(api, caser_a, other["id"], {**REQUEST, "date": "2026-01-06", "corrects": first["events"][0]["id"]})
    assert_problem(resp, 422, "validation-error", fields={"corrects"})
    assert case_snapshot(tenant_a) == before


def test_events_come_in_date_order_whatever_order_they_were_recorded_in(api: Any, tenant_a: Any, caser_a: Any,
                                                                        child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    case = recorded(api, caser_a, case["id"],
                    {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
                    {"type": "advice_requested", "date": "2026-02-20", "advice": "psychological", "advice_id": "ep"},
                    {"type": "advice_requested", "date": "2026-02-12", "advice": "medical", "advice_id": "med"},
                    {"type": "advice_requested", "date": "2026-02-20", "advice": "educational", "advice_id": "edu"},
                    {"type": "advice_received", "date": "2026-02-13", "advice": "medical", "advice_id": "med",
                     "note": "kept as recorded"})
    assert [(e["date"], e.get("advice_id")) for e in case["events"]] == [
        ("2026-01-05", None), ("2026-02-10", None), ("2026-02-12", "med"), ("2026-02-13", "med"),
        ("2026-02-20", "ep"), ("2026-02-20", "edu")]  # a tie keeps the order of recording
    received = case["events"][3]
    assert received["note"] == "kept as recorded"  # attributes outside the vocabulary are kept
    # Each request for advice has its own six-week clock (reg 8(1)), told apart by ``ref``.
    advice = {d["ref"]: d for d in case["deadlines"] if d["key"] == "advice_returned"}
    assert (advice["med"]["status"], advice["med"]["met_on"]) == ("met", "2026-02-13")
    assert advice["ep"]["due"] == "2026-04-03" and advice["ep"]["status"] == "missed"
    listed = api.get(f"/api/v1/cases/{case['id']}/events", headers=caser_a.headers)
    assert listed.status_code == 200
    assert listed.get_json() == {"items": case["events"], "next_cursor": None}


# ---------------------------------------------------------------------------------------
# Corrections


def test_a_correction_replaces_an_event_for_the_deadlines_and_keeps_both_on_the_record(api: Any, tenant_a: Any,
                                                                                        caser_a: Any, child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    case = recorded(api, caser_a, case["id"], {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"})
    wrong = case["events"][1]
    case = recorded(api, caser_a, case["id"], {"type": "decision_to_assess_made", "date": "2026-02-20",
                                               "outcome": "refuse", "corrects": wrong["id"]})
    assert [(e["date"], e["outcome"]) for e in case["events"][1:]] == [("2026-02-10", "assess"), ("2026-02-20", "refuse")]
    old, new = case["events"][1:]
    assert old["superseded_by"] == new["id"] and "corrects" not in old
    assert new["corrects"] == wrong["id"] and "superseded_by" not in new
    assert {k: v for k, v in old.items() if k != "superseded_by"} == wrong  # never edited in place
    assert case["status"] == "not_assessing"
    d = deadline(case, "decision_to_assess")
    assert (d["status"], d["met_on"]) == ("missed", "2026-02-20")  # a day late once corrected


def test_corrections_of_corrections_chain(api: Any, tenant_a: Any, caser_a: Any, child_a: Any) -> None:
    case = recorded(api, caser_a, open_case(api, caser_a, child_a.id)["id"],
                    {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"})
    first = case["events"][1]["id"]
    case = recorded(api, caser_a, case["id"], {"type": "decision_to_assess_made", "date": "2026-02-11",
                                               "outcome": "assess", "corrects": first})
    second = case["events"][2]["id"]
    case = recorded(api, caser_a, case["id"], {"type": "decision_to_assess_made", "date": "2026-02-09",
                                               "outcome": "assess", "corrects": first})
    by_id = {e["id"]: e for e in case["events"]}
    third = case["events"][1]["id"]  # dated 9 Feb: first in date order
    assert [e["date"] for e in case["events"]] == ["2026-01-05", "2026-02-09", "2026-02-10", "2026-02-11"]
    # A second correction of the same event replaces whichever version was current.
    assert by_id[first]["superseded_by"] == second and by_id[second]["superseded_by"] == third
    assert "superseded_by" not in by_id[third]
    assert deadline(case, "decision_to_assess")["met_on"] == "2026-02-09"


def test_correcting_the_request_moves_every_clock_it_started(api: Any, tenant_a: Any, caser_a: Any, child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id, {**REQUEST, "date": "2026-01-12"})
    assert deadline(case, "decision_to_assess")["due"] == "2026-02-23"
    case = recorded(api, caser_a, case["id"], {**REQUEST, "corrects": case["events"][0]["id"]})
    assert (case["opened_on"], deadline(case, "decision_to_assess")["due"]) == ("2026-01-12", "2026-02-16")
    assert deadline(case, "final_plan_issued")["due"] == "2026-05-25"


# ---------------------------------------------------------------------------------------
# Reading and 404s


BAD_IDS = ["nope", "1", MISSING_ID, MISSING_ID.upper(), "01a21ea2000070008000000000000000", "%20", "null"]


@pytest.mark.parametrize("case_id", BAD_IDS)
def test_malformed_and_missing_case_ids_get_identical_404s(api: Any, tenant_a: Any, caser_a: Any, case_id: str) -> None:
    reference = api.get(f"/api/v1/cases/{MISSING_ID}", headers=caser_a.headers)
    assert_problem(reference, 404, "not-found")
    before = case_snapshot(tenant_a)
    for resp in (api.get(f"/api/v1/cases/{case_id}", headers=caser_a.headers),
                 api.get(f"/api/v1/cases/{case_id}/events", headers=caser_a.headers),
                 record(api, caser_a, case_id, {"type": "review_meeting_held", "date": "2026-11-02"})):
        assert_problem(resp, 404, "not-found")
        assert _no_request_id(resp.get_json()) == _no_request_id(reference.get_json())
    assert case_snapshot(tenant_a) == before


@pytest.mark.smoke
def test_another_councils_case_gets_the_same_404_as_a_missing_one(api: Any, tenant_a: Any, tenant_b: Any, caser_a: Any,
                                                                  credentials: Any, child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    caser_b = credentials(tenant_b, ALL_CASES)
    before = case_snapshot(tenant_a)
    missing = api.get(f"/api/v1/cases/{MISSING_ID}", headers=caser_b.headers)
    event = {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}
    for resp in (api.get(f"/api/v1/cases/{case['id']}", headers=caser_b.headers),
                 api.get(f"/api/v1/cases/{case['id']}/events", headers=caser_b.headers),
                 record(api, caser_b, case["id"], event)):
        assert_problem(resp, 404, "not-found")
        assert _no_request_id(resp.get_json()) == _no_request_id(missing.get_json())
    for query in ("", f"?child_id={child_a.id}", "?due=overdue", "?stage=request"):
        assert api.get(f"/api/v1/cases{query}", headers=caser_b.headers).get_json() == {"items": [], "next_cursor": None}
    assert case_snapshot(tenant_a) == before


def test_a_reader_cannot_record_events_on_a_case(api: Any, tenant_a: Any, caser_a: Any, credentials: Any,
                                                 child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    reader = credentials(tenant_a, "cases:read")
    assert read(api, reader, case["id"]) == case
    before = case_snapshot(tenant_a)
    event = {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}
    for resp in (record(api, reader, case["id"], event),
                 api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [REQUEST]}, headers=reader.headers)):
        problem = assert_problem(resp, 403, "insufficient-scope")
        assert "cases:write" in problem["detail"]
        assert 'scope="cases:write"' in resp.headers["WWW-Authenticate"]
    assert case_snapshot(tenant_a) == before


def test_a_token_without_cases_scopes_gets_403_everywhere(api: Any, tenant_a: Any, caser_a: Any, credentials: Any,
                                                          child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    children_only = credentials(tenant_a, "children:read children:write")
    before = case_snapshot(tenant_a)
    for method, path, body, scope in (
            ("get", "/api/v1/cases", None, "cases:read"),
            ("get", f"/api/v1/cases/{case['id']}", None, "cases:read"),
            ("get", f"/api/v1/cases/{case['id']}/events", None, "cases:read"),
            ("post", "/api/v1/cases", {"child_id": str(child_a.id), "events": [REQUEST]}, "cases:write"),
            ("post", f"/api/v1/cases/{case['id']}/events", {"type": "review_meeting_held", "date": "2026-11-02"},
             "cases:write")):
        resp = getattr(api, method)(path, json=body, headers=children_only.headers)
        assert scope in assert_problem(resp, 403, "insufficient-scope")["detail"], (method, path)
    assert case_snapshot(tenant_a) == before


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}],
                         ids=["none", "garbage", "basic"])
def test_no_valid_token_gets_401_before_anything_is_read(api: Any, tenant_a: Any, caser_a: Any, child_a: Any,
                                                         headers: dict[str, str]) -> None:
    case = open_case(api, caser_a, child_a.id)
    before = case_snapshot(tenant_a)
    for method, path, body in (("get", "/api/v1/cases", None), ("get", f"/api/v1/cases/{case['id']}", None),
                               ("get", f"/api/v1/cases/{case['id']}/events", None),
                               ("post", "/api/v1/cases", {"child_id": str(child_a.id), "events": [REQUEST]}),
                               ("post", f"/api/v1/cases/{case['id']}/events", {"type": "review_meeting_held",
                                                                               "date": "2026-11-02"})):
        resp = getattr(api, method)(path, json=body, headers=headers)
        assert_problem(resp, 401, "unauthorized")
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert case_snapshot(tenant_a) == before


@pytest.mark.smoke
def test_unsupported_methods_get_a_405_problem_with_allow(api: Any, tenant_a: Any, caser_a: Any, child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    before = case_snapshot(tenant_a)
    for method, path, allowed in (("delete", f"/api/v1/cases/{case['id']}", {"GET"}),
                                  ("patch", f"/api/v1/cases/{case['id']}", {"GET"}),
                                  ("put", "/api/v1/cases", {"GET", "POST"}),
                                  ("delete", f"/api/v1/cases/{case['id']}/events", {"GET", "POST"}),
                                  ("put", f"/api/v1/cases/{case['id']}/events", {"GET", "POST"})):
        resp = getattr(api, method)(path, json={}, headers=caser_a.headers)
        assert_problem(resp, 405, "method-not-allowed")
        assert allowed <= {m.strip() for m in resp.headers["Allow"].split(",")}
    assert case_snapshot(tenant_a) == before


# ---------------------------------------------------------------------------------------
# Bodies that are not JSON


@pytest.mark.parametrize("content_type, data", [
    ("text/plain", json.dumps(REQUEST)),
    ("application/x-www-form-urlencoded", "type=request_received&date=2026-01-05"),
    (None, json.dumps(REQUEST)),
], ids=["text", "form", "no-content-type"])
def test_a_body_that_is_not_json_gets_415_and_changes_nothing(api: Any, tenant_a: Any, caser_a: Any, child_a: Any,
                                                              content_type: str | None, data: str) -> None:
    case = open_case(api, caser_a, child_a.id)
    before = case_snapshot(tenant_a)
    for path in ("/api/v1/cases", f"/api/v1/cases/{case['id']}/events"):
        resp = api.post(path, data=data, content_type=content_type, headers=caser_a.headers)
        assert "application/json" in assert_problem(resp, 415, "unsupported-media-type")["detail"]
    assert case_snapshot(tenant_a) == before


@pytest.mark.parametrize("data", ['{"type": "request_received",', "not json", b'{"type": "\xff"}'],
                         ids=["truncated", "text", "not-utf8"])
def test_malformed_json_gets_400_and_changes_nothing(api: Any, tenant_a: Any, caser_a: Any, child_a: Any, data: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    before = case_snapshot(tenant_a)
    for path in ("/api/v1/cases", f"/api/v1/cases/{case['id']}/events"):
        resp = api.post(path, data=data, content_type="application/json", headers=caser_a.headers)
        assert "not valid JSON" in assert_problem(resp, 400, "bad-request")["detail"]
    assert case_snapshot(tenant_a) == before


# ---------------------------------------------------------------------------------------
# Listing: cursor pagination and filters


@pytest.mark.smoke
def test_paging_through_five_cases_two_at_a_time(api: Any, tenant_a: Any, caser_a: Any, make_child: Any) -> None:
    created = [open_case(api, caser_a, make_child(tenant_a).id)["id"] for _ in range(5)]
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(5):
        resp = api.get("/api/v1/cases", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                       headers=caser_a.headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert set(body) == {"items", "next_cursor"}
        assert all(set(item) == CASE_FIELDS for item in body["items"])
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in p] == created  # oldest first, no gaps, no repeats


def test_a_listed_case_is_the_same_as_the_case_read_alone(api: Any, tenant_a: Any, caser_a: Any, child_a: Any) -> None:
    case = recorded(api, caser_a, open_case(api, caser_a, child_a.id)["id"], *JOURNEY_TO_PLAN)
    [listed] = api.get("/api/v1/cases", headers=caser_a.headers).get_json()["items"]
    assert listed == case


@pytest.fixture
def caseload(tenant_a: Any, make_case: Any, make_child: Any, make_user: Any) -> dict[str, Any]:
    """Cases of council A at different stages and with different deadlines as of 27 Nov 2026."""
    worker = make_user(tenant_a)
    twins = make_child(tenant_a)
    return {
        "worker": worker,
        "twins": twins,
        # Everything open fell due months ago.
        "overdue": make_case(tenant_a, caseworker_id=worker.id),
        # An earlier request of the same child, refused: over, so it does not block a new one.
        "refused": make_case(tenant_a, [{"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "refuse"}],
                             child=twins),
        # decision_to_assess due Mon 30 Nov 2026: within a week.
        "this_week": make_case(tenant_a, [{"type": "request_received", "date": "2026-10-19"}]),
        # decision_to_assess due Mon 14 Dec 2026: within four weeks, not this week.
        "four_weeks": make_case(tenant_a, [{"type": "request_received", "date": "2026-11-02"}], child=twins,
                                caseworker_id=worker.id),
        # An issued plan whose annual review is due in May 2027: due in none of the windows.
        "plan": make_case(tenant_a, JOURNEY_TO_PLAN),
    }


@pytest.mark.parametrize("query, expected", [
    (lambda c: {}, ["overdue", "refused", "this_week", "four_weeks", "plan"]),
    (lambda c: {"due": "overdue"}, ["overdue"]),
    (lambda c: {"due": "this_week"}, ["this_week"]),
    (lambda c: {"due": "four_weeks"}, ["this_week", "four_weeks"]),
    (lambda c: {"stage": "plan"}, ["plan"]),
    (lambda c: {"stage": "request"}, ["overdue", "this_week", "four_weeks"]),
    (lambda c: {"stage": "review"}, []),
    (lambda c: {"child_id": str(c["twins"].id)}, ["refused", "four_weeks"]),
    (lambda c: {"caseworker_id": str(c["worker"].id)}, ["overdue", "four_weeks"]),
    (lambda c: {"caseworker_id": str(c["worker"].id), "due": "four_weeks", "child_id": str(c["twins"].id)}, ["four_weeks"]),
    (lambda c: {"child_id": MISSING_ID}, []),
], ids=["all", "overdue", "this-week", "four-weeks", "stage-plan", "stage-request", "stage-review", "child",
        "caseworker", "all-together", "nobodys-child"])
def test_list_filters(api: Any, tenant_a: Any, caser_a: Any, caseload: dict[str, Any], query: Any,
                      expected: list[str]) -> None:
    resp = api.get("/api/v1/cases", query_string=query(caseload), headers=caser_a.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert [item["id"] for item in resp.get_json()["items"]] == [str(caseload[name].id) for name in expected]


@pytest.mark.parametrize("query, field", [
    ("?statu=plan", "statu"),
    ("?stage=finished", "stage"),
    ("?due=tomorrow", "due"),
    ("?child_id=nope", "child_id"),
    ("?caseworker_id=1", "caseworker_id"),
    ("?limit=0", "limit"),
    ("?limit=201", "limit"),
    ("?cursor=not-a-cursor", "cursor"),
], ids=["unknown-parameter", "bad-stage", "bad-due", "bad-child", "bad-caseworker", "limit-0", "limit-201", "bad-cursor"])
def test_bad_list_queries_get_422_and_are_not_audited(api: Any, tenant_a: Any, caser_a: Any, caseload: dict[str, Any],
                                                      query: str, field: str) -> None:
    before = case_snapshot(tenant_a)
    resp = api.get(f"/api/v1/cases{query}", headers=caser_a.headers)
    assert_problem(resp, 422, "validation-error", fields={field})
    assert audit_events(tenant_a, request_id=resp.headers["X-Request-ID"]) == []
    assert case_snapshot(tenant_a) == before


def test_every_stage_is_a_filter(api: Any, tenant_a: Any, caser_a: Any) -> None:
    for stage in STAGES:
        assert api.get(f"/api/v1/cases?stage={stage}", headers=caser_a.headers).status_code == 200, stage


# ---------------------------------------------------------------------------------------
# Audit: every read and write, with the client, the channel and the request id


def _audited(tenant: Any, resp: Any, who: Any) -> list[tuple[str, str, str | None]]:
    events = audit_events(tenant, request_id=resp.headers["X-Request-ID"])
    for e in events:
        assert (e.actor_type, e.actor_id, e.channel, e.subject_type) == ("api_client", who.client_id, "api", "child")
    return [(e.action, str(e.subject_id), e.object_type) for e in events]


@pytest.mark.smoke
def test_opening_a_case_and_recording_an_event_are_audited_against_the_child(api: Any, tenant_a: Any, caser_a: Any,
                                                                             child_a: Any) -> None:
    resp = api.post("/api/v1/cases", json={"child_id": str(child_a.id), "events": [REQUEST]}, headers=caser_a.headers)
    child = str(child_a.id)
    # Reading the child (to open a case for it) is itself a read of its record.
    assert _audited(tenant_a, resp, caser_a) == [("child.viewed", child, None), ("case.opened", child, "case"),
                                                 ("case.event_recorded", child, "case_event")]
    event = {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}
    resp = record(api, caser_a, resp.get_json()["id"], event)
    assert _audited(tenant_a, resp, caser_a) == [("case.event_recorded", child, "case_event")]
    [audit] = audit_events(tenant_a, request_id=resp.headers["X-Request-ID"])
    assert audit.fields == "decision_to_assess_made"
    assert str(audit.object_id) == resp.get_json()["events"][-1]["id"]


def test_reading_a_case_or_its_events_is_audited_as_viewed(api: Any, tenant_a: Any, caser_a: Any, child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    for path in (f"/api/v1/cases/{case['id']}", f"/api/v1/cases/{case['id']}/events"):
        resp = api.get(path, headers=caser_a.headers)
        assert resp.status_code == 200
        assert _audited(tenant_a, resp, caser_a) == [("case.viewed", str(child_a.id), "case")]


def test_listing_audits_every_child_on_the_page_and_no_other(api: Any, tenant_a: Any, caser_a: Any,
                                                            make_child: Any) -> None:
    children = [make_child(tenant_a) for _ in range(3)]
    for child in children:
        open_case(api, caser_a, child.id)
    resp = api.get("/api/v1/cases?limit=2", headers=caser_a.headers)
    assert resp.status_code == 200
    assert _audited(tenant_a, resp, caser_a) == [("child.listed", str(c.id), None) for c in sorted(children[:2], key=lambda c: c.id)]


def test_a_refused_event_leaves_no_audit_event(api: Any, tenant_a: Any, caser_a: Any, child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    for event, status in (({"type": "final_plan_issued", "date": "2026-05-20"}, 409),
                          ({"type": "final_plan_issued"}, 422)):
        resp = record(api, caser_a, case["id"], event)
        assert resp.status_code == status
        assert audit_events(tenant_a, request_id=resp.headers["X-Request-ID"]) == []


# ---------------------------------------------------------------------------------------
# Idempotency-Key


@pytest.mark.smoke
def test_opening_a_case_twice_with_one_key_opens_one_case(api: Any, tenant_a: Any, caser_a: Any, child_a: Any) -> None:
    headers = {**caser_a.headers, "Idempotency-Key": new_key()}
    body = {"child_id": str(child_a.id), "events": [REQUEST]}
    first = api.post("/api/v1/cases", json=body, headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = api.post("/api/v1/cases", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert case_count(tenant_a) == 1
    assert len(audit_events(tenant_a, action="case.opened")) == 1


def test_recording_an_event_twice_with_one_key_records_one_event(api: Any, tenant_a: Any, caser_a: Any,
                                                                 child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    key = new_key()
    event = {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}
    first = record(api, caser_a, case["id"], event, **{"Idempotency-Key": key})
    assert first.status_code == 201
    again = record(api, caser_a, case["id"], event, **{"Idempotency-Key": key})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(read(api, caser_a, case["id"])["events"]) == 2
    before = case_snapshot(tenant_a)
    other = record(api, caser_a, case["id"], {**event, "outcome": "refuse"}, **{"Idempotency-Key": key})
    assert_problem(other, 422, "idempotency-key-reused")
    assert case_snapshot(tenant_a) == before


def test_a_refused_event_is_not_remembered_so_a_fixed_retry_with_the_key_is_recorded(api: Any, tenant_a: Any,
                                                                                     caser_a: Any, child_a: Any) -> None:
    case = open_case(api, caser_a, child_a.id)
    key = new_key()
    assert record(api, caser_a, case["id"], {"type": "final_plan_issued", "date": "2026-05-20"},
                  **{"Idempotency-Key": key}).status_code == 409
    fixed = record(api, caser_a, case["id"], {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
                   **{"Idempotency-Key": key})
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers
    assert fixed.get_json()["status"] == "assessment"


# ---------------------------------------------------------------------------------------
# The OpenAPI description


@pytest.fixture
def spec(app: Any) -> dict[str, Any]:
    return app.test_client().get("/api/v1/openapi.json").get_json()  # type: ignore[no-any-return]


def test_the_cases_operations_and_their_scopes(spec: dict[str, Any]) -> None:
    found = {(path, method): op["security"] for path, item in spec["paths"].items() if path.startswith("/api/v1/cases")
             and "/plan" not in path for method, op in item.items() if method != "parameters"}
    assert found == {
        ("/api/v1/cases", "get"): [{"oauth2": ["cases:read"]}],
        ("/api/v1/cases", "post"): [{"oauth2": ["cases:write"]}],
        ("/api/v1/cases/{case_id}", "get"): [{"oauth2": ["cases:read"]}],
        ("/api/v1/cases/{case_id}/events", "get"): [{"oauth2": ["cases:read"]}],
        ("/api/v1/cases/{case_id}/events", "post"): [{"oauth2": ["cases:write"]}],
    }


def test_the_case_event_and_deadline_schemas_use_the_contract_names(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert CASE_FIELDS <= set(schemas["Case"]["properties"])
    assert set(schemas["Case"]["properties"]["status"]["enum"]) == set(STAGES)
    event = schemas["Event"]
    assert {"id", "type", "date", "recorded_at", "corrects", "superseded_by"} <= set(event["properties"])
    assert event["additionalProperties"] is True  # the attributes
    assert event["properties"]["type"]["enum"] == list(EVENT_TYPES)
    sent = schemas["EventIn"]
    assert sent["properties"]["type"]["enum"] == list(EVENT_TYPES)
    assert set(sent["required"]) == {"type", "date"} and sent["additionalProperties"] is True
    assert "`decision_to_assess_made`: `outcome`: one of `assess` | `refuse`" in sent["properties"]["type"]["description"]
    deadline_schema = schemas["Deadline"]
    assert DEADLINE_FIELDS | {"met_on", "exception"} <= set(deadline_schema["properties"])
    assert set(deadline_schema["required"]) == DEADLINE_FIELDS
    assert set(deadline_schema["properties"]["status"]["enum"]) == {"open", "met", "missed", "suspended"}
    assert set(deadline_schema["properties"]["comparison"]["enum"]) == {"on_or_before", "before"}
    post = spec["paths"]["/api/v1/cases"]["post"]
    assert "Location" in post["responses"]["201"]["headers"]
    create = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schemas[create]["required"]) == {"child_id", "events"}
    events = spec["paths"]["/api/v1/cases/{case_id}/events"]["post"]
    assert {"201", "404", "409", "422"} <= set(events["responses"])
    params = {p["name"] for p in spec["paths"]["/api/v1/cases"]["get"]["parameters"]}
    assert {"limit", "cursor", "stage", "child_id", "caseworker_id", "due"} <= params
