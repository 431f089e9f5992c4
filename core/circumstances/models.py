"""A child's specific circumstances (SEND Code of Practice chapter 10; issue 6).

Each circumstance is a dated record (``started_on`` .. ``ended_on``, open-ended while it
lasts) of one :class:`CircumstanceKind`, with the details the law makes matter for that
kind: the people who must be involved (a looked-after child's virtual school head,
designated teacher and social worker; a youth offending team), the council responsible,
the setting or establishment, and the dates that start or stop duties (a detention, a
release, a Service posting). Which details belong to which kind is the single table
``core.circumstances.services.KIND_FIELDS``; unused columns stay NULL.

One table rather than one per kind: a caseworker's view, the API and the review invitees
all read "the child's circumstances" as one dated list, and the kinds share most columns
(a social worker, an institution, a council code).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import Boolean, Date, Enum, ForeignKey, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped


class CircumstanceKind(str, enum.Enum):
    """The groups of CoP chapter 10 whose circumstances change what the council must do."""

    LOOKED_AFTER = "looked_after"  # Children Act 1989 s22; CoP 10.1ff
    CHILD_IN_NEED = "child_in_need"  # Children Act 1989 s17; CoP 10.21ff
    CHILD_PROTECTION = "child_protection"  # Children Act 1989 s47 plan; CoP 10.21ff
    ELECTIVE_HOME_EDUCATION = "elective_home_education"  # Education Act 1996 s7; CoP 10.30ff
    ALTERNATIVE_PROVISION = "alternative_provision"  # Education Act 1996 s19; CFA 2014 s61; CoP 10.38ff
    YOUTH_CUSTODY = "youth_custody"  # CFA 2014 ss70-75; SEND (Detained Persons) Regs 2015; CoP 10.60ff
    SERVICE_CHILD = "service_child"  # CoP 10.50ff (MOD CEAS, Service Children's Education)
    OUT_OF_AREA = "out_of_area"  # placed in another council's area; CoP 10.x, SEND Regs 2014 reg 15

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS: dict[CircumstanceKind, str] = {
    CircumstanceKind.LOOKED_AFTER: "Looked-after child",
    CircumstanceKind.CHILD_IN_NEED: "Child in need",
    CircumstanceKind.CHILD_PROTECTION: "Child protection plan",
    CircumstanceKind.ELECTIVE_HOME_EDUCATION: "Elective home education",
    CircumstanceKind.ALTERNATIVE_PROVISION: "Alternative provision or education otherwise than at school",
    CircumstanceKind.YOUTH_CUSTODY: "Youth custody",
    CircumstanceKind.SERVICE_CHILD: "Service child",
    CircumstanceKind.OUT_OF_AREA: "Placed out of area",
}


def _values(e: type[enum.Enum]) -> list[str]:
    return [m.value for m in e]


class Circumstance(TenantScoped, Base):
    """One dated circumstance of a child; the columns a kind does not use stay NULL."""

    __tablename__ = "circumstance"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="CASCADE",
                             name="fk_circumstance_tenant_id_child_id_child"),
        Index("ix_circumstance_tenant_id_child_id", "tenant_id", "child_id", "kind"),
        # The caseload filter "placed out of area" asks for current rows of one kind.
        Index("ix_circumstance_tenant_id_kind_ended_on", "tenant_id", "kind", "ended_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    child_id: Mapped[uuid.UUID]
    kind: Mapped[CircumstanceKind] = mapped_column(
        Enum(CircumstanceKind, native_enum=False, length=32, values_callable=_values))
    started_on: Mapped[dt.date] = mapped_column(Date)
    #: The last day it applied (for youth custody: the day of release). NULL while it lasts.
    ended_on: Mapped[dt.date | None] = mapped_column(Date, default=None)

    #: The child's social worker (looked after, child in need, child protection).
    social_worker_name: Mapped[str | None] = mapped_column(String(200), default=None)
    social_worker_email: Mapped[str | None] = mapped_column(String(254), default=None)
    social_worker_phone: Mapped[str | None] = mapped_column(String(40), default=None)
    #: Looked after: the virtual school head of the council that looks after the child.
    virtual_school_head_name: Mapped[str | None] = mapped_column(String(200), default=None)
    virtual_school_head_email: Mapped[str | None] = mapped_column(String(254), default=None)
    #: Looked after: the school's designated teacher for looked-after children.
    designated_teacher_name: Mapped[str | None] = mapped_column(String(200), default=None)
    designated_teacher_email: Mapped[str | None] = mapped_column(String(254), default=None)
    #: Looked after: the care placement (foster care, residential home ...).
    care_placement: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Looked after: the council that looks after the child, when it is not this council.
    responsible_la_code: Mapped[str | None] = mapped_column(String(3), default=None)
    #: Looked after / out of area: the council in whose area the child is placed or at school.
    placement_la_code: Mapped[str | None] = mapped_column(String(3), default=None)
    #: Looked after: where the personal education plan is kept, and when it was last reviewed.
    pep_url: Mapped[str | None] = mapped_column(String(500), default=None)
    pep_reviewed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    care_plan_reviewed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: Alternative provision: ``ap`` (an AP academy or free school), ``pru``, or ``eotas`` (s61).
    provision_type: Mapped[str | None] = mapped_column(String(16), default=None)
    #: The AP or PRU (alternative provision) or the school (out of area), by DfE URN.
    urn: Mapped[int | None] = mapped_column(ForeignKey("institution.urn"), default=None)
    #: Education otherwise than at school: who provides it and what it is.
    provider: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Elective home education: the council is satisfied the parents' own arrangements are
    #: suitable (CFA 2014 s42(5)); when not, the council must still secure the plan's provision.
    parents_arrangements_suitable: Mapped[bool | None] = mapped_column(Boolean, default=None)
    #: Youth custody: the relevant youth accommodation (CFA 2014 s70(5)) and the youth offending team.
    establishment: Mapped[str | None] = mapped_column(String(200), default=None)
    yot_name: Mapped[str | None] = mapped_column(String(200), default=None)
    yot_email: Mapped[str | None] = mapped_column(String(254), default=None)
    yot_phone: Mapped[str | None] = mapped_column(String(40), default=None)
    expected_release_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: Service child: the parent's service, overseas schooling and the next posting.
    service_branch: Mapped[str | None] = mapped_column(String(32), default=None)
    overseas: Mapped[bool | None] = mapped_column(Boolean, default=None)
    overseas_school: Mapped[str | None] = mapped_column(String(200), default=None)
    posting_location: Mapped[str | None] = mapped_column(String(200), default=None)
    expected_posting_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    notes: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def is_current(self, on: dt.date) -> bool:
        return self.started_on <= on and (self.ended_on is None or self.ended_on >= on)

    @property
    def label(self) -> str:
        return self.kind.label
