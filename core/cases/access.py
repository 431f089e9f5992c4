"""Permission-checked lookups of cases (STYLE.md section 3, layer 4)."""

from __future__ import annotations

import uuid

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases.models import Case
from core.db import db
from core.errors import NotFound
from core.identity.scope import case_in_scope
from core.ids import parse_id


def access_case(actor: Actor, case_id: uuid.UUID | str, *, for_write: bool = False) -> Case:
    """The case with ``case_id`` if ``actor`` may see it (or change it, ``for_write``).

    The same :class:`NotFound` for a malformed id, a missing case, another council's case,
    and one the actor may not read or write. A read is recorded against the child as
    ``case.viewed``; writers record their own events.
    """
    cid = parse_id(case_id)
    if cid is None:
        raise NotFound("case")
    if not actor.can(permissions.CASES_READ):
        raise NotFound("case")
    if for_write and not actor.can(permissions.CASES_WRITE):
        raise NotFound("case")
    case = db.session.get(Case, cid)  # tenant-filtered by the ORM criterion and by RLS
    if case is None:
        raise NotFound("case")
    if case.tenant_id != actor.tenant_id:  # unreachable while layers 2 and 3 hold
        raise AssertionError("tenant mismatch")
    if not case_in_scope(actor, case.id, case.child_id):  # a SENCO, family or professional: only theirs
        raise NotFound("case")
    if not for_write:
        audit.record(actor, "case.viewed", subject_type="child", subject_ids=[case.child_id],
                     object_type="case", object_id=case.id)
    return case
