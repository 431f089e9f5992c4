"""Permission-checked lookups of children: the only way to turn an id from a request into a
:class:`Child` (STYLE.md section 3, layer 4). Every lookup that shows a child's record to an
actor is recorded in the audit log."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.children.models import Child, Contact
from core.db import db
from core.errors import NotFound
from core.identity.scope import child_in_scope
from core.ids import parse_id


def access_child(actor: Actor, child_id: uuid.UUID | str, *, for_write: bool = False) -> Child:
    """The child with ``child_id`` if ``actor`` may see it (or change it, ``for_write``).

    Raises the same :class:`NotFound` for a malformed id, a missing child, another
    council's child, and a child the actor may not read or write.
    A read (``for_write=False``) is recorded as ``child.viewed``; writers record their own.
    """
    cid = parse_id(child_id)
    if cid is None:
        raise NotFound("child")
    if not actor.can(permissions.CHILDREN_READ):
        raise NotFound("child")
    if for_write and not actor.can(permissions.CHILDREN_WRITE):
        raise NotFound("child")
    child = db.session.get(Child, cid)  # tenant-filtered by the ORM criterion and by RLS
    if child is None:
        raise NotFound("child")
    if child.tenant_id != actor.tenant_id:  # unreachable while layers 2 and 3 hold
        raise AssertionError("tenant mismatch")
    if not child_in_scope(actor, child.id):  # a SENCO, family or professional: only their part
        raise NotFound("child")
    if not for_write:
        audit.record(actor, "child.viewed", subject_type="child", subject_ids=[child.id])
    return child


def access_contact(actor: Actor, child: Child, contact_id: uuid.UUID | str, *, for_write: bool = False) -> Contact:
    """A contact of ``child`` (already accessed); the same :class:`NotFound` otherwise."""
    cid = parse_id(contact_id)
    if cid is None:
        raise NotFound("contact")
    if for_write and not actor.can(permissions.CHILDREN_WRITE):
        raise NotFound("contact")
    contact = db.session.execute(
        select(Contact).where(Contact.id == cid, Contact.child_id == child.id)
    ).scalar_one_or_none()
    if contact is None:
        raise NotFound("contact")
    return contact
