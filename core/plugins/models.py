"""Plugins per council, calls to them, and the transactional outbox (issue #5).

* :class:`TenantPlugin`: a plugin enabled (or configured and disabled) for one council, its
  settings (checked against the plugin's schema) and its secrets, sealed with
  ``core.crypto`` and bound to the row.
* :class:`OutboxEvent`: an integration event written in the same transaction as the change
  it describes; a relay job hands it to each enabled plugin after commit. Ids only.
* :class:`PluginCall`: one unit of work for one plugin (an outbox event to deliver, a
  notification to send, an advice request to pass on), with its attempts and last error,
  so a tenant admin sees failures and can retry them. Unique per (tenant, plugin, key), which
  is what makes relaying and retrying idempotent.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import Enum, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, default_id, utcnow
from core.tenancy import TenantScoped


class TenantPlugin(TenantScoped, Base):
    __tablename__ = "tenant_plugin"
    __table_args__ = (UniqueConstraint("tenant_id", "plugin", name="uq_tenant_plugin_tenant_id_plugin"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    plugin: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=False)
    #: Non-secret settings, complete (defaults filled in), as validated by the plugin's schema.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Secret settings as one sealed JSON object ("" when none).
    sealed_secrets: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    RELAYED = "relayed"


class OutboxEvent(TenantScoped, Base):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    topic: Mapped[str] = mapped_column(String(100))
    #: Ids and codes only, never personal data (it is copied into plugin calls and jobs).
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=OutboxStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    relayed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CallStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    #: Will be tried again at ``next_attempt_at``.
    RETRYING = "retrying"
    #: Out of attempts, or a permanent failure: waits for the tenant admin's retry.
    FAILED = "failed"


class PluginCall(TenantScoped, Base):
    __tablename__ = "plugin_call"
    __table_args__ = (
        UniqueConstraint("tenant_id", "plugin", "key", name="uq_plugin_call_tenant_id_plugin_key"),
        Index("ix_plugin_call_due", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    plugin: Mapped[str] = mapped_column(String(64))
    hook: Mapped[str] = mapped_column(String(100))
    #: What makes the call unique, e.g. ``outbox:<event id>`` or ``notification:<id>``.
    key: Mapped[str] = mapped_column(String(200))
    #: JSON primitives the hook's arguments are rebuilt from (ids, never personal data).
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[CallStatus] = mapped_column(
        Enum(CallStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=CallStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    #: The exception's class and message, shortened (never a traceback with data in it).
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
