"""EHC casework: cases, their events, derived deadlines, plan versions, review meetings.

A case is event-sourced (DESIGN.md, Domain): ``case_event`` rows are the record of what
happened and are never changed or deleted (the runtime role may only read and insert them);
a mistake is put right by a later event that ``corrects`` it. Everything else here is
derived from the events and may be rebuilt from them: the case's stage and next deadline,
and the ``case_deadline`` rows that caseload lists and reminders query.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Date, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, NullableJSON, default_id, utcnow
from core.tenancy import TenantScoped


def _child_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="RESTRICT",
                                name=f"fk_{table}_tenant_id_child_id_child")


def _case_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "case_id"], ["ehc_case.tenant_id", "ehc_case.id"], ondelete="CASCADE",
                                name=f"fk_{table}_tenant_id_case_id_ehc_case")


class Case(TenantScoped, Base):
    """An EHC case: from the request for an assessment to the plan's end or transfer."""

    __tablename__ = "ehc_case"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        _child_fk("ehc_case"),
        ForeignKeyConstraint(["tenant_id", "caseworker_id"], ["app_user.tenant_id", "app_user.id"],
                             name="fk_ehc_case_tenant_id_caseworker_id_app_user"),
        Index("ix_ehc_case_tenant_id_child_id", "tenant_id", "child_id"),
        Index("ix_ehc_case_tenant_id_stage", "tenant_id", "stage"),
        Index("ix_ehc_case_tenant_id_caseworker_id", "tenant_id", "caseworker_id"),
        Index("ix_ehc_case_tenant_id_next_due", "tenant_id", "next_due"),
        Index("ix_ehc_case_tenant_id_phase_transfer_on", "tenant_id", "phase_transfer_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    child_id: Mapped[uuid.UUID]
    caseworker_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    #: Derived from the events (core.cases.workflow.CaseState.stage).
    stage: Mapped[str] = mapped_column(String(20))
    #: The last compliant day of the earliest open statutory deadline, for "due soon" lists.
    next_due: Mapped[dt.date | None] = mapped_column(Date, default=None)
    next_due_key: Mapped[str | None] = mapped_column(String(64), default=None)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The planned move to the next phase (latest phase_transfer_planned), for cohort lists.
    phase_transfer_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    phase_transfer_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    events: Mapped[list[CaseEvent]] = relationship(order_by="CaseEvent.seq", viewonly=True)
    child: Mapped[Any] = relationship("Child", viewonly=True)
    caseworker: Mapped[Any] = relationship("User", viewonly=True)


class CaseEvent(TenantScoped, Base):
    """One thing that happened on a case, in the api-v1 event vocabulary. Immutable."""

    __tablename__ = "case_event"
    __app_grants__ = ("SELECT", "INSERT")
    __table_args__ = (
        _case_fk("case_event"),
        UniqueConstraint("tenant_id", "case_id", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    case_id: Mapped[uuid.UUID]
    #: Order of recording within the case (1, 2, ...): corrections resolve in this order.
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(48))
    #: The day it happened (not the day it was recorded).
    date: Mapped[dt.date] = mapped_column(Date)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The earlier event this one replaces, if it is a correction.
    corrects_event_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_type: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(120))

    def as_event(self) -> dict[str, Any]:
        """The api-v1 shape the workflow rules and the timescale engine read."""
        event: dict[str, Any] = {**self.attributes, "type": self.type, "date": self.date.isoformat(), "id": str(self.id)}
        if self.corrects_event_id is not None:
            event["corrects"] = str(self.corrects_event_id)
        return event


class CaseDeadline(TenantScoped, Base):
    """A statutory (or council-target) deadline of a case, as the engine last computed it.

    Rebuilt on every event. Lists ask "what is due by ..." with ``last_day`` and ``met_on``
    rather than the stored ``status``, so they stay right as days pass between events.
    """

    __tablename__ = "case_deadline"
    __table_args__ = (
        _case_fk("case_deadline"),
        Index("ix_case_deadline_tenant_id_case_id", "tenant_id", "case_id"),
        # Reminders and "due this week": open deadlines of a council by last compliant day.
        Index("ix_case_deadline_tenant_id_last_day_open", "tenant_id", "last_day",
              postgresql_where=text("met_on IS NULL AND exception IS NULL"),
              sqlite_where=text("met_on IS NULL AND exception IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    case_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(64))
    #: Tells repeated keys apart (the advice id, the school's URN).
    ref: Mapped[str | None] = mapped_column(String(64))
    due: Mapped[dt.date] = mapped_column(Date)
    #: ``due``, or the day before it for "before" comparisons (phase transfers).
    last_day: Mapped[dt.date] = mapped_column(Date)
    comparison: Mapped[str] = mapped_column(String(16))
    statutory: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16))
    citation: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(300))
    met_on: Mapped[dt.date | None] = mapped_column(Date)
    exception: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, default=None)
    provisional: Mapped[bool] = mapped_column(default=False)
    computed_on: Mapped[dt.date] = mapped_column(Date)


