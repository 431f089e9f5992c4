"""Test fixtures (STYLE.md section 6).

* Real PostgreSQL by default: a fresh database owned by a **non-superuser** owner role, built
  once per session with the real migrations, then the app runs as the derived runtime role,
  exactly as in production (so RLS is part of what is tested). ``SENDBRIDGE_TEST_DB=sqlite``
  runs the same fixtures on the embedded SQLite default (the smoke subset, ``-m smoke``).
* One outer transaction per test, rolled back at the end; the app's session joins it with
  ``join_transaction_mode="create_savepoint"`` so app code may commit.
* Tenants ``tenant_a`` and ``tenant_b`` exist for the whole session (created by the owner, as
  operators do); everything inside them is created per test through the real services.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.actors import Actor
from core.config import Settings
from core.db import db, derive_urls
from core.permissions import ALL, permissions_for_role
from core.tenancy import tenant_context
from core.users.models import Role, User

BACKEND = os.environ.get("SENDBRIDGE_TEST_DB", "postgresql")
PG_ADMIN_URL = os.environ.get("SENDBRIDGE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# One database per test run (two people, or CI and a person, may run the suite at once).
TEST_DB_NAME = os.environ.get("SENDBRIDGE_TEST_DB_NAME", f"sendbridge_test_{os.getpid()}")
REDIS_TEST_URL = os.environ.get("SENDBRIDGE_TEST_REDIS", "redis://127.0.0.1:6379/14")
SECRET = "test-secret-key-" + "x" * 40
BASE_DOMAIN = "sendbridge.test"

postgres_only = pytest.mark.skipif(BACKEND != "postgresql", reason="needs PostgreSQL (row-level security, roles)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "redis: needs the Redis on 127.0.0.1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND == "sqlite":
        for item in items:
            if item.get_closest_marker("postgres_only"):
                item.add_marker(pytest.mark.skip(reason="PostgreSQL only"))


# ---------------------------------------------------------------------------------------
# Database


def _admin_engine() -> Any:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _drop_database(conn: Any, name: str) -> None:
    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name})
    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def drop_pg_database(name: str) -> None:
    """Drop a database made by :func:`create_pg_database`, and its two roles."""
    engine = _admin_engine()
    with engine.connect() as conn:
        _drop_database(conn, name)
        for role in (f"{name}_app", f"{name}_owner"):
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    engine.dispose()


def drop_stale_pg_databases(prefix: str) -> None:
    """Drop ``<prefix><pid>`` databases left by runs whose process is gone (killed runs)."""
    engine = _admin_engine()
    with engine.connect() as conn:
        names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": f"{prefix}%"}).scalars().all()
    engine.dispose()
    for name in names:
        suffix = name[len(prefix):]
        if suffix.isdigit() and not Path(f"/proc/{suffix}").exists():
            drop_pg_database(name)


def create_pg_database(name: str) -> str:
    """A fresh database owned by a non-superuser owner role ``<name>_owner`` (which may
    create roles, as a managed database's master user can); returns its DATABASE_URL."""
    owner = f"{name}_owner"
    app_role = f"{name}_app"
    engine = _admin_engine()
    with engine.connect() as conn:
        _drop_database(conn, name)
        for role in (app_role, owner):
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        conn.execute(text(f'CREATE ROLE "{owner}" LOGIN NOSUPERUSER CREATEROLE NOBYPASSRLS'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    engine.dispose()
    return f"postgresql://{owner}@127.0.0.1:5432/{name}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from migrations import runner

    if BACKEND == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'sendbridge.db'}"
    else:
        drop_stale_pg_databases("sendbridge_test_")
        url = create_pg_database(TEST_DB_NAME)
    runner.upgrade(derive_urls(url, SECRET))
    yield url
    if BACKEND != "sqlite" and "SENDBRIDGE_TEST_DB_NAME" not in os.environ:
        db.session.remove()
        if db.engine is not None:
            db.engine.dispose()
        drop_pg_database(TEST_DB_NAME)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env="test", secret_key=SECRET, database_url=database_url, redis_url=None, demo_mode=False, plugins=(),
        base_domain=BASE_DOMAIN, var_dir=tmp_path_factory.mktemp("var"),
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Any:
    from web.app import create_app
    from web.extensions import limiter

    application = create_app(settings)
    limiter.enabled = False  # rate limits have their own test, which turns them back on
    return application


@pytest.fixture(scope="session")
def runtime_engine(app: Any) -> Any:
    return db.engine


@pytest.fixture(scope="session")
def owner_engine(app: Any) -> Iterator[Any]:
    assert db.urls is not None
    # A lock wait means a test is waiting on its own uncommitted rows: fail fast, never hang.
    connect_args = {"options": "-c lock_timeout=5000"} if db.urls.is_postgresql else {}
    engine = create_engine(db.urls.owner, connect_args=connect_args)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _db_transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that uses the app runs inside one outer transaction, rolled back after."""
    if "app" not in request.fixturenames and not request.node.get_closest_marker("db"):
        yield
        return
    request.getfixturevalue("app")
    engine = db.engine
    conn = engine.connect()
    outer = conn.begin()
    db.bind_to(conn, join_transaction_mode="create_savepoint")
    after_rollback: list[Callable[[], None]] = []
    request.node.after_rollback = after_rollback  # type: ignore[attr-defined]
    try:
        yield
    finally:
        db.session.remove()
        outer.rollback()
        conn.close()
        db.bind_to(engine)
        # Clean-ups of committed data run only now: before the rollback they could wait on
        # rows the test's own transaction still holds.
        for cleanup in after_rollback:
            cleanup()


# ---------------------------------------------------------------------------------------
# Tenants (committed by the owner once per session, like an operator provisioning councils)


def _provision(owner_engine: Any, slug: str, name: str, la_code: str) -> Any:
    from tenants.services import TenantInfo, provision_tenant

    with db.as_owner() as session:
        existing = session.execute(text("SELECT id FROM tenant WHERE slug = :s"), {"s": slug}).first()
        if existing is None:
            tenant = provision_tenant(slug=slug, name=name, la_code=la_code)
            session.commit()
        from tenants.services import tenant_by_slug

        info = TenantInfo.of(tenant_by_slug(slug))
        session.rollback()
    return info


@pytest.fixture(scope="session")
def tenant_a(app: Any, owner_engine: Any) -> Any:
    return _provision(owner_engine, "council-a", "Council A", "901")


@pytest.fixture(scope="session")
def tenant_b(app: Any, owner_engine: Any) -> Any:
    return _provision(owner_engine, "council-b", "Council B", "902")


@pytest.fixture
def create_tenant(app: Any, owner_engine: Any, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Per-test extra tenants, committed by the owner and removed after the test's rollback."""
    made: list[str] = []

    def remove() -> None:
        with owner_engine.begin() as conn:
            for slug in made:
                conn.execute(text("DELETE FROM tenant WHERE slug = :s"), {"s": slug})

    request.node.after_rollback.append(remove)

    def make(slug: str | None = None, name: str = "Extra Council", la_code: str | None = None) -> Any:
        slug = slug or f"extra-{uuid.uuid4().hex[:8]}"
        la_code = la_code or str(100 + len(made) + (uuid.uuid4().int % 700))
        made.append(slug)
        return _provision(owner_engine, slug, name, la_code)

    return make


def set_tenant_status(owner_engine: Any, slug: str, status: str) -> None:
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE tenant SET status = :st WHERE slug = :s"), {"st": status, "s": slug})


# ---------------------------------------------------------------------------------------
# Data inside tenants: through the real services, committed to the test's savepoint


@contextlib.contextmanager
def in_tenant(tenant: Any) -> Iterator[Any]:
    """Act in ``tenant`` for setup; commits (to the test transaction) and closes the session,
    so the next request starts a transaction of its own tenant."""
    with tenant_context(tenant.id):
        session = db.session()
        try:
            yield session
            session.commit()
        finally:
            db.session.remove()


def system_actor(tenant: Any) -> Actor:
    return Actor(tenant_id=tenant.id, kind="system", id="tests", permissions=ALL)


def actor_for(user: User) -> Actor:
    return Actor(tenant_id=user.tenant_id, kind="user", id=str(user.id), permissions=permissions_for_role(user.role))


_counter = iter(range(1, 10**9))


@pytest.fixture
def make_user(app: Any) -> Callable[..., User]:
    from core.users.services import create_user

    def make(tenant: Any, role: Role = Role.CASEWORKER, name: str | None = None) -> User:
        n = next(_counter)
        with in_tenant(tenant):
            user = create_user(email=f"user{n}@{tenant.slug}.example.gov.uk", display_name=name or f"{role.label} {n}", role=role)
        return user

    return make


@pytest.fixture
def make_child(app: Any) -> Callable[..., Any]:
    from core.children.services import create_child

    def make(tenant: Any, **fields: Any) -> Any:
        n = next(_counter)
        data = {"given_name": f"Child{n}", "family_name": fields.pop("family_name", f"Family{n}"),
                "date_of_birth": dt.date(2015, 1 + n % 12, 1 + n % 28)}
        data.update(fields)
        with in_tenant(tenant):
            child = create_child(system_actor(tenant), data)
        return child

    return make


@pytest.fixture
def make_contact(app: Any) -> Callable[..., Any]:
    from core.children.access import access_child
    from core.children.services import add_contact

    def make(tenant: Any, child: Any, **fields: Any) -> Any:
        data = {"given_name": "Sam", "family_name": "Parent", "relationship": "mother", "parental_responsibility": True}
        data.update(fields)
        with in_tenant(tenant):
            actor = system_actor(tenant)
            contact = add_contact(actor, access_child(actor, child.id, for_write=True), data)
        return contact

    return make


@pytest.fixture
def make_case(app: Any, make_child: Any) -> Callable[..., Any]:
    """``make_case(tenant, events=[...], child=None)``: a case opened with a request (5 Jan
    2026 unless the first event says otherwise), then the given events recorded, as of
    ``today`` (default 27 Nov 2026). Returns the case."""
    from core.cases import services as cases
    from core.children.access import access_child
    from core.timescales import TimescalePolicy

    def make(tenant: Any, events: list[dict[str, Any]] | None = None, *, child: Any = None,
             today: dt.date = dt.date(2026, 11, 27), caseworker_id: Any = None) -> Any:
        child = child or make_child(tenant)
        events = list(events or [])
        first = events.pop(0) if events and events[0]["type"] == "request_received" else \
            {"type": "request_received", "date": "2026-01-05", "requester": "parent"}
        with in_tenant(tenant):
            actor = system_actor(tenant)
            case = cases.open_case(actor, access_child(actor, child.id, for_write=True), first,
                                   policy=TimescalePolicy(), today=today, caseworker_id=caseworker_id)
            for event in events:
                cases.record_event(actor, case, event, policy=TimescalePolicy(), today=today)
        return case

    return make


#: A date of birth making a child a young person (over compulsory school age) in Nov 2026.
YOUNG_PERSON_DOB = dt.date(2008, 3, 1)

#: The statutory journey to an issued plan (request 5 Jan 2026), for fixtures.
JOURNEY_TO_PLAN = [
    {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
    {"type": "advice_requested", "date": "2026-02-11", "advice": "psychological", "advice_id": "ep1"},
    {"type": "advice_received", "date": "2026-03-20", "advice": "psychological", "advice_id": "ep1"},
    {"type": "decision_to_issue_made", "date": "2026-04-20", "outcome": "issue"},
    {"type": "draft_plan_served", "date": "2026-05-01"},
    {"type": "final_plan_issued", "date": "2026-05-20"},
]


@pytest.fixture
def object_graph(app: Any, make_child: Any, make_contact: Any, make_case: Any) -> Callable[..., dict[str, Any]]:
    """Every kind of object a council holds about one child, for the isolation tests: a child
    with a contact, a case taken to an issued plan, a document and a review meeting."""
    from sqlalchemy import select

    from core.cases.models import CaseEvent, PlanVersion, ReviewMeeting
    from core.documents.services import store_document

    def make(tenant: Any, family_name: str | None = None, **child_fields: Any) -> dict[str, Any]:
        from core import clock

        child = make_child(tenant, **({"family_name": family_name} if family_name else {}), **child_fields)
        contact = make_contact(tenant, child)
        # A move next September, so the phase-transfer cohort lists this case too.
        today = clock.today()
        september = dt.date(today.year + (1 if today.month >= 9 else 0), 9, 1)
        transfer = {"type": "phase_transfer_planned", "date": "2026-06-01", "transfer_on": september.isoformat(),
                    "kind": "school"}
        case = make_case(tenant, [*JOURNEY_TO_PLAN, transfer], child=child)
        with in_tenant(tenant) as s:
            doc = store_document(system_actor(tenant), child_id=child.id, case_id=case.id, kind="advice",
                                 title="Advice", filename="advice.pdf", data=b"%PDF-1.7\n%%EOF\n", advice_id="ep1")
            meeting = ReviewMeeting(case_id=case.id, meeting_on=dt.date(2027, 4, 20))
            s.add(meeting)
            s.flush()
            version = s.execute(select(PlanVersion).where(PlanVersion.case_id == case.id, PlanVersion.state == "issued")).scalar_one()
            event = s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc()).limit(1)).scalar_one()
            # Something the family sent in through the portal (issue #4).
            from core.submissions.models import Submission, SubmissionKind

            sent = Submission(child_id=child.id, case_id=case.id, kind=SubmissionKind.VIEWS, text="My views",
                              body={"about": "My views"}, submitted_by="identity:tests", submitted_as="parent",
                              submitted_by_name="A parent")
            s.add(sent)
            s.flush()
            # An SEN register import (issue #5, core/sen): the row alone, its file is never read here.
            from core.sen.models import SenImport

            sen_import = SenImport(filename="register.xml", checksum="0" * 64, size=0,
                                   storage_key=f"tenants/{tenant.id}/documents/{uuid.uuid4()}", created_by="tests")
            s.add(sen_import)
            s.flush()
            # A specific circumstance of the child (issue 6, core/circumstances).
            from core.circumstances.models import Circumstance, CircumstanceKind

            circumstance = Circumstance(child_id=child.id, kind=CircumstanceKind.LOOKED_AFTER,
                                        started_on=dt.date(2025, 9, 1), social_worker_name="Sam Social")
            s.add(circumstance)
            s.flush()
            # A disagreement about the case (issue 6, core/disagreements): a complaint needs no decision letter.
            from core.disagreements.models import Disagreement

            disagreement = Disagreement(case_id=case.id, child_id=child.id, kind="complaint",
                                        opened_on=dt.date(2026, 6, 1), summary="A complaint", created_by="tests",
                                        health_bodies=[], grounds=[], parties=[])
            s.add(disagreement)
            s.flush()
            # A planned transfer of the plan to a council not on the platform (issue 6, core/transfers).
            from core.transfers.models import Transfer

            plan_transfer = Transfer(direction="outgoing", status="planned", case_id=case.id,
                                     from_la_code=tenant.la_code, from_la_name=tenant.name, to_la_code="886",
                                     to_la_name="Kent County Council", receiver_on_platform=False,
                                     move_on=dt.date(2027, 1, 8), became_aware_on=dt.date(2026, 11, 2),
                                     due_on=dt.date(2027, 1, 8), child_given_name=child.given_name,
                                     child_family_name=child.family_name, child_date_of_birth=child.date_of_birth,
                                     created_by="tests", updated_by="tests", history={"log": []})
            s.add(plan_transfer)
            s.flush()
            ids = {"document_id": doc.id, "meeting_id": meeting.id, "version_id": version.id, "event_id": event.id,
                   "submission_id": sent.id, "import_id": sen_import.id, "circumstance_id": circumstance.id,
                   "disagreement_id": disagreement.id, "transfer_id": plan_transfer.ref}
        return {"child": child, "child_id": child.id, "contact_id": contact.id, "case": case, "case_id": case.id, **ids}

    return make


@pytest.fixture
def institution(app: Any) -> int:
    """A shared reference institution (loaded by the owner, as operators do)."""
    from core.institutions.models import Institution, InstitutionKind, Phase

    urn = 900001

    def add(session: Any) -> None:
        if session.get(Institution, urn) is None:
            session.add(Institution(urn=urn, name="Test Primary School", kind=InstitutionKind.MAINSTREAM_MAINTAINED,
                                    establishment_type="Community school", phase=Phase.PRIMARY, la_code="901"))
            session.commit()

    if BACKEND == "sqlite":
        # No roles on SQLite; a second connection would wait on the test's own write lock.
        add(db.session())
        db.session.remove()
    else:
        with db.as_owner() as session:  # the runtime role may only read reference data
            add(session)
    return urn


# ---------------------------------------------------------------------------------------
# HTTP clients


def host_of(tenant: Any) -> str:
    return f"{tenant.slug}.{BASE_DOMAIN}"


class TenantClient(FlaskClient):
    """A test client that sends every request to one base URL (a council's https host)."""

    base_url = f"https://{BASE_DOMAIN}"

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if not (args and not isinstance(args[0], str)):
            kwargs.setdefault("base_url", self.base_url)
            # Browsers send a same-origin Referer (our Referrer-Policy is same-origin), and
            # Flask-WTF's HTTPS CSRF check requires it.
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("Referer", kwargs["base_url"] + "/")
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def session_transaction(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", self.base_url)
        return super().session_transaction(*args, **kwargs)


@pytest.fixture
def client_for(app: Any) -> Callable[..., Any]:
    """A test client for a tenant's host (https, so the __Host- cookie flows), optionally signed in."""

    def make(tenant: Any | None = None, user: User | None = None, *, signed_in_at: float | None = None,
             last_seen: float | None = None) -> Any:
        client = TenantClient(app, app.response_class, use_cookies=True)
        client.base_url = f"https://{host_of(tenant)}" if tenant is not None else f"https://{BASE_DOMAIN}"
        if user is not None:
            client.user_session_id = sign_in(client, user, signed_in_at=signed_in_at, last_seen=last_seen)
        return client

    return make


def sign_in(client: Any, user: User, *, signed_in_at: float | None = None, last_seen: float | None = None) -> Any:
    """A real server-side session for ``user`` (timestamps as given), its id in the cookie."""
    from types import SimpleNamespace

    from core.db import utcnow
    from core.users.sessions import start_session

    now = time.time()
    created = utcnow() - dt.timedelta(seconds=now - (signed_in_at or now))
    with in_tenant(SimpleNamespace(id=user.tenant_id)):
        record = start_session(user, now=created)
        record.last_seen_at = utcnow() - dt.timedelta(seconds=now - (last_seen or now))
        session_id = record.id
    with client.session_transaction() as sess:
        auth = dict(sess.get("auth") or {})
        auth[str(user.tenant_id)] = str(session_id)
        sess["auth"] = auth
    return session_id


def sign_in_identity(client: Any, tenant: Any, identity: Any, *, method: str = "email_link",
                     authenticated_at: dt.datetime | None = None) -> Any:
    """A real server-side session in ``tenant`` for an outside person's identity."""
    from core.users.sessions import start_session

    with in_tenant(tenant):
        record = start_session(identity_id=identity.id, method=method)
        if authenticated_at is not None:
            record.authenticated_at = authenticated_at
        session_id = record.id
    with client.session_transaction() as sess:
        auth = dict(sess.get("auth") or {})
        auth[str(tenant.id)] = str(session_id)
        sess["auth"] = auth
    return session_id


@pytest.fixture
def make_identity(app: Any) -> Callable[..., Any]:
    """A platform identity (an e-mail-link one unless ``issuer`` says otherwise)."""
    from core.identity.models import EMAIL_ISSUER
    from core.identity.services import record_identity

    def make(email: str | None = None, *, issuer: str = EMAIL_ISSUER, subject: str | None = None,
             name: str | None = None) -> Any:
        n = next(_counter)
        address = email or f"person{n}@example.org"
        with db.isolated_scope() as session:
            identity = record_identity(issuer=issuer, subject=subject or address, email=address, email_verified=True,
                                       display_name=name or f"Person {n}")
            session.commit()
        return identity

    return make


@pytest.fixture
def make_member(app: Any, make_identity: Any) -> Callable[..., Any]:
    """An outside person with an accepted membership in ``tenant``: ``role`` is parent,
    young_person, senco (give ``urn``), or professional (give ``case_id``, maybe ``advice_id``)."""
    from core.identity.models import Membership, MembershipRole
    from core.identity.services import _index_membership

    def make(tenant: Any, role: str, *, identity: Any = None, child_id: Any = None, case_id: Any = None,
             urn: int | None = None, advice_id: str | None = None, expires_at: dt.datetime | None = None) -> Any:
        from core.db import utcnow

        identity = identity or make_identity()
        with in_tenant(tenant) as session:
            session.add(Membership(identity_id=identity.id, role=MembershipRole(role), child_id=child_id, case_id=case_id,
                                   urn=urn, advice_id=advice_id, invited_email=identity.email, granted_by="tests",
                                   accepted_at=utcnow(), expires_at=expires_at))
            session.flush()
            _index_membership(identity.id, tenant.id)
        return identity

    return make


@pytest.fixture
def make_operator(app: Any, owner_engine: Any, request: pytest.FixtureRequest) -> Any:
    """An operator identity, committed by the owner (as the operators' CLI does), removed after."""
    from sqlalchemy import text

    made: list[Any] = []

    def remove() -> None:
        with owner_engine.begin() as conn:
            for i in made:
                conn.execute(text("DELETE FROM identity WHERE id = :i"), {"i": i})

    request.node.after_rollback.append(remove)

    def make() -> Any:
        import uuid

        ident = uuid.uuid4()
        with owner_engine.begin() as conn:
            conn.execute(text("INSERT INTO identity (id, issuer, subject, email, email_verified, display_name, created_at) "
                              "VALUES (:i, 'https://ops-idp.example', :s, 'ops@sendbridge.example', true, 'Ops Person', now())"),
                         {"i": ident, "s": f"op-{ident.hex[:8]}"})
            conn.execute(text("INSERT INTO operator (identity_id, active, created_at) VALUES (:i, true, now())"), {"i": ident})
        made.append(ident)
        from core.identity.models import Identity

        identity = db.session.get(Identity, ident)
        db.session.commit()  # a platform-wide read: end its transaction before anyone enters a council
        return identity

    return make


@pytest.fixture
def identity_client(app: Any, client_for: Callable[..., Any]) -> Callable[..., Any]:
    """A client for ``tenant``'s host signed in as ``identity``."""

    def make(tenant: Any, identity: Any, **kwargs: Any) -> Any:
        client = client_for(tenant)
        client.user_session_id = sign_in_identity(client, tenant, identity, **kwargs)
        return client

    return make


def csrf_token(client: Any, path: str) -> str:
    """GET a form page and read its CSRF token."""
    import re

    resp = client.get(path)
    m = re.search(r'name="csrf_token" value="([^"]+)"', resp.get_data(as_text=True))
    assert m, f"no csrf token on {path} ({resp.status_code})"
    return m.group(1)


@pytest.fixture
def api_token(app: Any, client_for: Callable[..., Any]) -> Callable[..., str]:
    """An access token for a new API client of ``tenant`` with ``scopes``."""
    from core.api_clients.services import create_client

    def make(tenant: Any, scopes: str = "children:read children:write") -> str:
        with in_tenant(tenant):
            client, secret = create_client(tenant.slug, "Test MIS", scopes)
        resp = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                      headers={"Authorization": _basic(client.client_id, secret)})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["access_token"]

    return make


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def orm_criterion(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Parametrise leak tests over the ORM criterion on/off: with it off, RLS alone must hold."""
    mode = getattr(request, "param", "on")
    if mode == "off":
        if BACKEND != "postgresql":
            pytest.skip("without the ORM criterion only PostgreSQL RLS protects; SQLite has none")
        import core.tenancy

        monkeypatch.setattr(core.tenancy, "_orm_criterion_enabled", False)
    return mode


ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------
# Plugins: tests load an explicit list, never whatever is installed (STYLE.md section 4)


@pytest.fixture
def use_plugins(app: Any) -> Iterator[Callable[..., Any]]:
    """``use_plugins(ctf=plugins.ctf, spy=some_module)`` makes exactly those the loaded
    plugins for the rest of the test (name -> module or dotted path); restored afterwards."""
    from core.plugins.manager import swapped_host

    with swapped_host() as load:
        yield load
