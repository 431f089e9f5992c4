"""Fixtures and helpers of the public API tests (api-v1.md).

The root ``tests/conftest.py`` provides the app, the tenants and the per-test transaction;
this adds API clients with known ids and secrets, and the two checks nearly every test makes:
"this is an RFC 9457 problem of this type" and "nothing changed".
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.conftest import in_tenant

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ApiCredentials:
    client_id: str
    secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def api(app: Any) -> Any:
    """A plain test client on the platform host (the token names the council)."""
    return app.test_client()


@pytest.fixture
def make_api_client(app: Any) -> Callable[..., tuple[str, str]]:
    """A new API client of ``tenant`` (in the test transaction): ``(client_id, secret)``."""
    from core.api_clients.services import create_client

    def make(tenant: Any, scopes: str = "children:read children:write", name: str = "Test MIS") -> tuple[str, str]:
        with in_tenant(tenant):
            client, secret = create_client(tenant.slug, name, scopes)
        return client.client_id, secret

    return make


@pytest.fixture
def request_token(api: Any) -> Callable[..., str]:
    def request(client_id: str, secret: str, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope is not None:
            data["scope"] = scope
        resp = api.post("/oauth/token", data=data, headers=basic(client_id, secret))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return str(resp.get_json()["access_token"])

    return request


@pytest.fixture
def credentials(make_api_client: Any, request_token: Any) -> Callable[..., ApiCredentials]:
    """A client of ``tenant`` with ``scopes`` and a token for it."""

    def make(tenant: Any, scopes: str = "children:read children:write") -> ApiCredentials:
        client_id, secret = make_api_client(tenant, scopes)
        return ApiCredentials(client_id, secret, request_token(client_id, secret))

    return make


@pytest.fixture
def writer_a(tenant_a: Any, credentials: Any) -> ApiCredentials:
    """A client of council A with children:read and children:write."""
    return credentials(tenant_a)


@pytest.fixture
def committed_clients(app: Any, owner_engine: Any) -> Iterator[list[tuple[Any, str]]]:
    """``(tenant, client_id)`` of clients that a test made *outside* its transaction (the
    ``clients create`` command commits as the owner); removed after the test, before any
    tenant they belong to is."""
    made: list[tuple[Any, str]] = []
    yield made
    if not made:
        return
    with owner_engine.begin() as conn:
        for tenant, client_id in made:
            # Row-level security is forced even for the owner: act in the client's council.
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
            conn.execute(text("DELETE FROM api_client WHERE client_id = :c"), {"c": client_id})


# ---------------------------------------------------------------------------------------
# Assertions


def assert_problem(resp: Any, status: int, name: str, *, fields: set[str] | None = None) -> dict[str, Any]:
    """``resp`` is an RFC 9457 problem of type ``name``; ``fields``: exactly the fields
    ``errors`` must name. Returns the body."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == PROBLEM_JSON, resp.headers.get("Content-Type")
    body = resp.get_json(force=True)
    assert body["type"] == f"/api/v1/problems/{name}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body.get("request_id") == resp.headers["X-Request-ID"]
    if fields is not None:
        errors = body.get("errors")
        assert isinstance(errors, dict), body
        assert set(errors) == fields, errors
        for messages in errors.values():
            assert isinstance(messages, list) and messages and all(isinstance(m, str) and m for m in messages)
    return body  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Snapshot:
    children: tuple[tuple[Any, ...], ...]
    audit_events: int
    idempotency_records: int


def snapshot(tenant: Any) -> Snapshot:
    """Everything an API write could change in ``tenant``: every child's every column, the
    number of audit events (reads are audited too) and of stored idempotent responses."""
    from core.audit.models import AuditEvent
    from core.children.models import Child
    from core.idempotency.models import IdempotencyRecord

    columns = [c for c in Child.__table__.columns]
    with in_tenant(tenant) as session:
        rows = session.execute(select(*columns).order_by(Child.id)).all()
        audits = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        records = session.execute(select(func.count()).select_from(IdempotencyRecord)).scalar_one()
    return Snapshot(tuple(tuple(r) for r in rows), audits, records)


def audit_events(tenant: Any, **where: Any) -> list[Any]:
    """Audit events of ``tenant`` matching ``where`` (column=value), oldest first."""
    from core.audit.models import AuditEvent

    stmt = select(AuditEvent).order_by(AuditEvent.occurred_at, AuditEvent.id)
    for column, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, column) == value)
    with in_tenant(tenant) as session:
        return list(session.execute(stmt).scalars())


def child_count(tenant: Any) -> int:
    from core.children.models import Child

    with in_tenant(tenant) as session:
        return int(session.execute(select(func.count()).select_from(Child)).scalar_one())


MISSING_ID = "01a21ea2-0000-7000-8000-000000000000"


def new_key() -> str:
    return str(uuid.uuid4())
