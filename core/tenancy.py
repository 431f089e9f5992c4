"""Tenant isolation inside the process: the tenant context, the ``TenantScoped`` mixin and
the session listeners that make forgetting the tenant impossible (STYLE.md section 3).

Layer 2 (ORM, fail closed):
  * every ORM SELECT/UPDATE/DELETE touching a ``TenantScoped`` mapper gets
    ``tenant_id = <current tenant>`` added through ``with_loader_criteria``;
  * with no tenant in context such a statement raises :class:`TenantContextRequired`,
    unless it says ``.execution_options(all_tenants=True)`` (only ``tenants/`` and operator
    commands may, and review looks for it);
  * ``before_flush`` stamps ``tenant_id`` on new rows and refuses rows of another tenant.

Layer 3 (PostgreSQL RLS) is fed from here too: ``after_begin`` runs
``set_config('app.tenant_id', <tenant or ''>, true)`` on every transaction, so the database
policy sees the same tenant, and an empty setting matches no row at all.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ForeignKey, event, text
from sqlalchemy.sql import util as sql_util

from core.db import Base
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

_current_tenant: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar("sendbridge_tenant", default=None)

#: Switched off only by the isolation tests, to prove that RLS alone holds (issue #2 item 5).
#: Production code never touches it; there is deliberately no setting for it.
_orm_criterion_enabled = True


class TenantContextRequired(RuntimeError):
    """A tenant-owned table was queried or written with no tenant in context."""


class CrossTenantWrite(RuntimeError):
    """A flush tried to write a row belonging to a tenant other than the current one."""


def current_tenant_id() -> uuid.UUID | None:
    """The tenant the current request or job acts in, or ``None`` outside any tenant."""
    return _current_tenant.get()


def require_tenant_id() -> uuid.UUID:
    """The current tenant; raises :class:`TenantContextRequired` if there is none."""
    tid = _current_tenant.get()
    if tid is None:
        raise TenantContextRequired("no tenant in context")
    return tid


@contextlib.contextmanager
def tenant_context(tenant_id: uuid.UUID | None) -> Iterator[None]:
    """Act as ``tenant_id`` inside the block (``None``: outside any tenant).

    Switching tenant while a session transaction is open would leave the database setting
    (set at transaction start) pointing at the old tenant, so the listeners below refuse any
    statement whose tenant differs from the one its transaction began with.
    """
    token = _current_tenant.set(tenant_id)
    try:
        yield
    finally:
        _current_tenant.reset(token)


def enter_tenant(tenant_id: uuid.UUID | None) -> contextvars.Token[uuid.UUID | None]:
    """Token-style form of :func:`tenant_context` for request hooks (before/teardown)."""
    return _current_tenant.set(tenant_id)


def exit_tenant(token: contextvars.Token[uuid.UUID | None]) -> None:
    _current_tenant.reset(token)


class TenantScoped:
    """Mixin for every tenant-owned model: ``tenant_id`` non-null, indexed, a foreign key.

    Every unique key and composite index of such a model should lead with ``tenant_id``
    (DESIGN.md, tenancy), and child tables reference their parent through a composite
    ``(tenant_id, parent_id)`` foreign key, so the database itself refuses a row that points
    into another council.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), nullable=False, index=True)


def is_tenant_scoped(cls: type) -> bool:
    return isinstance(cls, type) and issubclass(cls, TenantScoped)


_tenant_tables_cache: tuple[int, frozenset[Any]] = (-1, frozenset())


def _tenant_tables(registry: Any) -> frozenset[Any]:
    """Tables of every TenantScoped model (recomputed when new models are mapped)."""
    global _tenant_tables_cache
    mappers = registry.mappers
    if _tenant_tables_cache[0] != len(mappers):
        tables = frozenset(m.local_table for m in mappers if is_tenant_scoped(m.class_))
        _tenant_tables_cache = (len(mappers), tables)
    return _tenant_tables_cache[1]


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    """Does the statement read or write a tenant-owned table anywhere?

    ``state.all_mappers`` only lists entities among the selected columns, so
    ``select(func.count()).select_from(Child)`` would slip past it; walking the statement's
    FROM clauses, joins and subqueries catches every table it touches.
    """
    if any(is_tenant_scoped(m.class_) for m in state.all_mappers):
        return True
    tenant_tables = _tenant_tables(Base.registry)
    found = sql_util.find_tables(state.statement, check_columns=True, include_aliases=True, include_joins=True,
                                 include_selects=True, include_crud=True)
    return any(t in tenant_tables for t in found)


