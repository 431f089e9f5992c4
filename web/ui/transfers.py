"""Caseworker pages: transfers of EHC plans between councils (issue 6, regs 15-16).

* ``/plan-transfers``: the inbox, incoming and outgoing, with the alerts of the daily check
  (late, nearly late, failed) at the top;
* ``/cases/<case_id>/transfer``: start a transfer from the case page;
* ``/plan-transfers/<id>``: one transfer with its clocks and history; complete (confirm first),
  retry a failed one, or cancel.

Every object comes through an ``access_*`` function (another council's transfer is the same
404 as a missing one); every form has a CSRF token, shows a GOV.UK error summary and answers
400 or 409 on bad input, and the request boundary rolls back anything such a request started.
(The one exception is a completion that failed half-way: the service itself keeps the record
that it failed, so both councils see it.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from core import clock, permissions
from core.cases.access import access_case
from core.cases.models import Case
from core.cases.services import events_of
from core.cases.workflow import derive_state
from core.errors import Conflict, Forbidden, ValidationFailed
from core.transfers import services as transfers
from core.transfers.models import Transfer
from web.context import current_actor, require_staff
from web.ui import event_forms as words
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text

bp = Blueprint("transfers", __name__)
bp.before_request(require_staff)

STATUS_TEXT = {"planned": ("Planned", "govuk-tag--blue"), "completed": ("Transferred", "govuk-tag--green"),
               "cancelled": ("Cancelled", "govuk-tag--grey"), "failed": ("Failed: nothing moved", "govuk-tag--red")}
ALERT_TEXT = {"due_soon": "The plan must transfer within 5 working days",
              "overdue": "The date for the transfer has passed",
              "failed": "The transfer failed and nothing moved: try again or cancel it"}


def _can_write() -> bool:
    return current_actor().can(permissions.TRANSFERS_WRITE)


def _date(value: dt.date | None) -> str:
    return words.weekday_date(value) if value else ""


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"case_transfers": case_transfers, "transfer_status": STATUS_TEXT, "transfer_alert": ALERT_TEXT}


def case_transfers(case: Case) -> list[Transfer]:
    """The transfers of ``case`` for its page (the case itself was already accessed)."""
    actor = current_actor()
    if not actor.can(permissions.TRANSFERS_READ):
        return []
    return transfers.transfers_of_case(case)


# ---------------------------------------------------------------------------------------
# The inbox


@bp.get("/plan-transfers")
def index():  # type: ignore[no-untyped-def]
    actor = current_actor()
    incoming, _ = transfers.list_transfers(actor, direction="incoming", limit=200)
    outgoing, _ = transfers.list_transfers(actor, direction="outgoing", limit=200)
    alerts = [t for t in [*incoming, *outgoing] if t.alert]
    return render_template("transfers/index.html", title="Transfers between councils", incoming=incoming,
                           outgoing=outgoing, alerts=alerts, can_write=_can_write(), date=_date)


# ---------------------------------------------------------------------------------------
# Starting a transfer


def _plan_ready(case: Case) -> bool:
    return derive_state(events_of(case)).has_plan


@bp.route("/cases/<case_id>/transfer", methods=["GET", "POST"])
def start(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id, for_write=True)
    if not _can_write():
        raise Forbidden(permissions.TRANSFERS_WRITE)
    active = transfers.active_transfer_of(case)
    errors = FormErrors()
    form: dict[str, Any] = {"to_la_code": "", "to_la_name": "", "health_body_changes": "yes"}
    move_parts: dict[str, str] = {}
    aware_parts: dict[str, str] = {}
    status = 200
    if request.method == "POST" and active is None:
        form = {"to_la_code": text(request.form, "to_la_code"), "to_la_name": text(request.form, "to_la_name"),
                "health_body_changes": text(request.form, "health_body_changes")}
        move_parts = date_parts(request.form, "move_on")
        aware_parts = date_parts(request.form, "became_aware_on")
        move_on, move_error = parse_date(move_parts, "Date of the move")
        aware_on, aware_error = parse_date(aware_parts, "Date the council found out")
        if not form["to_la_code"]:
            errors.add("to_la_code", "Enter the local authority code of the council the child is moving to")
        if move_error:
            errors.add("move_on", move_error)
        if aware_error:
            errors.add("became_aware_on", aware_error)
        if form["health_body_changes"] not in ("yes", "no"):
            errors.add("health_body_changes", "Select whether the health body changes")
        if not errors:
            assert move_on is not None and aware_on is not None
            try:
                made = transfers.start_transfer(actor, case, to_la_code=form["to_la_code"], move_on=move_on,
                                                became_aware_on=aware_on,
                                                health_body_changes=form["health_body_changes"] == "yes",
                                                to_la_name=form["to_la_name"] or None)
            except ValidationFailed as exc:
                errors.merge(exc.errors)
            except Conflict as exc:
                errors.add(exc.field if exc.field in ("to_la_code", "move_on", "became_aware_on") else "to_la_code",
                           exc.message)
                status = 409
            else:
                flash(f"Transfer to {made.to_la_name} started. The plan must transfer by "
                      f"{_date(made.due_on)}.", "success")
                return redirect(url_for("transfers.view", transfer_id=made.ref))
        status = status if status != 200 else (400 if errors else 200)
    return render_template(
        "transfers/start.html", title="Transfer the plan to another council", case=case, child=case.child,
        active=active, plan_ready=_plan_ready(case), form=form, errors=errors,
        error_list=errors.summary(anchors={"move_on": "move_on-day", "became_aware_on": "became_aware_on-day"},
                                  order=["to_la_code", "to_la_name", "move_on", "became_aware_on",
                                         "health_body_changes"]),
        move_items=date_items(move_parts, "move_on" in errors),
        aware_items=date_items(aware_parts, "became_aware_on" in errors),
    ), status


# ---------------------------------------------------------------------------------------
# One transfer


def _clocks(transfer: Transfer) -> list[Any]:
    today = clock.today()
    return [words.describe_deadline(d, today) for d in transfers.transfer_deadlines(transfer, today=today)]


def _render_view(transfer: Transfer, **extra: Any) -> str:
    return render_template("transfers/view.html", title=f"Transfer of {transfer.child_name}'s plan", t=transfer,
                           clocks=_clocks(transfer), can_write=_can_write(), date=_date,
                           provisional_text=words.PROVISIONAL_TEXT, **extra)


@bp.get("/plan-transfers/<transfer_id>")
def view(transfer_id: str):  # type: ignore[no-untyped-def]
    return _render_view(transfers.access_transfer(current_actor(), transfer_id))


@bp.route("/plan-transfers/<transfer_id>/complete", methods=["GET", "POST"])
def complete(transfer_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    transfer = transfers.access_transfer(actor, transfer_id, for_write=True)
    errors = FormErrors()
    parts: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        parts = date_parts(request.form, "transferred_on")
        on, error = parse_date(parts, "Date the plan transfers")
        if error:
            errors.add("transferred_on", error)
        else:
            assert on is not None
            try:
                transfers.complete_transfer(actor, transfer, transferred_on=on)
            except transfers.TransferFailed as exc:
                errors.add("transferred_on", exc.message)
                status = 409
                transfer = transfers.access_transfer(actor, transfer_id, for_write=True)
            except ValidationFailed as exc:
                errors.merge(exc.errors)
            except Conflict as exc:
                errors.add("transferred_on", exc.message)
                status = 409
            else:
                where = (f"{transfer.to_la_name} now holds the plan." if transfer.receiver_on_platform else
                         "The transfer package is on the case: send it to the new council securely.")
                flash(f"{transfer.child_name}'s plan has been transferred. {where}", "success")
                return redirect(url_for("transfers.view", transfer_id=transfer.ref))
        status = status if status != 200 else 400
    return render_template(
        "transfers/complete.html", title="Transfer the plan now", t=transfer, errors=errors, date=_date,
        error_list=errors.summary(anchors={"transferred_on": "transferred_on-day"}),
        date_items=date_items(parts, "transferred_on" in errors),
    ), status


@bp.route("/plan-transfers/<transfer_id>/cancel", methods=["GET", "POST"])
def cancel(transfer_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    transfer = transfers.access_transfer(actor, transfer_id, for_write=True)
    errors = FormErrors()
    if request.method == "POST":
        try:
            transfers.cancel_transfer(actor, transfer)
        except Conflict as exc:
            errors.add("confirm", exc.message)
        else:
            flash("The transfer has been cancelled. The plan stays with this council.", "success")
            return redirect(url_for("transfers.view", transfer_id=transfer.ref))
    return render_template("transfers/cancel.html", title="Cancel this transfer", t=transfer, errors=errors,
                           error_list=errors.summary(), date=_date), (409 if errors else 200)
