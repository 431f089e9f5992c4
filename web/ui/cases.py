"""Caseworker pages for EHC cases (issue #3): the caseload, the phase-transfer cohort, opening a
case, the case page with its clocks and timeline, giving a case to a caseworker, and a form for
every event.

Every object comes through an ``access_*`` function (the object first, so another council's
id is the same 404 as a made-up one); every change goes through ``core.cases.services``,
which checks the event's shape (400 here), whether it can happen now (409 here) and records
nothing otherwise. A response of 400 or more is rolled back by the app (web.app), so a
failed form never leaves half an event behind.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from core import clock, permissions
from core.cases.access import access_case
from core.cases.models import Case, CaseEvent
from core.cases.services import (
    DUE_FILTERS, CaseFilter, active_case_of, assign_caseworker, assignable_staff, caseload_counts, deadlines_of,
    event_rows, find_cases, open_case, policy_from_settings, record_event,
)
from core.cases.workflow import STAGES, WorkflowRefusal, check_next_event, derive_state
from core.children.access import access_child
from core.documents.services import documents_of_case, store_document
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import services as identities
from core.timescales import EVENT_TYPES, RULES, Deadline, TimescalePolicy, apply_corrections
from core.users.models import Role, User
from core.users.services import staff_names
from web.context import current_actor, current_user, require_staff, require_tenant
from web.ui import event_forms as words
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text

bp = Blueprint("cases", __name__, url_prefix="/cases")

PER_PAGE = 25
COHORT_PER_PAGE = 50
DUE_TEXT = {"overdue": "Overdue", "this_week": "Due in the next 7 days", "four_weeks": "Due in the next 4 weeks"}
PHASE_KEYS = {"school": "phase_transfer_school", "post16": "phase_transfer_post16",
              "post16_institution": "post16_institution_transfer"}
PHASE_TEXT = {"school": "To the next school phase", "post16": "Into post-16 education",
              "post16_institution": "Between post-16 institutions"}
REQUESTERS = list(words.ATTRIBUTE_TEXT["requester"].choices.items())
ROUTES = list(words.ATTRIBUTE_TEXT["brought_to_attention"].choices.items())


bp.before_request(require_staff)


def _require(permission: str) -> None:
    if not current_actor().can(permission):
        raise Forbidden(permission)


def _policy() -> TimescalePolicy:
    return policy_from_settings(require_tenant().settings)


def _can_write() -> bool:
    return current_actor().can(permissions.CASES_WRITE)


def _endpoint(name: str) -> bool:
    """Whether another area's page exists yet (the plan pages are built alongside these)."""
    return name in current_app.view_functions


# ---------------------------------------------------------------------------------------
# Caseload


