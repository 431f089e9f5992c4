"""``/api/v1/transfers`` (api-v1.md): start, complete, list and read transfers; both councils
see the transfer, the receiver sees no plan before completion and the sender changes nothing
after; problems that change nothing; ``Idempotency-Key`` makes one transfer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from core.cases.models import CaseEvent
from core.transfers.models import Transfer
from tests.conftest import JOURNEY_TO_PLAN, in_tenant
from tests.web.api.conftest import MISSING_ID, assert_problem, audit_events, new_key

TODAY = dt.date(2026, 11, 27)
WRITE = "transfers:read transfers:write"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.clock

    monkeypatch.setattr(core.clock, "today", lambda: TODAY)


@pytest.fixture(autouse=True)
def _inline_jobs() -> None:
    from core.jobs import configure_jobs

    configure_jobs(None)


@pytest.fixture
def sender(tenant_a: Any, credentials: Any) -> Any:
    return credentials(tenant_a, WRITE)


@pytest.fixture
def receiver(tenant_b: Any, credentials: Any) -> Any:
    return credentials(tenant_b, "transfers:read transfers:write cases:read plans:read")


@pytest.fixture
def plan_case(tenant_a: Any, make_case: Any) -> Any:
    return make_case(tenant_a, JOURNEY_TO_PLAN)


def start(api: Any, who: Any, case_id: Any, **over: Any) -> Any:
    body = {"case_id": str(case_id), "to_la_code": "902", "move_on": "2026-11-27", "became_aware_on": "2026-11-02"}
    body.update(over)
    headers = dict(who.headers)
    if "key" in over:
        headers["Idempotency-Key"] = body.pop("key")
    return api.post("/api/v1/transfers", json=body, headers=headers)


def _transfers(tenant: Any) -> int:
    with in_tenant(tenant) as s:
        return int(s.execute(select(func.count()).select_from(Transfer)).scalar_one())


def test_start_answers_the_api_v1_shape(api: Any, sender: Any, plan_case: Any, tenant_b: Any) -> None:
    resp = start(api, sender, plan_case.id)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert {"id", "status", "from_la_code", "to_la_code", "deadlines"} <= set(body)
    assert (body["status"], body["from_la_code"], body["to_la_code"]) == ("planned", "901", "902")
    assert resp.headers["Location"] == f"/api/v1/transfers/{body['id']}"
    # 2-20 Nov 2026 is 15 working days' notice: the plan moves on the day of the move (reg 15(2)).
    keyed = {d["key"]: d for d in body["deadlines"]}
    assert keyed["transfer_of_plan_between_las"]["due"] == "2026-11-27"
    assert keyed["transfer_of_plan_between_las"]["citation"].startswith("SEND Regs 2014 reg 15")
    assert "new_la_notification" in keyed and keyed["new_la_notification"].get("provisional") is True


def test_both_councils_see_it_but_the_receiver_sees_no_plan_before_completion(
        api: Any, sender: Any, receiver: Any, plan_case: Any) -> None:
    ref = start(api, sender, plan_case.id).get_json()["id"]
    mine = api.get(f"/api/v1/transfers/{ref}", headers=receiver.headers)
    assert mine.status_code == 200
    body = mine.get_json()
    assert (body["direction"], body["status"], body["deadlines"], body["case_id"], body["received_case_id"]) == \
        ("incoming", "planned", [], None, None)
    assert set(body["child"]) == {"given_name", "family_name", "date_of_birth"}
    listed = api.get("/api/v1/transfers?direction=incoming", headers=receiver.headers).get_json()
    assert [t["id"] for t in listed["items"]] == [ref] and listed["next_cursor"] is None
    assert api.get("/api/v1/transfers?direction=outgoing", headers=receiver.headers).get_json()["items"] == []
    # The case and its plan are not the receiver's to read.
    assert_problem(api.get(f"/api/v1/cases/{plan_case.id}", headers=receiver.headers), 404, "not-found")
    assert_problem(api.get(f"/api/v1/cases/{plan_case.id}/plan", headers=receiver.headers), 404, "not-found")


def test_complete_moves_the_plan_and_the_sender_can_change_nothing_after(
        api: Any, sender: Any, receiver: Any, plan_case: Any, tenant_a: Any, tenant_b: Any,
        credentials: Any) -> None:
    ref = start(api, sender, plan_case.id).get_json()["id"]
    resp = api.post(f"/api/v1/transfers/{ref}/complete", json={"transferred_on": "2026-11-27"},
                    headers=sender.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["status"] == "completed" and body["received_case_id"]
    new_case = body["received_case_id"]
    seen = api.get(f"/api/v1/transfers/{ref}", headers=receiver.headers).get_json()
    assert (seen["status"], seen["received_case_id"]) == ("completed", new_case)
    case = api.get(f"/api/v1/cases/{new_case}", headers=receiver.headers)
    assert case.status_code == 200
    assert case.get_json()["events"][0]["type"] == "plan_transferred"
    assert {d["key"] for d in seen["deadlines"]} >= {"new_la_notification", "new_la_review"}
    # Both councils' audit logs hold the transfer.
    assert audit_events(tenant_a, action="transfer.completed")
    assert audit_events(tenant_b, action="transfer.received")
    # The old council's case is read-only: no event, no second completion.
    cases_writer = credentials(tenant_a, "cases:read cases:write")
    with in_tenant(tenant_a) as s:
        before = s.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == plan_case.id)) \
            .scalar_one()
    refused = api.post(f"/api/v1/cases/{plan_case.id}/events", json={"type": "review_meeting_held",
                                                                      "date": "2026-11-27"},
                       headers=cases_writer.headers)
    assert_problem(refused, 409, "conflict")
    again = api.post(f"/api/v1/transfers/{ref}/complete", json={"transferred_on": "2026-11-27"},
                     headers=sender.headers)
    assert_problem(again, 409, "conflict")
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == plan_case.id)) \
            .scalar_one() == before


def test_only_the_sender_completes(api: Any, sender: Any, receiver: Any, plan_case: Any) -> None:
    ref = start(api, sender, plan_case.id).get_json()["id"]
    assert_problem(api.post(f"/api/v1/transfers/{ref}/complete", json={"transferred_on": "2026-11-27"},
                            headers=receiver.headers), 409, "conflict")


@pytest.mark.parametrize(("over", "fields"), [
    ({"to_la_code": "ninety"}, {"to_la_code"}),
    ({"to_la_code": "901"}, {"to_la_code"}),
    ({"move_on": "27/11/2026"}, {"move_on"}),
    ({"became_aware_on": "2026-12-01"}, {"became_aware_on"}),
    ({"surprise": True}, {"surprise"}),
])
def test_invalid_starts_are_problems_that_change_nothing(api: Any, sender: Any, plan_case: Any, tenant_a: Any,
                                                         tenant_b: Any, over: dict[str, Any],
                                                         fields: set[str]) -> None:
    assert_problem(start(api, sender, plan_case.id, **over), 422, "validation-error", fields=fields)
    assert _transfers(tenant_a) == 0 and _transfers(tenant_b) == 0


def test_missing_and_other_councils_cases_are_the_same_404(api: Any, sender: Any, tenant_b: Any,
                                                          make_case: Any) -> None:
    theirs = make_case(tenant_b, JOURNEY_TO_PLAN)
    a = assert_problem(start(api, sender, theirs.id), 404, "not-found")
    b = assert_problem(start(api, sender, MISSING_ID), 404, "not-found")
    assert a["detail"] == b["detail"]
    assert_problem(api.get(f"/api/v1/transfers/{MISSING_ID}", headers=sender.headers), 404, "not-found")
    assert_problem(api.get("/api/v1/transfers/not-an-id", headers=sender.headers), 404, "not-found")


def test_a_second_start_is_a_conflict(api: Any, sender: Any, plan_case: Any, tenant_a: Any) -> None:
    assert start(api, sender, plan_case.id).status_code == 201
    assert_problem(start(api, sender, plan_case.id, move_on="2026-12-04"), 409, "conflict")
    assert _transfers(tenant_a) == 1


def test_the_same_idempotency_key_makes_one_transfer(api: Any, sender: Any, plan_case: Any, tenant_a: Any,
                                                     tenant_b: Any) -> None:
    key = new_key()
    first = start(api, sender, plan_case.id, key=key)
    second = start(api, sender, plan_case.id, key=key)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.get_json()["id"] == second.get_json()["id"]
    assert _transfers(tenant_a) == 1 and _transfers(tenant_b) == 1


def test_scopes(api: Any, credentials: Any, tenant_a: Any, plan_case: Any) -> None:
    reader = credentials(tenant_a, "transfers:read")
    assert_problem(start(api, reader, plan_case.id), 403, "insufficient-scope")
    cases_only = credentials(tenant_a, "cases:read cases:write")
    assert_problem(api.get("/api/v1/transfers", headers=cases_only.headers), 403, "insufficient-scope")
    assert api.get("/api/v1/transfers", headers=reader.headers).status_code == 200


def test_cancel(api: Any, sender: Any, receiver: Any, plan_case: Any) -> None:
    ref = start(api, sender, plan_case.id).get_json()["id"]
    resp = api.post(f"/api/v1/transfers/{ref}/cancel", headers=sender.headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert api.get(f"/api/v1/transfers/{ref}", headers=receiver.headers).get_json()["status"] == "cancelled"
    assert_problem(api.post(f"/api/v1/transfers/{ref}/cancel", headers=sender.headers), 409, "conflict")


def test_pagination(api: Any, sender: Any, make_case: Any, tenant_a: Any) -> None:
    refs = sorted(start(api, sender, make_case(tenant_a, JOURNEY_TO_PLAN).id).get_json()["id"] for _ in range(3))
    page = api.get("/api/v1/transfers?direction=outgoing&limit=2", headers=sender.headers).get_json()
    assert [t["id"] for t in page["items"]] == refs[:2] and page["next_cursor"]
    rest = api.get(f"/api/v1/transfers?direction=outgoing&limit=2&cursor={page['next_cursor']}",
                   headers=sender.headers).get_json()
    assert [t["id"] for t in rest["items"]] == refs[2:] and rest["next_cursor"] is None
