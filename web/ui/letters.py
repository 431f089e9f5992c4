"""Caseworker pages: the council's decision-letter template, and sending a decision letter
with the appeal rights and mediation information (issue 6 item 3).

Sending is three steps on one address: choose the decision and write the reasons, preview the
letter exactly as the family will read it, then send it. Only the last step changes anything:
it records ``decision_letter_sent`` and stores the PDF on the case in one transaction
(core/disagreements/letters.py). Every object comes through ``access_case``; bad input shows
the GOV.UK error summary and answers 400, and the request boundary rolls back anything a 4xx
started.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from core import clock, permissions
from core.cases import services as cases
from core.cases.access import access_case
from core.children.models import Child
from core.disagreements import letters
from core.errors import Conflict, ValidationFailed
from core.timescales import TimescalePolicy
from web.context import current_actor, require_staff, require_tenant
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text

bp = Blueprint("letters", __name__)
bp.before_request(require_staff)

FIELD_ORDER = ["decision", "sent_on", "recipient", "reasons"]


def _policy() -> TimescalePolicy:
    return cases.policy_from_settings(require_tenant().settings)


def _council() -> str:
    return require_tenant().name


def _endpoint(name: str) -> bool:
    return name in current_app.view_functions


def after_sending_url(case_id: Any) -> str:
    if _endpoint("disagreements.case_disagreements"):
        return url_for("disagreements.case_disagreements", case_id=case_id)
    return url_for("cases.view", case_id=case_id)


# ---------------------------------------------------------------------------------------
# The council's template


@bp.route("/letter-templates", methods=["GET", "POST"])
def template():  # type: ignore[no-untyped-def]
    actor = current_actor()
    if not actor.can(permissions.LETTERS_MANAGE):
        abort(404)
    row = letters.template_of_council()
    values: dict[str, str] = {f"text_{k}": row.text_for(k) for k in letters.DECISIONS}
    values.update({name: getattr(row, name) or "" for name, _, _ in letters.CONTACT_FIELDS})
    errors = FormErrors()
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            letters.save_template(actor, values)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        else:
            flash("The letter template has been saved. Letters sent from now on use it.", "success")
            return redirect(url_for("letters.template"))
    order = [f"text_{k}" for k in letters.DECISIONS] + [n for n, _, _ in letters.CONTACT_FIELDS]
    return render_template("letters/template.html", title="Decision letter template", values=values, errors=errors,
                           error_list=errors.summary(order=order), decisions=letters.DECISIONS,
                           contact_fields=letters.CONTACT_FIELDS), (400 if errors else 200)


@bp.get("/letter-templates/example")
def template_example():  # type: ignore[no-untyped-def]
    """An example letter (a made-up child) from the saved template, for the manager to read."""
    actor = current_actor()
    if not actor.can(permissions.LETTERS_MANAGE):
        abort(404)
    decision = request.args.get("decision", "refuse_assess")
    if decision not in letters.DECISIONS:
        abort(404)
    example_child = Child(given_name="Sam", family_name="Example", date_of_birth=dt.date(2016, 3, 14))
    letter = letters.compose_letter(letters.template_of_council(), decision=decision, sent_on=clock.today(),
                                    child=example_child, recipient="Alex Example",
                                    reasons="The council's reasons for this decision go here.",
                                    council_name=_council(), policy=_policy())
    return render_template("letters/example.html", title="Example decision letter", letter=letter,
                           decisions=letters.DECISIONS, decision=decision)


# ---------------------------------------------------------------------------------------
# Sending a decision letter on a case


@bp.route("/cases/<case_id>/decision-letter", methods=["GET", "POST"])
def send(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id, for_write=True)
    if not actor.can(permissions.DISAGREEMENTS_WRITE):
        abort(404)
    child = case.child
    today = clock.today()
    available = letters.available_decisions(case, today=today)
    errors = FormErrors()
    values = {"decision": request.values.get("decision", ""), "recipient": letters.default_recipient(child, today=today),
              "reasons": ""}
    parts = {"day": str(today.day), "month": str(today.month), "year": str(today.year)}
    letter = None
    if request.method == "POST":
        action = request.form.get("action", "preview")
        values = {k: text(request.form, k) if k != "reasons" else (request.form.get(k) or "").strip()
                  for k in ("decision", "recipient", "reasons")}
        parts = date_parts(request.form, "sent_on")
        sent_on, date_error = parse_date(parts, "Date the letter is sent")
        if values["decision"] and values["decision"] not in {d.key for d in available}:
            errors.add("decision", "Choose a decision that has been recorded on this case")
        if date_error:
            errors.add("sent_on", date_error)
        try:
            letters.check_letter_input(decision=values["decision"], sent_on=sent_on or today,
                                       recipient=values["recipient"], reasons=values["reasons"], today=today)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        if not errors:
            assert sent_on is not None
            if action == "send":
                try:
                    sent = letters.send_decision_letter(
                        actor, case, decision=values["decision"], sent_on=sent_on, recipient=values["recipient"],
                        reasons=values["reasons"], council_name=_council(), policy=_policy(), today=today)
                except ValidationFailed as exc:
                    errors.merge(exc.errors)
                except Conflict as exc:
                    errors.add(exc.field if exc.field in FIELD_ORDER else "decision", exc.message)
                else:
                    flash(f"The decision letter has been sent and saved on the case. The family can appeal until "
                          f"{letters.long_date(sent.letter.appeal_by)}.", "success")
                    return redirect(after_sending_url(case.id))
            elif action == "preview":
                letter = letters.compose_letter(
                    letters.template_of_council(), decision=values["decision"], sent_on=sent_on, child=child,
                    recipient=values["recipient"], reasons=values["reasons"], council_name=_council(),
                    policy=_policy())
    if letter is not None and not errors:
        return render_template("letters/preview.html", title="Check the letter before sending it", case=case,
                               child=child, letter=letter, values=values, parts=parts)
    return render_template(
        "letters/send.html", title="Send a decision letter", case=case, child=child, available=available,
        values=values, errors=errors, date_items=date_items(parts, "sent_on" in errors),
        error_list=errors.summary(anchors={"sent_on": "sent_on-day"}, order=FIELD_ORDER),
        can_manage=actor.can(permissions.LETTERS_MANAGE), sent=letters.sent_letters(case),
        has_downloads=_endpoint("plans.download_document"),
        decision_items=[{"value": d.key, "text": d.name, "checked": values["decision"] == d.key,
                         "hint": {"text": d.citation}} for d in available],
    ), (400 if errors else 200)
