"""What people outside the council send in through the portals (issue #4).

One table for all of it, so a caseworker has one place to see what has arrived on a case
and to mark it dealt with: a family's views for Section A, their comments on a draft plan
(per section, inside the representations window), a preferred school, a request for a
personal budget, a request for an assessment (from a family or a school), a professional's
advice, a school's annual review papers and report. Files sent with a submission are
:class:`core.cases.models.Document` rows pointing back at it (``submission_id``).

Where a submission is also a step in the law (a request for an assessment, advice returned,
a review report sent) the portal service records that step on the case in the same
transaction, so the statutory clock starts (or stops) the day it arrives, not the day a
caseworker notices it.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import Enum, ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped


class SubmissionKind(str, enum.Enum):
    VIEWS = "views"
    DRAFT_COMMENT = "draft_comment"
    PREFERRED_SCHOOL = "preferred_school"
    PERSONAL_BUDGET = "personal_budget"
    ASSESSMENT_REQUEST = "assessment_request"
    ADVICE = "advice"
    REVIEW_PAPER = "review_paper"
    REVIEW_REPORT = "review_report"

    @property
    def label(self) -> str:
        return {
            "views": "Views, interests and aspirations (Section A)",
            "draft_comment": "Comment on the draft plan",
            "preferred_school": "Preferred school or college",
            "personal_budget": "Request for a personal budget",
            "assessment_request": "Request for an EHC needs assessment",
            "advice": "Advice",
            "review_paper": "Annual review papers",
            "review_report": "Annual review report",
        }[self.value]


class Submission(TenantScoped, Base):
    __tablename__ = "submission"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="CASCADE",
                             name="fk_submission_tenant_id_child_id_child"),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["ehc_case.tenant_id", "ehc_case.id"], ondelete="CASCADE",
                             name="fk_submission_tenant_id_case_id_ehc_case"),
        Index("ix_submission_tenant_id_case_id_submitted_at", "tenant_id", "case_id", "submitted_at"),
        Index("ix_submission_tenant_id_child_id", "tenant_id", "child_id"),
        Index("ix_submission_tenant_id_acknowledged_at", "tenant_id", "acknowledged_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    child_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    kind: Mapped[SubmissionKind] = mapped_column(
        Enum(SubmissionKind, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e]))
    #: For a draft comment: the plan section (``A``..``K``); for advice: the advice request id.
    section: Mapped[str | None] = mapped_column(String(64), default=None)
    plan_version_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    review_meeting_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: What was said, as the form's fields (validated per kind by the portal services).
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Free text of the main answer, kept separately so it can be searched and shown whole.
    text: Mapped[str] = mapped_column(Text, default="")
    #: ``identity:<id>``; and in what capacity (parent, young_person, senco, professional).
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_as: Mapped[str] = mapped_column(String(16))
    submitted_by_name: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: The case event this submission recorded (request received, advice received ...).
    case_event_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: A caseworker has read it and dealt with it.
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(default=None)
