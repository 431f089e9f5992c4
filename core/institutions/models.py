"""Educational settings, keyed by their DfE Unique Reference Number (URN).

Institutions are **shared reference data, not tenant-owned**, deliberately:
  * a URN is a national identifier published by DfE (Get Information about Schools); the
    same school is the same row whichever council looks at it;
  * schools routinely take children placed by several councils (out-of-area placements),
    and a SENCO's access (issue #4) is by URN across every council that places children
    there, so the institution must not belong to any one council;
  * the table holds no personal data, only what GIAS publishes.
Councils therefore only *read* it (the runtime role has SELECT only); it is loaded by
operators. What is tenant-owned is the link between a council's child and an institution:
:class:`core.children.models.Placement`.
"""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, Enum, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Phase(str, enum.Enum):
    """GIAS phase of education."""

    NURSERY = "nursery"
    PRIMARY = "primary"
    MIDDLE = "middle"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"
    SIXTEEN_PLUS = "16_plus"
    NOT_APPLICABLE = "not_applicable"


class InstitutionKind(str, enum.Enum):
    """A coarse grouping of GIAS establishment types, enough for SEN2 and placement rules."""

    EARLY_YEARS = "early_years"
    MAINSTREAM_MAINTAINED = "mainstream_maintained"
    ACADEMY = "academy"
    FREE_SCHOOL = "free_school"
    INDEPENDENT = "independent"
    SPECIAL_MAINTAINED = "special_maintained"
    SPECIAL_ACADEMY = "special_academy"
    NON_MAINTAINED_SPECIAL = "non_maintained_special"
    INDEPENDENT_SPECIAL = "independent_special"
    ALTERNATIVE_PROVISION = "alternative_provision"
    HOSPITAL = "hospital"
    FURTHER_EDUCATION = "further_education"
    SIXTH_FORM = "sixth_form"
    SPECIALIST_POST16 = "specialist_post16"
    YOUTH_CUSTODY = "youth_custody"
    OVERSEAS_SERVICE = "overseas_service"
    OTHER = "other"


def _values(e: type[enum.Enum]) -> list[str]:
    return [m.value for m in e]


class Institution(Base):
    __tablename__ = "institution"
    __app_grants__ = ("SELECT",)
    __table_args__ = (
        CheckConstraint("urn BETWEEN 100000 AND 999999", name="urn_six_digits"),
        Index("ix_institution_la_code_name", "la_code", "name"),
    )

    #: DfE URN: six digits, assigned by GIAS, never reused.
    urn: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[InstitutionKind] = mapped_column(Enum(InstitutionKind, native_enum=False, length=32, values_callable=_values))
    #: The GIAS establishment type as published (e.g. "Community special school").
    establishment_type: Mapped[str] = mapped_column(String(100))
    phase: Mapped[Phase] = mapped_column(Enum(Phase, native_enum=False, length=32, values_callable=_values))
    #: The DfE code of the local authority the institution is in (not the placing council).
    la_code: Mapped[str] = mapped_column(String(3))
    postcode: Mapped[str | None] = mapped_column(String(8))
    ukprn: Mapped[int | None] = mapped_column(Integer)
    open: Mapped[bool] = mapped_column(default=True)
