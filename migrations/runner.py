"""Running migrations as the owner role, then syncing the runtime role's grants."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from core import db_roles
from core.db import DatabaseUrls, make_engine

HERE = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(HERE / "versions"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def ensure_database(owner: URL) -> bool:
    """Create the PostgreSQL database if it does not exist yet. Returns True if created.

    Lets a newcomer point ``DATABASE_URL`` at a fresh server and run ``make run``.
    """
    if owner.get_backend_name() != "postgresql":
        if owner.database:
            Path(owner.database).parent.mkdir(parents=True, exist_ok=True)
        return False
    try:
        eng = create_engine(owner)
        with eng.connect():
            pass
        eng.dispose()
        return False
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    admin = create_engine(owner.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{owner.database}"'))
    admin.dispose()
    return True


@contextmanager
def owner_connection(urls: DatabaseUrls) -> Iterator[Connection]:
    # SQLite needs its pragmas (foreign keys); PostgreSQL migrations must not inherit the
    # runtime statement timeout, so they get a plain engine.
    engine = create_engine(urls.owner) if urls.is_postgresql else make_engine(urls.owner)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def upgrade(urls: DatabaseUrls, revision: str = "head") -> None:
    """Migrate to ``revision`` as the owner, then create/grant the runtime role."""
    ensure_database(urls.owner)
    with owner_connection(urls) as conn:
        command.upgrade(alembic_config(conn), revision)
        conn.commit()
        if urls.is_postgresql:
            db_roles.sync_app_role(conn, urls)
            conn.commit()


def downgrade(urls: DatabaseUrls, revision: str) -> None:
    with owner_connection(urls) as conn:
        command.downgrade(alembic_config(conn), revision)
        conn.commit()


def current(urls: DatabaseUrls) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with owner_connection(urls) as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _known_reflection_limits() -> Iterator[None]:
    """SQLite cannot reflect expression indexes (lower(email) ...), so autogenerate skips
    comparing them there and says so; PostgreSQL compares them in full."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression-based index")
        yield


def check(urls: DatabaseUrls) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    with owner_connection(urls) as conn, _known_reflection_limits():
        command.check(alembic_config(conn))


def revision(urls: DatabaseUrls, message: str, autogenerate: bool = True) -> None:
    with owner_connection(urls) as conn, _known_reflection_limits():
        command.revision(alembic_config(conn), message=message, autogenerate=autogenerate)
