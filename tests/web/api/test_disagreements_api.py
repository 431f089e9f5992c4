"""``/api/v1/disagreements`` (api-v1.md; issue 6 item 5): open disagreements, record their steps
in the event vocabulary, read them with their clocks; problems that change nothing; another
council's disagreement is a 404; cursor pagination; ``Idempotency-Key``.

"today" is pinned to Fri 27 Nov 2026; dates are those of statutory-rules.md §12.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from core.disagreements.models import Disagreement, DisagreementStep
from tests.conftest import JOURNEY_TO_PLAN, in_tenant
from tests.web.api.conftest import MISSING_ID, assert_problem, audit_events, new_key

TODAY = dt.date(2026, 11, 27)
WRITE = "disagreements:read disagreements:write"
FIELDS = {"id", "case_id", "child_id", "kind", "status", "opened_on", "closed_on", "closed_reason", "owner_id",
          "summary", "decision", "created_at", "updated_at"}
DEADLINE_FIELDS = {"key", "due", "comparison", "statutory", "status", "citation"}


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    import core.clock

    monkeypatch.setattr(core.clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def writer(tenant_a: Any, credentials: Any) -> Any:
    return credentials(tenant_a, WRITE)


def _case(make_case: Any, tenant: Any, letter_on: str = "2026-10-02", decision: str = "plan_content") -> Any:
    return make_case(tenant, [*JOURNEY_TO_PLAN, {"type": "decision_letter_sent", "date": letter_on,
                                                 "decision": decision}])


def _open(api: Any, who: Any, **body: Any) -> dict[str, Any]:
    resp = api.post("/api/v1/disagreements", json=body, headers=who.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()  # type: ignore[no-any-return]


def _step(api: Any, who: Any, did: str, **step: Any) -> Any:
    return api.post(f"/api/v1/disagreements/{did}/events", json=step, headers=who.headers)


def _stepped(api: Any, who: Any, did: str, *steps: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for step in steps:
        resp = _step(api, who, did, **step)
        assert resp.status_code == 201, (step, resp.get_data(as_text=True))
        body = resp.get_json()
    return body


def _clock(body: dict[str, Any], key: str) -> dict[str, Any]:
    found = [d for d in body["deadlines"] if d["key"] == key]
    assert len(found) == 1, (key, body["deadlines"])
    return found[0]


def _count(tenant: Any, model: Any = Disagreement) -> int:
    with in_tenant(tenant) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


# ---------------------------------------------------------------------------------------
# Opening and reading


def test_open_a_mediation_and_read_it_with_its_clocks(api: Any, tenant_a: Any, writer: Any, make_case: Any) -> None:
    case = _case(make_case, tenant_a)
    body = _open(api, writer, case_id=str(case.id), kind="mediation", summary="Section F is vague")
    assert FIELDS <= set(body) and {"mediation", "steps", "deadlines"} <= set(body)
    assert (body["kind"], body["status"], body["opened_on"], body["case_id"]) == \
        ("mediation", "open", "2026-11-27", str(case.id))
    assert body["decision"]["decision"] == "plan_content" and body["decision"]["sent_on"] == "2026-10-02"
    contact = _clock(body, "mediation_adviser_contact")
    assert DEADLINE_FIELDS <= set(contact)
    assert (contact["due"], contact["statutory"], contact["citation"]) == ("2026-12-02", True, "SEND Regs 2014 reg 33")
    read = api.get(f"/api/v1/disagreements/{body['id']}", headers=writer.headers)
    assert read.status_code == 200
    assert {k: v for k, v in read.get_json().items() if k != "updated_at"} == \
        {k: v for k, v in body.items() if k != "updated_at"}
    viewed = audit_events(tenant_a, action="disagreement.viewed", object_id=uuid.UUID(body["id"]))
    assert [a.subject_id for a in viewed] == [case.child_id]


def test_a_step_is_recorded_on_the_case_and_the_clocks_follow(api: Any, tenant_a: Any, credentials: Any,
                                                             make_case: Any) -> None:
    who = credentials(tenant_a, WRITE + " cases:read")
    case = _case(make_case, tenant_a)
    d = _open(api, who, case_id=str(case.id), kind="mediation")
    body = _stepped(api, who, d["id"], {"type": "mediation_declined", "date": "2026-11-26"})
    assert body["mediation"]["wants_mediation"] is False
    assert body["mediation"]["adviser_contacted_on"] == "2026-11-26"
    assert _clock(body, "mediation_certificate")["due"] == "2026-12-01"
    assert _clock(body, "mediation_adviser_contact")["status"] == "met"
    [step] = body["steps"]
    assert step["type"] == "mediation_declined" and step["case_event_id"]
    events = api.get(f"/api/v1/cases/{case.id}", headers=who.headers).get_json()["events"]
    [event] = [e for e in events if e["type"] == "mediation_declined"]
    assert event["id"] == step["case_event_id"] and event["disagreement_id"] == d["id"]


def test_an_appeal_with_a_tribunal_order_and_its_reg_44_clock(api: Any, tenant_a: Any, writer: Any,
                                                               make_case: Any) -> None:
    case = _case(make_case, tenant_a, "2026-05-21")
    d = _open(api, writer, case_id=str(case.id), kind="appeal", grounds=["plan_content_f"],
              tribunal_reference="EH901/26/00007", opened_on="2026-06-01")
    body = _stepped(api, writer, d["id"],
                    {"type": "appeal_registered", "date": "2026-06-10", "response_due": "2026-07-08"},
                    {"type": "appeal_response_submitted", "date": "2026-07-06"},
                    {"type": "appeal_decided", "date": "2026-07-14", "outcome": "allowed"},
                    {"type": "tribunal_order_made", "date": "2026-07-14", "order": "amend",
                     "requires": "Specify speech and language therapy in section F"})
    appeal = body["appeal"]
    assert (appeal["registered_on"], appeal["response_due"], appeal["outcome"]) == \
        ("2026-06-10", "2026-07-08", "allowed")
    [order] = appeal["orders"]
    assert (order["order"], order["made_on"], order["complied_on"]) == ("amend", "2026-07-14", None)
    amend = _clock(body, "tribunal_order_amend")
    assert (amend["due"], amend["status"], amend["citation"]) == ("2026-08-18", "missed", "SEND Regs 2014 reg 44(2)")
    assert _clock(body, "appeal_la_response")["status"] == "met"
    assert [s["type"] for s in body["steps"]] == ["appeal_registered", "appeal_response_submitted", "appeal_decided",
                                                  "tribunal_order_made"]
    # Closing is refused while the order is not complied with; nothing changes.
    steps = _count(tenant_a, DisagreementStep)
    resp = _step(api, writer, d["id"], type="disagreement_closed", date="2026-11-20")
    assert "reg 44" in assert_problem(resp, 422, "validation-error", fields={"type"})["errors"]["type"][0]
    assert _count(tenant_a, DisagreementStep) == steps


def test_a_complaint_shows_council_targets_as_not_statutory(api: Any, tenant_a: Any, writer: Any,
                                                            make_case: Any) -> None:
    case = _case(make_case, tenant_a)
    body = _open(api, writer, case_id=str(case.id), kind="complaint", summary="Late annual review",
                 opened_on="2026-11-20", reference="C-77")
    [stage] = body["complaint"]["stages"]
    assert (stage["stage"], stage["received_on"], stage["reference"], stage["target_due"]) == \
        ("stage_1", "2026-11-20", "C-77", "2026-12-04")
    target = _clock(body, "complaint_response")
    assert (target["statutory"], target["due"], target["status"]) == (False, "2026-12-04", "open")
    assert _clock(body, "lgsco_complaint_guidance")["guidance"] is True


# ---------------------------------------------------------------------------------------
# Problems that change nothing


def test_bad_bodies_are_problems_and_create_nothing(api: Any, tenant_a: Any, writer: Any, make_case: Any) -> None:
    case = _case(make_case, tenant_a)
    before = _count(tenant_a)
    resp = api.post("/api/v1/disagreements", json={"case_id": str(case.id), "kind": "feud"}, headers=writer.headers)
    assert_problem(resp, 422, "validation-error", fields={"kind"})
    resp = api.post("/api/v1/disagreements", json={"case_id": str(case.id), "kind": "appeal", "grounds": ["cease"]},
                    headers=writer.headers)
    assert_problem(resp, 422, "validation-error", fields={"grounds"})
    resp = api.post("/api/v1/disagreements", json={"case_id": str(case.id), "kind": "complaint", "summary": "x",
                                                   "colour": "red"}, headers=writer.headers)
    assert_problem(resp, 422, "validation-error", fields={"colour"})
    resp = api.post("/api/v1/disagreements", data="kind=appeal", headers=writer.headers)
    assert_problem(resp, 415, "unsupported-media-type")
    resp = api.post("/api/v1/disagreements", json={"case_id": MISSING_ID, "kind": "complaint", "summary": "x"},
                    headers=writer.headers)
    assert_problem(resp, 404, "not-found")
    assert _count(tenant_a) == before


def test_impossible_steps_are_problems_and_record_nothing(api: Any, tenant_a: Any, writer: Any,
                                                          make_case: Any) -> None:
    case = _case(make_case, tenant_a)
    d = _open(api, writer, case_id=str(case.id), kind="mediation")
    steps = _count(tenant_a, DisagreementStep)
    assert_problem(_step(api, writer, d["id"], type="appeal_decided", date="2026-11-20", outcome="allowed"), 422,
                   "validation-error", fields={"type"})
    assert_problem(_step(api, writer, d["id"], type="mediation_declined", date="2026-11-28"), 422,
                   "validation-error", fields={"date"})
    assert_problem(_step(api, writer, d["id"], type="mediation_concluded", date="2026-11-20"), 422,
                   "validation-error", fields={"type"})
    assert_problem(_step(api, writer, d["id"], type="nonsense", date="2026-11-20"), 422, "validation-error",
                   fields={"type"})
    assert_problem(_step(api, writer, d["id"], date="2026-11-20"), 422, "validation-error", fields={"type"})
    assert _count(tenant_a, DisagreementStep) == steps


# ---------------------------------------------------------------------------------------
# Tenancy, scopes, lists, idempotency, OpenAPI


def test_another_councils_disagreement_is_a_404_like_a_missing_one(api: Any, tenant_a: Any, tenant_b: Any,
                                                                   writer: Any, credentials: Any,
                                                                   make_case: Any) -> None:
    case = _case(make_case, tenant_a)
    d = _open(api, writer, case_id=str(case.id), kind="complaint", summary="x")
    intruder = credentials(tenant_b, WRITE)
    for path in (f"/api/v1/disagreements/{d['id']}",):
        found = api.get(path, headers=intruder.headers)
        missing = api.get(path.replace(d["id"], MISSING_ID), headers=intruder.headers)
        a = assert_problem(found, 404, "not-found")
        b = assert_problem(missing, 404, "not-found")
        assert {k: v for k, v in a.items() if k != "request_id"} == {k: v for k, v in b.items() if k != "request_id"}
    resp = _step(api, intruder, d["id"], type="disagreement_closed", date="2026-11-27")
    assert_problem(resp, 404, "not-found")
    resp = api.post("/api/v1/disagreements", json={"case_id": str(case.id), "kind": "complaint", "summary": "x"},
                    headers=intruder.headers)
    assert_problem(resp, 404, "not-found")
    listed = api.get("/api/v1/disagreements?limit=200", headers=intruder.headers).get_json()
    assert d["id"] not in {item["id"] for item in listed["items"]}
    assert api.get(f"/api/v1/disagreements/{d['id']}", headers=writer.headers).get_json()["status"] == "open"


def test_scopes_are_needed(api: Any, tenant_a: Any, credentials: Any, make_case: Any) -> None:
    reader = credentials(tenant_a, "disagreements:read")
    cases = credentials(tenant_a, "cases:read cases:write")
    case = _case(make_case, tenant_a)
    assert_problem(api.get("/api/v1/disagreements", headers=cases.headers), 403, "insufficient-scope")
    resp = api.post("/api/v1/disagreements", json={"case_id": str(case.id), "kind": "complaint", "summary": "x"},
                    headers=reader.headers)
    assert_problem(resp, 403, "insufficient-scope")
    assert_problem(api.get("/api/v1/disagreements"), 401, "unauthorized")


def test_the_list_pages_with_a_cursor_and_filters(api: Any, tenant_a: Any, writer: Any, make_case: Any) -> None:
    case = _case(make_case, tenant_a)
    other = _case(make_case, tenant_a)
    made = [_open(api, writer, case_id=str(case.id), kind="complaint", summary=f"c{i}")["id"] for i in range(3)]
    mediation = _open(api, writer, case_id=str(other.id), kind="mediation")["id"]
    first = api.get(f"/api/v1/disagreements?case_id={case.id}&limit=2", headers=writer.headers).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    assert "steps" not in first["items"][0] and FIELDS <= set(first["items"][0])
    second = api.get(f"/api/v1/disagreements?case_id={case.id}&limit=2&cursor={first['next_cursor']}",
                     headers=writer.headers).get_json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert [i["id"] for i in first["items"] + second["items"]] == sorted(made)
    kinds = api.get("/api/v1/disagreements?kind=mediation&limit=200", headers=writer.headers).get_json()
    assert mediation in {i["id"] for i in kinds["items"]} and not set(made) & {i["id"] for i in kinds["items"]}
    assert_problem(api.get("/api/v1/disagreements?colour=red", headers=writer.headers), 422, "validation-error")
    assert_problem(api.get("/api/v1/disagreements?cursor=nonsense", headers=writer.headers), 422,
                   "validation-error", fields={"cursor"})


def test_a_repeated_idempotency_key_opens_one_disagreement(api: Any, tenant_a: Any, writer: Any,
                                                           make_case: Any) -> None:
    case = _case(make_case, tenant_a)
    before = _count(tenant_a)
    key = new_key()
    body = {"case_id": str(case.id), "kind": "complaint", "summary": "Late review"}
    one = api.post("/api/v1/disagreements", json=body, headers={**writer.headers, "Idempotency-Key": key})
    two = api.post("/api/v1/disagreements", json=body, headers={**writer.headers, "Idempotency-Key": key})
    assert one.status_code == two.status_code == 201
    assert two.headers["Idempotent-Replayed"] == "true" and one.get_json()["id"] == two.get_json()["id"]
    assert _count(tenant_a) == before + 1
    step = {"type": "complaint_stage_responded", "date": "2026-11-27", "stage": "stage_1", "outcome": "upheld"}
    key = new_key()
    path = f"/api/v1/disagreements/{one.get_json()['id']}/events"
    first = api.post(path, json=step, headers={**writer.headers, "Idempotency-Key": key})
    again = api.post(path, json=step, headers={**writer.headers, "Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"


def test_the_openapi_document_describes_the_disagreements_resource(api: Any) -> None:
    spec = api.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/disagreements"])
    assert "get" in paths["/api/v1/disagreements/{disagreement_id}"]
    post = paths["/api/v1/disagreements/{disagreement_id}/events"]["post"]
    assert post["security"] == [{"oauth2": ["disagreements:write"]}]
    assert {"201", "404", "422"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_patch_changes_particulars_and_refuses_what_is_not_the_kinds(api: Any, tenant_a: Any, writer: Any,
                                                                     credentials: Any, tenant_b: Any,
                                                                     make_case: Any, make_user: Any) -> None:
    from core.users.models import Role

    case = _case(make_case, tenant_a)
    d = _open(api, writer, case_id=str(case.id), kind="appeal", grounds=["plan_content_b"])
    owner = make_user(tenant_a, Role.CASEWORKER)
    path = f"/api/v1/disagreements/{d['id']}"
    resp = api.patch(path, json={"tribunal_reference": "EH901/26/00099", "owner_id": str(owner.id),
                                 "grounds": ["plan_content_b", "plan_content_i"]}, headers=writer.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["appeal"]["tribunal_reference"], body["owner_id"], body["appeal"]["grounds"]) == \
        ("EH901/26/00099", str(owner.id), ["plan_content_b", "plan_content_i"])
    assert audit_events(tenant_a, action="disagreement.updated", object_id=uuid.UUID(d["id"]))
    for bad, field in (({"parties": ["school"]}, "parties"), ({"grounds": ["cease"]}, "grounds"),
                       ({"decision_event_id": MISSING_ID}, "decision_event_id"), ({"owner_id": MISSING_ID}, "owner_id")):
        assert_problem(api.patch(path, json=bad, headers=writer.headers), 422, "validation-error", fields={field})
    assert api.get(path, headers=writer.headers).get_json()["appeal"]["tribunal_reference"] == "EH901/26/00099"
    intruder = credentials(tenant_b, WRITE)
    assert_problem(api.patch(path, json={"summary": "Leaked"}, headers=intruder.headers), 404, "not-found")
    assert api.get(path, headers=writer.headers).get_json()["summary"] is None
