"""Permission-checked lookups of disagreements (STYLE.md section 3, layer 4)."""

from __future__ import annotations

import uuid

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.db import db
from core.disagreements.models import Disagreement
from core.errors import NotFound
from core.identity.scope import case_in_scope
from core.ids import parse_id


def access_disagreement(actor: Actor, disagreement_id: uuid.UUID | str, *, for_write: bool = False) -> Disagreement:
    """The disagreement with ``disagreement_id`` if ``actor`` may see it (or change it, ``for_write``).

    The same :class:`NotFound` for a malformed id, a missing disagreement, another council's,
    and one whose case the actor may not read (or write). A read is recorded against the child
    as ``disagreement.viewed``; writers record their own audit events.
    """
    did = parse_id(disagreement_id)
    if did is None:
        raise NotFound("disagreement")
    if not actor.can(permissions.DISAGREEMENTS_READ):
        raise NotFound("disagreement")
    if for_write and not actor.can(permissions.DISAGREEMENTS_WRITE):
        raise NotFound("disagreement")
    found = db.session.get(Disagreement, did)  # tenant-filtered by the ORM criterion and by RLS
    if found is None:
        raise NotFound("disagreement")
    if found.tenant_id != actor.tenant_id:  # unreachable while layers 2 and 3 hold
        raise AssertionError("tenant mismatch")
    if not case_in_scope(actor, found.case_id, found.child_id):  # a portal member: only their own cases
        raise NotFound("disagreement")
    if not for_write:
        audit.record(actor, "disagreement.viewed", subject_type="child", subject_ids=[found.child_id],
                     object_type="disagreement", object_id=found.id)
    return found
