"""Row-level security for tenant-owned tables, written into revisions by hand.

Autogenerate does not see RLS (RECIPES.md section 1), so every revision that creates a
tenant-owned table calls :func:`enable_tenant_rls` for it; the isolation tests check that no
tenant-owned table lacks it.
"""

from __future__ import annotations

from alembic import op

POLICY = "tenant_isolation"
# NULLIF matters: once set in a session, an unset custom setting reads back as '' (not
# NULL), and ''::uuid would raise. NULL compares as unknown, so "no tenant" sees no row.
_EXPR = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def enable_tenant_rls(table: str) -> None:
    """ENABLE and FORCE RLS on ``table`` (FORCE: the owner is filtered too) with the policy."""
    if not _is_postgresql():
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING ({_EXPR}) WITH CHECK ({_EXPR})')


def disable_tenant_rls(table: str) -> None:
    if not _is_postgresql():
        return
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')


def run_across_tenants(table: str, sql: str) -> None:
    """Run a data migration statement on every council's rows of ``table``.

    FORCE makes the owner obey the policy too, and a migration has no tenant: lift FORCE for
    the one statement (the owner then bypasses RLS) and put it straight back, inside the
    migration's transaction so nothing else ever sees the table unforced.
    """
    if not _is_postgresql():
        op.execute(sql)
        return
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(sql)
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
