"""Alembic environment. Run through ``flask --app wsgi db ...`` (``migrations.runner``),
which passes the owner connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from migrations.models import metadata

config = context.config


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
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run against a database")
run_migrations()
