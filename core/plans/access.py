"""Permission-checked lookups of plans and their versions (STYLE.md section 3, layer 4)."""

from __future__ import annotations

import uuid

from core import permissions
from core.actors import Actor
from core.cases.access import access_case
from core.cases.models import Case, PlanVersion
from core.db import db
from core.errors import NotFound
from core.ids import parse_id


def access_plan_case(actor: Actor, case_id: uuid.UUID | str, *, for_write: bool = False) -> Case:
    """The case whose plan ``actor`` may read (or write, ``for_write``).

    Plans have their own permissions (``plans.read``, ``plans.write``): an API client with
    ``plans:write`` may change a draft without being able to record case events. Whatever is
    missing (the permission, the case, the council) raises the same :class:`NotFound`. The
    case is read through :func:`access_case`, which records ``case.viewed`` against the child.
    """
    if not actor.can(permissions.PLANS_READ):
        raise NotFound("case")
    if for_write and not actor.can(permissions.PLANS_WRITE):
        raise NotFound("case")
    return access_case(actor, case_id)


def access_version(actor: Actor, case: Case, version_id: uuid.UUID | str) -> PlanVersion:
    """A version of the plan of ``case`` (already accessed). The same :class:`NotFound` for a
    malformed id, a missing version and a version of another case or council."""
    vid = parse_id(version_id)
    if vid is None or not actor.can(permissions.PLANS_READ):
        raise NotFound("plan version")
    version = db.session.get(PlanVersion, vid)  # tenant-filtered by the ORM criterion and by RLS
    if version is None:
        raise NotFound("plan version")
    if version.case_id != case.id:
        raise NotFound("plan version")
    if version.tenant_id != actor.tenant_id:  # unreachable while layers 2 and 3 hold
        raise AssertionError("tenant mismatch")
    return version
