"""Alembic environment. Run through ``flask --app wsgi db ...`` (``migrations.runner``),
which passes the owner connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from typing import Any

from alembic import context

from core.db import UTCDateTime
from migrations.models import metadata

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write app column types as the plain SQLAlchemy types they store, so revisions never
    import application code (which may change after the revision was written)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `flask --app wsgi db upgrade` (migrations.runner)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run against a database")
run_migrations()
