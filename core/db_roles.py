"""The runtime database role: created and granted by the owner, checked at start.

The app runs every request and job as ``<database>_app`` (``core.db.derive_urls``): a role
that owns no table, is not a superuser, has no BYPASSRLS and is not a member of the owner
role, so row-level security always applies to it. Grants are synchronised from the models'
``__app_grants__`` after every migration: nothing is granted by hand, and nothing more than
a model asks for (the audit log gets SELECT and INSERT only).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from core.db import Base, DatabaseUrls

# Tables no runtime code may touch at all.
_NO_GRANTS = {"alembic_version"}


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def table_grants() -> dict[str, tuple[str, ...]]:
    """Table name -> privileges for the runtime role, from the models."""
    out: dict[str, tuple[str, ...]] = {}
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if table is None or table.name in _NO_GRANTS:
            continue
        out[table.name] = tuple(getattr(mapper.class_, "__app_grants__", ()))
    return out


def sync_app_role(conn: Connection, urls: DatabaseUrls) -> None:
    """Create the runtime role if missing, set its password, and make its grants exact."""
    role = urls.app_role
    assert role is not None
    q = _quote(conn, role)
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    password = f" PASSWORD {_literal(urls.app_password)}" if urls.app_password else ""
    if exists is None:
        conn.exec_driver_sql(
            f"CREATE ROLE {q} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT NOREPLICATION{password}"
        )
    elif password:
        conn.exec_driver_sql(f"ALTER ROLE {q} LOGIN{password}")
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {_quote(conn, database)} TO {q}")
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {q}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {q}")
    existing = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    for table, privileges in sorted(table_grants().items()):
        if privileges and table in existing:
            conn.exec_driver_sql(f"GRANT {', '.join(privileges)} ON TABLE {_quote(conn, table)} TO {q}")
    conn.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q}")
    problems = runtime_role_problems_from_owner(conn, role)
    if problems:
        raise RuntimeError("the runtime role is unsafe: " + "; ".join(problems))


def runtime_role_problems_from_owner(conn: Connection, role: str) -> list[str]:
    row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}).one()
    problems = []
    if row.rolsuper:
        problems.append(f"role {role} is a superuser")
    if row.rolbypassrls:
        problems.append(f"role {role} has BYPASSRLS")
    return problems


def runtime_role_problems(engine: Engine) -> list[str]:
    """Why the role ``engine`` connects as could escape row-level security (empty = safe).

    Checked at start in production: a superuser, BYPASSRLS, owning a table (an owner can
    switch RLS off) or membership of a table owner's role all defeat the RLS layer.
    """
    problems: list[str] = []
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            return ["the database is not PostgreSQL, so there is no row-level security"]
        row = conn.execute(text(
            "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )).one()
        if row.rolsuper:
            problems.append(f"the database role {row.name} is a superuser (superusers bypass row-level security)")
        if row.rolbypassrls:
            problems.append(f"the database role {row.name} has BYPASSRLS")
        owned = conn.execute(text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) = current_user"
        )).scalar_one()
        if owned:
            problems.append(f"the database role {row.name} owns {owned} table(s); an owner can switch row-level security off")
        member_of_owner = conn.execute(text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
            "AND pg_get_userbyid(c.relowner) <> current_user "
            "AND pg_has_role(current_user, c.relowner, 'MEMBER')"
        )).scalar_one()
        if member_of_owner:
            problems.append(f"the database role {row.name} is a member of a table owner's role")
    return problems
