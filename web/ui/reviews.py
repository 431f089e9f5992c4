"""Caseworker pages: annual reviews of EHC plans and "Your reminders" (issue #3 items 6 and 9).

Every object comes through an ``access_*`` function (another council's case or meeting is the
same 404 as a missing one); every form has a CSRF token, shows a GOV.UK error summary and
answers 400 on bad input, and the request boundary rolls back anything a 4xx started, so
nothing is saved on error. Viewing needs ``cases.read``; changing needs ``cases.write``.

Two links point at pages other engineers build: the case page (``cases.view``) and document
downloads (``plans.download_document``). Until those endpoints exist the links are left out
(:func:`_endpoint_exists`), and the case's reviews page stands in for the case page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from core import clock, permissions
from core.cases import jobs as reminder_jobs
from core.cases import reviews
from core.cases import services as cases
from core.cases.access import access_case
from core.errors import Conflict, NotFound, ValidationFailed
from core.timescales import RULES, TimescalePolicy
from web.context import current_actor, require_staff, require_tenant
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text

bp = Blueprint("reviews", __name__)


bp.before_request(require_staff)


def _policy() -> TimescalePolicy:
    return cases.policy_from_settings(require_tenant().settings)


def _can_write() -> bool:
    return current_actor().can(permissions.CASES_WRITE)


def _endpoint_exists(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def case_url(case_id: Any) -> str:
    """The case page once it exists (cases.view), else the case's reviews page."""
    if _endpoint_exists("cases.view"):
        return url_for("cases.view", case_id=case_id)
    return url_for("reviews.case_reviews", case_id=case_id)


def document_url(document_id: Any) -> str | None:
    if _endpoint_exists("plans.download_document"):
        return url_for("plans.download_document", document_id=document_id)
    return None


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"review_case_url": case_url, "review_document_url": document_url,
            "review_has_case_page": _endpoint_exists("cases.view")}


def _date_form(prefix: str, label: str) -> tuple[dt.date | None, str | None, dict[str, str]]:
    parts = date_parts(request.form, prefix)
    value, error = parse_date(parts, label)
    return value, error, parts


# ---------------------------------------------------------------------------------------
# A case's reviews, and arranging a meeting


@bp.get("/cases/<case_id>/reviews")
def case_reviews(case_id: str):  # type: ignore[no-untyped-def]
    case = access_case(current_actor(), case_id)
    overview = reviews.case_reviews(case, policy=_policy())
    return render_template("reviews/case_reviews.html", title=f"Reviews of {overview.child.full_name}'s EHC plan",
                           o=overview, can_write=_can_write(), today=clock.today())


