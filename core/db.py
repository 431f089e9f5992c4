"""Database plumbing: the declarative base, engines, the session registry, URL handling.

Two connections to PostgreSQL exist, both derived from ``DATABASE_URL`` alone (api-v1.md):

* the **owner** URL, exactly as given: migrations and operator commands. It owns the tables.
* the **runtime** URL: the same server and database as a separate role
  (``<database>_app``) that owns nothing and cannot bypass row-level security. Every web
  request and job runs as this role, so PostgreSQL RLS (STYLE.md section 3, layer 3) holds
  even if the ORM layer were bypassed. ``core.db_roles.sync_app_role`` creates and grants it
  after each migration; its password (when the owner URL carries one) is derived from
  ``SECRET_KEY``, so nothing else has to be configured.

SQLite (the embedded default for ``make run``) has one connection and no RLS; production
refuses it (``core.config``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import threading
import hmac
import uuid
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, TypeDecorator, Uuid, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

from core.ids import new_id

# Stable constraint names, so Alembic autogenerate diffs do not churn (indico core.py).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class UTCDateTime(TypeDecorator[dt.datetime]):
    """``timestamptz`` on PostgreSQL; on SQLite (which has no time zones) stored as naive
    UTC and handed back timezone-aware, so code never compares naive with aware times."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use core.db.utcnow() or an aware datetime")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


#: JSON that is JSONB on PostgreSQL (indexable, compact) and plain JSON on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")
#: For optional JSON values: Python None is stored as SQL NULL (not JSON 'null'), so
#: ``IS NULL`` in queries and partial indexes means "absent".
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    """Declarative base for every model of every package (core, tenants, plugins)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: Uuid(as_uuid=True),
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }

    #: Privileges the runtime role gets on this model's table (``core.db_roles``).
    #: Tenant-owned tables default to full DML under RLS; reference data is read-only.
    __app_grants__: tuple[str, ...] = ("SELECT", "INSERT", "UPDATE", "DELETE")


def utcnow() -> dt.datetime:
    """The current instant, timezone-aware UTC. Never store naive or local times."""
    return dt.datetime.now(dt.timezone.utc)


def default_id() -> uuid.UUID:
    return new_id()


# ---------------------------------------------------------------------------------------
# URLs


@dataclass(frozen=True)
class DatabaseUrls:
    """The owner and runtime URLs for one ``DATABASE_URL``, and the runtime role's name."""

    owner: URL
    runtime: URL
    app_role: str | None
    app_password: str | None

    @property
    def is_postgresql(self) -> bool:
        return self.owner.get_backend_name() == "postgresql"


def derive_urls(database_url: str, secret_key: str) -> DatabaseUrls:
    """Derive both URLs from ``DATABASE_URL`` (api-v1.md: "DATABASE_URL alone is enough").

    The platform picks its own driver: psycopg 3 for PostgreSQL, pysqlite for SQLite.
    """
    raw = database_url
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    url = make_url(raw)
    if url.get_backend_name() == "sqlite":
        return DatabaseUrls(owner=url, runtime=url, app_role=None, app_password=None)
    url = url.set(drivername="postgresql+psycopg")
    database = url.database or "postgres"
    # Role names are cluster-wide; deriving from the database name keeps the dev, test and
    # CI databases on one server from sharing a runtime role (and each other's grants).
    role = f"{database}_app"[:63]
    password = None
    if url.password:
        # Deterministic from SECRET_KEY, so every web and worker process derives the same one
        # and `db upgrade` (as the owner) can set it. Rotating SECRET_KEY means re-running it.
        password = hmac.new(secret_key.encode(), f"sendbridge-db-role:{role}".encode(), hashlib.sha256).hexdigest()
    runtime = url.set(username=role, password=password)
    return DatabaseUrls(owner=url, runtime=runtime, app_role=role, app_password=password)


def make_engine(url: URL, **kwargs: Any) -> Engine:
    """An engine with the pool and dialect settings the platform relies on."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; let
            # SQLAlchemy emit BEGIN itself (the SQLAlchemy "pysqlite serializable" recipe).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")  # SQLite ignores FKs unless asked
            cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # Never leave a request blocked on a stuck lock forever; 30 s is longer than any page.
    kwargs.setdefault("connect_args", {"options": "-c statement_timeout=30000 -c lock_timeout=10000"})
    return create_engine(url, **kwargs)


# ---------------------------------------------------------------------------------------
# Sessions


_session_scope: contextvars.ContextVar[object | None] = contextvars.ContextVar("sendbridge_session_scope", default=None)


def _scope_key() -> object:
    # One session per thread, unless a block asked for its own (see Database.isolated_scope).
    return _session_scope.get() or threading.get_ident()


class Database:
    """The process-wide session registry.

    ``db.session`` is a thread-local scoped session (one per request or job). Bind it with
    :meth:`configure` once at start; the web layer removes the session at the end of each
    request and the job wrapper at the end of each job. Services never commit: the request
    or job boundary does (STYLE.md section 8).
    """

    def __init__(self) -> None:
        self._factory = sessionmaker(expire_on_commit=False)
        self.session: scoped_session[Session] = scoped_session(self._factory, scopefunc=_scope_key)
        self.engine: Engine | None = None
        self.urls: DatabaseUrls | None = None

    def configure(self, urls: DatabaseUrls, *, engine: Engine | None = None, **session_kwargs: Any) -> Engine:
        """Bind the registry to the runtime engine (or a given engine/connection in tests)."""
        self.session.remove()
        if self.engine is not None and engine is not self.engine:
            self.engine.dispose()
        self.urls = urls
        self.engine = engine if engine is not None else make_engine(urls.runtime)
        self._factory.configure(bind=self.engine, **session_kwargs)
        return self.engine

    def bind_to(self, bind: Any, **session_kwargs: Any) -> None:
        """Rebind sessions to a connection (tests: one outer transaction per test)."""
        self.session.remove()
        self._factory.configure(bind=bind, **session_kwargs)

    @contextlib.contextmanager
    def as_owner(self) -> Iterator[Session]:
        """Bind ``db.session`` to the owner role for the block (operator commands only:
        creating tenants, loading reference data). Tenant tables stay under RLS even so,
        because it is FORCEd; only a superuser owner escapes it."""
        assert self.urls is not None, "configure() first"
        previous = self._factory.kw.get("bind")
        engine = make_engine(self.urls.owner) if not self.urls.is_postgresql else create_engine(self.urls.owner)
        self.session.remove()
        self._factory.configure(bind=engine)
        try:
            yield self.session()
        finally:
            self.session.remove()
            self._factory.configure(bind=previous)
            engine.dispose()

    @contextlib.contextmanager
    def isolated_scope(self) -> Iterator[Session]:
        """A fresh ``db.session`` for the block, separate from the caller's (jobs run inline
        from a request's commit hook must not share, or commit, the request's session)."""
        token = _session_scope.set(object())
        try:
            yield self.session()
        finally:
            self.session.remove()
            _session_scope.reset(token)

    @property
    def dialect_name(self) -> str:
        bind = self._factory.kw.get("bind")
        return bind.dialect.name if bind is not None else "unknown"


#: The one registry. Import it as ``from core.db import db``.
db = Database()
