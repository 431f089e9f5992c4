"""What part of a council an actor may see: all of it (council staff, systems) or only what
their memberships grant (SENCOs, parents, young people, professionals).

The ``access_*`` functions call these checks after the council's own filtering (the ORM
criterion and RLS), so a person outside the council never gets past the tenant, and a
person inside it with a membership sees only their part. A refusal is the same NotFound as
a missing object.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_, select

from core import clock
from core.actors import Actor
from core.cases.models import Case
from core.children.models import Child, Placement
from core.db import db


@dataclass(frozen=True)
class AccessScope:
    """The union of a person's live memberships in one council."""

    roles: frozenset[str] = field(default_factory=frozenset)
    #: SENCO: children currently on roll (placed) at these URNs.
    urns: frozenset[int] = field(default_factory=frozenset)
    #: Parent or young person: these children.
    child_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    #: Professional: these cases (and their children's basic details).
    case_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    #: Professional invited for particular advice: (case id, advice id) pairs.
    advice: frozenset[tuple[uuid.UUID, str]] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not (self.urns or self.child_ids or self.case_ids)


def _placed_at(child_id: uuid.UUID, urns: frozenset[int], on: dt.date) -> bool:
    if not urns:
        return False
    return db.session.execute(
        select(Placement.id).where(
            Placement.child_id == child_id, Placement.urn.in_(urns), Placement.started_on <= on,
            or_(Placement.ended_on.is_(None), Placement.ended_on >= on),
        ).limit(1)
    ).first() is not None


def child_in_scope(actor: Actor, child_id: uuid.UUID, *, on: dt.date | None = None) -> bool:
    """May ``actor`` see this child of the current council?"""
    scope = actor.scope
    if scope is None:
        return True
    if child_id in scope.child_ids:
        return True
    if scope.case_ids:
        if db.session.execute(select(Case.id).where(Case.child_id == child_id, Case.id.in_(scope.case_ids))
                              .limit(1)).first() is not None:
            return True
    return _placed_at(child_id, scope.urns, on or clock.today())


def case_in_scope(actor: Actor, case_id: uuid.UUID, child_id: uuid.UUID) -> bool:
    scope = actor.scope
    if scope is None or case_id in scope.case_ids:
        return True
    if scope.child_ids and child_id in scope.child_ids:
        return True
    return _placed_at(child_id, scope.urns, clock.today())


def document_in_scope(actor: Actor, case_id: uuid.UUID | None, child_id: uuid.UUID) -> bool:
    scope = actor.scope
    if scope is None:
        return True
    if case_id is not None and case_id in scope.case_ids:
        return True
    if child_id in scope.child_ids:
        return True
    return _placed_at(child_id, scope.urns, clock.today())


def _on_roll(urns: frozenset[int], on: dt.date) -> ColumnElement[bool]:
    return Child.id.in_(select(Placement.child_id).where(
        Placement.urn.in_(urns), Placement.started_on <= on, or_(Placement.ended_on.is_(None), Placement.ended_on >= on)))


def children_filter(actor: Actor) -> ColumnElement[bool] | None:
    """A WHERE clause on ``child`` limiting a list to the actor's scope (None: no limit)."""
    scope = actor.scope
    if scope is None:
        return None
    conds: list[ColumnElement[bool]] = []
    if scope.child_ids:
        conds.append(Child.id.in_(scope.child_ids))
    if scope.case_ids:
        conds.append(Child.id.in_(select(Case.child_id).where(Case.id.in_(scope.case_ids))))
    if scope.urns:
        conds.append(_on_roll(scope.urns, clock.today()))
    return or_(*conds) if conds else false()


def cases_filter(actor: Actor) -> ColumnElement[bool] | None:
    """A WHERE clause on ``ehc_case`` limiting a list to the actor's scope (None: no limit)."""
    scope = actor.scope
    if scope is None:
        return None
    conds: list[ColumnElement[bool]] = []
    if scope.case_ids:
        conds.append(Case.id.in_(scope.case_ids))
    if scope.child_ids:
        conds.append(Case.child_id.in_(scope.child_ids))
    if scope.urns:
        conds.append(Case.child_id.in_(select(Placement.child_id).where(
            Placement.urn.in_(scope.urns), Placement.started_on <= clock.today(),
            or_(Placement.ended_on.is_(None), Placement.ended_on >= clock.today()))))
    return or_(*conds) if conds else false()