@bp.route("/cases/<case_id>/reviews/new", methods=["GET", "POST"])
def schedule(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id, for_write=True)
    overview = reviews.case_reviews(case, policy=_policy())
    errors = FormErrors()
    parts: dict[str, str] = {}
    if request.method == "POST":
        meeting_on, error, parts = _date_form("meeting_on", "Date of the meeting")
        if error:
            errors.add("meeting_on", error)
        else:
            assert meeting_on is not None
            try:
                meeting = reviews.schedule_meeting(actor, case, meeting_on=meeting_on, policy=_policy(),
                                                   council_name=require_tenant().name)
            except ValidationFailed as exc:
                errors.merge(exc.errors)
            except Conflict as exc:
                errors.add("meeting_on", exc.message)
            else:
                flash(f"Review meeting arranged for {meeting.meeting_on:%-d %B %Y}. Check who is invited.", "success")
                return redirect(url_for("reviews.meeting", meeting_id=meeting.id))
    return render_template(
        "reviews/schedule.html", title="Arrange a review meeting", o=overview, errors=errors,
        error_list=errors.summary(anchors={"meeting_on": "meeting_on-day"}),
        date_items=date_items(parts, "meeting_on" in errors),
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# One meeting


@bp.get("/reviews/<meeting_id>")
def meeting(meeting_id: str):  # type: ignore[no-untyped-def]
    m = reviews.access_meeting(current_actor(), meeting_id)
    o = reviews.meeting_overview(m, policy=_policy())
    return render_template("reviews/meeting.html", title=f"Review meeting on {m.meeting_on:%-d %B %Y}", o=o,
                           can_write=_can_write(), today=clock.today(), roles=reviews.INVITEE_ROLES,
                           outcomes=reviews.OUTCOMES, pfa_areas=reviews.PFA_AREAS)


INVITEE_ORDER = ["name", "role", "organisation", "email"]


@bp.route("/reviews/<meeting_id>/invitees", methods=["GET", "POST"])
def invitees(meeting_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    m = reviews.access_meeting(actor, meeting_id, for_write=True)
    o = reviews.meeting_overview(m, policy=_policy())
    errors = FormErrors()
    editing = request.values.get("change") or request.form.get("invitee") or ""
    values: dict[str, str] = {}
    if editing and request.method == "GET":
        values = reviews.find_invitee(m, editing)  # NotFound: 404
    if request.method == "POST":
        action = request.form.get("action")
        values = {k: text(request.form, k) for k in INVITEE_ORDER}
        try:
            if action == "add":
                added = reviews.add_invitee(actor, m, values)
                flash(f"{added['name'] or added['organisation']} has been added to the invitees", "success")
            elif action == "change" and editing:
                changed = reviews.change_invitee(actor, m, editing, values)
                flash(f"{changed['name'] or changed['organisation']}'s details have been saved", "success")
            elif action == "remove" and editing:
                removed = reviews.remove_invitee(actor, m, editing)
                flash(f"{removed['name'] or reviews.INVITEE_ROLES.get(removed['role'], 'The invitee')} "
                      "has been removed from the invitees", "success")
            else:
                abort(400)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add(exc.field or "name", exc.message)
        else:
            return redirect(url_for("reviews.invitees", meeting_id=m.id))
    role_items = [{"value": "", "text": "Select their role"}] + [
        {"value": k, "text": v, "selected": values.get("role") == k} for k, v in reviews.INVITEE_ROLES.items()]
    return render_template(
        "reviews/invitees.html", title="Who is invited to the review meeting", o=o, errors=errors,
        error_list=errors.summary(order=INVITEE_ORDER), values=values, editing=editing,
        role_items=role_items, roles=reviews.INVITEE_ROLES,
    ), (400 if errors else 200)


STEP_TITLES = {
    "invitations": "Record that the invitations were sent",
    "papers": "Record that the advice and information was sent",
    "held": "Record that the meeting was held",
    "report": "Record that the review report was sent",
}
STEP_LEGENDS = {
    "invitations": "When were the invitations sent?",
    "papers": "When was the advice and information sent to everyone invited?",
    "held": "When was the meeting held?",
    "report": "When was the report sent to the council and everyone invited?",
}


@bp.route("/reviews/<meeting_id>/steps/<step>", methods=["GET", "POST"])
def record_step(meeting_id: str, step: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    m = reviews.access_meeting(actor, meeting_id, for_write=True)
    if step not in reviews.DATED_STEPS:
        raise NotFound("review step")
    o = reviews.meeting_overview(m, policy=_policy())
    field = f"{step}_on"
    errors = FormErrors()
    parts: dict[str, str] = {}
    pfa_values = {k: (m.pfa_checklist or {}).get(k, {}).get("notes", "") for k in reviews.PFA_AREAS}
    with_pfa = step == "held" and o.pfa_required
    if request.method == "POST":
        on, error, parts = _date_form(field, "Date")
        if with_pfa:
            pfa_values = {k: text(request.form, k) for k in reviews.PFA_AREAS}
        if error:
            errors.add(field, error)
            if with_pfa:  # report every problem at once
                try:
                    reviews.validate_pfa_for_meeting(pfa_values, required=True)
                except ValidationFailed as exc:
                    errors.merge(exc.errors)
        else:
            assert on is not None
            try:
                if step == "held":
                    reviews.record_held(actor, m, on, policy=_policy(), pfa=pfa_values if with_pfa else None)
                else:
                    reviews.record_step(actor, m, step, on, policy=_policy())
            except ValidationFailed as exc:
                errors.merge(exc.errors)
            except Conflict as exc:
                errors.add(exc.field or field, exc.message)
            else:
                flash(f"{reviews.STEPS[step].title}: recorded as done on {on:%-d %B %Y}", "success")
                return redirect(url_for("reviews.meeting", meeting_id=m.id))
    view = next(s for s in o.steps if s.step.key == step)
    # The held step's only blocker is an incomplete checklist, which its form asks for inline.
    blocked = bool(view.blocker) and not with_pfa
    return render_template(
        "reviews/step.html", title=STEP_TITLES[step], legend=STEP_LEGENDS[step], o=o, step=view, field=field,
        blocked=blocked,
        errors=errors, error_list=errors.summary(anchors={field: f"{field}-day"},
                                                 order=[field, *reviews.PFA_AREAS]),
        date_items=date_items(parts, field in errors), with_pfa=with_pfa, pfa_values=pfa_values,
        pfa_areas=reviews.PFA_AREAS,
    ), (400 if errors else 200)


UPLOAD_KINDS = {"review_paper": ("Upload a paper for the review meeting", "paper"),
                "review_report": ("Upload the review report", "report")}


@bp.route("/reviews/<meeting_id>/documents", methods=["GET", "POST"])
def upload(meeting_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    m = reviews.access_meeting(actor, meeting_id, for_write=True)
    kind = request.values.get("kind") or "review_paper"
    if kind not in UPLOAD_KINDS:
        abort(400)
    o = reviews.meeting_overview(m, policy=_policy())
    errors = FormErrors()
    title_value = ""
    if request.method == "POST":
        title_value = text(request.form, "title")
        upload_file = request.files.get("file")
        data = upload_file.read() if upload_file is not None and upload_file.filename else b""
        if not title_value:
            errors.add("title", "Enter a title for the document")
        if upload_file is None or not upload_file.filename:
            errors.add("file", "Select a file")
        if not errors:
            assert upload_file is not None
            try:
                doc = reviews.add_document(actor, m, kind=kind, title=title_value, filename=upload_file.filename or "",
                                           data=data)
            except ValidationFailed as exc:
                errors.merge(exc.errors)
            else:
                flash(f"‘{doc.title}’ has been uploaded", "success")
                return redirect(url_for("reviews.meeting", meeting_id=m.id, _anchor="documents"))
    heading, noun = UPLOAD_KINDS[kind]
    return render_template("reviews/upload.html", title=heading, noun=noun, kind=kind, o=o, errors=errors,
                           error_list=errors.summary(order=["title", "file"]), title_value=title_value), \
        (400 if errors else 200)


@bp.route("/reviews/<meeting_id>/adulthood", methods=["GET", "POST"])
def adulthood(meeting_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    m = reviews.access_meeting(actor, meeting_id, for_write=True)
    o = reviews.meeting_overview(m, policy=_policy())
    errors = FormErrors()
    values = {k: (m.pfa_checklist or {}).get(k, {}).get("notes", "") for k in reviews.PFA_AREAS}
    if request.method == "POST":
        values = {k: text(request.form, k) for k in reviews.PFA_AREAS}
        try:
            changed = reviews.save_pfa(actor, m, values)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        else:
            flash("Preparing for adulthood checklist saved" if changed else "Nothing was changed", "success")
            return redirect(url_for("reviews.meeting", meeting_id=m.id, _anchor="adulthood"))
    return render_template("reviews/adulthood.html", title="Preparing for adulthood", o=o, errors=errors,
                           error_list=errors.summary(order=list(reviews.PFA_AREAS)), values=values,
                           pfa_areas=reviews.PFA_AREAS), (400 if errors else 200)


DECISION_ORDER = ["outcome", "notice", "consulted", "decision_on"]


@bp.route("/reviews/<meeting_id>/decision", methods=["GET", "POST"])
def decision(meeting_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    m = reviews.access_meeting(actor, meeting_id, for_write=True)
    o = reviews.meeting_overview(m, policy=_policy())
    errors = FormErrors()
    parts: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        outcome = request.form.get("outcome") or ""
        values = {"outcome": outcome, "notice": request.form.get("notice") or "",
                  "consulted": request.form.get("consulted") == "yes"}
        on, error, parts = _date_form("decision_on", "Date")
        if outcome not in reviews.OUTCOMES:
            errors.add("outcome", "Select what the council decided")
        if values["notice"] not in ("yes", "no"):
            errors.add("notice", "Select yes if the letter or notice went to the family with the decision")
        if error:
            errors.add("decision_on", error)
        if outcome == "cease" and not values["consulted"]:
            errors.add("consulted", "Confirm that the family and the school or college were consulted before "
                                    "deciding to cease the plan (SEND Regs 2014 reg 31(1))")
        if not errors:
            assert on is not None
            try:
                reviews.record_decision(actor, m, outcome=outcome, on=on, policy=_policy(),
                                        notice_sent=values["notice"] == "yes", consulted=values["consulted"])
            except ValidationFailed as exc:
                errors.merge(exc.errors)
            except Conflict as exc:
                errors.add(exc.field or "outcome", exc.message)
            else:
                flash(f"Decision recorded: {reviews.OUTCOMES[outcome].lower()}", "success")
                return redirect(url_for("reviews.meeting", meeting_id=m.id, _anchor="decision"))
    return render_template(
        "reviews/decision.html", title="Record the council's decision", o=o, errors=errors,
        error_list=errors.summary(anchors={"decision_on": "decision_on-day", "consulted": "consulted"},
                                  order=DECISION_ORDER),
        date_items=date_items(parts, "decision_on" in errors), values=values, outcomes=reviews.OUTCOMES,
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# Your reminders


@bp.route("/reminders", methods=["GET", "POST"])
def reminders():  # type: ignore[no-untyped-def]
    actor = current_actor()
    if request.method == "POST":
        if request.form.get("all") == "yes":
            count = reminder_jobs.mark_read(actor)
            flash(f"{count} {'reminder' if count == 1 else 'reminders'} marked as read", "success")
        elif request.form.get("notification"):
            notification = reminder_jobs.access_notification(actor, request.form["notification"])  # 404 if not theirs
            reminder_jobs.mark_read(actor, notification)
            flash("Reminder marked as read", "success")
        else:
            abort(400)
        return redirect(url_for("reviews.reminders"))
    rows = reminder_jobs.reminders_for(actor)
    return render_template("reviews/reminders.html", title="Your reminders", rows=rows, today=clock.today(),
                           unread=sum(1 for r in rows if r.notification.read_at is None), rules=RULES)
