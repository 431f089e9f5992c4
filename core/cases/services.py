"""EHC cases: opening, recording events, deadlines, finding.

Recording an event is one transaction: check its shape (422), check it can happen now (409),
append it, recompute the case's deadlines and stage from all its events, let the plan react
(freeze a served draft, issue a version), and audit it against the child.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import selectinload

from core import clock, permissions
from core.plugins import calls as outbox
# Advice requests to partner systems (issue #5); importing it also registers its call builders.
from core.integrations import advice as partner_advice
from core.actors import Actor
from core.audit import services as audit
from core.cases.models import Case, CaseDeadline, CaseEvent
from core.cases.workflow import OPENING_EVENTS, STAGES, WorkflowRefusal, check_next_event, derive_state
from core.children.models import Child
from core.children.services import matching_child_ids
from core.db import db
from core.errors import Conflict, Forbidden, ValidationFailed
from core.identity.scope import cases_filter
from core.plans.services import check_case_event, on_case_event
from core.timescales import (
    Deadline, InvalidEventsError, SlaTarget, TimescalePolicy, apply_corrections, compute_deadlines, validate_event,
)
from core.users.models import User

#: Keys on a case that are plain ids, never copied into ``CaseEvent.attributes``.
_RESERVED = {"type", "date", "id", "corrects"}


def policy_from_settings(settings: Mapping[str, Any]) -> TimescalePolicy:
    """The timescale options a council chose (tenant settings), as the engine takes them."""
    return TimescalePolicy(
        deem_weekend_receipt_next_working_day=bool(settings.get("deem_weekend_receipt_next_working_day", False)),
        deemed_service_days=int(settings.get("deemed_service_days_post", 0) or 0),
        sla_targets=release_review_targets(settings),
    )


#: The council's own target for reviewing a plan after release from youth custody, in weeks
#: (tenant setting ``release_review_weeks``). CoP ch.10: the plan must be maintained and
#: reviewed on release; the period is UNVERIFIED (statutory-rules §9), so it is never statutory.
RELEASE_REVIEW_WEEKS = 4


def release_review_targets(settings: Mapping[str, Any]) -> tuple[SlaTarget, ...]:
    """The ``release_review`` SLA (issue 6): from each release to the next review decision."""
    weeks = int(settings.get("release_review_weeks", RELEASE_REVIEW_WEEKS) or RELEASE_REVIEW_WEEKS)
    return (SlaTarget("release_review", "released_from_detention", weeks, unit="weeks",
                      closed_by=("review_decision_sent",),
                      label="The council's own target (not statutory): review the EHC plan after release "
                            "from youth custody"),)


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(permission)


def events_of(case: Case) -> list[dict[str, Any]]:
    """The case's events in recording order, in the api-v1 shape (corrections included)."""
    rows = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).scalars()
    return [row.as_event() for row in rows]


def event_rows(case: Case) -> list[CaseEvent]:
    return list(db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).scalars())


def _child_facts(case: Case) -> dict[str, Any]:
    child = db.session.get(Child, case.child_id)
    return {"date_of_birth": child.date_of_birth.isoformat()} if child else {}


def deadlines_of(case: Case, *, policy: TimescalePolicy, today: dt.date | None = None,
                 events: Sequence[Mapping[str, Any]] | None = None) -> list[Deadline]:
    """The case's deadlines computed now from its events (statuses as of ``today``)."""
    return compute_deadlines(events if events is not None else events_of(case), child=_child_facts(case),
                             today=today or clock.today(), policy=policy)


