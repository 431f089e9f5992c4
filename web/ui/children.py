"""Caseworker pages: find, view, add and change children and young people."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from core import clock, permissions
from core.integrations.social_care import social_care_status_of
from core.circumstances.services import circumstances_of
from core.audit import services as audit
from core.cases.services import cases_of_child
from core.children import services
from core.children.access import access_child
from core.children.models import Relationship, Sex
from core.errors import Conflict, Forbidden, ValidationFailed
from web.context import current_actor, require_staff
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text

bp = Blueprint("children", __name__, url_prefix="/children")

PER_PAGE = 25
SEX_ITEMS = [("female", "Female"), ("male", "Male"), ("other", "Other"), ("unknown", "Not known")]
CHILD_ORDER = ["given_name", "family_name", "date_of_birth", "sex", "upn", "uln", "nhs_number", "postcode"]


bp.before_request(require_staff)


def _can_write() -> bool:
    return current_actor().can(permissions.CHILDREN_WRITE)


def _require(permission: str) -> None:
    if not current_actor().can(permission):
        raise Forbidden(permission)


# ---------------------------------------------------------------------------------------
# Find


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    actor = current_actor()
    q = request.args.get("q", "").strip()
    errors = FormErrors()
    if len(q) > 100:
        errors.add("q", "Search for 100 characters or fewer")
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page = 1
    children: list[Any] = []
    total = 0
    if not errors:
        children, total = services.find_children(actor, services.ChildFilter(q=q or None), page=page, per_page=PER_PAGE)
    pages = max(math.ceil(total / PER_PAGE), 1)
    placements = services.current_setting_names([c.id for c in children])
    status = 400 if errors else 200
    return render_template(
        "children/index.html", title="Children", children=children, total=total, q=q, page=page, pages=pages,
        errors=errors, error_list=errors.summary(), can_write=_can_write(), placements=placements,
    ), status


# ---------------------------------------------------------------------------------------
# View


@bp.get("/<child_id>")
def view(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = access_child(actor, child_id)
    return render_template(
        "children/view.html", title=child.full_name, child=child, today=clock.today(), can_write=_can_write(),
        can_audit=actor.can(permissions.AUDIT_READ), sex_labels=dict(SEX_ITEMS),
        ehc_cases=cases_of_child(actor, child) if actor.can(permissions.CASES_READ) else None,
        # What the social care system last said (issue #5), for council staff only.
        social_care=social_care_status_of(actor, child)
        if actor.can(permissions.CASES_READ) and actor.scope is None else None,
        # Specific circumstances, CoP ch.10 (issue 6): council staff's records only.
        circumstances=circumstances_of(actor, child) if actor.scope is None else None,
    )


@bp.get("/<child_id>/activity")
def activity(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    # The object first: another council's id is the same 404 as a missing one, whoever asks.
    child = access_child(actor, child_id)
    events, names = audit.activity_on(actor, child.id)
    return render_template("children/activity.html", title=f"Activity on {child.full_name}'s record", child=child,
                           events=events, names=names)


# ---------------------------------------------------------------------------------------
# Add and change


def _child_form_values(form: Any) -> tuple[dict[str, Any], FormErrors, dict[str, str]]:
    errors = FormErrors()
    parts = date_parts(form, "date_of_birth")
    dob, dob_error = parse_date(parts, "Date of birth")
    if dob_error:
        errors.add("date_of_birth", dob_error)
    values: dict[str, Any] = {
        "given_name": text(form, "given_name"),
        "family_name": text(form, "family_name"),
        "date_of_birth": dob,
        "sex": text(form, "sex") or None,
        "upn": text(form, "upn") or None,
        "uln": text(form, "uln") or None,
        "nhs_number": text(form, "nhs_number") or None,
        "postcode": text(form, "postcode") or None,
    }
    return values, errors, parts


def _render_child_form(template_title: str, action: str, values: dict[str, Any], errors: FormErrors,
                       parts: dict[str, str], child: Any = None, status: int = 200) -> Any:
    return render_template(
        "children/form.html", title=template_title, action=action, values=values, errors=errors,
        error_list=errors.summary(anchors={"date_of_birth": "date_of_birth-day", "sex": "sex"}, order=CHILD_ORDER),
        dob_items=date_items(parts, "date_of_birth" in errors), sex_items=SEX_ITEMS, child=child,
    ), status


@bp.route("/new", methods=["GET", "POST"])
def new():  # type: ignore[no-untyped-def]
    actor = current_actor()
    _require(permissions.CHILDREN_WRITE)
    if request.method == "GET":
        return _render_child_form("Add a child or young person", url_for("children.new"), {}, FormErrors(), {})
    values, errors, parts = _child_form_values(request.form)
    if not errors:
        try:
            child = services.create_child(actor, values)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add(exc.field or "given_name", exc.message)
        else:
            flash(f"{child.full_name} has been added", "success")
            return redirect(url_for("children.view", child_id=child.id))
    else:
        # Report every field's problem at once, not just the date's.
        try:
            services.validate_child({k: v for k, v in values.items() if k != "date_of_birth"}, partial=True)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        for key, label in (("given_name", "first name"), ("family_name", "last name")):
            if not values[key]:
                errors.add(key, f"Enter the {label}")
    return _render_child_form("Add a child or young person", url_for("children.new"), values, errors, parts, status=400)


@bp.route("/<child_id>/edit", methods=["GET", "POST"])
def edit(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = access_child(actor, child_id, for_write=True)
    title = f"Change {child.full_name}'s details"
    action = url_for("children.edit", child_id=child.id)
    if request.method == "GET":
        values = {k: getattr(child, k) for k in services.CHILD_FIELDS}
        values["sex"] = child.sex.value if child.sex else None
        parts = {"day": str(child.date_of_birth.day), "month": str(child.date_of_birth.month),
                 "year": str(child.date_of_birth.year)}
        return _render_child_form(title, action, values, FormErrors(), parts, child=child)
    values, errors, parts = _child_form_values(request.form)
    if not errors:
        try:
            changed = services.update_child(actor, child, values)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add(exc.field or "given_name", exc.message)
        else:
            flash("Details saved" if changed else "Nothing was changed", "success")
            return redirect(url_for("children.view", child_id=child.id))
    return _render_child_form(title, action, values, errors, parts, child=child, status=400)


CONTACT_ORDER = ["given_name", "family_name", "relationship", "parental_responsibility", "email", "phone", "postcode"]
RELATIONSHIP_ITEMS = [(r.value, r.label) for r in Relationship]


@bp.route("/<child_id>/contacts/new", methods=["GET", "POST"])
def new_contact(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = access_child(actor, child_id, for_write=True)
    values: dict[str, Any] = {}
    errors = FormErrors()
    if request.method == "POST":
        pr = request.form.get("parental_responsibility")
        values = {
            "given_name": text(request.form, "given_name"),
            "family_name": text(request.form, "family_name"),
            "relationship": text(request.form, "relationship"),
            "parental_responsibility": {"yes": True, "no": False}.get(pr or ""),
            "email": text(request.form, "email") or None,
            "phone": text(request.form, "phone") or None,
            "postcode": text(request.form, "postcode") or None,
        }
        try:
            contact = services.add_contact(actor, child, values)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        else:
            flash(f"{contact.full_name} has been added as a contact", "success")
            return redirect(url_for("children.view", child_id=child.id, _anchor="contacts"))
    return render_template(
        "children/contact_form.html", title=f"Add a contact for {child.full_name}", child=child, values=values,
        errors=errors, error_list=errors.summary(
            anchors={"relationship": "relationship", "parental_responsibility": "parental_responsibility"},
            order=CONTACT_ORDER),
        relationship_items=RELATIONSHIP_ITEMS,
    ), (400 if errors else 200)


@bp.route("/<child_id>/placements/new", methods=["GET", "POST"])
def new_placement(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = access_child(actor, child_id, for_write=True)
    errors = FormErrors()
    urn_text = ""
    start_parts: dict[str, str] = {}
    if request.method == "POST":
        urn_text = text(request.form, "urn")
        start_parts = date_parts(request.form, "started_on")
        started_on, start_error = parse_date(start_parts, "Start date")
        urn: int | None = None
        if not urn_text:
            errors.add("urn", "Enter the URN of the school, college or setting")
        elif not (urn_text.isdigit() and len(urn_text) == 6):
            errors.add("urn", "Enter a URN of 6 digits, like 118945")
        else:
            urn = int(urn_text)
        if start_error:
            errors.add("started_on", start_error)
        elif started_on and started_on > clock.today() + dt.timedelta(days=366):
            errors.add("started_on", "Start date must be within the next year")
        if not errors and urn is not None and started_on is not None:
            try:
                placement = services.add_placement(actor, child, urn=urn, started_on=started_on)
            except ValidationFailed as exc:
                errors.merge(exc.errors)
            else:
                flash(f"{placement.institution.name} has been added", "success")
                return redirect(url_for("children.view", child_id=child.id, _anchor="settings"))
    return render_template(
        "children/placement_form.html", title=f"Add a school, college or setting for {child.full_name}", child=child,
        urn=urn_text, errors=errors, error_list=errors.summary(anchors={"started_on": "started_on-day"}),
        start_items=date_items(start_parts, "started_on" in errors),
    ), (400 if errors else 200)


@bp.app_template_filter("long_date")
def long_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {value.strftime('%B %Y')}"


@bp.app_template_filter("date_time")
def date_time(value: dt.datetime) -> str:
    local = value.astimezone()  # server time zone: Europe/London in production
    return f"{local.day} {local.strftime('%B %Y')} at {local.strftime('%-I:%M%p').lower()}"


@bp.app_template_filter("sex_label")
def sex_label(value: Sex | None) -> str:
    return dict(SEX_ITEMS).get(value.value, "") if value else "Not recorded"
