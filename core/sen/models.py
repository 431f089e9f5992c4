"""SEN register data per child, and the register imports (CTF files and the like).

* :class:`ChildSen`: a child's current SEN provision (N, K or E) and ranked need types, with
  the import that last set them and when. One row per child: a re-import that says the same
  thing changes nothing (the import is idempotent by construction).
* :class:`SenImport`: one uploaded register file: its checksum, where its bytes are stored,
  its progress (``checkpoint``: entries applied and committed, so a killed worker's retry
  resumes) and its outcome. ``error_report`` holds ``[line, reason]`` pairs only: line
  numbers and reasons, never names or identifiers, so it can be shown and kept freely.

Codes are the DfE's (school census "SEN provision" and "SEN type" code sets), the ones the
SEND Code of Practice 2015 categories map to (paragraphs 6.28-6.35: communication and
interaction; cognition and learning; social, emotional and mental health; sensory and/or
physical needs).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, Enum, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, default_id, utcnow
from core.plans.content import PRIMARY_NEEDS
from core.tenancy import TenantScoped

#: N: no special educational need; K: SEN support; E: education, health and care plan.
PROVISIONS = {"N": "No special educational need", "K": "SEN support", "E": "Education, health and care plan"}

#: DfE SEN type codes (school census), in the census's order: the EHC plan's primary needs
#: (one list, core/plans/content.py) and NSA, which the census allows for SEN support only.
NEED_TYPES = {**PRIMARY_NEEDS, "NSA": "SEN support but no specialist assessment of type of need"}


class ImportStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SenImport(TenantScoped, Base):
    __tablename__ = "sen_import"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        Index("ix_sen_import_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    #: The uploaded file's name, cleaned (no directories); shown back to staff only.
    filename: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the bytes, checked again by the job before it parses them.
    checksum: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    #: Built by ``core.storage`` inside the council's prefix, never taken from a request.
    storage_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[ImportStatus] = mapped_column(
        Enum(ImportStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=ImportStatus.QUEUED)
    #: Who asked for it: a user id (audit actor id).
    created_by: Mapped[str] = mapped_column(String(100))
    source_urn: Mapped[str | None] = mapped_column(String(10))
    #: Entries in the file (known once parsed).
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: Entries applied and committed so far, in file order: where a retry resumes.
    checkpoint: Mapped[int] = mapped_column(Integer, default=0)
    #: Times a job has started on this import (a retry after a killed worker adds one).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    #: ``[[line, reason], ...]``: no personal data beyond line numbers and reasons.
    error_report: Mapped[list[Any]] = mapped_column(default=list)
    #: Why an import failed without a per-record report (no plugin reads the format ...).
    failure: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)


class ChildSen(TenantScoped, Base):
    __tablename__ = "child_sen"
    __table_args__ = (
        # One current register entry per child: what makes set-based upserts idempotent.
        UniqueConstraint("tenant_id", "child_id"),
        ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "source_import_id"], ["sen_import.tenant_id", "sen_import.id"],
                             ondelete="RESTRICT"),
        CheckConstraint("provision IN ('N', 'K', 'E')", name="provision_code"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    child_id: Mapped[uuid.UUID]
    #: N, K or E (:data:`PROVISIONS`).
    provision: Mapped[str] = mapped_column(String(1))
    #: Need type codes (:data:`NEED_TYPES`), primary first (rank 1, 2, ...).
    needs: Mapped[list[Any]] = mapped_column(default=list)
    #: The import that last changed this entry (``None``: entered by hand).
    source_import_id: Mapped[uuid.UUID | None]
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
