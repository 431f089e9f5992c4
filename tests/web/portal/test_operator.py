"""Platform operators: nothing without a break-glass; with one, read-only and recorded (web/ui/operator.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.audit.models import AuditEvent
from core.db import utcnow
from core.identity.models import BreakGlass
from core.users.models import Role
from tests.conftest import csrf_token, in_tenant, postgres_only

pytestmark = postgres_only  # operators are registered by the owner role (the CLI), as in production


def _open(client: Any, reason: str = "Ticket SB-1234: a parent reports a wrong deadline", minutes: str = "30") -> Any:
    return client.post("/operator/break-glass", data={"csrf_token": csrf_token(client, "/operator/"),
                                                      "reason": reason, "minutes": minutes})


def test_an_operator_sees_no_child_until_they_open_break_glass_and_then_only_reads(
        tenant_a: Any, object_graph: Any, make_operator: Any, identity_client: Any) -> None:
    graph = object_graph(tenant_a)
    op = make_operator()
    client = identity_client(tenant_a, op, method="operator")
    assert client.get("/operator/").status_code == 200
    for path in ("/children/", f"/children/{graph['child_id']}", f"/cases/{graph['case_id']}"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"], path
    assert client.get("/portal/family/").status_code == 302  # not a family member either

    bad = _open(client, reason="too short")
    assert bad.status_code == 400 and "govuk-error-summary" in bad.get_data(as_text=True)
    with in_tenant(tenant_a) as s:
        assert s.execute(select(BreakGlass)).first() is None

    resp = _open(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/children/")
    view = client.get(f"/children/{graph['child_id']}")
    assert view.status_code == 200 and graph["child"].given_name in view.get_data(as_text=True)
    assert client.get(f"/cases/{graph['case_id']}").status_code == 200
    edit = client.post(f"/children/{graph['child_id']}/edit",
                       data={"csrf_token": csrf_token(client, f"/children/{graph['child_id']}"), "given_name": "Changed"})
    assert edit.status_code in (403, 404)
    with in_tenant(tenant_a) as s:
        actions = {r.action for r in s.execute(select(AuditEvent).where(AuditEvent.actor_id == str(op.id))).scalars()}
        assert {"break_glass.started", "child.viewed", "case.viewed"} <= actions
        from core.children.models import Child

        assert s.get(Child, graph["child_id"]).given_name == graph["child"].given_name

    assert client.post("/operator/break-glass/end", data={"csrf_token": csrf_token(client, "/operator/")}).status_code == 302
    assert client.get(f"/children/{graph['child_id']}").status_code == 302


def test_break_glass_needs_a_fresh_sign_in(tenant_a: Any, make_operator: Any, identity_client: Any) -> None:
    op = make_operator()
    client = identity_client(tenant_a, op, method="operator", authenticated_at=utcnow() - dt.timedelta(hours=2))
    resp = _open(client)
    assert resp.status_code == 302 and "/confirm-it-is-you" in resp.headers["Location"]
    with in_tenant(tenant_a) as s:
        assert s.execute(select(BreakGlass)).first() is None


def test_a_councils_managers_see_its_break_glass_record_and_no_other_councils(
        tenant_a: Any, tenant_b: Any, make_operator: Any, identity_client: Any, make_user: Any, client_for: Any) -> None:
    op = make_operator()
    _open(identity_client(tenant_a, op, method="operator"), reason="Incident INC-77 in council A")
    manager_a = client_for(tenant_a, make_user(tenant_a, Role.TEAM_MANAGER))
    manager_b = client_for(tenant_b, make_user(tenant_b, Role.TEAM_MANAGER))
    assert "Incident INC-77 in council A" in manager_a.get("/break-glass").get_data(as_text=True)
    page_b = manager_b.get("/break-glass")
    assert page_b.status_code == 200 and "INC-77" not in page_b.get_data(as_text=True)
    caseworker_a = client_for(tenant_a, make_user(tenant_a, Role.CASEWORKER))
    assert caseworker_a.get("/break-glass").status_code == 403


def test_people_who_are_not_operators_get_404_on_the_operator_pages(
        tenant_a: Any, object_graph: Any, make_member: Any, identity_client: Any, make_user: Any,
        client_for: Any) -> None:
    graph = object_graph(tenant_a)
    parent = identity_client(tenant_a, make_member(tenant_a, "parent", child_id=graph["child_id"]))
    staff = client_for(tenant_a, make_user(tenant_a, Role.TENANT_ADMIN))
    for client in (parent, staff):
        assert client.get("/operator/").status_code == 404
        assert _open(client).status_code == 404
