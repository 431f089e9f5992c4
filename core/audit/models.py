"""The audit log: one append-only row per read or write of a child's record.

Tenant-owned and under RLS like everything else, and the runtime database role may only
``SELECT`` and ``INSERT`` it (``__app_grants__``): the application cannot change or delete
what it has recorded. Rows hold identifiers only, never names or other personal data, so the
log itself can be kept for the full retention period.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped


class AuditEvent(TenantScoped, Base):
    __tablename__ = "audit_event"
    __app_grants__ = ("SELECT", "INSERT")
    __table_args__ = (
        # "Who has looked at this child's record?" (families will ask; issue #4 shows them).
        Index("ix_audit_event_tenant_id_subject_id_occurred_at", "tenant_id", "subject_id", "occurred_at"),
        Index("ix_audit_event_tenant_id_occurred_at", "tenant_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    #: UTC, set by the application at the time of the action.
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: ``user``, ``api_client``, ``system`` or ``operator``.
    actor_type: Mapped[str] = mapped_column(String(16))
    #: The user id, API client id, or job/command name.
    actor_id: Mapped[str] = mapped_column(String(100))
    #: ``<subject>.<verb>``: ``child.viewed``, ``child.listed``, ``child.created`` ...
    action: Mapped[str] = mapped_column(String(64))
    #: Whose record this is: always the child for child-record events.
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID]
    #: The particular thing touched, when not the subject itself (a contact, a placement).
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[uuid.UUID | None]
    #: ``ui``, ``api``, ``cli`` or ``job``.
    channel: Mapped[str] = mapped_column(String(8))
    #: Ties the event to the request's log lines (``X-Request-ID``).
    request_id: Mapped[str | None] = mapped_column(String(64))
    #: Names of the fields changed by a write (never their values).
    fields: Mapped[str | None] = mapped_column(String(500))
