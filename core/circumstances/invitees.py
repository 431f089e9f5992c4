"""The people a child's circumstances add to a review meeting's suggested invitees.

SEND Regs 2014 reg 20(2)(e) asks for a council social care officer at every review; for a
looked-after child the CoP (10.1ff) adds the virtual school head and the designated
teacher, whose personal education plan should be joined up with the EHC plan; during youth
custody the youth offending team and the establishment (DP Regs reg 13(2) sends them the
plan) should be there too. Only what the council has recorded is suggested; the caseworker
can change every entry. No audit here: the caller (a review service) audits its own read.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from core.circumstances.models import Circumstance, CircumstanceKind
from core.db import db

#: Roles of the reviews' invitee vocabulary (core.cases.reviews.INVITEE_ROLES).
_SOCIAL_CARE = "la_social_care"
_OTHER = "other"


def circumstance_invitees(child_id: uuid.UUID, on: dt.date) -> list[dict[str, str]]:
    """``[{"name", "role", "organisation", "email"}]`` for circumstances current on ``on``."""
    rows = db.session.execute(
        select(Circumstance).where(Circumstance.child_id == child_id, Circumstance.started_on <= on)
        .order_by(Circumstance.started_on)).scalars()
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(name: str | None, role: str, organisation: str, email: str | None) -> None:
        if not name and not email:
            return
        key = ((email or "").lower(), (name or "").lower())
        if key in seen:
            return
        seen.add(key)
        out.append({"name": name or "", "role": role, "organisation": organisation, "email": email or ""})

    for row in rows:
        if not row.is_current(on):
            continue
        if row.kind in (CircumstanceKind.LOOKED_AFTER, CircumstanceKind.CHILD_IN_NEED,
                        CircumstanceKind.CHILD_PROTECTION):
            add(row.social_worker_name, _SOCIAL_CARE, "Social worker", row.social_worker_email)
        if row.kind == CircumstanceKind.LOOKED_AFTER:
            add(row.virtual_school_head_name, _OTHER, "Virtual school head", row.virtual_school_head_email)
            add(row.designated_teacher_name, _OTHER, "Designated teacher for looked-after children",
                row.designated_teacher_email)
        if row.kind == CircumstanceKind.YOUTH_CUSTODY:
            add(row.yot_name, _OTHER, "Youth offending team", row.yot_email)
            if row.establishment:
                # The relevant youth accommodation (CFA 2014 s70(5)): an organisation, no named person.
                out.append({"name": "", "role": _OTHER, "organisation": row.establishment, "email": ""})
    return out
