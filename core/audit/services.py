"""Recording audit events.

Writes are recorded in the same transaction as the change they describe, so a change and
its audit row commit or roll back together. Reads are recorded in the request's transaction
and committed at the request boundary.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import insert, select

from core import permissions
from core.actors import Actor
from core.audit.models import AuditEvent
from core.db import db, default_id, utcnow
from core.errors import Forbidden
from core.tenancy import require_tenant_id
from core.users.models import User


@dataclass(frozen=True)
class AuditContext:
    """Where the current work came from: set by the web layer, the CLI and the job wrapper."""

    channel: str = "system"
    request_id: str | None = None


_context: contextvars.ContextVar[AuditContext] = contextvars.ContextVar("sendbridge_audit", default=AuditContext())


@contextlib.contextmanager
def audit_context(channel: str, request_id: str | None = None) -> Iterator[None]:
    token = _context.set(AuditContext(channel=channel, request_id=request_id))
    try:
        yield
    finally:
        _context.reset(token)


def set_audit_context(channel: str, request_id: str | None = None) -> contextvars.Token[AuditContext]:
    """Token-style form of :func:`audit_context`, for hooks that begin and end in two places."""
    return _context.set(AuditContext(channel=channel, request_id=request_id))


def reset_audit_context(token: contextvars.Token[AuditContext]) -> None:
    _context.reset(token)


def current_request_id() -> str | None:
    return _context.get().request_id


def record(
    actor: Actor,
    action: str,
    *,
    subject_type: str,
    subject_ids: Iterable[uuid.UUID],
    object_type: str | None = None,
    object_id: uuid.UUID | None = None,
    fields: Iterable[str] = (),
) -> None:
    """Append one audit event per subject (a list page of 50 children records 50 reads).

    Uses one multi-row INSERT: the cost of auditing a list page is one statement.
    """
    ctx = _context.get()
    tenant_id = require_tenant_id()
    if actor.tenant_id != tenant_id:
        raise AssertionError("actor and tenant context disagree")
    now = utcnow()
    field_list = ",".join(sorted(fields))[:500] or None
    rows = [
        {
            "id": default_id(),
            "tenant_id": tenant_id,
            "occurred_at": now,
            "actor_type": actor.kind,
            "actor_id": actor.id,
            "action": action,
            "subject_type": subject_type,
            "subject_id": sid,
            "object_type": object_type,
            "object_id": object_id,
            "channel": ctx.channel,
            "request_id": ctx.request_id,
            "fields": field_list,
        }
        for sid in subject_ids
    ]
    if rows:
        db.session.execute(insert(AuditEvent), rows)


def activity_on(actor: Actor, subject_id: uuid.UUID, *, limit: int = 200) -> tuple[list[AuditEvent], dict[str, str]]:
    """The newest audit events about a child, and the display names of the staff involved.

    For team managers and administrators (``audit.read``); the caller has already accessed
    the child. Events are never changed, so this is the full story of the record.
    """
    if not actor.can(permissions.AUDIT_READ):
        raise Forbidden(permissions.AUDIT_READ)
    events = list(db.session.execute(
        select(AuditEvent).where(AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)
    ).scalars())
    user_ids = {uuid.UUID(e.actor_id) for e in events if e.actor_type == "user"}
    names: dict[str, str] = {}
    if user_ids:
        names = {str(u.id): u.display_name for u in db.session.execute(select(User).where(User.id.in_(user_ids))).scalars()}
    return events, names
