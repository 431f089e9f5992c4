"""Models for transfers (issue 6): an EHC plan moving from one council to another.

A transfer is seen by both councils, and each council's rows live only in that council
(tenancy: RLS judges every row by its own ``tenant_id``). So one transfer is *two* rows that
share a public id, ``ref``: the ``outgoing`` row in the sending council (with its case) and,
when the receiving council is on the platform, the ``incoming`` row in the receiving council
(with the received case once the transfer is completed). ``GET /api/v1/transfers/{ref}``
therefore works in both councils and in neither shows the other's rows.

Before completion the incoming row carries only what the receiving council needs to expect
the child (name, date of birth, move date): never the plan (api-v1: "the receiving council
sees the child's plan only once the transfer is completed").
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped

#: planned: started, the plan has not moved yet. completed: the plan has moved (read-only in
#: the sender). cancelled: the sender called it off. failed: a completion broke half-way;
#: nothing moved and it can be retried (``complete`` again) or cancelled.
STATUSES = ("planned", "completed", "cancelled", "failed")
ACTIVE_STATUSES = ("planned", "failed")
DIRECTIONS = ("outgoing", "incoming")
#: Alert kinds raised by the daily job (core.transfers.jobs): "no transfer can be silently lost".
ALERTS = ("due_soon", "overdue", "failed")

_ACTIVE = text("direction = 'outgoing' AND status IN ('planned', 'failed')")


class Transfer(TenantScoped, Base):
    """One council's side of a transfer of an EHC plan (regs 15-16)."""

    __tablename__ = "plan_transfer"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        # The public id: one per council (the sender's and the receiver's rows share it).
        UniqueConstraint("tenant_id", "ref"),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["ehc_case.tenant_id", "ehc_case.id"], ondelete="RESTRICT",
                             name="fk_plan_transfer_tenant_id_case_id_ehc_case"),
        ForeignKeyConstraint(["tenant_id", "received_case_id"], ["ehc_case.tenant_id", "ehc_case.id"],
                             ondelete="RESTRICT", name="fk_plan_transfer_tenant_id_received_case_id_ehc_case"),
        # One active (planned or failed) transfer per case: two people (or two threads) starting
        # a transfer of the same case at once make one transfer; the other is refused.
        Index("uq_plan_transfer_tenant_id_case_id_active", "tenant_id", "case_id", unique=True,
              postgresql_where=_ACTIVE, sqlite_where=_ACTIVE),
        Index("ix_plan_transfer_tenant_id_direction_status", "tenant_id", "direction", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    #: The id both councils know the transfer by (api-v1 ``id``).
    ref: Mapped[uuid.UUID] = mapped_column(default=default_id)
    direction: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default="planned")
    #: The sender's case (outgoing rows only).
    case_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: The receiver's new case (incoming rows, once completed; the sender's row keeps the id too,
    #: as a plain value, so the sender's API can answer ``received_case_id``).
    received_case_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    received_case_ref: Mapped[uuid.UUID | None] = mapped_column(default=None)
    from_la_code: Mapped[str] = mapped_column(String(3))
    from_la_name: Mapped[str] = mapped_column(String(200))
    to_la_code: Mapped[str] = mapped_column(String(3))
    to_la_name: Mapped[str] = mapped_column(String(200))
    #: False: the receiving council is not on the platform; completing makes a transfer package.
    receiver_on_platform: Mapped[bool] = mapped_column(Boolean)
    #: The move changes the responsible health body (ICB): reg 16 applies.
    health_body_changes: Mapped[bool] = mapped_column(Boolean, default=True)
    move_on: Mapped[dt.date] = mapped_column(Date)
    became_aware_on: Mapped[dt.date] = mapped_column(Date)
    #: The statutory date (``transfer_of_plan_between_las``, reg 15(2)) as computed at the start.
    due_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    transferred_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Why the last completion failed, in plain words (never personal data).
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    alert: Mapped[str | None] = mapped_column(String(12), default=None)
    alert_raised_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: What the receiving council needs to expect the child: never the plan.
    child_given_name: Mapped[str] = mapped_column(String(100))
    child_family_name: Mapped[str] = mapped_column(String(100))
    child_date_of_birth: Mapped[dt.date] = mapped_column(Date)
    #: The transfer package (off-platform receiver), a document on the sender's case.
    package_document_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: What moved (counts of plan versions, advice, documents...) and the row's history:
    #: ``{"moved": {...}, "log": [{"at", "what", "by"}]}``. No personal data.
    history: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def child_name(self) -> str:
        return f"{self.child_given_name} {self.child_family_name}".strip()
