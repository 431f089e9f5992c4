"""Disagreements about a child's EHC case (issue 6; statutory-rules.md §2.6, §8).

One :class:`Disagreement` per dispute, of one ``kind``:

* ``mediation`` (CFA 2014 ss52-56, SEND Regs 2014 regs 32-42): about an appealable decision;
* ``appeal`` to the First-tier Tribunal (SEND) (CFA 2014 s51; HESC Rules 2008);
* ``dr_referral``: a referral to a disagreement resolution service (s57; CoP 11.7ff), for
  wider disputes; it has no statutory clock and does not affect appeal rights;
* ``complaint``: the council's complaints procedure, then the LGSCO (or routes outside it).

The statutory clocks are **not** stored here: every step that the law times is recorded as
the api-v1 case event it is (``core.cases.services.record_event``), so the timescale engine
derives the deadlines on the case. A :class:`DisagreementStep` keeps the history of the
dispute itself and points at the case event where there is one. The columns below are the
dispute's current picture, updated from its steps in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped

KINDS = ("mediation", "appeal", "dr_referral", "complaint")
STATUSES = ("open", "closed")
#: What an appeal is about (CFA 2014 s51(2)); plan content split by section (B, F, I).
APPEAL_GROUNDS = ("refuse_assess", "not_issue", "plan_content_b", "plan_content_f", "plan_content_i",
                  "refuse_reassess", "refuse_amend", "cease")
APPEAL_OUTCOMES = ("dismissed", "allowed", "allowed_in_part", "withdrawn", "conceded")
#: api-v1 ``tribunal_order_made.order``.
ORDER_KINDS = ("assess", "issue_plan", "amend", "name_school", "continue", "cease")
CERTIFICATE_KINDS = ("declined", "after_mediation", "not_arranged")
MEDIATION_OUTCOMES = ("resolved", "partly_resolved", "not_resolved")
DR_PARTIES = ("school", "college", "early_years", "health", "social_care", "council", "other")
#: Complaint stages: the council's own two stages, the LGSCO, and routes outside the council.
COMPLAINT_STAGES = ("stage_1", "stage_2", "lgsco", "nhs", "phso", "school", "secretary_of_state")
COMPLAINT_OUTCOMES = ("upheld", "partly_upheld", "not_upheld", "withdrawn", "out_of_remit")


def _case_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "case_id"], ["ehc_case.tenant_id", "ehc_case.id"], ondelete="RESTRICT",
                                name=f"fk_{table}_tenant_id_case_id_ehc_case")


def _disagreement_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "disagreement_id"], ["disagreement.tenant_id", "disagreement.id"],
                                ondelete="CASCADE", name=f"fk_{table}_tenant_id_disagreement_id_disagreement")


class Disagreement(TenantScoped, Base):
    """One dispute about a child's case: its kind, where it stands, and its particulars."""

    __tablename__ = "disagreement"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        _case_fk("disagreement"),
        ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="RESTRICT",
                             name="fk_disagreement_tenant_id_child_id_child"),
        ForeignKeyConstraint(["tenant_id", "owner_id"], ["app_user.tenant_id", "app_user.id"],
                             name="fk_disagreement_tenant_id_owner_id_app_user"),
        Index("ix_disagreement_tenant_id_case_id", "tenant_id", "case_id"),
        Index("ix_disagreement_tenant_id_status_kind", "tenant_id", "status", "kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    case_id: Mapped[uuid.UUID]
    #: The case's child (denormalised for audit and lists; always the case's child).
    child_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="open")
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    closed_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    #: The caseworker who owns it.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: What it is about, in the family's or council's words.
    summary: Mapped[str | None] = mapped_column(Text, default=None)

    # --- mediation and appeal: the appealable decision (regs 32-33; api-v1 decision values)
    #: The ``decision_letter_sent`` case event the dispute is about.
    decision_event_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    decision: Mapped[str | None] = mapped_column(String(20), default=None)
    decision_sent_on: Mapped[dt.date | None] = mapped_column(Date, default=None)

    # --- mediation (regs 33-42)
    adviser_contacted_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: True: mediation_requested; False: mediation_declined; None: not yet known.
    wants_mediation: Mapped[bool | None] = mapped_column(Boolean, default=None)
    includes_health: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Names of the health bodies (ICBs) told of the issues (reg 36).
    health_bodies: Mapped[list[Any]] = mapped_column(default=list)
    health_notified_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    provider: Mapped[str | None] = mapped_column(String(200), default=None)
    mediator: Mapped[str | None] = mapped_column(String(200), default=None)
    arranged_for: Mapped[dt.date | None] = mapped_column(Date, default=None)
    not_arranged_notified_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    held_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    mediation_outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    certificate_issued_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    certificate_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    agreement_made_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    agreement_text: Mapped[str | None] = mapped_column(Text, default=None)
    agreement_appealable: Mapped[bool | None] = mapped_column(Boolean, default=None)
    agreement_la_party: Mapped[bool | None] = mapped_column(Boolean, default=None)
    #: A different timescale the parties agreed in writing (reg 42(5)).
    agreement_due: Mapped[dt.date | None] = mapped_column(Date, default=None)
    agreement_actioned_on: Mapped[dt.date | None] = mapped_column(Date, default=None)

    # --- appeal (First-tier Tribunal SEND)
    tribunal_reference: Mapped[str | None] = mapped_column(String(40), default=None)
    #: Subset of :data:`APPEAL_GROUNDS`.
    grounds: Mapped[list[Any]] = mapped_column(default=list)
    lodged_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    registered_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    late_permission: Mapped[bool | None] = mapped_column(Boolean, default=None)
    #: From the Tribunal's registration letter (None: the engine's default is shown).
    response_due: Mapped[dt.date | None] = mapped_column(Date, default=None)
    response_submitted_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: The day the council told the Tribunal it would not oppose (reg 45).
    conceded_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    hearing_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    decided_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    appeal_outcome: Mapped[str | None] = mapped_column(String(20), default=None)

    # --- dr_referral (s57) and complaint
    #: Subset of :data:`DR_PARTIES`.
    parties: Mapped[list[Any]] = mapped_column(default=list)
    referred_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    meeting_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    outcome: Mapped[str | None] = mapped_column(Text, default=None)
    #: Complaint: the day the complainant became aware of the matter (LGSCO guidance).
    aware_on: Mapped[dt.date | None] = mapped_column(Date, default=None)

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))


