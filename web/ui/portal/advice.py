"""The professionals' portal: advice requests and returning advice (issue #4 item 6).

A professional sees the requests they were invited for, each with the child's name, date of
birth and school, what is asked and when it is due (SEND Regulations 2014 reg 8(1): 6 weeks
from the request), and sends their advice with a form and a file. Everything goes through
``core.portal.advice`` with the person's scoped actor, so another council's case, or a case
or request they were not invited to, is the same 404 as one that does not exist.

Sending advice ends access to that request at once, so the confirmation is the response to
the form itself, not a redirect: a professional with nothing else to see here is signed out
on their next request (``web.app``), and a page reached by redirect could no longer be shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, render_template, request

from core import clock
from core.cases.services import policy_from_settings
from core.errors import Conflict, ValidationFailed
from core.portal import advice as service
from core.timescales import TimescalePolicy
from web.context import require_tenant
from web.ui import event_forms as words
from web.ui.forms import FormErrors, text
from web.ui.portal import identity_actor, require_identity, require_role

bp = Blueprint("portal_advice", __name__, url_prefix="/portal/advice")
bp.before_request(require_identity)

KIND_WORDS = {"educational": "Educational advice", "medical": "Medical advice", "psychological": "Psychological advice",
              "social_care": "Social care advice", "other": "Advice"}
FIELD_ORDER = ["summary", "provision", "outcomes", "advice_file"]


def _policy() -> TimescalePolicy:
    return policy_from_settings(require_tenant().settings)


def _actor() -> Any:
    actor = identity_actor()
    assert actor is not None  # require_identity and require_role have run
    return actor


def _view(r: service.AdviceRequest, today: dt.date) -> dict[str, Any]:
    """A request as the pages show it: what is asked, when it is due, its tag."""
    deadline = words.describe_deadline(r.deadline, today) if r.deadline is not None else None
    return {
        "request": r, "kind": KIND_WORDS.get(r.kind or "", "Advice"), "requested": words.weekday_date(r.requested_on),
        "due": deadline.date_text if deadline else None,
        "tag_text": deadline.tag_text if deadline else None, "tag_class": deadline.tag_class if deadline else "",
        "detail": deadline.status_detail if deadline else None,
        "citation": deadline.citation if deadline else "SEND Regulations 2014, regulation 8(1)",
    }


@bp.get("/")
@require_role("professional")
def index():  # type: ignore[no-untyped-def]
    today = clock.today()
    cases = service.inbox(_actor(), policy=_policy(), today=today)
    waiting = [(c, _view(r, today)) for c in cases for r in c.waiting]
    waiting.sort(key=lambda cv: (cv[1]["request"].deadline.last_compliant_day if cv[1]["request"].deadline
                                 else dt.date.max))
    return render_template("portal/advice/index.html", title="Advice requests", cases=cases, waiting=waiting,
                           quiet=[c for c in cases if not c.waiting], today=today, kind_words=KIND_WORDS)


@bp.route("/cases/<case_id>/requests/<advice_id>", methods=["GET", "POST"])
@require_role("professional")
def advice_request(case_id: str, advice_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    today = clock.today()
    policy = _policy()
    case, req = service.access_advice_request(actor, case_id, advice_id, policy=policy, today=today)
    child = case.child
    context: dict[str, Any] = {
        "case": case, "child": child, "school": service.current_school(child, today), "r": _view(req, today),
    }
    sent = service.sent_by(actor, case.id, req.advice_id)
    if not req.open:
        # Answered already (by them or another route): what they sent, if it was them.
        # Sending again (a second click, an old tab) changes nothing: 409, and what was received.
        return render_template("portal/advice/answered.html", title="This advice has been received", sent=[
            (s, service.documents_sent_with(s)) for s in sent], received_on=req.received_on, **context), \
            (409 if request.method == "POST" else 200)
    errors = FormErrors()
    values = {name: "" for name, _ in service.ADVICE_FIELDS}
    status = 200
    if request.method == "POST":
        values = {name: text(request.form, name) for name, _ in service.ADVICE_FIELDS}
        upload = request.files.get("advice_file")
        advice_file = service.AdviceFile(upload.filename or "advice", upload.read()) \
            if upload is not None and upload.filename else None
        try:
            submission = service.submit_advice(actor, case, req, values, advice_file, policy=policy, today=today)
        except ValidationFailed as exc:
            errors.merge(exc.errors, rename={"file": "advice_file", "title": "advice_file"})
            status = 400
        except Conflict as exc:
            errors.add("summary", words.pretty_dates(exc.message))
            status = 409
        else:
            cases_left, anything_left = service.access_left(actor)
            still_sees_case = case.id in cases_left
            return render_template(
                "portal/advice/sent.html", title="Advice sent", submission=submission,
                documents=service.documents_sent_with(submission), still_sees_case=still_sees_case,
                anything_left=anything_left, **context)
    return render_template(
        "portal/advice/form.html", title=f"Send {context['r']['kind'].lower()}", values=values, errors=errors,
        whole_case=service.invited_for_whole_case(actor, case.id),
        error_list=errors.summary(order=FIELD_ORDER), **context), status

