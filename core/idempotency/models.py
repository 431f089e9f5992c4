"""Stored results of API writes sent with an ``Idempotency-Key`` (api-v1.md conventions).

A repeat of the same write with the same key returns the first result instead of acting
twice. Records are tenant-owned (they hold the response, which may hold a child's data) and
kept for 24 hours.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped


class IdempotencyRecord(TenantScoped, Base):
    __tablename__ = "idempotency_record"
    __table_args__ = (
        # The unique key is what makes two concurrent requests with one key produce one result:
        # the second INSERT waits for the first transaction and then fails.
        Index("uq_idempotency_record_tenant_id_actor_id_key", "tenant_id", "actor_id", "key", unique=True),
        Index("ix_idempotency_record_tenant_id_expires_at", "tenant_id", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    actor_id: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of method, path and canonical body: the same key with a different request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column()
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