class DisagreementStep(TenantScoped, Base):
    """One thing that happened in a dispute, in the api-v1 event vocabulary (plus the
    dispute-only steps, such as a hearing being listed). Never changed or deleted."""

    __tablename__ = "disagreement_step"
    __app_grants__ = ("SELECT", "INSERT")
    __table_args__ = (
        _disagreement_fk("disagreement_step"),
        Index("ix_disagreement_step_tenant_id_disagreement_id", "tenant_id", "disagreement_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    disagreement_id: Mapped[uuid.UUID]
    type: Mapped[str] = mapped_column(String(48))
    date: Mapped[dt.date] = mapped_column(Date)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The case event this step was recorded as, when the law times it.
    case_event_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(120))


class TribunalOrder(TenantScoped, Base):
    """An order of the Tribunal (one row each), with its reg 44 compliance clock on the case."""

    __tablename__ = "tribunal_order"
    __table_args__ = (
        _disagreement_fk("tribunal_order"),
        Index("ix_tribunal_order_tenant_id_disagreement_id", "tenant_id", "disagreement_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    disagreement_id: Mapped[uuid.UUID]
    #: api-v1 ``tribunal_order_made.order``.
    order: Mapped[str] = mapped_column(String(20))
    made_on: Mapped[dt.date] = mapped_column(Date)
    #: What the order requires, in the Tribunal's words.
    requires: Mapped[str | None] = mapped_column(Text, default=None)
    #: The ``tribunal_order_made`` case event.
    case_event_id: Mapped[uuid.UUID]
    #: When the engine last found its clock(s) met: every clock of the order met, on the
    #: latest met date. Kept up to date whenever the dispute is read or changed.
    complied_on: Mapped[dt.date | None] = mapped_column(Date, default=None)


class ComplaintStage(TenantScoped, Base):
    """A stage of a complaint: the council's stage 1 or 2, the LGSCO, or a route outside."""

    __tablename__ = "complaint_stage"
    __table_args__ = (
        _disagreement_fk("complaint_stage"),
        UniqueConstraint("tenant_id", "disagreement_id", "stage"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    disagreement_id: Mapped[uuid.UUID]
    stage: Mapped[str] = mapped_column(String(24))
    received_on: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(60), default=None)
    #: The council's own response target (not statutory), from its settings at receipt.
    target_due: Mapped[dt.date | None] = mapped_column(Date, default=None)
    responded_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    remedy: Mapped[str | None] = mapped_column(Text, default=None)
