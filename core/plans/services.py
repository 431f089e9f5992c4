"""EHC plans: the working draft, and the versions frozen when a draft is served or a plan
issued (reg 13). Content is sections A to K as structured data (``core.plans.content``).

* One working draft per case at most (state ``draft``); it is the only version that changes.
* ``draft_plan_served`` freezes it as ``served`` and opens a new working draft from it (the
  changes made after the family's representations go there). ``final_plan_issued`` and
  ``amended_plan_issued`` freeze it as ``issued``: such a version never changes again (a
  PostgreSQL trigger enforces it), section K is filled from the case's advice, and a tagged
  PDF of it is rendered and kept by the documents service (``core.plans.jobs``).
* A plan written here must be complete to be issued (``validate_content(final=True)``); the
  event is refused otherwise. A case whose plan is kept in another system (events recorded
  by a supplier through the API, no content ever written here) is not held to that: its
  versions stay empty, as before.

Every plan write locks the case row (as recording an event does), so saving a draft and
issuing it are serialised per case.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases.models import Case, CaseEvent, Document, PlanVersion
from core.db import db
from core.documents.services import documents_of_case
from core.errors import Conflict, Forbidden, ValidationFailed
from core.jobs import enqueue_after_commit
from core.plans.content import SECTIONS, describe_errors, has_content, validate_content, with_defaults
from core.plans.jobs import render_plan_pdf
from core.timescales import apply_corrections

#: Events that freeze the working draft, and the state they freeze it in.
FREEZING_EVENTS = {"draft_plan_served": "served", "final_plan_issued": "issued", "amended_plan_issued": "issued"}
#: Stages in which the council no longer maintains the plan here: no new drafts.
CLOSED_STAGES = ("ceased", "transferred")
#: How many problems a refusal to issue spells out before "and N more".
_REFUSAL_DETAIL = 6


# ---------------------------------------------------------------------------------------
# Reading


def versions(case: Case) -> list[PlanVersion]:
    """Every version of the case's plan, oldest first."""
    return list(db.session.execute(
        select(PlanVersion).where(PlanVersion.case_id == case.id).order_by(PlanVersion.number)).scalars())


def current_draft(case: Case) -> PlanVersion | None:
    """The working draft, if there is one."""
    return db.session.execute(
        select(PlanVersion).where(PlanVersion.case_id == case.id, PlanVersion.state == "draft")
        .execution_options(populate_existing=True)).scalar_one_or_none()


def latest_frozen(case: Case) -> PlanVersion | None:
    """The latest served or issued version."""
    return db.session.execute(
        select(PlanVersion).where(PlanVersion.case_id == case.id, PlanVersion.state != "draft")
        .order_by(PlanVersion.number.desc()).limit(1)).scalar_one_or_none()


def latest_issued(case: Case) -> PlanVersion | None:
    """The plan in force: the latest issued version."""
    return db.session.execute(
        select(PlanVersion).where(PlanVersion.case_id == case.id, PlanVersion.state == "issued")
        .order_by(PlanVersion.number.desc()).limit(1)).scalar_one_or_none()


def working_content(case: Case) -> dict[str, Any]:
    """What the editor shows: the working draft, or what a new draft would start from (the
    latest frozen version, or an empty plan). Every section present."""
    source = current_draft(case) or latest_frozen(case)
    return with_defaults(source.content if source else {})


def problems_if_issued(content: dict[str, Any]) -> dict[str, list[str]]:
    """What would stop ``content`` being issued as a plan today ({} when nothing would)."""
    try:
        validate_content(content, final=True)
    except ValidationFailed as exc:
        return exc.errors
    return {}


def pdf_documents(case: Case) -> dict[Any, Document]:
    """The stored PDF of each version that has one, by version id."""
    out: dict[Any, Document] = {}
    for doc in documents_of_case(case.id):
        if doc.kind == "plan_pdf" and doc.plan_version_id is not None:
            out.setdefault(doc.plan_version_id, doc)
    return out


