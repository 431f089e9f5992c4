"""``/api/v1/transfers`` (api-v1.md): move an EHC plan to another council, all or nothing.

Both councils see the transfer under one ``id``; each sees only its own side. The receiving
council sees who is coming (name and date of birth) but no plan, case or deadline until the
plan is its own. A failed completion answers 409 and says so; completing again retries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core import clock
from core.cases.access import access_case
from core.db import db
from core.errors import Conflict
from core.idempotency import services as idem
from core.transfers import services
from core.transfers.models import Transfer as TransferRow
from web.api.body import json_body
from web.api.idempotency import _replay, idempotent
from web.api.oauth import require_scope
from web.api.pagination import decode_cursor, encode_cursor
from web.api.transfers.schemas import (
    TransferCompleteSchema, TransferCreateSchema, TransferListQuerySchema, TransferPageSchema, TransferSchema,
)
from web.context import current_actor

blp = Blueprint("transfers_api", __name__, url_prefix="/api/v1/transfers",
                description="Transfers of EHC plans between councils (SEND Regs 2014 regs 15-16).")

_LOCATION = {"Location": {"description": "The new transfer's URL", "schema": {"type": "string"}}}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def transfer_body(transfer: TransferRow, *, today: dt.date) -> dict[str, Any]:
    received = transfer.received_case_id if transfer.direction == "incoming" else transfer.received_case_ref
    return {
        "id": str(transfer.ref), "status": transfer.status, "direction": transfer.direction,
        "from_la_code": transfer.from_la_code, "from_la_name": transfer.from_la_name,
        "to_la_code": transfer.to_la_code, "to_la_name": transfer.to_la_name,
        "receiver_on_platform": transfer.receiver_on_platform, "health_body_changes": transfer.health_body_changes,
        "move_on": _iso(transfer.move_on), "became_aware_on": _iso(transfer.became_aware_on),
        "due_on": _iso(transfer.due_on), "transferred_on": _iso(transfer.transferred_on),
        "case_id": str(transfer.case_id) if transfer.case_id else None,
        "received_case_id": str(received) if received else None,
        "attempts": transfer.attempts, "last_error": transfer.last_error, "alert": transfer.alert,
        "child": {"given_name": transfer.child_given_name, "family_name": transfer.child_family_name,
                  "date_of_birth": transfer.child_date_of_birth.isoformat()},
        "deadlines": [d.to_dict() for d in services.transfer_deadlines(transfer, today=today)],
        "created_at": transfer.created_at, "updated_at": transfer.updated_at,
    }


def _replay_after_conflict() -> Any | None:
    """A repeat of a start with the same ``Idempotency-Key`` that raced the first: the first
    holds the case until it commits, then this one finds the case transferring. Answer with
    the first's result rather than a conflict (api-v1: a repeat returns the first result)."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return None
    db.session.rollback()
    actor = current_actor()
    stored = idem.find(actor.id, key, idem.fingerprint(request.method, request.path, request.get_json(silent=True)))
    return _replay(stored) if stored is not None else None


@blp.route("")
class Transfers(MethodView):
    @require_scope("transfers:read")
    @blp.arguments(TransferListQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, TransferPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List this council's transfers (`direction=incoming` or `outgoing`), a page at a time.

        Every child named is recorded in the audit log as seen by this client.
        """
        today = clock.today()
        items, last = services.list_transfers(current_actor(), direction=args.get("direction"),
                                              status=args.get("status"), after=decode_cursor(args.get("cursor")),
                                              limit=args["limit"])
        return {"items": [transfer_body(t, today=today) for t in items], "next_cursor": encode_cursor(last)}

    @require_scope("transfers:write")
    @json_body
    @idempotent
    @blp.arguments(TransferCreateSchema)
    @blp.response(201, TransferSchema, headers=_LOCATION)
    @blp.alt_response(404, response="PROBLEM", description="No such case in your council")
    @blp.alt_response(409, response="PROBLEM", description="The case has no issued plan, or is already being "
                                                           "transferred; nothing was started")
    @blp.alt_response(422, response="PROBLEM", description="Invalid fields; nothing was started")
    def post(self, data: dict[str, Any]) -> Any:
        """Start moving a case's plan to another council.

        Records `move_notified` (and `health_body_aware_of_move` unless `health_body_changes` is
        false) on the case, so the deadlines show when the plan must move (reg 15(2)) and the new
        council's duties. A council on the platform sees the transfer in its incoming list at once.
        """
        actor = current_actor()
        today = clock.today()
        case = access_case(actor, data["case_id"])
        try:
            transfer = services.start_transfer(
                actor, case, to_la_code=data["to_la_code"], move_on=data["move_on"],
                became_aware_on=data["became_aware_on"], health_body_changes=data["health_body_changes"],
                to_la_name=data.get("to_la_name"), today=today)
        except Conflict:
            replay = _replay_after_conflict()
            if replay is not None:
                return replay
            raise
        return (transfer_body(transfer, today=today), 201,
                {"Location": url_for("transfers_api.Transfer", transfer_id=transfer.ref)})


@blp.route("/<transfer_id>")
class Transfer(MethodView):
    @require_scope("transfers:read")
    @blp.response(200, TransferSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such transfer in your council")
    def get(self, transfer_id: str) -> Any:
        """Read one transfer. Recorded in the audit log."""
        return transfer_body(services.access_transfer(current_actor(), transfer_id), today=clock.today())


@blp.route("/<transfer_id>/complete")
class TransferComplete(MethodView):
    @require_scope("transfers:write")
    @json_body
    @idempotent
    @blp.arguments(TransferCompleteSchema)
    @blp.response(200, TransferSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such transfer in your council")
    @blp.alt_response(409, response="PROBLEM", description="Not the sending council, not planned or failed, or the "
                                                           "transfer failed half-way (nothing moved; both councils "
                                                           "were told; complete again to retry)")
    @blp.alt_response(422, response="PROBLEM", description="Invalid date; nothing moved")
    def post(self, data: dict[str, Any], transfer_id: str) -> Any:
        """Move the plan, its versions, advice and documents: all or nothing.

        On the platform the receiving council gets a new case (opened with `plan_transferred`)
        and `received_case_id` names it; otherwise a transfer package is kept on the case. From
        now on this council's case is read-only.
        """
        actor = current_actor()
        today = clock.today()
        transfer = services.access_transfer(actor, transfer_id, for_write=True)
        services.complete_transfer(actor, transfer, transferred_on=data["transferred_on"], today=today)
        return transfer_body(transfer, today=today)


@blp.route("/<transfer_id>/cancel")
class TransferCancel(MethodView):
    @require_scope("transfers:write")
    @json_body
    @idempotent
    @blp.response(200, TransferSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such transfer in your council")
    @blp.alt_response(409, response="PROBLEM", description="Not the sending council, or not planned or failed")
    @blp.alt_response(422, response="PROBLEM", description="An invalid request; nothing changed")
    def post(self, transfer_id: str) -> Any:
        """Extension: call off a planned or failed transfer (the sending council only)."""
        actor = current_actor()
        transfer = services.access_transfer(actor, transfer_id, for_write=True)
        services.cancel_transfer(actor, transfer, today=clock.today())
        return transfer_body(transfer, today=clock.today())
