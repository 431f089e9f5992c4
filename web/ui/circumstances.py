"""Caseworker pages: a child's specific circumstances (SEND Code of Practice chapter 10)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from core import clock, permissions
from core.cases.services import cases_of_child, policy_from_settings
from core.children.access import access_child
from core.circumstances import services
from core.circumstances.access import access_circumstance
from core.circumstances.models import KIND_LABELS, CircumstanceKind
from core.errors import Conflict, Forbidden, ValidationFailed
from core.integrations.social_care import social_care_status_of
from core.institutions.models import Institution
from core.db import db
from web.context import current_actor, require_staff, require_tenant
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text

bp = Blueprint("circumstances", __name__, url_prefix="/children/<child_id>/circumstances")
bp.before_request(require_staff)

#: One sentence per kind: why it matters to the EHC process (shown when choosing a kind).
KIND_HINTS: dict[CircumstanceKind, str] = {
    CircumstanceKind.LOOKED_AFTER: "The virtual school head, designated teacher and social worker are involved, "
                                   "and the EHC plan and personal education plan are joined up",
    CircumstanceKind.CHILD_IN_NEED: "Children Act 1989 section 17: the social worker is invited to reviews",
    CircumstanceKind.CHILD_PROTECTION: "The social worker is invited to reviews",
    CircumstanceKind.ELECTIVE_HOME_EDUCATION: "The plan is still kept under review; the council may still have to "
                                              "secure its provision",
    CircumstanceKind.ALTERNATIVE_PROVISION: "A pupil referral unit or alternative provision, or education "
                                            "otherwise than at school (section 61)",
    CircumstanceKind.YOUTH_CUSTODY: "The council keeps the plan during detention and reviews it on release",
    CircumstanceKind.SERVICE_CHILD: "A parent in the armed forces: moves, postings and schooling overseas",
    CircumstanceKind.OUT_OF_AREA: "At school or placed in another council's area: this council stays responsible",
}


def _policy() -> Any:
    return policy_from_settings(require_tenant().settings)


def _require(permission: str) -> None:
    if not current_actor().can(permission):
        raise Forbidden(permission)


def _kind_or_404(kind: str) -> CircumstanceKind:
    parsed = services.parse_kind(kind)
    if parsed is None:
        abort(404)
    return parsed


def _staff_child(child_id: str, *, for_write: bool = False) -> Any:
    actor = current_actor()
    child = access_child(actor, child_id, for_write=for_write)
    if actor.scope is not None:  # circumstances are council staff's records
        abort(404)
    return child


@bp.app_template_global("current_circumstances")
def current_circumstances(child: Any) -> list[Any]:
    """The child's (already accessed) circumstances current today, for other pages' banners
    (the case page shows "placed out of area", "in youth custody" ...). Council staff only;
    audited as a read by :func:`services.circumstances_of`."""
    actor = current_actor()
    if actor.scope is not None or not actor.can(permissions.CHILDREN_READ):
        return []
    today = clock.today()
    return [r for r in services.circumstances_of(actor, child) if r.is_current(today)]


# ---------------------------------------------------------------------------------------
# Forms


def _read_form(kind: CircumstanceKind, *, with_dates: bool = True) -> tuple[dict[str, Any], FormErrors, dict[str, dict[str, str]]]:
    """The submitted details of ``kind`` as service values, with the date inputs' problems."""
    form = request.form
    errors = FormErrors()
    values: dict[str, Any] = {}
    parts: dict[str, dict[str, str]] = {}
    names = [n for n, _ in services.KIND_FIELDS[kind]]
    date_names = [*(("started_on", "ended_on") if with_dates else ()),
                  *(n for n in names if services.FIELDS[n].type == "date")]
    labels = {"started_on": _start_label(kind), "ended_on": _end_label(kind)}
    for name in date_names:
        parts[name] = date_parts(form, name)
        label = labels.get(name) or services.FIELDS[name].label.rstrip("?")
        value, error = parse_date(parts[name], "The date" if name not in labels else label, required=False)
        if error:
            errors.add(name, error)
        values[name] = value
    for name in names:
        spec = services.FIELDS[name]
        if spec.type == "date":
            continue
        if spec.type == "bool":
            values[name] = {"yes": True, "no": False}.get(text(form, name))
        else:
            values[name] = text(form, name) or None
    return values, errors, parts


def _start_label(kind: CircumstanceKind) -> str:
    return "Date the detention began" if kind == CircumstanceKind.YOUTH_CUSTODY else "Start date"


def _end_label(kind: CircumstanceKind) -> str:
    return "Date of release" if kind == CircumstanceKind.YOUTH_CUSTODY else "End date"