def advice_list(case: Case) -> list[dict[str, Any]]:
    """Section K: the advice sought for the assessment, from the case's ``advice_requested``
    and ``advice_received`` events (corrections applied) and the documents filed under each
    ``advice_id``. In the order the advice was first asked for."""
    rows = list(db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                   .order_by(CaseEvent.seq)).scalars())
    entries: dict[str, dict[str, Any]] = {}
    if rows and rows[0].type == "plan_transferred":
        # Reg 15(2)-(3): a plan received from another council comes with the advice that
        # council obtained; its Section K (as the copied versions hold it) is the start of
        # this case's list, and advice sought here is added after it.
        frozen = latest_frozen(case)
        inherited = (frozen.content.get("K") or {}).get("advice") or [] if frozen is not None else []
        for item in inherited:
            if isinstance(item, dict) and item.get("advice_id"):
                entries[str(item["advice_id"])] = {
                    "advice_id": str(item["advice_id"]), "advice": item.get("advice"),
                    "requested_on": item.get("requested_on"), "received_on": item.get("received_on"),
                    "document_ids": [str(d) for d in item.get("document_ids") or []]}

    def entry(advice_id: str) -> dict[str, Any]:
        return entries.setdefault(advice_id, {"advice_id": advice_id, "advice": None, "requested_on": None,
                                              "received_on": None, "document_ids": []})

    for _, event in apply_corrections([row.as_event() for row in rows]):
        if event["type"] not in ("advice_requested", "advice_received") or not event.get("advice_id"):
            continue
        item = entry(str(event["advice_id"]))
        item["advice"] = item["advice"] or event.get("advice")
        item["requested_on" if event["type"] == "advice_requested" else "received_on"] = event["date"]
    for doc in documents_of_case(case.id):
        if doc.advice_id and str(doc.id) not in entry(doc.advice_id)["document_ids"]:
            entry(doc.advice_id)["document_ids"].append(str(doc.id))
    return list(entries.values())


# ---------------------------------------------------------------------------------------
# Writing


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(permission)


def _check_open(case: Case) -> None:
    if case.stage in CLOSED_STAGES:
        raise Conflict("The plan has ceased or moved to another council: it can no longer be changed here")


def _lock(case: Case) -> None:
    """Serialise plan writes and event recording per case (the same row lock as
    ``core.cases.services``): two saves, or a save and an issue, never interleave."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())


def _next_number(case: Case) -> int:
    return (db.session.execute(select(func.max(PlanVersion.number)).where(PlanVersion.case_id == case.id)).scalar() or 0) + 1


def _new_draft(actor: Actor, case: Case, content: dict[str, Any], based_on: PlanVersion | None) -> PlanVersion:
    draft = PlanVersion(case_id=case.id, number=_next_number(case), state="draft", content=copy.deepcopy(content),
                        based_on_id=based_on.id if based_on else None, updated_by=actor.id)
    db.session.add(draft)
    db.session.flush()
    return draft


def start_draft(actor: Actor, case: Case) -> PlanVersion:
    """The working draft, started now if there is none: a copy of the latest frozen version
    (for an amendment, the plan in force), or an empty plan. Audited as ``plan.draft_started``."""
    _require(actor, permissions.PLANS_WRITE)
    _check_open(case)
    _lock(case)
    existing = current_draft(case)
    if existing is not None:
        return existing
    base = latest_frozen(case)
    draft = _new_draft(actor, case, base.content if base else {}, base)
    audit.record(actor, "plan.draft_started", subject_type="child", subject_ids=[case.child_id],
                 object_type="plan_version", object_id=draft.id)
    return draft


def save_draft(actor: Actor, case: Case, content: Any) -> PlanVersion:
    """Replace the working draft's content with ``content`` (starting a draft if there is
    none). Checked as a draft (types and links; it may be incomplete); section K is always
    the case's own advice list, whatever was sent. Audited as ``plan.draft_saved`` against
    the child, with the sections that changed.

    Raises :class:`ValidationFailed` (paths like ``F.provision.0.frequency``); nothing is stored.
    """
    _require(actor, permissions.PLANS_WRITE)
    _check_open(case)
    validated = validate_content(content, final=False)
    _lock(case)
    draft = current_draft(case)
    if draft is None:
        draft = _new_draft(actor, case, {}, latest_frozen(case))
    validated["K"] = {"advice": advice_list(case)}
    before = with_defaults(draft.content)
    changed = [s for s in SECTIONS if before.get(s) != validated.get(s)]
    draft.content = validated  # a new dict: JSON columns do not notice changes made in place
    draft.updated_by = actor.id
    db.session.flush()
    audit.record(actor, "plan.draft_saved", subject_type="child", subject_ids=[case.child_id],
                 object_type="plan_version", object_id=draft.id, fields=changed)
    return draft


def edit_draft(actor: Actor, case: Case, change: Callable[[dict[str, Any]], dict[str, Any]]) -> PlanVersion:
    """Apply ``change`` to the working content and save it, under the case lock, so that two
    people editing different items of one draft never lose each other's work."""
    _require(actor, permissions.PLANS_WRITE)
    _check_open(case)
    _lock(case)
    return save_draft(actor, case, change(copy.deepcopy(working_content(case))))


