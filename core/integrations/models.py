"""What partner systems told the council, kept for caseworkers (issue #5).

``social_care_status``: a child's looked-after (Children Act 1989 s22), child-in-need (s17)
and child-protection-plan status as the council's social care system last reported it, with
the allocated social worker. One row per child, replaced on each refresh
(``core.integrations.jobs.refresh_social_care_status``): it is a copy of the partner's record
with the time it was taken, never the council's own record of the child.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped


class SocialCareStatusRecord(TenantScoped, Base):
    """A child's social care status as the partner last reported it."""

    __tablename__ = "social_care_status"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="CASCADE",
                             name="fk_social_care_status_tenant_id_child_id_child"),
        UniqueConstraint("tenant_id", "child_id", name="uq_social_care_status_tenant_id_child_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    child_id: Mapped[uuid.UUID]
    looked_after: Mapped[bool]
    child_in_need: Mapped[bool]
    child_protection_plan: Mapped[bool]
    #: The allocated social worker's name, when the partner gives it (caseworkers only).
    social_worker: Mapped[str | None] = mapped_column(String(200), default=None)
    #: The day the partner says the status was true on.
    as_of: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: The plugin that reported it.
    source: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
