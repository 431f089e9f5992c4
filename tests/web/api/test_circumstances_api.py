"""``/api/v1/children/{id}/circumstances`` (issue 6): list, record, read and change a child's
specific circumstances; problems that change nothing; scopes, audit, idempotency, another
council's ids; youth custody reaching the EHC case only with ``cases:write``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases.models import CaseEvent
from core.circumstances.models import Circumstance
from tests.conftest import JOURNEY_TO_PLAN, in_tenant
from tests.web.api.conftest import MISSING_ID, assert_problem, audit_events, new_key

TODAY = dt.date(2026, 11, 27)
LAC = {"kind": "looked_after", "started_on": "2025-09-01", "social_worker_name": "Sam Okoro",
       "virtual_school_head_name": "Val Head", "pep_url": "https://pep.example.gov.uk/1"}


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: TODAY)


def _url(child: Any, cid: Any = None) -> str:
    base = f"/api/v1/children/{child.id}/circumstances"
    return f"{base}/{cid}" if cid else base


def _count(tenant: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(Circumstance)).scalar_one()


def test_record_read_list_and_change_a_circumstance(api: Any, writer_a: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    resp = api.post(_url(child), json=LAC, headers=writer_a.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert resp.headers["Location"].endswith(_url(child, body["id"]))
    assert body["kind"] == "looked_after" and body["label"] == "Looked-after child" and body["current"] is True
    assert body["social_worker_name"] == "Sam Okoro" and body["ended_on"] is None and body["yot_name"] is None
    assert body["child_id"] == str(child.id)
    got = api.get(_url(child, body["id"]), headers=writer_a.headers)
    assert got.status_code == 200 and got.get_json()["virtual_school_head_name"] == "Val Head"
    listed = api.get(_url(child), headers=writer_a.headers).get_json()
    assert [i["id"] for i in listed["items"]] == [body["id"]] and listed["next_cursor"] is None
    changed = api.patch(_url(child, body["id"]), json={"ended_on": "2026-07-20", "designated_teacher_name": "Dee"},
                        headers=writer_a.headers)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["ended_on"] == "2026-07-20" and changed.get_json()["current"] is False
    actions = [e.action for e in audit_events(tenant_a, subject_id=child.id)]
    for action in ("circumstance.created", "circumstance.viewed", "circumstance.listed", "circumstance.updated"):
        assert action in actions


def test_lists_are_paged_with_a_cursor(api: Any, writer_a: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    for kind in ("child_in_need", "child_protection", "looked_after"):
        assert api.post(_url(child), json={"kind": kind, "started_on": "2026-01-05"},
                        headers=writer_a.headers).status_code == 201
    first = api.get(_url(child) + "?limit=2", headers=writer_a.headers).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get(_url(child) + f"?limit=2&cursor={first['next_cursor']}", headers=writer_a.headers).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {i["kind"] for i in first["items"] + rest["items"]} == {"child_in_need", "child_protection", "looked_after"}
    assert_problem(api.get(_url(child) + "?kind=x", headers=writer_a.headers), 422, "validation-error")


@pytest.mark.parametrize("body, fields", [
    ({"kind": "looked_after"}, {"started_on"}),
    ({"kind": "moon_base", "started_on": "2026-01-05"}, {"kind"}),
    ({**LAC, "yot_name": "A YOT"}, {"yot_name"}),
    ({**LAC, "ended_on": "2025-01-01"}, {"ended_on"}),
    ({**LAC, "colour": "red"}, {"colour"}),
    ({**LAC, "social_worker_email": "nope"}, {"social_worker_email"}),
    ({"kind": "youth_custody", "started_on": "2026-12-01", "establishment": "HMYOI Wetherby"}, {"started_on"}),
    ({"kind": "alternative_provision", "started_on": "2026-01-05", "provision_type": "pru"}, {"urn"}),
])
def test_bad_input_is_a_problem_that_changes_nothing(api: Any, writer_a: Any, tenant_a: Any, make_child: Any,
                                                     body: dict[str, Any], fields: set[str]) -> None:
    child = make_child(tenant_a)
    assert_problem(api.post(_url(child), json=body, headers=writer_a.headers), 422, "validation-error", fields=fields)
    assert _count(tenant_a) == 0


def test_overlap_and_kind_changes_are_refused(api: Any, writer_a: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    first = api.post(_url(child), json=LAC, headers=writer_a.headers).get_json()
    assert_problem(api.post(_url(child), json={**LAC, "started_on": "2026-03-01"}, headers=writer_a.headers),
                   422, "validation-error", fields={"started_on"})
    assert_problem(api.patch(_url(child, first["id"]), json={"kind": "child_in_need"}, headers=writer_a.headers),
                   422, "validation-error")
    assert _count(tenant_a) == 1


def test_scopes_are_enforced(api: Any, credentials: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    reader = credentials(tenant_a, "children:read")
    assert api.get(_url(child), headers=reader.headers).status_code == 200
    assert_problem(api.post(_url(child), json=LAC, headers=reader.headers), 403, "insufficient-scope")
    assert_problem(api.get(_url(child)), 401, "unauthorized")
    assert _count(tenant_a) == 0


def test_another_councils_child_and_circumstance_are_404_whatever_is_sent(
        api: Any, writer_a: Any, tenant_b: Any, credentials: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    row = api.post(_url(child), json=LAC, headers=writer_a.headers).get_json()
    writer_b = credentials(tenant_b, "children:read children:write cases:read cases:write")
    for resp in (api.get(_url(child), headers=writer_b.headers),
                 api.get(_url(child, row["id"]), headers=writer_b.headers),
                 api.post(_url(child), json={"nonsense": 1}, headers=writer_b.headers),
                 api.patch(_url(child, row["id"]), json={"notes": "Leaked"}, headers=writer_b.headers),
                 api.patch(_url(child, row["id"]), json={"nonsense": 1}, headers=writer_b.headers)):
        assert_problem(resp, 404, "not-found")
    own = make_child(tenant_b)
    assert_problem(api.get(_url(own, row["id"]), headers=writer_b.headers), 404, "not-found")
    assert_problem(api.get(_url(own, MISSING_ID), headers=writer_b.headers), 404, "not-found")
    with in_tenant(tenant_a) as s:
        assert s.get(Circumstance, row["id"]).notes is None


def test_a_repeated_idempotency_key_records_one_circumstance(api: Any, writer_a: Any, tenant_a: Any,
                                                             make_child: Any) -> None:
    child = make_child(tenant_a)
    key = new_key()
    first = api.post(_url(child), json=LAC, headers={**writer_a.headers, "Idempotency-Key": key})
    again = api.post(_url(child), json=LAC, headers={**writer_a.headers, "Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"] and _count(tenant_a) == 1


def test_youth_custody_reaches_the_ehc_case_only_with_cases_write(api: Any, credentials: Any, tenant_a: Any,
                                                                   make_child: Any, make_case: Any) -> None:
    custody = {"kind": "youth_custody", "started_on": "2026-06-10", "establishment": "HMYOI Wetherby"}
    with_cases = credentials(tenant_a, "children:read children:write cases:write")
    child = make_child(tenant_a)
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child)
    row = api.post(_url(child), json=custody, headers=with_cases.headers)
    assert row.status_code == 201
    released = api.patch(_url(child, row.get_json()["id"]), json={"ended_on": "2026-11-02"}, headers=with_cases.headers)
    assert released.status_code == 200
    with in_tenant(tenant_a) as s:
        types = list(s.execute(select(CaseEvent.type).where(CaseEvent.case_id == case.id)
                               .order_by(CaseEvent.seq)).scalars())
    assert types[-2:] == ["detention_started", "released_from_detention"]
    deadlines = {d["key"]: d for d in api.get(f"/api/v1/cases/{case.id}", headers=credentials(
        tenant_a, "cases:read").headers).get_json()["deadlines"]}
    # The council's own target: 4 weeks from Mon 2 Nov 2026 -> Mon 30 Nov 2026, never statutory.
    assert deadlines["release_review"]["due"] == "2026-11-30" and deadlines["release_review"]["statutory"] is False
    # A client without cases:write records the circumstance, but cannot touch the case.
    other = make_child(tenant_a)
    other_case = make_case(tenant_a, JOURNEY_TO_PLAN, child=other)
    children_only = credentials(tenant_a, "children:read children:write")
    assert api.post(_url(other), json=custody, headers=children_only.headers).status_code == 201
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == other_case.id, CaseEvent.type == "detention_started")).scalar_one() == 0


def test_the_openapi_document_describes_the_resource(api: Any) -> None:
    spec = api.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert "/api/v1/children/{child_id}/circumstances" in paths
    item = paths["/api/v1/children/{child_id}/circumstances/{circumstance_id}"]
    assert {"get", "patch"} <= set(item)
    schema = spec["components"]["schemas"]["Circumstance"]
    assert "virtual_school_head_name" in schema["properties"] and "expected_release_on" in schema["properties"]
