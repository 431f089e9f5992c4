"""The public deadline calculator page (issue #3): "Work out the statutory deadlines".

For families, SENDIASS officers and caseworkers: the dates of a hypothetical case go in, every
deadline they start comes out in plain English, with its citation beside the date. It works
on the platform's own host and under any council, signed in or not, and touches no database:
the dates go straight to ``core.timescales.compute_deadlines`` and nothing is stored.
(``POST /api/v1/timescales`` is the same calculator for software.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.datastructures import MultiDict

from core import clock
from core.timescales import InvalidEventsError, TimescalePolicy, compute_deadlines
from web.extensions import limiter
from web.ui import event_forms as words
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text

bp = Blueprint("calculator", __name__)

#: Calculations per minute from one address: generous for a person, a brake on scraping.
RATE_LIMIT = "30 per minute"


@dataclass(frozen=True)
class Step:
    """One optional date on the form (plus the choice some steps need)."""

    name: str
    section: str
    #: The date input's legend, and its noun for errors.
    question: str
    noun: str
    event_type: str
    hint: str | None = None
    #: (attribute, form field, question, {value: words}) for a step that needs a choice.
    choice: tuple[str, str, str, Mapping[str, str]] | None = None
    #: (attribute, form field, question, noun, required) for a second date on the same step.
    second_date: tuple[str, str, str, str, bool] | None = None


_A = words.ATTRIBUTE_TEXT
SECTIONS = ("The assessment", "The plan", "Reviews and changes to the plan", "Re-assessment",
            "Disagreements, mediation and appeals", "Moving to another council")

STEPS: tuple[Step, ...] = (
    Step("assess_decided", SECTIONS[0], "When did the council decide whether to assess?", "Date of the decision to assess",
         "decision_to_assess_made",
         choice=("outcome", "assess_outcome", "What did it decide?",
                 {"assess": "To carry out an EHC needs assessment", "refuse": "Not to carry out an assessment"})),
    Step("issue_decided", SECTIONS[0], "When did the council decide whether to issue a plan?",
         "Date of the decision to issue a plan", "decision_to_issue_made",
         choice=("outcome", "issue_outcome", "What did it decide?",
                 {"issue": "To issue an EHC plan", "not_issue": "Not to issue an EHC plan"})),
    Step("draft_served", SECTIONS[1], "When was the draft plan sent?", "Date the draft plan was sent",
         "draft_plan_served", hint="Your 15 days to comment begin on this day"),
    Step("final_issued", SECTIONS[1], "When was the final plan issued?", "Date the final plan was issued",
         "final_plan_issued"),
    Step("review_meeting", SECTIONS[2], "When was the annual review meeting held?", "Date of the review meeting",
         "review_meeting_held"),
    Step("review_decision", SECTIONS[2], "When did the council send its decision after the review?",
         "Date of the decision after the review", "review_decision_sent",
         choice=("outcome", "review_outcome", "What did it decide?",
                 words.EVENT_TEXT["review_decision_sent"].fields["outcome"].choices)),
    Step("amendment_notice", SECTIONS[2], "When were the proposed amendments sent?",
         "Date the proposed amendments were sent", "amendment_notice_sent"),
    Step("transfer_planned", SECTIONS[2], "When will they move to the next school or college phase?",
         "Date of the move", "phase_transfer_planned", hint="Usually the first day of the autumn term, like 1 9 2027",
         choice=("kind", "transfer_kind", "What kind of move is it?", _A["kind"].choices)),
    Step("reassessment_request", SECTIONS[3], "When did the council receive a request for a re-assessment?",
         "Date of the request for a re-assessment", "reassessment_request_received"),
    Step("reassessment_decision", SECTIONS[3], "When did the council say it would re-assess?",
         "Date the council said it would re-assess", "reassessment_decision_notified"),
    Step("letter_sent", SECTIONS[4], "When was the decision letter sent?", "Date the decision letter was sent",
         "decision_letter_sent", hint="The letter that gave the right to appeal",
         choice=("decision", "letter_decision", "What was the decision?", _A["decision"].choices)),
    Step("mediation_declined", SECTIONS[4], "When did you tell the mediation adviser you did not want mediation?",
         "Date you told the mediation adviser", "mediation_declined"),
    Step("certificate_issued", SECTIONS[4], "When was the mediation certificate issued?",
         "Date the mediation certificate was issued", "mediation_certificate_issued"),
    Step("tribunal_order", SECTIONS[4], "When did the Tribunal make its order?", "Date of the Tribunal's order",
         "tribunal_order_made", choice=("order", "order_kind", "What did the Tribunal order?", _A["order"].choices)),
    Step("move_notified", SECTIONS[5], "When did the council find out about a move to another council?",
         "Date the council found out about the move", "move_notified",
         second_date=("move_on", "move_on", "When is (or was) the move?", "Date of the move", True)),
    Step("plan_transferred", SECTIONS[5], "When did the plan transfer to the new council?",
         "Date the plan transferred", "plan_transferred",
         second_date=("plan_made_on", "plan_made_on", "When was the plan first made? (optional)",
                      "Date the plan was first made", False)),
)

#: Oldest and newest dates the calculator accepts: Part 3 of the Children and Families Act
#: 2014 came into force on 1 September 2014; the bank-holiday table ends in 2100.
EARLIEST = words.EARLIEST
LATEST = dt.date(2099, 12, 31)


def _date(form: MultiDict[str, str], name: str, noun: str, *, required: bool, errors: FormErrors,
          parts_out: dict[str, dict[str, str]], latest: dt.date = LATEST) -> dt.date | None:
    parts = date_parts(form, name)
    parts_out[name] = parts
    day, error = parse_date(parts, noun, required=required)
    if error:
        errors.add(name, error)
        return None
    if day is not None and not EARLIEST <= day <= latest:
        errors.add(name, f"{noun} must be between 1 September 2014 and "
                         f"{words.long_date(latest)}")
        return None
    return day


def _read(form: MultiDict[str, str], today: dt.date) -> tuple[list[dict[str, Any]], dict[str, Any] | None, FormErrors,
                                                               dict[str, Any]]:
    errors = FormErrors()
    parts: dict[str, dict[str, str]] = {}
    choices: dict[str, str] = {}
    received = _date(form, "received", "Date the council received the request", required=True, errors=errors,
                     parts_out=parts)
    dob = _date(form, "date_of_birth", "Date of birth", required=False, errors=errors, parts_out=parts,
                latest=today)
    if "date_of_birth" in errors and "must be between" in errors["date_of_birth"]:
        errors["date_of_birth"] = "Date of birth must be today or in the past"
    events: list[dict[str, Any]] = []
    if received is not None:
        events.append({"type": "request_received", "date": received.isoformat()})
    for step in STEPS:
        day = _date(form, step.name, step.noun, required=False, errors=errors, parts_out=parts)
        event: dict[str, Any] = {"type": step.event_type}
        if step.choice is not None:
            attribute, field, question, options = step.choice
            value = text(form, field)
            choices[field] = value
            if value and value not in options:
                errors.add(field, f"Select an answer to ‘{question}’")
            elif day is not None and not value:
                errors.add(field, f"Select an answer to ‘{question}’")
            elif value and day is None and step.name not in errors:
                errors.add(step.name, f"Enter the {step.noun[0].lower()}{step.noun[1:]}")
            elif value:
                event[attribute] = value
        if step.second_date is not None:
            attribute, field, question, noun, required = step.second_date
            second = _date(form, field, noun, required=False, errors=errors, parts_out=parts)
            if day is not None and second is None and required and field not in errors:
                errors.add(field, f"Enter the {noun[0].lower()}{noun[1:]}")
            if second is not None:
                if day is None and step.name not in errors:
                    errors.add(step.name, f"Enter the {step.noun[0].lower()}{step.noun[1:]}")
                event[attribute] = second.isoformat()
        if day is None:
            continue
        if step.event_type == "phase_transfer_planned":
            # The move itself is the date that matters; the plan to move is taken as made
            # when the request was (any date before the move gives the same deadline).
            event["transfer_on"] = day.isoformat()
            day = received or day
        event["date"] = day.isoformat()
        events.append(event)
    child = {"date_of_birth": dob.isoformat()} if dob else None
    return events, child, errors, {"parts": parts, "choices": choices}


def _order() -> list[str]:
    order = ["received", "date_of_birth"]
    for step in STEPS:
        order.append(step.name)
        if step.choice:
            order.append(step.choice[1])
        if step.second_date:
            order.append(step.second_date[1])
    return order


def _anchors() -> dict[str, str]:
    dates = ["received", "date_of_birth", *(s.name for s in STEPS), *(s.second_date[1] for s in STEPS if s.second_date)]
    return {name: f"{name}-day" for name in dates}


@bp.route("/deadlines", methods=["GET", "POST"])
@limiter.limit(RATE_LIMIT, methods=["POST"])
def index():  # type: ignore[no-untyped-def]
    today = clock.today()
    errors = FormErrors()
    entered: dict[str, Any] = {"parts": {}, "choices": {}}
    results: list[words.DeadlineView] | None = None
    if request.method == "POST":
        events, child, errors, entered = _read(request.form, today)
        if not errors:
            try:
                deadlines = compute_deadlines(events, child=child, today=today, policy=TimescalePolicy())
            except InvalidEventsError as exc:
                # Dates that contradict each other (a response due before the appeal ...).
                for index, problems in exc.errors.items():
                    step = events[index]["type"]
                    name = next((s.name for s in STEPS if s.event_type == step), "received")
                    errors.add(name, "; ".join(m for msgs in problems.values() for m in msgs))
            else:
                results = [words.describe_deadline(d, today, audience="family") for d in deadlines]
    parts = entered["parts"]
    return render_template(
        "calculator/index.html", title="Your statutory deadlines" if results is not None else
        "Work out the statutory deadlines", results=results, steps=STEPS, sections=SECTIONS, errors=errors,
        error_list=errors.summary(anchors=_anchors(), order=_order()), choices=entered["choices"], today=today,
        date_items=lambda name: date_items(parts.get(name) or {}, name in errors),
        provisional_text=words.PROVISIONAL_TEXT, statutory_count=sum(1 for r in results or [] if r.statutory),
    ), (400 if errors else 200)