class PlanVersion(TenantScoped, Base):
    """A version of a case's EHC plan (sections A to K as structured data).

    ``draft``: the working copy, editable. ``served``: the draft as served on the family
    (reg 13(1)), frozen. ``issued``: a final or amended plan, frozen, rendered to PDF. On
    PostgreSQL a trigger refuses any change to a version that is no longer a draft.
    """

    __tablename__ = "plan_version"
    __table_args__ = (
        _case_fk("plan_version"),
        UniqueConstraint("tenant_id", "case_id", "number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    case_id: Mapped[uuid.UUID]
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The version this one was started from (the last issued, for an amendment).
    based_on_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: The event that froze it (draft_plan_served, final_plan_issued, amended_plan_issued).
    event_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    issued_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), default=None)


class ReviewMeeting(TenantScoped, Base):
    """An annual (or early) review meeting: who is invited, what was considered."""

    __tablename__ = "review_meeting"
    __table_args__ = (
        _case_fk("review_meeting"),
        Index("ix_review_meeting_tenant_id_case_id", "tenant_id", "case_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    case_id: Mapped[uuid.UUID]
    meeting_on: Mapped[dt.date] = mapped_column(Date)
    #: [{"name", "role", "organisation", "email"}]: reg 20(2) says who must be invited.
    invitees: Mapped[list[Any]] = mapped_column(default=list)
    #: Preparing-for-adulthood checklist (reg 20(6)), from Year 9: {item: {"discussed": bool, "notes": str}}.
    pfa_checklist: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Document(TenantScoped, Base):
    """A file about a child: advice, review papers and reports, plan PDFs, evidence.

    The bytes live in the documents store (``core.storage``) under ``tenants/<tenant_id>/``;
    this row holds what is needed to find, check and show them.
    """

    __tablename__ = "document"
    __table_args__ = (
        _child_fk("document"),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["ehc_case.tenant_id", "ehc_case.id"], ondelete="RESTRICT",
                             name="fk_document_tenant_id_case_id_ehc_case"),
        Index("ix_document_tenant_id_case_id", "tenant_id", "case_id"),
        Index("ix_document_tenant_id_child_id", "tenant_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    child_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: ``advice``, ``plan_pdf``, ``review_paper``, ``review_report``, ``evidence`` or ``other``.
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    #: Links: which advice request, plan version or review meeting this belongs to.
    advice_id: Mapped[str | None] = mapped_column(String(64), default=None)
    plan_version_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    review_meeting_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: Sent in through a portal with this submission (core.submissions).
    submission_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))


class Notification(TenantScoped, Base):
    """Something a member of staff should be told (a deadline coming up).

    ``dedupe_key`` makes the daily reminder job idempotent: running it twice tells nobody twice.
    Delivered through the council's notifications plugin (GOV.UK Notify) when one is enabled,
    as a durable plugin call; otherwise written to the application log (core/cases/jobs.py).
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE",
                             name="fk_notification_tenant_id_user_id_app_user"),
        _case_fk("notification"),
        Index("ix_notification_tenant_id_user_id_created_at", "tenant_id", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    user_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(32))
    deadline_key: Mapped[str | None] = mapped_column(String(64))
    due: Mapped[dt.date | None] = mapped_column(Date)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16), default="log")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    read_at: Mapped[dt.datetime | None] = mapped_column(default=None)