def _due_tag(next_due: dt.date | None, today: dt.date) -> tuple[str, str]:
    if next_due is None:
        return "", ""
    left = (next_due - today).days
    if left < 0:
        return "Overdue", "govuk-tag--red"
    if left <= 7:
        return ("Due today" if left == 0 else "Due tomorrow" if left == 1 else f"Due in {left} days"), \
            "govuk-tag--orange"
    return "Open", ""


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    actor = current_actor()
    user = current_user()  # None for an operator under break-glass
    today = clock.today()
    staff = assignable_staff()
    staff_by_id = {str(u.id): u for u in staff}
    errors = FormErrors()
    stage = request.args.get("stage", "").strip()
    due = request.args.get("due", "").strip()
    q = request.args.get("q", "").strip()
    who = request.args.get("caseworker")
    if len(q) > 100:
        errors.add("q", "Search for 100 characters or fewer")
    if stage and stage not in STAGES:
        errors.add("stage", "Select a stage from the list")
    if due and due not in DUE_FILTERS:
        errors.add("due", "Select when the next deadline is due from the list")
    holds_cases = user is not None and user.role == Role.CASEWORKER
    fallback = False
    if who is None:
        # Caseworkers start with their own cases; one who holds none yet (a new starter)
        # sees everyone's, with a line saying so, rather than an empty page.
        who = "all"
        if holds_cases:
            if user is not None and caseload_counts(actor, caseworker_id=user.id, today=today)["all"]:
                who = "mine"
            else:
                fallback = True
    who = who.strip()
    caseworker_id: uuid.UUID | None = None
    if who == "mine" and user is not None:
        caseworker_id = user.id
    elif who in staff_by_id:
        caseworker_id = staff_by_id[who].id
    elif who not in ("all", "unassigned"):
        errors.add("caseworker", "Select a caseworker from the list")
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page = 1
    rows: list[dict[str, Any]] = []
    total = 0
    counts: dict[str, int] = {}
    if not errors:
        flt = CaseFilter(q=q or None, stage=stage or None, caseworker_id=caseworker_id, unassigned=who == "unassigned",
                         due=due or None)
        found, total = find_cases(actor, flt, page=page, per_page=PER_PAGE, today=today)
        counts = caseload_counts(actor, caseworker_id=caseworker_id, unassigned=who == "unassigned", today=today)
        for case in found:
            tag, cls = _due_tag(case.next_due, today)
            rows.append({
                "case": case,
                "stage": words.STAGE_TEXT.get(case.stage, case.stage),
                "caseworker": case.caseworker.display_name if case.caseworker else "Not assigned",
                "due": words.weekday_date(case.next_due) if case.next_due else None,
                "label": words.deadline_label(case.next_due_key) if case.next_due_key else None,
                "tag": tag, "tag_class": cls,
            })
    pages = max(math.ceil(total / PER_PAGE), 1)
    filters = {k: v for k, v in (("q", q), ("stage", stage), ("caseworker", who), ("due", due)) if v}
    scope = {"mine": "Your cases", "all": "All cases", "unassigned": "Cases with no caseworker"}.get(
        who, f"{staff_by_id[who].display_name}'s cases" if who in staff_by_id else "All cases")
    return render_template(
        "cases/index.html", title="EHC cases", rows=rows, total=total, page=page, pages=pages, errors=errors,
        error_list=errors.summary(order=["q", "stage", "caseworker", "due"]), counts=counts, scope=scope,
        stage=stage, due=due, who=who, q=q, filters=filters, fallback=fallback, staff=staff, holds_cases=holds_cases,
        stages=[(s, words.STAGE_TEXT[s]) for s in STAGES], due_items=list(DUE_TEXT.items()),
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# The phase-transfer cohort


def _next_september(today: dt.date) -> int:
    """The year of the September after ``today`` (this year's until 1 September)."""
    return today.year if today < dt.date(today.year, 9, 1) else today.year + 1


def _transfer_deadline(case: Case, deadlines: Sequence[Deadline]) -> Deadline | None:
    key = PHASE_KEYS.get(case.phase_transfer_kind or "")
    return next((d for d in deadlines if d.key == key), None)


@bp.get("/transfers")
def transfers():  # type: ignore[no-untyped-def]
    actor = current_actor()
    today = clock.today()
    first = _next_september(today)
    years = [first, first + 1]
    errors = FormErrors()
    raw = request.args.get("year", "").strip()
    year = first
    if raw:
        if raw.isdigit() and int(raw) in years:
            year = int(raw)
        else:
            errors.add("year", f"Select September {first} or September {first + 1}")
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page = 1
    rows: list[dict[str, Any]] = []
    total = 0
    if not errors:
        # September only: a transfer "next September" is a move at the start of the autumn term.
        flt = CaseFilter(transfer_from=dt.date(year, 9, 1), transfer_before=dt.date(year, 10, 1))
        found, total = find_cases(actor, flt, page=page, per_page=COHORT_PER_PAGE, today=today)
        policy = _policy()
        for case in found:
            deadline = _transfer_deadline(case, deadlines_of(case, policy=policy, today=today))
            rows.append({"case": case, "kind": PHASE_TEXT.get(case.phase_transfer_kind or "", "Phase transfer"),
                         "moving_on": words.weekday_date(case.phase_transfer_on) if case.phase_transfer_on else "",
                         "deadline": words.describe_deadline(deadline, today) if deadline else None,
                         "caseworker": case.caseworker.display_name if case.caseworker else "Not assigned"})
    pages = max(math.ceil(total / COHORT_PER_PAGE), 1)
    return render_template(
        "cases/transfers.html", title=f"Moving on in September {year}", rows=rows, total=total, year=year,
        years=years, page=page, pages=pages, errors=errors, error_list=errors.summary(
            anchors={"year": "year"}), school_due=dt.date(year, 2, 15), post16_due=dt.date(year, 3, 31),
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# Opening a case


def _open_cases(child: Any) -> list[Case]:
    """The child's active case, if any, to link to (the service itself refuses a second)."""
    active = active_case_of(child)
    return [active] if active is not None else []


@bp.route("/children/<child_id>/new", methods=["GET", "POST"])
def new(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    # The object first: another council's child is the same 404 as a missing one. Opening a
    # case does not change the child's record, so reading it is enough.
    child = access_child(actor, child_id)
    _require(permissions.CASES_WRITE)
    user = current_user()
    staff = assignable_staff()
    staff_ids = {str(u.id) for u in staff}
    open_now = _open_cases(child)
    errors = FormErrors()
    values: dict[str, Any] = {"caseworker": str(user.id) if user is not None and str(user.id) in staff_ids else "none"}
    parts: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        parts = date_parts(request.form, "received")
        values = {"requester": text(request.form, "requester"), "route": text(request.form, "route"),
                  "caseworker": text(request.form, "caseworker")}
        outcome = _open(actor, child, values, parts, staff_ids, errors)
        if isinstance(outcome, Case):
            flash("Case opened. The clocks start from the date the request was received.", "success")
            return redirect(url_for("cases.view", case_id=outcome.id))
        status = outcome
    return render_template(
        "cases/new.html", title=f"Start a request for an EHC needs assessment for {child.full_name}", child=child,
        open_now=open_now, errors=errors, values=values, staff=staff,
        error_list=errors.summary(anchors={"received": "received-day", "open_case": "open-case"},
                                  order=["received", "route", "requester", "caseworker"]),
        received_items=date_items(parts, "received" in errors), requesters=REQUESTERS, routes=ROUTES,
    ), status


def _open(actor: Any, child: Any, values: Mapping[str, str], parts: Mapping[str, str], staff_ids: set[str],
          errors: FormErrors) -> Case | int:
    """Open the case from the form; returns it, or the status of the page showing ``errors``."""
    noun = "Date the council received the request"
    received, date_error = parse_date(parts, noun)
    if date_error:
        errors.add("received", date_error)
    elif received is not None and received > clock.today():
        errors.add("received", f"{noun} must be today or in the past")
    elif received is not None and received < words.EARLIEST:
        errors.add("received", f"{noun} must be on or after 1 September 2014")
    if values["route"] not in dict(ROUTES):
        errors.add("route", "Select how the council found out")
    if values["requester"] not in dict(REQUESTERS):
        errors.add("requester", "Select who asked")
    if values["caseworker"] not in staff_ids | {"none"}:
        errors.add("caseworker", "Select who will work on the case")
    if errors or received is None:
        return 400
    event = {"type": "request_received", "date": received.isoformat(), "requester": values["requester"],
             "brought_to_attention": values["route"] == "yes"}
    caseworker = uuid.UUID(values["caseworker"]) if values["caseworker"] != "none" else None
    try:
        return open_case(actor, child, event, policy=_policy(), today=clock.today(), caseworker_id=caseworker)
    except ValidationFailed as exc:
        errors.merge(exc.errors, rename={"date": "received", "caseworker_id": "caseworker"})
        return 400
    except Conflict as exc:
        # One active case per child (core.cases.services.open_case) or a refused first event.
        errors.add("open_case" if exc.field == "child_id" else "received", words.pretty_dates(exc.message))
        return 409


# ---------------------------------------------------------------------------------------
# The case page


def _staff_names(rows: Sequence[CaseEvent]) -> dict[str, str]:
    """Who recorded each step, by name, including staff who have since left, and people who
    sent something in through the portals (a request, advice)."""
    names = staff_names([r.recorded_by for r in rows if r.recorded_by_type == "user"])
    people = {uuid.UUID(r.recorded_by) for r in rows if r.recorded_by_type == "identity"}
    names.update({str(k): v for k, v in identities.display_names(people).items()})
    return names


def _recorded_by(row: CaseEvent, names: Mapping[str, str]) -> str:
    if row.recorded_by_type == "user":
        return names.get(row.recorded_by, "a former member of staff")
    if row.recorded_by_type == "identity":
        return f"{names.get(row.recorded_by, 'someone')} (through the online portal)"
    return {"api_client": "a connected system (through the API)", "operator": "Sendbridge (data set-up)",
            "system": "Sendbridge"}.get(row.recorded_by_type, "Sendbridge")


def _timeline(rows: Sequence[CaseEvent], names: Mapping[str, str]) -> list[dict[str, Any]]:
    events = [r.as_event() for r in rows]
    current_ids = {str(e["id"]) for _, e in apply_corrections(events)}
    by_id = {str(r.id): r for r in rows}
    corrected_by: dict[str, CaseEvent] = {}
    for r in rows:
        if r.corrects_event_id is not None:
            corrected_by.setdefault(str(r.corrects_event_id), r)
    out = []
    for r in sorted(rows, key=lambda r: (r.date, r.seq)):
        rid = str(r.id)
        fixer = corrected_by.get(rid)
        target = by_id.get(str(r.corrects_event_id)) if r.corrects_event_id else None
        out.append({
            "row": r, "id": rid, "title": words.event_title(r.type), "date": words.weekday_date(r.date),
            "by": _recorded_by(r, names), "details": words.words_for(r.as_event()),
            "current": rid in current_ids, "corrected_by": fixer, "corrects": target,
            "corrects_title": words.event_title(target.type) if target else None,
        })
    return out


def _advice(events: Sequence[Mapping[str, Any]], deadlines: Sequence[Deadline], docs: Sequence[Any],
            today: dt.date) -> list[dict[str, Any]]:
    current = [e for _, e in apply_corrections(events)]
    received = {str(e.get("advice_id")): e for e in current if e["type"] == "advice_received" and e.get("advice_id")}
    out = []
    for e in current:
        if e["type"] != "advice_requested":
            continue
        ref = str(e.get("advice_id") or e.get("advice") or "")
        clock_ = next((d for d in deadlines if d.key == "advice_returned" and d.ref == ref
                       and d.trigger.date.isoformat() == e["date"]), None)
        reply = received.get(ref)
        out.append({
            "kind": words.ATTRIBUTE_TEXT["advice"].choices.get(str(e.get("advice")), "Advice"),
            "ref": ref, "requested": words.weekday_date(dt.date.fromisoformat(e["date"])),
            "received": words.weekday_date(dt.date.fromisoformat(reply["date"])) if reply else None,
            "deadline": words.describe_deadline(clock_, today) if clock_ else None,
            "documents": [d for d in docs if d.kind == "advice" and d.advice_id == ref],
        })
    return out


@bp.get("/<case_id>")
def view(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id)
    today = clock.today()
    rows = event_rows(case)
    events = [r.as_event() for r in rows]
    deadlines = deadlines_of(case, policy=_policy(), today=today, events=events)
    views = [words.describe_deadline(d, today) for d in deadlines]
    docs = documents_of_case(case.id)
    first = next((e for _, e in apply_corrections(events) if e["type"] == "request_received"), None)
    return render_template(
        "cases/view.html", title=f"{case.child.full_name}: EHC case", case=case, child=case.child,
        stage=words.STAGE_TEXT.get(case.stage, case.stage), running=[v for v in views if v.running],
        finished=[v for v in views if not v.running], timeline=_timeline(rows, _staff_names(rows)),
        # A plan transferred to another council leaves a read-only record here (reg 15(3), issue 6).
        advice=_advice(events, deadlines, docs, today), can_write=_can_write() and case.stage != "transferred",
        today=today,
        opened=words.weekday_date(case.opened_on), request_words=words.words_for(first) if first else [],
        provisional_text=words.PROVISIONAL_TEXT, has_plan_pages=_endpoint("plans.plan"),
        has_downloads=_endpoint("plans.download_document"),
        other_documents=[d for d in docs if d.kind != "advice"],
    )


# ---------------------------------------------------------------------------------------
# Giving the case to a caseworker


@bp.route("/<case_id>/caseworker", methods=["GET", "POST"])
def assign(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id, for_write=True)
    staff = assignable_staff()
    staff_ids = {str(u.id): u for u in staff}
    errors = FormErrors()
    chosen = str(case.caseworker_id) if case.caseworker_id else "none"
    if request.method == "POST":
        chosen = text(request.form, "caseworker")
        if chosen != "none" and chosen not in staff_ids:
            errors.add("caseworker", "Select who will work on the case")
        else:
            try:
                assign_caseworker(actor, case, staff_ids[chosen].id if chosen != "none" else None)
            except ValidationFailed as exc:
                errors.merge(exc.errors, rename={"caseworker_id": "caseworker"})
            else:
                flash(f"{staff_ids[chosen].display_name} is now the caseworker" if chosen != "none"
                      else "The case is not assigned to anyone", "success")
                return redirect(url_for("cases.view", case_id=case.id))
    return render_template(
        "cases/assign.html", title=f"Who will work on {case.child.full_name}'s case?", case=case, staff=staff,
        chosen=chosen, errors=errors, error_list=errors.summary(
            anchors={"caseworker": f"caseworker-{staff[0].id}" if staff else "caseworker-none"}),
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# Recording what happened


def _corrected(case: Case, rows: Sequence[CaseEvent]) -> CaseEvent | None:
    """The event named by ``?corrects=``; a malformed or foreign id is a 404 like any other."""
    raw = request.args.get("corrects")
    if raw is None:
        return None
    found = next((r for r in rows if str(r.id) == raw.strip()), None)
    if found is None:
        raise NotFound("event")
    return found


def _context(events: Sequence[Mapping[str, Any]], deadlines: Sequence[Deadline],
             correcting: Mapping[str, Any] | None) -> words.EventContext:
    state = derive_state(events)
    current = [e for _, e in apply_corrections(events)]
    kinds = {str(e.get("advice_id")): e.get("advice") for e in current if e["type"] == "advice_requested"}
    open_advice = [(a_id, kinds.get(a_id), on) for a_id, on in state.advice_requested.items()
                   if a_id not in state.advice_received]
    if correcting is not None and correcting.get("type") == "advice_received" and correcting.get("advice_id"):
        a_id = str(correcting["advice_id"])
        if a_id in state.advice_requested and all(a != a_id for a, _, _ in open_advice):
            open_advice.append((a_id, kinds.get(a_id), state.advice_requested[a_id]))
    on_case = [d.key for d in deadlines if RULES.get(d.key) and RULES[d.key].exception_codes]
    allowed = [k for k, r in RULES.items() if r.exception_codes]
    keys = words.sorted_keys(on_case or allowed)
    if correcting is not None:
        keys = words.sorted_keys([*keys, *(k for k in correcting.get("affects") or [] if k in RULES)])
    return words.EventContext(
        open_advice=open_advice, advice_ids={str(e.get("advice_id")) for e in events if e.get("advice_id")},
        consulted=list(state.institutions_consulted.items()), exception_keys=keys, correcting=correcting)


def _candidates(event_type: str, ctx: words.EventContext, today: dt.date) -> list[dict[str, Any]]:
    """Events of ``event_type`` dated today, with each plausible value of what it must say."""
    base: dict[str, Any] = {"type": event_type, "date": today.isoformat()}
    options: list[dict[str, Any]] = [base]
    for name, spec in EVENT_TYPES[event_type].items():
        values: list[Any] = []
        if event_type == "advice_received" and name == "advice_id":
            values = [a for a, _, _ in ctx.open_advice] or [None]
        elif event_type == "institution_responded" and name == "urn":
            values = [u for u, _ in ctx.consulted] or [None]
        elif spec.required:
            values = {"enum": list(spec.choices), "date": [today.isoformat()], "keys": [["decision_to_assess"]],
                      "bool": [False], "text": ["x"]}[spec.kind]
        if values:
            options = [{**o, name: v} for o in options for v in values if v is not None] or options
    return options


def _possible(events: Sequence[Mapping[str, Any]], ctx: words.EventContext, today: dt.date) -> dict[str, str | None]:
    """For each event type: None if it could be recorded today, else the workflow's reason."""
    out: dict[str, str | None] = {}
    for event_type in EVENT_TYPES:
        reason: str | None = "This step cannot follow what is recorded on the case"
        for candidate in _candidates(event_type, ctx, today):
            try:
                check_next_event(events, candidate, today=today)
            except WorkflowRefusal as exc:
                reason = exc.reason
            else:
                reason = None
                break
        out[event_type] = reason
    return out


@bp.route("/<case_id>/events/new", methods=["GET", "POST"], endpoint="record_event")
def choose_event(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id, for_write=True)
    rows = event_rows(case)
    target = _corrected(case, rows)
    events = [r.as_event() for r in rows]
    today = clock.today()
    groups = words.choosable_types()
    if target is None:
        ctx = _context(events, deadlines_of(case, policy=_policy(), today=today, events=events), None)
        possible = _possible(events, ctx, today)
        groups = [(g, [t for t in types if possible[t] is None]) for g, types in groups]
        groups = [(g, types) for g, types in groups if types]
    else:
        # A correction may change the kind of step too (and the request itself).
        groups = [(words.GROUPS[0], ["request_received"]), *groups] if target.type == "request_received" else groups
    offered = {t for _, types in groups for t in types}
    errors = FormErrors()
    chosen = target.type if target is not None else ""
    if request.method == "POST":
        chosen = text(request.form, "type")
        if chosen not in offered:
            errors.add("type", "Select what happened")
        else:
            return redirect(url_for("cases.event_form", case_id=case.id, event_type=chosen,
                                    corrects=str(target.id) if target is not None else None))
    first_type = groups[0][1][0] if groups else "type"
    return render_template(
        "cases/choose_event.html", title="What happened?", case=case, groups=groups, texts=words.EVENT_TEXT,
        chosen=chosen, target=target, target_title=words.event_title(target.type) if target else None,
        target_date=words.weekday_date(target.date) if target else None, errors=errors,
        error_list=errors.summary(anchors={"type": f"type-{first_type}"}),
    ), (400 if errors else 200)


def _label_for_file(event: Mapping[str, Any]) -> str:
    kind = words.ATTRIBUTE_TEXT["advice"].choices.get(str(event.get("advice")), "Advice").split(" (")[0]
    return f"{kind} advice" if kind != "Other advice" else "Advice"


@bp.route("/<case_id>/events/new/<event_type>", methods=["GET", "POST"])
def event_form(case_id: str, event_type: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id, for_write=True)
    if event_type not in EVENT_TYPES:
        raise NotFound("event type")
    rows = event_rows(case)
    target = _corrected(case, rows)
    events = [r.as_event() for r in rows]
    today = clock.today()
    policy = _policy()
    deadlines = deadlines_of(case, policy=policy, today=today, events=events)
    correcting = target.as_event() if target is not None else None
    ctx = _context(events, deadlines, correcting)
    fields = words.event_fields(event_type, ctx)
    texts = words.EVENT_TEXT[event_type]
    errors = FormErrors()
    status = 200
    values: dict[str, Any] = {}
    if correcting is not None:
        values = words.form_values_of(correcting) if correcting["type"] == event_type else \
            {"date": words.form_values_of(correcting)["date"]}
    warning = None
    if request.method == "GET" and correcting is None:
        warning = _possible(events, ctx, today).get(event_type)
    if request.method == "POST":
        event, errors, values = words.parse_event_form(event_type, request.form, ctx, today=today)
        upload = request.files.get("advice_file") if event_type == "advice_received" else None
        data = upload.read() if upload is not None and upload.filename else None
        if not errors:
            if correcting is not None:
                event["corrects"] = correcting["id"]
            try:
                recorded = record_event(actor, case, event, policy=policy, today=today)
                if data is not None:
                    # In the same transaction as the event: a bad file rolls both back (4xx).
                    store_document(actor, child_id=case.child_id, case_id=case.id, kind="advice",
                                   title=_label_for_file(recorded.as_event()), filename=upload.filename or "advice",
                                   data=data, advice_id=str(event.get("advice_id") or ""))
            except ValidationFailed as exc:
                errors.merge(exc.errors, rename={"file": "advice_file", "title": "advice_file"})
                status = 400
            except Conflict as exc:
                field = exc.field if exc.field in {f.name for f in fields} else "date"
                errors.add(field, words.pretty_dates(exc.message))
                status = 409
            else:
                flash(f"{'Correction recorded' if correcting else texts.title + ' recorded'}. The clocks have been "
                      "worked out again.", "success")
                return redirect(url_for("cases.view", case_id=case.id, _anchor=f"event-{recorded.id}"))
        else:
            status = 400
    anchors = {f.name: f.anchor for f in fields}
    anchors["date"] = "date-day"
    order = ["date", *[f.name for f in fields]]
    return render_template(
        "cases/event_form.html", title=("Correct: " if correcting else "") + texts.title, case=case, texts=texts,
        event_type=event_type, fields=fields, values=values, errors=errors,
        error_list=errors.summary(anchors=anchors, order=order), warning=warning, target=target,
        target_title=words.event_title(target.type) if target else None,
        target_date=words.weekday_date(target.date) if target else None,
        date_items=lambda name: date_items(values.get(name) or {}, name in errors),
        multipart=any(f.kind == "file" for f in fields),
    ), status


# ---------------------------------------------------------------------------------------
# Template helpers


@bp.app_template_filter("stage_label")
def stage_label(stage: str) -> str:
    return words.STAGE_TEXT.get(stage, stage)


@bp.app_template_filter("weekday_date")
def weekday_date(value: dt.date | None) -> str:
    return words.weekday_date(value) if value else ""


@bp.app_template_global("user_name")
def user_name(user: User | None) -> str:
    return user.display_name if user is not None else "Not assigned"
