"""The SENCO portal for schools, colleges and early years settings (issue #4 item 6).

Pages: the pupils on roll with their EHC case and next deadline; every open deadline of
those pupils' cases; a pupil's page; requesting an EHC needs assessment with the evidence of
SEN support; returning educational advice the council asked for; and, for an annual review,
the papers, recording that they were sent, and the report.

Everything goes through ``core.portal.school`` with the signed-in person's actor, which
narrows it to their SENCO memberships and reaches every child, case and meeting through the
``access_*`` functions: a pupil not on roll at their institution today is the same 404 as a
made-up id. Every form has a CSRF token, shows a GOV.UK error summary and answers 400 on bad
input; the request boundary rolls back anything a 4xx started, so nothing is saved on error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from core import clock
from core.cases import services as cases
from core.errors import Conflict, ValidationFailed
from core.portal import school
from core.timescales import RULES, Deadline, TimescalePolicy
from web.context import require_tenant
from web.ui.event_forms import STAGE_TEXT, describe_deadline
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text
from web.ui.portal import identity_actor, require_identity, require_role

bp = Blueprint("portal_school", __name__, url_prefix="/portal/school")
bp.before_request(require_identity)

PER_PAGE = 50

#: What each deadline means, said to a SENCO (the engine's own labels speak to families, as
#: "you"; the caseworkers' words are instructions to the council).
SENCO_DEADLINE_TEXT: dict[str, str] = {
    "decision_to_assess": "The council must decide whether to carry out an EHC needs assessment",
    "advice_returned": "Advice the council asked for must reach the council",
    "decision_not_to_issue": "If the council decides not to issue an EHC plan, it must tell the family",
    "draft_plan_representations": "Last day for the family to comment on the draft plan or ask for a school",
    "institution_consultation_response": "The school or college the council consulted should reply",
    "draft_plan_latest": "Latest day for the council to send the draft plan and leave the family 15 days",
    "final_plan_issued": "The council must issue the final EHC plan",
    "annual_review": "The plan must be reviewed, and the council must send its decision",
    "under5_review_earliest": "The council should consider reviewing the plan from this date (child under 5)",
    "under5_review": "The council should have reviewed the plan of a child under 5",
    "review_meeting_notice": "Invitations to the review meeting must be sent",
    "review_papers_circulated": "The papers for the review meeting must be sent to everyone invited",
    "review_report_circulation": "The review report must be sent to the council and everyone invited",
    "post_review_decision": "The council must decide whether to keep, change or end the plan",
    "amendment_notice_representations": "Last day for the family to comment on the proposed changes to the plan",
    "amended_plan_issued": "The council must issue the amended plan",
    "decision_not_to_amend": "If the council decides not to amend the plan, it must tell the family why",
    "amended_plan_after_review_latest": "The amended plan should be issued, at the latest 12 weeks after the review",
    "phase_transfer_school": "The plan must be reviewed and amended to name the next school",
    "phase_transfer_post16": "The plan must be reviewed and amended to name the post-16 placement",
    "post16_institution_transfer": "The plan must be amended before the move to a new post-16 institution",
    "reassessment_decision": "The council must decide whether to re-assess",
    "reassessment_final_plan": "The council must issue the plan after the re-assessment",
    "mediation_adviser_contact": "Last day for the family to contact a mediation adviser",
    "appeal_deadline": "Last day for the family to register an appeal",
}

#: Who acts, by the rule's duty holder.
DUTY_HOLDER_TEXT = {"la": "The council", "family": "The family", "institution": "The school or college",
                    "advice_giver": "The adviser", "health_body": "The health body",
                    "mediation_adviser": "The mediation adviser"}
#: Review steps the school takes in a school-led review (reg 20), whatever the rule's holder.
SCHOOL_STEPS = ("review_papers_circulated", "review_report_circulation")

#: What the school sent, as the pupil's page lists it.
KIND_TEXT = {
    "assessment_request": "Request for an EHC needs assessment",
    "advice": "Educational advice",
    "review_paper": "Annual review paper",
    "review_report": "Annual review report",
}

DUE_LABELS = {"": "All open deadlines", "overdue": "Overdue", "four_weeks": "Due in the next 4 weeks"}


def senco_deadline_text(key: str) -> str:
    if key in SENCO_DEADLINE_TEXT:
        return SENCO_DEADLINE_TEXT[key]
    rule = RULES.get(key)
    return rule.label if rule else key.replace("_", " ").capitalize()


def who_acts(key: str) -> str:
    if key in SCHOOL_STEPS:
        return "The school"
    if key == "review_meeting_notice":
        return "Whoever arranges the meeting"  # the school, for a review held there (reg 20)
    rule = RULES.get(key)
    return DUTY_HOLDER_TEXT.get(rule.duty_holder if rule else "la", "The council")


@bp.app_template_filter("senco_deadline")
def _senco_deadline_filter(key: str) -> str:
    return senco_deadline_text(key)


def _actor() -> Any:
    actor = identity_actor()
    assert actor is not None  # require_identity ran first
    return actor


def _policy() -> TimescalePolicy:
    return cases.policy_from_settings(require_tenant().settings)


def _upload(name: str) -> school.Upload | None:
    f = request.files.get(name)
    if f is None or not f.filename:
        return None
    return school.Upload(filename=f.filename, data=f.read())


def _date(prefix: str, label: str) -> tuple[dt.date | None, str | None, dict[str, str]]:
    parts = date_parts(request.form, prefix)
    value, error = parse_date(parts, label)
    return value, error, parts


def _deadline_views(deadlines: list[Deadline], today: dt.date) -> list[Any]:
    """The case page's deadline table rows, in the SENCO's words."""
    return [dataclasses.replace(describe_deadline(d, today, audience="family"), label=senco_deadline_text(d.key))
            for d in deadlines]


# ---------------------------------------------------------------------------------------
# Pupils and deadlines


@bp.get("/")
@require_role("senco")
def index():  # type: ignore[no-untyped-def]
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page = 1
    today = clock.today()
    rows, total = school.pupils(_actor(), page=page, per_page=PER_PAGE, today=today)
    pages = max(math.ceil(total / PER_PAGE), 1)
    return render_template("portal/school/index.html", title="Your pupils", pupils=rows, total=total, page=page,
                           pages=pages, today=today, stage_text=STAGE_TEXT)


@bp.get("/deadlines")
@require_role("senco")
def deadlines():  # type: ignore[no-untyped-def]
    due = request.args.get("due", "")
    today = clock.today()
    errors = FormErrors()
    rows: list[school.DeadlineRow] = []
    try:
        rows = school.pupil_deadlines(_actor(), due=due or None, today=today)
    except ValidationFailed as exc:
        errors.merge(exc.errors)
        due = ""
    overdue = sum(1 for r in rows if r.overdue(today) and r.duty_holder != "family")
    return render_template("portal/school/deadlines.html", title="Your pupils' deadlines", rows=rows, due=due,
                           due_labels=DUE_LABELS, today=today, overdue=overdue, errors=errors,
                           error_list=errors.summary(anchors={"due": "due"}), who_acts=who_acts,
                           school_steps=SCHOOL_STEPS), (400 if errors else 200)


@bp.get("/pupils/<child_id>")
@require_role("senco")
def pupil(child_id: str):  # type: ignore[no-untyped-def]
    today = clock.today()
    o = school.pupil(_actor(), child_id, policy=_policy(), today=today)
    return render_template("portal/school/pupil.html", title=o.child.full_name, o=o, today=today,
                           deadlines=_deadline_views(o.deadlines, today), stage_text=STAGE_TEXT,
                           who_acts=who_acts, kinds=KIND_TEXT)



# ---------------------------------------------------------------------------------------
# Requesting an EHC needs assessment


REQUEST_ORDER = ["areas", *school.REQUEST_FIELDS, "evidence", "parent_informed"]


@bp.route("/pupils/<child_id>/request-assessment", methods=["GET", "POST"])
@require_role("senco")
def request_assessment(child_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    form = school.request_form(actor, child_id)  # NotFound unless on roll here: before anything else
    errors = FormErrors()
    values: dict[str, Any] = {"areas": []}
    if request.method == "POST":
        values = {name: text(request.form, name) for name in school.REQUEST_FIELDS}
        values["areas"] = request.form.getlist("areas")
        values["parent_informed"] = request.form.get("parent_informed") == "yes"
        evidence = [school.Upload(filename=f.filename or "", data=f.read())
                    for f in request.files.getlist("evidence") if f.filename]
        try:
            case, _submission = school.request_assessment(actor, child_id, values, evidence, policy=_policy())
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add(exc.field or "needs", exc.message)
        else:
            due = case.next_due
            flash(f"Your request for an EHC needs assessment for {form.child.full_name} has been sent to "
                  f"{require_tenant().name}. The council must decide whether to assess by "
                  f"{due.day} {due:%B %Y} (SEND Regulations 2014, regulation 5(1))." if due else
                  f"Your request for an EHC needs assessment for {form.child.full_name} has been sent.", "success")
            return redirect(url_for("portal_school.pupil", child_id=form.child.id))
    return render_template(
        "portal/school/request.html", title="Request an EHC needs assessment", form=form, values=values,
        errors=errors, error_list=errors.summary(anchors={"areas": "areas"}, order=REQUEST_ORDER),
        areas=school.AREAS_OF_NEED, max_files=school.MAX_EVIDENCE_FILES,
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# Educational advice


ADVICE_ORDER = ["advice_id", *school.ADVICE_FIELDS, "file"]


@bp.route("/cases/<case_id>/advice", methods=["GET", "POST"])
@require_role("senco")
def advice(case_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    today = clock.today()
    page = school.advice_page(actor, case_id, policy=_policy(), today=today)  # NotFound first
    errors = FormErrors()
    values: dict[str, str] = {}
    open_requests = page.open_requests
    if request.method == "POST":
        values = {name: text(request.form, name) for name in school.ADVICE_FIELDS}
        advice_id = text(request.form, "advice_id")
        if not advice_id and len(open_requests) == 1:
            advice_id = open_requests[0].advice_id
        values["advice_id"] = advice_id
        try:
            school.submit_advice(actor, case_id, advice_id, values, _upload("file"), policy=_policy(), today=today)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add(exc.field or "advice_id", exc.message)
        else:
            flash(f"Your advice about {page.child.full_name} has been sent to {require_tenant().name}. It was "
                  f"received today, {today.day} {today:%B %Y}.", "success")
            return redirect(url_for("portal_school.pupil", child_id=page.child.id))
    return render_template(
        "portal/school/advice.html", title="Send educational advice", p=page, open_requests=open_requests,
        values=values, errors=errors, today=today,
        error_list=errors.summary(anchors={"advice_id": "advice_id"}, order=ADVICE_ORDER),
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# Annual reviews


def _review_context(meeting_id: str, today: dt.date) -> Any:
    return school.review(_actor(), meeting_id, policy=_policy(), today=today)


@bp.get("/reviews/<meeting_id>")
@require_role("senco")
def review(meeting_id: str):  # type: ignore[no-untyped-def]
    today = clock.today()
    o = _review_context(meeting_id, today)
    return render_template("portal/school/review.html", title=f"Annual review meeting on {_long(o.meeting.meeting_on)}",
                           o=o, today=today, recommendations=school.RECOMMENDATIONS)


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


@bp.route("/reviews/<meeting_id>/papers", methods=["GET", "POST"])
@require_role("senco")
def review_papers(meeting_id: str):  # type: ignore[no-untyped-def]
    today = clock.today()
    o = _review_context(meeting_id, today)
    errors = FormErrors()
    title_value = ""
    if request.method == "POST":
        title_value = text(request.form, "title")
        try:
            doc = school.add_review_paper(_actor(), meeting_id, title=title_value, upload=_upload("file"), today=today)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add(exc.field or "file", exc.message)
        else:
            flash(f"‘{doc.title}’ has been added to the papers for the meeting", "success")
            return redirect(url_for("portal_school.review_papers", meeting_id=o.meeting.id))
    return render_template("portal/school/papers.html", title="Papers for the review meeting", o=o, today=today,
                           errors=errors, error_list=errors.summary(order=["title", "file"]), title_value=title_value), \
        (400 if errors else 200)


@bp.route("/reviews/<meeting_id>/papers/sent", methods=["GET", "POST"])
@require_role("senco")
def papers_sent(meeting_id: str):  # type: ignore[no-untyped-def]
    today = clock.today()
    o = _review_context(meeting_id, today)
    errors = FormErrors()
    parts: dict[str, str] = {}
    if request.method == "POST":
        on, error, parts = _date("sent_on", "Date")
        try:
            if error:
                raise ValidationFailed({"sent_on": [error]})
            school.record_papers_sent(_actor(), meeting_id, on, policy=_policy(), today=today)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add(exc.field or "sent_on", exc.message)
        else:
            assert on is not None
            flash(f"Recorded: the papers were sent to everyone invited on {_long(on)}", "success")
            return redirect(url_for("portal_school.review", meeting_id=o.meeting.id))
    step = next(s for s in o.steps if s.step.key == "papers")
    return render_template("portal/school/papers_sent.html", title="Record that you sent the papers", o=o, step=step,
                           today=today, errors=errors, error_list=errors.summary(anchors={"sent_on": "sent_on-day"}),
                           date_items=date_items(parts, "sent_on" in errors)), (400 if errors else 200)


REPORT_ORDER = ["views", "progress", "recommendation", "reasons", "differences", "file", "sent_on"]


@bp.route("/reviews/<meeting_id>/report", methods=["GET", "POST"])
@require_role("senco")
def review_report(meeting_id: str):  # type: ignore[no-untyped-def]
    today = clock.today()
    o = _review_context(meeting_id, today)
    errors = FormErrors()
    parts: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {name: text(request.form, name) for name in (*school.REPORT_FIELDS, "differences", "recommendation")}
        on, error, parts = _date("sent_on", "Date")
        try:
            school.send_review_report(_actor(), meeting_id, values, _upload("file"), on, policy=_policy(), today=today)
        except ValidationFailed as exc:
            if error:  # the form's own wording for a half-typed date
                exc.errors["sent_on"] = [error]
            errors.merge(exc.errors)
        except Conflict as exc:
            errors.add(exc.field or "sent_on", exc.message)
        else:
            assert on is not None
            flash(f"The review report has been sent to {require_tenant().name}, recorded as sent on {_long(on)}",
                  "success")
            return redirect(url_for("portal_school.review", meeting_id=o.meeting.id))
    step = next(s for s in o.steps if s.step.key == "report")
    return render_template(
        "portal/school/report.html", title="Send the annual review report", o=o, step=step, today=today,
        values=values, recommendations=school.RECOMMENDATIONS, errors=errors,
        error_list=errors.summary(anchors={"sent_on": "sent_on-day", "recommendation": "recommendation"},
                                  order=REPORT_ORDER),
        date_items=date_items(parts, "sent_on" in errors),
    ), (400 if errors else 200)
