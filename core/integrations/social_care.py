"""A child's social care status, as the council's social care system reports it (issue #5).

Looked-after children (Children Act 1989 s22), children in need (s17) and children with a
child protection plan are the "specific circumstances" the SEND Code of Practice asks the
EHC process to take into account (CoP 10.1-10.29 and chapter 10 generally): caseworkers see the
status next to the case. It is stored as the partner last reported it, refreshed by a job.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.children.models import Child
from core.db import db, utcnow
from core.errors import Forbidden
from core.integrations.models import SocialCareStatusRecord
from core.plugin_api import SocialCareStatus


def store_social_care_status(actor: Actor, child_id: uuid.UUID, status: SocialCareStatus | None,
                             source: str) -> SocialCareStatusRecord | None:
    """Keep what the partner said (``None``: it does not know the child, so any earlier copy
    is removed rather than shown as current). Audited when anything changes."""
    row = db.session.execute(select(SocialCareStatusRecord).where(SocialCareStatusRecord.child_id == child_id)) \
        .scalar_one_or_none()
    if status is None:
        if row is not None:
            db.session.execute(delete(SocialCareStatusRecord).where(SocialCareStatusRecord.id == row.id))
            audit.record(actor, "child.social_care_status_removed", subject_type="child", subject_ids=[child_id])
        return None
    values = {"looked_after": status.looked_after, "child_in_need": status.child_in_need,
              "child_protection_plan": status.child_protection_plan,
              "social_worker": (status.social_worker or None) and status.social_worker[:200],
              "as_of": status.as_of, "source": source[:64]}
    if row is None:
        row = SocialCareStatusRecord(child_id=child_id, **values)
        db.session.add(row)
        changed = list(values)
    else:
        changed = [k for k, v in values.items() if getattr(row, k) != v]
        for key in changed:
            setattr(row, key, values[key])
    row.refreshed_at = utcnow()
    db.session.flush()
    if changed:
        audit.record(actor, "child.social_care_status_updated", subject_type="child", subject_ids=[child_id],
                     object_type="social_care_status", object_id=row.id, fields=sorted(changed))
    return row


def social_care_status_of(actor: Actor, child: Child) -> SocialCareStatusRecord | None:
    """The child's (already accessed) social care status for a member of staff. Audited as a
    read of the child's record. Only council staff see it: never a family, school or
    professional through the portals (it may name a social worker and a protection plan)."""
    if not actor.can(permissions.CASES_READ) or actor.scope is not None:
        raise Forbidden(permissions.CASES_READ)
    row = db.session.execute(select(SocialCareStatusRecord).where(SocialCareStatusRecord.child_id == child.id)) \
        .scalar_one_or_none()
    if row is not None:
        audit.record(actor, "child.social_care_status_read", subject_type="child", subject_ids=[child.id],
                     object_type="social_care_status", object_id=row.id)
    return row