# ---------------------------------------------------------------------------------------
# Reacting to case events


def check_case_event(case: Case, event_type: str) -> None:
    """Refuse (:class:`Conflict`) an event that would issue an incomplete plan written here.

    Pure check, nothing is changed: ``core.cases.services.record_event`` can call it before it
    appends the event, so a refusal never leaves anything behind even for a caller that does
    not roll back. :func:`on_case_event` makes the same check again.
    """
    if FREEZING_EVENTS.get(event_type) != "issued":
        return
    source = current_draft(case) or latest_frozen(case)
    if source is not None and has_content(source.content):
        _complete_or_refuse(dict(source.content))


def on_case_event(actor: Actor, case: Case, event: CaseEvent) -> None:
    """Freeze the working draft when it is served on the family or issued as the plan.

    Called by ``core.cases.services.record_event`` after the event is appended, in the same
    transaction. A served draft stays editable as a new working draft (changes after
    representations are made there); an issued plan is final. With no working draft the
    frozen version copies the last frozen one, so an issued plan always exists once
    ``final_plan_issued`` is recorded.

    When the plan has content, issuing it requires a complete plan: otherwise
    :class:`Conflict` says what is missing, raised before this function changes anything;
    the caller's transaction must then be rolled back (the web layer does so for every 4xx).
    """
    state = FREEZING_EVENTS.get(event.type)
    if state is None:
        return
    draft = current_draft(case)
    source = draft if draft is not None else latest_frozen(case)
    content: dict[str, Any] = dict(source.content) if source is not None else {}
    with_plan = has_content(content)
    if with_plan:
        if state == "issued":
            content = _complete_or_refuse(content)
        content = {**content, "K": {"advice": advice_list(case)}}
    if draft is None:
        previous = latest_frozen(case)
        draft = _new_draft(actor, case, previous.content if previous else {}, previous)
    if with_plan:
        draft.content = content
    draft.state = state
    draft.event_id = event.id
    if state == "issued":
        draft.issued_on = event.date
    draft.updated_by = actor.id
    db.session.flush()
    if state == "served":
        _new_draft(actor, case, draft.content, draft)
    elif with_plan:
        # After commit: the worker must see the issued version (STYLE.md section 5).
        enqueue_after_commit(render_plan_pdf, str(case.tenant_id), str(draft.id))


def _complete_or_refuse(content: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate_content(content, final=True)
    except ValidationFailed as exc:
        problems = describe_errors(exc.errors, content)
        more = len(problems) - _REFUSAL_DETAIL
        listed = "; ".join(problems[:_REFUSAL_DETAIL]) + (f"; and {more} more" if more > 0 else "")
        raise Conflict(f"The plan is not complete enough to issue. {listed}.", field="type") from None
