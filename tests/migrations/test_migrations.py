"""The migration history: applies, reverses and re-applies cleanly, matches the models, and
leaves the runtime role with exactly the grants the models declare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from core.db import derive_urls
from core.db_roles import table_grants
from migrations import runner
from tests.conftest import SECRET, create_pg_database, postgres_only


@pytest.mark.smoke
def test_sqlite_upgrade_downgrade_upgrade_and_no_drift(tmp_path: Path) -> None:
    urls = derive_urls(f"sqlite:///{tmp_path / 'm.db'}", SECRET)
    runner.upgrade(urls)
    runner.check(urls)
    runner.downgrade(urls, "base")
    assert runner.current(urls) is None
    runner.upgrade(urls)
    assert runner.current(urls) is not None


@postgres_only
def test_postgresql_upgrade_downgrade_upgrade_and_no_drift() -> None:
    urls = derive_urls(create_pg_database("sendbridge_migrations"), SECRET)
    runner.upgrade(urls)
    runner.check(urls)
    runner.downgrade(urls, "base")
    engine = create_engine(urls.owner)
    with engine.connect() as conn:
        left = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        assert left <= {"alembic_version"}
        assert conn.execute(text("SELECT count(*) FROM pg_policies")).scalar_one() == 0
    runner.upgrade(urls)
    engine.dispose()


@postgres_only
def test_runtime_role_grants_are_exactly_what_the_models_declare(app: Any, owner_engine: Any) -> None:
    from core.db import db

    role = db.urls.app_role
    with owner_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = :r AND table_schema = 'public'"), {"r": role}).all()
    granted: dict[str, set[str]] = {}
    for table, privilege in rows:
        granted.setdefault(table, set()).add(privilege)
    expected = {t: set(p) for t, p in table_grants().items() if p}
    assert granted == expected
    assert granted["audit_event"] == {"SELECT", "INSERT"}
    assert granted["tenant"] == {"SELECT"} and granted["institution"] == {"SELECT"}
    assert "alembic_version" not in granted


@postgres_only
def test_upgrade_creates_a_missing_database(tmp_path: Path) -> None:
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'sendbridge_autocreate'"))
        conn.execute(text("DROP DATABASE IF EXISTS sendbridge_autocreate"))
    urls = derive_urls("postgresql://postgres@127.0.0.1:5432/sendbridge_autocreate", SECRET)
    assert runner.ensure_database(urls.owner) is True
    assert runner.ensure_database(urls.owner) is False
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE sendbridge_autocreate"))
    admin.dispose()


def test_derived_urls_use_a_separate_non_owner_role() -> None:
    urls = derive_urls("postgresql://owner:pw@db.internal:5432/sendbridge", SECRET)
    assert urls.owner.username == "owner" and urls.owner.drivername == "postgresql+psycopg"
    assert urls.runtime.username == "sendbridge_app" and urls.runtime.host == "db.internal"
    # The runtime password is derived from SECRET_KEY, never the owner's.
    assert urls.runtime.password not in (None, "pw") and urls.app_password == urls.runtime.password
    assert derive_urls("postgresql://owner:pw@db.internal:5432/sendbridge", SECRET).runtime.password == urls.runtime.password
    assert derive_urls("postgres://o@h/d", SECRET).owner.drivername == "postgresql+psycopg"
    sqlite = derive_urls("sqlite:////tmp/x.db", SECRET)
    assert sqlite.runtime == sqlite.owner and sqlite.app_role is None