# ---------------------------------------------------------------------------------------
# Listeners. Registered on the Session class so they apply to every session, including
# the ones tests bind to an outer transaction.

_TENANT_AT_BEGIN = "sendbridge_tenant_at_begin"


@event.listens_for(Session, "after_begin")
def _set_database_tenant(session: Session, transaction: Any, connection: Any) -> None:
    tid = _current_tenant.get()
    session.info[_TENANT_AT_BEGIN] = tid
    if connection.dialect.name == "postgresql":
        # Always set it, to '' when there is no tenant: a pooled connection (or a test's outer
        # transaction) must never carry the previous tenant into this transaction.
        # set_config(..., true) is SET LOCAL but accepts a bind parameter.
        connection.execute(text("SELECT set_config('app.tenant_id', :tid, true)"), {"tid": str(tid) if tid else ""})


@event.listens_for(Session, "after_transaction_end")
def _forget_database_tenant(session: Session, transaction: Any) -> None:
    # The tenant belongs to one transaction: once it ends, a session reused for the next
    # (a long-lived session, a test's) must not judge that one by this one's tenant.
    if transaction.parent is None:
        session.info.pop(_TENANT_AT_BEGIN, None)


def _check_transaction_tenant(session: Session) -> uuid.UUID | None:
    tid = _current_tenant.get()
    if _TENANT_AT_BEGIN in session.info and session.in_transaction() and session.info[_TENANT_AT_BEGIN] != tid:
        raise TenantContextRequired(
            "the tenant context changed inside an open transaction; commit or roll back first "
            "(cross-tenant work goes through an explicit service with its own session)"
        )
    return tid


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criterion(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Lazy loads and deferred columns inherit the criterion of the query that loaded the parent.
    if state.is_column_load or state.is_relationship_load:
        return
    if state.execution_options.get("all_tenants", False):
        return
    if not _touches_tenant_data(state):
        return
    tid = _check_transaction_tenant(state.session)
    if tid is None:
        raise TenantContextRequired(
            "tenant-owned data queried outside a tenant context; enter core.tenancy.tenant_context() "
            "or, in tenants/ and operator commands only, use execution_options(all_tenants=True)"
        )
    if _orm_criterion_enabled:
        state.statement = state.statement.options(
            with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)
        )


@event.listens_for(Session, "before_flush")
def _stamp_and_check_tenant(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    tid = _check_transaction_tenant(session) if session.in_transaction() else _current_tenant.get()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if tid is None:
            raise TenantContextRequired(f"cannot create {type(obj).__name__} outside a tenant context")
        if obj.tenant_id is None:
            obj.tenant_id = tid
        elif obj.tenant_id != tid:
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to another tenant")
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped) and obj.tenant_id != tid:
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to another tenant")


@contextlib.contextmanager
def crossing_into(session: Session, tenant_id: uuid.UUID) -> Iterator[None]:
    """Act as another council *inside the current transaction*, then come back.

    The one door between councils that keeps a piece of work atomic across both: a plan
    transfer (regs 15-16) must leave the sending council and arrive in the receiving one
    all or nothing, so ``core.transfers`` reads the plan as the sender, crosses into the
    receiver inside the same database transaction, writes there, and commits once. Nothing
    else may use it (``tests/core/test_tenancy.py`` checks who calls it).

    Isolation still holds on both sides of the door: pending work is flushed first (so a
    row of the sending council is never written while acting as the receiver; a dirty one
    later raises :class:`CrossTenantWrite`), the ORM criterion and the PostgreSQL setting
    both switch, so row-level security judges every statement inside by the receiving
    council, and both switch back on the way out, also when the block raises.
    """
    if not session.in_transaction():
        raise TenantContextRequired("crossing_into needs an open transaction to keep the work atomic")
    before = _check_transaction_tenant(session)
    if before is None:
        raise TenantContextRequired("crossing_into starts from a council's own context")
    session.flush()

    def switch(tid: uuid.UUID) -> None:
        session.info[_TENANT_AT_BEGIN] = tid
        if session.get_bind().dialect.name == "postgresql":
            # No autoflush: after a refused flush inside the door, pending rows must not be
            # written on the way out under the wrong database setting.
            with session.no_autoflush:
                session.execute(text("SELECT set_config('app.tenant_id', :tid, true)"), {"tid": str(tid)})

    token = _current_tenant.set(tenant_id)
    try:
        switch(tenant_id)
        yield
        session.flush()
    finally:
        _current_tenant.reset(token)
        if session.in_transaction():
            switch(before)
        else:
            session.info.pop(_TENANT_AT_BEGIN, None)
