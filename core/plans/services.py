"""EHC plans: the working draft, and the versions frozen when a draft is served or a plan
issued (reg 13). Content is sections A to K as structured data (``core.plans.content``).

TODO(#3): content schema and validation, the field-level diff, the PDF of each issued version.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import func, select

from core.actors import Actor
from core.cases.models import Case, CaseEvent, PlanVersion
from core.db import db

#: Events that freeze the working draft, and the state they freeze it in.
FREEZING_EVENTS = {"draft_plan_served": "served", "final_plan_issued": "issued", "amended_plan_issued": "issued"}


def versions(case: Case) -> list[PlanVersion]:
    """Every version of the case's plan, oldest first."""
    return list(db.session.execute(
        select(PlanVersion).where(PlanVersion.case_id == case.id).order_by(PlanVersion.number)).scalars())


def current_draft(case: Case) -> PlanVersion | None:
    return db.session.execute(
        select(PlanVersion).where(PlanVersion.case_id == case.id, PlanVersion.state == "draft")).scalar_one_or_none()


def latest_frozen(case: Case) -> PlanVersion | None:
    return db.session.execute(
        select(PlanVersion).where(PlanVersion.case_id == case.id, PlanVersion.state != "draft")
        .order_by(PlanVersion.number.desc()).limit(1)).scalar_one_or_none()


def _next_number(case: Case) -> int:
    return (db.session.execute(select(func.max(PlanVersion.number)).where(PlanVersion.case_id == case.id)).scalar() or 0) + 1


def _new_draft(actor: Actor, case: Case, content: dict[str, Any], based_on: PlanVersion | None) -> PlanVersion:
    draft = PlanVersion(case_id=case.id, number=_next_number(case), state="draft", content=copy.deepcopy(content),
                        based_on_id=based_on.id if based_on else None, updated_by=actor.id)
    db.session.add(draft)
    db.session.flush()
    return draft


def on_case_event(actor: Actor, case: Case, event: CaseEvent) -> None:
    """Freeze the working draft when it is served on the family or issued as the plan.

    A served draft stays editable as a new working draft (changes after representations are
    made there); an issued plan is final. With no working draft the frozen version copies
    the last frozen one, so an issued plan always exists once ``final_plan_issued`` is recorded.
    """
    state = FREEZING_EVENTS.get(event.type)
    if state is None:
        return
    draft = current_draft(case)
    if draft is None:
        previous = latest_frozen(case)
        draft = _new_draft(actor, case, previous.content if previous else {}, previous)
    draft.state = state
    draft.event_id = event.id
    if state == "issued":
        draft.issued_on = event.date
    db.session.flush()
    if state == "served":
        _new_draft(actor, case, draft.content, draft)