def _normalise(event: Mapping[str, Any], case: Case | None) -> dict[str, Any]:
    """Check an incoming event's shape; returns it with ``date`` as an ISO string."""
    if not isinstance(event, Mapping):
        raise ValidationFailed({"event": ["Send an event object: {\"type\": ..., \"date\": \"YYYY-MM-DD\", ...}"]})
    errors = validate_event(event)
    if errors:
        raise ValidationFailed(errors)
    out = dict(event)
    out["date"] = out["date"].isoformat() if isinstance(out["date"], dt.date) else str(out["date"])
    if "id" in out:
        raise ValidationFailed({"id": ["Event ids are given by the platform; leave id out"]})
    if "corrects" in out:
        target = out["corrects"]
        if case is None or not isinstance(target, str):
            raise ValidationFailed({"corrects": ["Give the id of an earlier event of this case"]})
        known = db.session.execute(
            select(CaseEvent.id).where(CaseEvent.case_id == case.id, CaseEvent.id == _uuid_or_none(target))
        ).first()
        if known is None:
            raise ValidationFailed({"corrects": ["There is no event with this id on this case"]})
    return out


def _uuid_or_none(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _extra_rules(case: Case, events: list[dict[str, Any]], new: dict[str, Any], *, policy: TimescalePolicy,
                 today: dt.date) -> None:
    """Rules that need the deadlines, not just the order of events."""
    if new["type"] == "plan_ceased":
        # CFA 2014 s45 and the Code 9.210: the plan is maintained until the time for appealing
        # has passed, or any appeal is finally determined. An open appeal window blocks ceasing.
        day = dt.date.fromisoformat(new["date"])
        for d in compute_deadlines(events, child=_child_facts(case), today=today, policy=policy):
            if d.key == "appeal_deadline" and d.met_on is None and d.last_compliant_day >= day:
                raise WorkflowRefusal(
                    f"The family can appeal until {d.last_compliant_day.isoformat()} ({d.citation}); the plan continues "
                    "until then, or until an appeal is decided", field="date")
        if any(e["type"] == "appeal_registered" for e in events) and not any(
                e["type"] in ("appeal_decided", "tribunal_order_made") for e in events):
            raise WorkflowRefusal("An appeal is open: the plan continues until the Tribunal has decided it")


def _append(actor: Actor, case: Case, new: dict[str, Any]) -> CaseEvent:
    attrs = {k: v for k, v in new.items() if k not in _RESERVED}
    row = CaseEvent(
        case_id=case.id, seq=case.event_count + 1, type=new["type"], date=dt.date.fromisoformat(new["date"]),
        attributes=attrs, corrects_event_id=_uuid_or_none(new["corrects"]) if "corrects" in new else None,
        recorded_by_type=actor.kind, recorded_by=actor.id,
    )
    db.session.add(row)
    case.event_count += 1
    return row


def _refresh(case: Case, events: list[dict[str, Any]], deadlines: list[Deadline], *, today: dt.date) -> None:
    """Rebuild what is derived from the events: stage, next deadline, phase transfer, rows."""
    state = derive_state(events)
    case.stage = state.stage
    open_statutory = [d for d in deadlines if d.statutory and d.met_on is None and d.exception is None
                      and d.status in ("open", "missed")]
    nxt = min(open_statutory, key=lambda d: d.last_compliant_day, default=None)
    case.next_due = nxt.last_compliant_day if nxt else None
    case.next_due_key = nxt.key if nxt else None
    transfers = [e for e in _current(events) if e["type"] == "phase_transfer_planned"]
    case.phase_transfer_on = dt.date.fromisoformat(transfers[-1]["transfer_on"]) if transfers else None
    case.phase_transfer_kind = transfers[-1].get("kind") if transfers else None
    db.session.execute(delete(CaseDeadline).where(CaseDeadline.case_id == case.id))
    db.session.add_all([
        CaseDeadline(
            case_id=case.id, key=d.key, ref=d.ref, due=d.due, last_day=d.last_compliant_day, comparison=d.comparison,
            statutory=d.statutory, status=d.status, citation=d.citation[:200], label=d.label[:300], met_on=d.met_on,
            # The api-v1 form: JSON with ISO dates (the engine's own dict holds date objects).
            exception=d.to_dict().get("exception"), provisional=d.provisional, computed_on=today,
        )
        for d in deadlines
    ])


def _current(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for _, e in apply_corrections(events)]


def _lock(case: Case) -> None:
    """Serialise event recording per case: two people recording at once must not both be
    "event 7". On PostgreSQL the row lock waits; SQLite has one writer anyway."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    db.session.refresh(case, attribute_names=["event_count"])


def record_event(actor: Actor, case: Case, event: Mapping[str, Any], *, policy: TimescalePolicy,
                 today: dt.date | None = None) -> CaseEvent:
    """Record ``event`` on ``case`` (already accessed for write).

    Raises :class:`ValidationFailed` (malformed, 422) or :class:`Conflict` (cannot happen
    now, 409); either way nothing is stored.
    """
    _require(actor, permissions.CASES_WRITE)
    today = today or clock.today()
    new = _normalise(event, case)
    _lock(case)
    events = events_of(case)
    try:
        check_next_event(events, new, today=today)
        _extra_rules(case, events, new, policy=policy, today=today)
    except WorkflowRefusal as exc:
        raise Conflict(exc.reason, field=exc.field) from None
    # Issuing a plan written here needs a complete plan: refused before anything is stored.
    check_case_event(case, new["type"])
    # Everything below belongs together: in a savepoint, a failure in any step (the engine,
    # the plan freezing) leaves nothing behind even for a caller that goes on to commit.
    with db.session.begin_nested():
        row = _append(actor, case, new)
        db.session.flush()
        stored = [*events, row.as_event()]
        try:
            deadlines = deadlines_of(case, policy=policy, today=today, events=stored)
        except InvalidEventsError as exc:
            raise ValidationFailed({k: v for errs in exc.errors.values() for k, v in errs.items()}) from None
        _refresh(case, stored, deadlines, today=today)
        on_case_event(actor, case, row)
        # Partner systems hear of it through the outbox, in this same transaction (issue #5).
        outbox.emit("case.event_recorded", {"case_id": str(case.id), "child_id": str(case.child_id),
                                             "event_id": str(row.id), "type": row.type,
                                             "advice_id": (row.attributes or {}).get("advice_id")})
        # What the event asks of partner systems (a request for health or social care advice,
        # a notification the health body must have) leaves through durable plugin calls written
        # in this same transaction (core/integrations/advice.py, issue #5).
        partner_advice.schedule_partner_calls(case, row)
    audit.record(actor, "case.event_recorded", subject_type="child", subject_ids=[case.child_id],
                 object_type="case_event", object_id=row.id, fields=[row.type])
    return row


#: Stages in which a case is still being worked: a child has at most one such case. A case
#: that ended with a refusal (not_assessing, not_issuing) does not block a new request, which
#: the family may make at any time (CFA 2014 s36); ceased and transferred cases are over.
ACTIVE_STAGES = ("request", "assessment", "drafting", "draft", "plan", "review", "amendment", "reassessment")


def active_case_of(child: Child) -> Case | None:
    return db.session.execute(
        select(Case).where(Case.child_id == child.id, Case.stage.in_(ACTIVE_STAGES)).limit(1)).scalar_one_or_none()


def open_case(actor: Actor, child: Child, first_event: Mapping[str, Any], *, policy: TimescalePolicy,
              caseworker_id: uuid.UUID | None = None, today: dt.date | None = None) -> Case:
    """Open a case for ``child`` (already accessed) with its first event.

    The child's record itself is not changed, so reading it is enough; the actor needs
    ``cases.write``. A child has at most one active case (:data:`ACTIVE_STAGES`): a second is
    a :class:`Conflict` (steps belong on the open case; a plan holder's new request is a
    request for re-assessment).
    """
    _require(actor, permissions.CASES_WRITE)
    today = today or clock.today()
    new = _normalise(first_event, None)
    if new["type"] not in OPENING_EVENTS:
        raise Conflict("A case starts with the request for an assessment (request_received) or, in the council "
                       "receiving a plan, with the plan's transfer (plan_transferred)", field="type")
    # Two people opening a case for one child at once must not both succeed: hold the
    # child's row until this transaction ends (PostgreSQL; SQLite has one writer anyway).
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Child.id).where(Child.id == child.id).with_for_update())
    if active_case_of(child) is not None:
        raise Conflict(f"{child.full_name} already has an open EHC case: record new steps on that case. A new case "
                       "can start once it has ended or moved to another council", field="child_id")
    if caseworker_id is not None:
        _check_caseworker(caseworker_id)
    case = Case(child_id=child.id, caseworker_id=caseworker_id, opened_on=dt.date.fromisoformat(new["date"]),
                stage="request", event_count=0)
    db.session.add(case)
    db.session.flush()
    audit.record(actor, "case.opened", subject_type="child", subject_ids=[child.id], object_type="case", object_id=case.id)
    record_event(actor, case, new, policy=policy, today=today)
    return case


def _check_caseworker(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.active or permissions.CASES_WRITE not in permissions.permissions_for_role(user.role):
        raise ValidationFailed({"caseworker_id": ["Choose an active member of staff who can work on cases"]})
    return user


def assign_caseworker(actor: Actor, case: Case, user_id: uuid.UUID | None) -> None:
    """Give the case to a caseworker (or to nobody). Audited."""
    _require(actor, permissions.CASES_WRITE)
    if user_id is not None:
        _check_caseworker(user_id)
    case.caseworker_id = user_id
    audit.record(actor, "case.assigned", subject_type="child", subject_ids=[case.child_id], object_type="case",
                 object_id=case.id)


def assignable_staff() -> list[User]:
    """Staff of the current council who can hold cases."""
    users = db.session.execute(select(User).where(User.active.is_(True)).order_by(User.display_name)).scalars()
    return [u for u in users if permissions.CASES_WRITE in permissions.permissions_for_role(u.role)]


# ---------------------------------------------------------------------------------------
# Finding cases


@dataclass(frozen=True)
class CaseFilter:
    #: The child's name words, or a UPN, ULN or NHS number.
    q: str | None = None
    stage: str | None = None
    caseworker_id: uuid.UUID | None = None
    #: ``unassigned`` to find cases with no caseworker.
    unassigned: bool = False
    #: ``overdue``, ``this_week`` (due within 7 days) or ``four_weeks``.
    due: str | None = None
    child_id: uuid.UUID | None = None
    #: Phase transfers on or after this day and before ``transfer_before``.
    transfer_from: dt.date | None = None
    transfer_before: dt.date | None = None


DUE_FILTERS = ("overdue", "this_week", "four_weeks")


def _filtered(stmt: Select[Any], flt: CaseFilter, today: dt.date) -> Select[Any]:
    if flt.q and flt.q.strip():
        stmt = stmt.where(Case.child_id.in_(matching_child_ids(flt.q)))
    if flt.stage:
        if flt.stage not in STAGES:
            raise ValidationFailed({"stage": [f"Choose one of: {', '.join(STAGES)}"]})
        stmt = stmt.where(Case.stage == flt.stage)
    if flt.unassigned:
        stmt = stmt.where(Case.caseworker_id.is_(None))
    elif flt.caseworker_id:
        stmt = stmt.where(Case.caseworker_id == flt.caseworker_id)
    if flt.child_id:
        stmt = stmt.where(Case.child_id == flt.child_id)
    if flt.transfer_from:
        stmt = stmt.where(Case.phase_transfer_on >= flt.transfer_from)
    if flt.transfer_before:
        stmt = stmt.where(Case.phase_transfer_on < flt.transfer_before)
    if flt.due:
        if flt.due not in DUE_FILTERS:
            raise ValidationFailed({"due": [f"Choose one of: {', '.join(DUE_FILTERS)}"]})
        # By the case's most urgent open statutory deadline (``next_due``: the last compliant
        # day of the earliest one not met and not suspended). Its date only changes when an
        # event is recorded, so the lists stay right on days when nothing happens; a case is
        # "overdue" exactly when any open statutory deadline has passed; and the list agrees
        # with the "next deadline" it shows. An indexed range on ehc_case, not a scan of
        # every stored deadline (benchmarks/caseload.py).
        if flt.due == "overdue":
            stmt = stmt.where(Case.next_due < today)
        else:
            horizon = today + dt.timedelta(days=7 if flt.due == "this_week" else 28)
            stmt = stmt.where(Case.next_due >= today, Case.next_due <= horizon)
    return stmt


def _scoped(actor: Actor, stmt: Select[Any]) -> Select[Any]:
    """Limit a list to what a SENCO, family member or professional may see (staff: all)."""
    clause = cases_filter(actor)
    return stmt if clause is None else stmt.where(clause)


def find_cases(actor: Actor, flt: CaseFilter, *, page: int, per_page: int, today: dt.date | None = None,
               order: str = "due") -> tuple[list[Case], int]:
    """Cases for a caseload list, most urgent first (or oldest first, ``order="opened"``).

    Every child shown is recorded as ``child.listed``.
    """
    _require(actor, permissions.CASES_READ)
    today = today or clock.today()
    total = db.session.execute(_scoped(actor, _filtered(select(func.count()).select_from(Case), flt, today))).scalar_one()
    stmt = _scoped(actor, _filtered(select(Case), flt, today)).options(selectinload(Case.child), selectinload(Case.caseworker))
    if order == "opened":
        stmt = stmt.order_by(Case.opened_on, Case.id)
    else:
        stmt = stmt.order_by(Case.next_due.is_(None), Case.next_due, Case.id)
    rows = list(db.session.execute(stmt.offset(max(page - 1, 0) * per_page).limit(per_page)).scalars())
    audit.record(actor, "child.listed", subject_type="child", subject_ids=sorted({c.child_id for c in rows}))
    return rows, total


def list_cases_page(actor: Actor, flt: CaseFilter, *, after: uuid.UUID | None, limit: int,
                    today: dt.date | None = None) -> tuple[list[Case], uuid.UUID | None]:
    """Cases in creation order, keyset-paginated (the API)."""
    _require(actor, permissions.CASES_READ)
    stmt = (_scoped(actor, _filtered(select(Case), flt, today or clock.today())).order_by(Case.id).limit(limit + 1)
            .options(selectinload(Case.events)))  # the API shows every case's events
    if after is not None:
        stmt = stmt.where(Case.id > after)
    rows = list(db.session.execute(stmt).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    audit.record(actor, "child.listed", subject_type="child", subject_ids=sorted({c.child_id for c in rows}))
    return rows, (rows[-1].id if more and rows else None)


def caseload_counts(actor: Actor, *, caseworker_id: uuid.UUID | None = None, unassigned: bool = False,
                    today: dt.date | None = None) -> dict[str, int]:
    """How many cases are overdue, due this week, and open at all (for the caseload tabs),
    for one caseworker, for nobody (``unassigned``), or for the whole council: one pass over
    the council's cases, judged by ``next_due`` as the lists are."""
    _require(actor, permissions.CASES_READ)
    today = today or clock.today()
    stmt = _scoped(actor, _filtered(
        select(
            func.count().filter(Case.next_due < today),
            func.count().filter(Case.next_due >= today, Case.next_due <= today + dt.timedelta(days=7)),
            func.count().filter(Case.stage.notin_(("ceased", "transferred"))),
        ).select_from(Case),
        CaseFilter(caseworker_id=caseworker_id, unassigned=unassigned), today,
    ))
    overdue, this_week, active = db.session.execute(stmt).one()
    return {"overdue": overdue, "this_week": this_week, "all": active}


def cases_of_child(actor: Actor, child: Child) -> list[Case]:
    """A child's cases (already accessed), newest first."""
    _require(actor, permissions.CASES_READ)
    return list(db.session.execute(
        select(Case).where(Case.child_id == child.id).order_by(Case.opened_on.desc(), Case.id.desc())).scalars())