def _render_form(kind: CircumstanceKind, child: Any, *, title: str, action: str, values: dict[str, Any],
                 errors: FormErrors, parts: dict[str, dict[str, str]], row: Any = None, status: int = 200) -> Any:
    fields = services.fields_of(kind)
    anchors = {n: f"{n}-day" for n in ("started_on", "ended_on", *(n for n, f, _ in fields if f.type == "date"))}
    anchors.update({n: n for n, f, _ in fields if f.type in ("bool", "choice")})
    order = ["started_on", "ended_on", *(n for n, _, _ in fields)]
    dates = {name: date_items(parts.get(name, {}), name in errors)
             for name in ("started_on", "ended_on", *(n for n, f, _ in fields if f.type == "date"))}
    return render_template(
        "circumstances/form.html", title=title, child=child, kind=kind, kind_label=KIND_LABELS[kind],
        action=action, fields=fields, values=values, errors=errors, dates=dates, row=row,
        start_label=_start_label(kind), end_label=_end_label(kind),
        error_list=errors.summary(anchors=anchors, order=order),
    ), status


def _parts_of(value: dt.date | None) -> dict[str, str]:
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)} if value else {}


# ---------------------------------------------------------------------------------------
# Pages


@bp.get("/")
def index(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _staff_child(child_id)
    rows = services.circumstances_of(actor, child)
    # What the social care system says, beside the council's own records: both are shown,
    # neither overwrites the other (a partner's feed and a caseworker's record can disagree).
    social_care = social_care_status_of(actor, child) if actor.can(permissions.CASES_READ) else None
    return render_template(
        "circumstances/index.html", title=f"{child.full_name}'s circumstances", child=child, rows=rows,
        today=clock.today(), can_write=actor.can(permissions.CHILDREN_WRITE), social_care=social_care,
        home_la_code=require_tenant().la_code,
    )


@bp.route("/new", methods=["GET", "POST"])
def choose(child_id: str):  # type: ignore[no-untyped-def]
    child = _staff_child(child_id, for_write=True)  # the object first: another council's id is a 404
    errors = FormErrors()
    if request.method == "POST":
        kind = services.parse_kind(text(request.form, "kind"))
        if kind is not None:
            return redirect(url_for("circumstances.new", child_id=child.id, kind=kind.value))
        errors.add("kind", "Select the circumstance to record")
    return render_template(
        "circumstances/choose.html", title=f"Record a circumstance for {child.full_name}", child=child,
        kinds=[{"value": k.value, "text": KIND_LABELS[k], "hint": {"text": KIND_HINTS[k]}} for k in CircumstanceKind],
        errors=errors,
        error_list=errors.summary(anchors={"kind": "kind"}),
    ), (400 if errors else 200)


@bp.route("/new/<kind>", methods=["GET", "POST"])
def new(child_id: str, kind: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _staff_child(child_id, for_write=True)  # the object first: another council's id is a 404
    parsed = _kind_or_404(kind)
    title = f"{KIND_LABELS[parsed]}: {child.full_name}"
    action = url_for("circumstances.new", child_id=child.id, kind=parsed.value)
    if request.method == "GET":
        return _render_form(parsed, child, title=title, action=action, values={}, errors=FormErrors(), parts={})
    values, errors, parts = _read_form(parsed)
    try:
        services.validate_circumstance(parsed, {k: v for k, v in values.items() if k not in errors},
                                       home_la_code=require_tenant().la_code)
    except ValidationFailed as exc:
        errors.merge(exc.errors)
    if not errors:
        try:
            row = services.create_circumstance(actor, child, parsed, values, policy=_policy(),
                                               home_la_code=require_tenant().la_code)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add("started_on" if exc.field in (None, "type", "date") else exc.field, exc.message)
        else:
            flash(f"{KIND_LABELS[parsed]} recorded", "success")
            return redirect(url_for("circumstances.view", child_id=child.id, circumstance_id=row.id))
    return _render_form(parsed, child, title=title, action=action, values=values, errors=errors, parts=parts,
                        status=400)


@bp.get("/<circumstance_id>")
def view(child_id: str, circumstance_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _staff_child(child_id)
    row = access_circumstance(actor, child, circumstance_id)
    custody = services.custody_picture(actor, child, row) if row.kind == CircumstanceKind.YOUTH_CUSTODY else None
    institution = db.session.get(Institution, row.urn) if row.urn else None
    ehc_cases = cases_of_child(actor, child) if actor.can(permissions.CASES_READ) else []
    plan_case = next((c for c in ehc_cases if c.stage not in ("ceased", "transferred")), None)
    review = services.next_annual_review(plan_case) \
        if plan_case is not None and row.kind == CircumstanceKind.LOOKED_AFTER else None
    return render_template(
        "circumstances/view.html", title=f"{row.label}: {child.full_name}", child=child, row=row,
        fields=services.fields_of(row.kind), today=clock.today(), custody=custody, institution=institution,
        plan_case=plan_case, review=review, can_write=actor.can(permissions.CHILDREN_WRITE),
        can_record_case=actor.can(permissions.CASES_WRITE), home_la_code=require_tenant().la_code,
        release_review_weeks=next((t.amount for t in _policy().sla_targets if t.key == "release_review"), None),
    )


@bp.route("/<circumstance_id>/edit", methods=["GET", "POST"])
def edit(child_id: str, circumstance_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _staff_child(child_id, for_write=True)
    row = access_circumstance(actor, child, circumstance_id, for_write=True)
    title = f"Change the {row.label.lower()} record"
    action = url_for("circumstances.edit", child_id=child.id, circumstance_id=row.id)
    if request.method == "GET":
        values = {n: getattr(row, n) for n in ("started_on", "ended_on", *(n for n, _ in services.KIND_FIELDS[row.kind]))}
        parts = {n: _parts_of(v) for n, v in values.items() if isinstance(v, dt.date)}
        return _render_form(row.kind, child, title=title, action=action, values=values, errors=FormErrors(),
                            parts=parts, row=row)
    values, errors, parts = _read_form(row.kind)
    if not errors:
        try:
            changed = services.update_circumstance(actor, child, row, values, policy=_policy(),
                                                   home_la_code=require_tenant().la_code)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add("started_on" if exc.field in (None, "type", "date") else exc.field, exc.message)
        else:
            flash("Changes saved" if changed else "Nothing was changed", "success")
            return redirect(url_for("circumstances.view", child_id=child.id, circumstance_id=row.id))
    else:
        try:
            services.validate_circumstance(row.kind, {k: v for k, v in values.items() if k not in errors},
                                           partial=True, current=row, home_la_code=require_tenant().la_code)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
    return _render_form(row.kind, child, title=title, action=action, values=values, errors=errors, parts=parts,
                        row=row, status=400)


@bp.route("/<circumstance_id>/end", methods=["GET", "POST"])
def end(child_id: str, circumstance_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _staff_child(child_id, for_write=True)
    row = access_circumstance(actor, child, circumstance_id, for_write=True)
    errors = FormErrors()
    parts: dict[str, str] = {}
    if row.ended_on is not None:
        flash(f"This record already ended on {row.ended_on.day} {row.ended_on.strftime('%B %Y')}", "success")
        return redirect(url_for("circumstances.view", child_id=child.id, circumstance_id=row.id))
    if request.method == "POST":
        parts = date_parts(request.form, "ended_on")
        ended_on, error = parse_date(parts, _end_label(row.kind))
        if error:
            errors.add("ended_on", error)
        else:
            try:
                services.end_circumstance(actor, child, row, ended_on, policy=_policy())
            except ValidationFailed as exc:
                errors.merge(exc.errors)
                errors = FormErrors({"ended_on": next(iter(errors.values()))}) if errors else errors
            except Conflict as exc:
                errors.add("ended_on", exc.message)
            else:
                flash(f"{row.label} record ended", "success")
                return redirect(url_for("circumstances.view", child_id=child.id, circumstance_id=row.id))
    youth = row.kind == CircumstanceKind.YOUTH_CUSTODY
    return render_template(
        "circumstances/end.html", title="Record the release" if youth else f"End the {row.label.lower()} record",
        child=child, row=row, errors=errors, error_list=errors.summary(anchors={"ended_on": "ended_on-day"}),
        end_items=date_items(parts, "ended_on" in errors), end_label=_end_label(row.kind), youth=youth,
    ), (400 if errors else 200)


@bp.route("/<circumstance_id>/case", methods=["GET", "POST"])
def record_on_case(child_id: str, circumstance_id: str):  # type: ignore[no-untyped-def]
    """Bring the EHC case up to date with a detention recorded before the case was opened
    (or by someone who could not record case events): confirm, then record."""
    actor = current_actor()
    child = _staff_child(child_id, for_write=True)
    row = access_circumstance(actor, child, circumstance_id, for_write=True)
    _require(permissions.CASES_WRITE)
    if request.method == "POST":
        try:
            done = services.record_custody_on_case(actor, child, row, policy=_policy())
        except (ValidationFailed, Conflict) as exc:
            message = exc.message if isinstance(exc, Conflict) else next(iter(exc.errors.values()))[0]
            flash(f"The EHC case was not changed: {message}", "error")
        else:
            flash("The detention is recorded on the EHC case" if done else "There is no open EHC case to record it on",
                  "success")
        return redirect(url_for("circumstances.view", child_id=child.id, circumstance_id=row.id))
    youth = row.kind == CircumstanceKind.YOUTH_CUSTODY
    return render_template(
        "circumstances/record_on_case.html", title="Record the detention on the EHC case", child=child, row=row,
        youth=youth, case=services.custody_case(child) if youth else None,
    )
