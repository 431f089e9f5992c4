"""Permission-checked lookup of a child's circumstance (STYLE.md section 3, layer 4)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.children.models import Child
from core.circumstances.models import Circumstance
from core.db import db
from core.errors import NotFound
from core.ids import parse_id


def access_circumstance(actor: Actor, child: Child, circumstance_id: uuid.UUID | str, *,
                        for_write: bool = False) -> Circumstance:
    """A circumstance of ``child`` (already accessed, for write when ``for_write``).

    The same :class:`NotFound` for a malformed id, a missing record, another child's or
    another council's record, and an actor who may not read (or change) it. Circumstances
    are council staff's records (they may name a social worker or a child protection plan):
    portal users (families, schools, professionals) never see them. A read is audited as
    ``circumstance.viewed``.
    """
    cid = parse_id(circumstance_id)
    if cid is None:
        raise NotFound("circumstance")
    if not actor.can(permissions.CHILDREN_READ) or actor.scope is not None:
        raise NotFound("circumstance")
    if for_write and not actor.can(permissions.CHILDREN_WRITE):
        raise NotFound("circumstance")
    row = db.session.execute(
        select(Circumstance).where(Circumstance.id == cid, Circumstance.child_id == child.id)
    ).scalar_one_or_none()  # tenant-filtered by the ORM criterion and by RLS
    if row is None:
        raise NotFound("circumstance")
    if row.tenant_id != actor.tenant_id:  # unreachable while layers 2 and 3 hold
        raise AssertionError("tenant mismatch")
    if not for_write:
        audit.record(actor, "circumstance.viewed", subject_type="child", subject_ids=[child.id],
                     object_type="circumstance", object_id=row.id)
    return row
