"""Children and young people, their contacts, and where they are on roll. All tenant-owned.

Child tables point at their child through a composite ``(tenant_id, child_id)`` foreign key
to ``child (tenant_id, id)``: the database itself refuses a contact or placement that points
into another council.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import Date, Enum, ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped


def _values(e: type[enum.Enum]) -> list[str]:
    return [m.value for m in e]


class Sex(str, enum.Enum):
    """Administrative sex, as HL7 FHIR ``AdministrativeGender`` (NHS and MIS exchanges)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Child(TenantScoped, Base):
    """A child or young person (0-25) known to the council's SEND service."""

    __tablename__ = "child"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        # One record per national identifier within a council.
        Index("uq_child_tenant_id_upn", "tenant_id", "upn", unique=True,
              postgresql_where=text("upn IS NOT NULL"), sqlite_where=text("upn IS NOT NULL")),
        Index("uq_child_tenant_id_nhs_number", "tenant_id", "nhs_number", unique=True,
              postgresql_where=text("nhs_number IS NOT NULL"), sqlite_where=text("nhs_number IS NOT NULL")),
        Index("uq_child_tenant_id_uln", "tenant_id", "uln", unique=True,
              postgresql_where=text("uln IS NOT NULL"), sqlite_where=text("uln IS NOT NULL")),
        Index("ix_child_tenant_id_date_of_birth", "tenant_id", "date_of_birth"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    upn: Mapped[str | None] = mapped_column(String(13))
    uln: Mapped[str | None] = mapped_column(String(10))
    nhs_number: Mapped[str | None] = mapped_column(String(10))
    sex: Mapped[Sex | None] = mapped_column(Enum(Sex, native_enum=False, length=16, values_callable=_values))
    postcode: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="child", order_by="Contact.created_at", cascade="all, delete-orphan", overlaps="placements,child"
    )
    placements: Mapped[list[Placement]] = relationship(
        back_populates="child", order_by="Placement.started_on.desc()", cascade="all, delete-orphan",
        overlaps="contacts,child",
    )

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


# Finding a child: by name prefix, case-insensitively (text_pattern_ops makes LIKE 'abc%'
# use the index whatever the database collation), and by date of birth.
Index(
    "ix_child_tenant_id_family_name",
    Child.tenant_id,
    func.lower(Child.family_name).label("family_name_lower"),
    func.lower(Child.given_name).label("given_name_lower"),
    postgresql_ops={"family_name_lower": "text_pattern_ops", "given_name_lower": "text_pattern_ops"},
)


class Relationship(str, enum.Enum):
    MOTHER = "mother"
    FATHER = "father"
    PARENT = "parent"
    STEP_PARENT = "step_parent"
    GRANDPARENT = "grandparent"
    OTHER_RELATIVE = "other_relative"
    FOSTER_CARER = "foster_carer"
    SPECIAL_GUARDIAN = "special_guardian"
    CARER = "carer"
    SOCIAL_WORKER = "social_worker"
    ADVOCATE = "advocate"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Contact(TenantScoped, Base):
    """A person connected with the child: parent, carer, social worker, advocate ...

    ``parental_responsibility`` matters in law: parents' rights under CFA 2014 Part 3 (to
    request an assessment, be consulted, appeal) belong to those with parental
    responsibility or care of the child (Education Act 1996 s576), and portal access for
    families (issue #4) is granted only to contacts with it.
    """

    __tablename__ = "contact"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="CASCADE"),
        Index("ix_contact_tenant_id_child_id", "tenant_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    child_id: Mapped[uuid.UUID]
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    relationship_to_child: Mapped[Relationship] = mapped_column(
        "relationship", Enum(Relationship, native_enum=False, length=32, values_callable=_values)
    )
    parental_responsibility: Mapped[bool] = mapped_column(default=False)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    postcode: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    child: Mapped[Child] = relationship(back_populates="contacts", overlaps="placements")

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Placement(TenantScoped, Base):
    """The child is on roll at (or placed with) an institution, from a date, maybe until one."""

    __tablename__ = "placement"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="CASCADE"),
        Index("ix_placement_tenant_id_child_id", "tenant_id", "child_id"),
        # A SENCO's view (issue #4) asks "who is on roll here?" across councils by URN.
        Index("ix_placement_urn_tenant_id", "urn", "tenant_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    child_id: Mapped[uuid.UUID]
    urn: Mapped[int] = mapped_column(ForeignKey("institution.urn"))
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    child: Mapped[Child] = relationship(back_populates="placements", overlaps="contacts")
    institution: Mapped["Institution"] = relationship(lazy="joined")

    def is_current(self, on: dt.date) -> bool:
        return self.started_on <= on and (self.ended_on is None or self.ended_on >= on)


from core.institutions.models import Institution  # noqa: E402  (relationship target)
