"""``/api/v1/cases`` (api-v1.md): open cases, record their events, read them with their deadlines.

A case read through the API is always whole: every event ever recorded (corrections and the
events they replaced, in date order) and every deadline computed *now* from those events, so
statuses are right on days when nothing was recorded. The plan and its versions live in
``web.api.plans`` under the same prefix.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core import clock
from core.cases import models, services
from core.cases.access import access_case
from core.children.access import access_child
from core.errors import Conflict, ValidationFailed
from core.timescales import TimescalePolicy
from web.api.body import json_body
from web.api.cases.schemas import (
    CaseCreateSchema, CaseListQuerySchema, CasePageSchema, CaseSchema, EventInSchema, EventPageSchema,
)
from web.api.idempotency import idempotent
from web.api.oauth import require_scope
from web.api.pagination import decode_cursor, encode_cursor
from web.context import current_actor

blp = Blueprint("cases_api", __name__, url_prefix="/api/v1/cases",
                description="EHC cases: events, deadlines, the plan and its versions.")

_LOCATION = {"Location": {"description": "The new case's URL", "schema": {"type": "string"}}}


def _policy() -> TimescalePolicy:
    # The token's council (set by require_scope): its own timescale options, never another's.
    return services.policy_from_settings(g.tenant.settings)


def _in_first_event(name: str) -> str:
    """Name a problem with the first event as the body has it (``events.0.<field>``); the
    services name the event's own fields, as for ``POST .../events``."""
    return name if name in CaseCreateSchema().fields else f"events.0.{name}"


def _superseded_by(events: list[dict[str, Any]]) -> dict[str, str]:
    """``{event id: id of the event that replaced it}``, resolved as the timescale engine
    resolves ``corrects`` (``core.timescales.apply_corrections``): a correction replaces
    whatever version of the original is current, so in a chain each link points at the next."""
    known = {e["id"] for e in events}
    original_of: dict[str, str] = {}
    current: dict[str, str] = {}
    replaced: dict[str, str] = {}
    for event in events:  # recording order
        target = event.get("corrects")
        if target not in known:
            continue
        original = original_of.get(target, target)
        replaced[current.get(original, original)] = event["id"]
        current[original] = event["id"]
        original_of[event["id"]] = original
    return replaced


def _event_body(row: models.CaseEvent, superseded_by: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(row.id), "type": row.type, "date": row.date.isoformat()}
    body.update({k: v for k, v in row.attributes.items() if k not in body})
    body["recorded_at"] = row.recorded_at
    if row.corrects_event_id is not None:
        body["corrects"] = str(row.corrects_event_id)
    if superseded_by is not None:
        body["superseded_by"] = superseded_by
    return body


def _events(rows: list[models.CaseEvent]) -> list[dict[str, Any]]:
    replaced = _superseded_by([row.as_event() for row in rows])
    # api-v1: "events (in date order)"; within one day, the order they were recorded in.
    ordered = sorted(rows, key=lambda r: (r.date, r.seq))
    return [_event_body(row, replaced.get(str(row.id))) for row in ordered]


def case_events(case: models.Case) -> list[dict[str, Any]]:
    """The case's events in the API shape, in date order."""
    return _events(services.event_rows(case))


def case_body(case: models.Case, *, today: dt.date) -> dict[str, Any]:
    """The api-v1 case: its events in date order and its deadlines as of ``today``."""
    rows = services.event_rows(case)
    deadlines = services.deadlines_of(case, policy=_policy(), today=today, events=[row.as_event() for row in rows])
    return {
        "id": str(case.id),
        "child_id": str(case.child_id),
        "status": case.stage,
        "stage": case.stage,
        "opened_on": case.opened_on.isoformat(),
        "caseworker_id": str(case.caseworker_id) if case.caseworker_id else None,
        "events": _events(rows),
        "deadlines": [d.to_dict() for d in deadlines],
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


@blp.route("")
class Cases(MethodView):
    @require_scope("cases:read")
    # Unknown query parameters are refused, not ignored: a misspelt filter must not silently
    # list, and audit as seen, every child with a case.
    @blp.arguments(CaseListQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, CasePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List cases, oldest first, a page at a time.

        Each case comes whole, with its events and its deadlines as of today. Every child
        whose case is returned is recorded in the audit log as seen by this client.
        """
        today = clock.today()
        after = decode_cursor(args.get("cursor"))
        flt = services.CaseFilter(stage=args.get("stage"), child_id=args.get("child_id"),
                                  caseworker_id=args.get("caseworker_id"), due=args.get("due"))
        items, last = services.list_cases_page(current_actor(), flt, after=after, limit=args["limit"], today=today)
        return {"items": [case_body(case, today=today) for case in items], "next_cursor": encode_cursor(last)}

    @require_scope("cases:write")
    @json_body
    @idempotent
    @blp.arguments(CaseCreateSchema)
    @blp.response(201, CaseSchema, headers=_LOCATION)
    @blp.alt_response(404, response="PROBLEM", description="No such child in your council")
    @blp.alt_response(409, response="PROBLEM", description="The first event cannot open a case (it is not a request, "
                                                           "or it is dated in the future); nothing was created")
    @blp.alt_response(422, response="PROBLEM", description="Invalid fields; nothing was created")
    def post(self, data: dict[str, Any]) -> Any:
        """Open an EHC case for a child with its first event (usually `request_received`).

        The deadlines are counted with the council's own timescale options. Opening a case does
        not change the child's record, so `cases:write` is enough (reading the child is implied).
        """
        actor = current_actor()
        today = clock.today()
        child = access_child(actor, data["child_id"])
        try:
            case = services.open_case(actor, child, data["events"][0], policy=_policy(),
                                      caseworker_id=data.get("caseworker_id"), today=today)
        except ValidationFailed as exc:
            raise ValidationFailed({_in_first_event(k): v for k, v in exc.errors.items()}) from None
        except Conflict as exc:
            raise Conflict(exc.message, field=_in_first_event(exc.field) if exc.field else None) from None
        return case_body(case, today=today), 201, {"Location": url_for("cases_api.Case", case_id=case.id)}


@blp.route("/<case_id>")
class Case(MethodView):
    @require_scope("cases:read")
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such case in your council")
    def get(self, case_id: str) -> Any:
        """Read one case with its events and its deadlines as of today. Recorded in the audit log."""
        case = access_case(current_actor(), case_id)
        return case_body(case, today=clock.today())


@blp.route("/<case_id>/events")
class CaseEvents(MethodView):
    @require_scope("cases:read")
    @blp.response(200, EventPageSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such case in your council")
    def get(self, case_id: str) -> Any:
        """List a case's events in date order (all of them: `next_cursor` is always null). Recorded in the audit log."""
        case = access_case(current_actor(), case_id)
        return {"items": case_events(case), "next_cursor": None}

    @require_scope("cases:write")
    @json_body
    @idempotent
    @blp.arguments(EventInSchema)
    @blp.response(201, CaseSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such case in your council")
    @blp.alt_response(409, response="PROBLEM", description="The event cannot happen now (for example a final plan "
                                                           "before any decision to assess, or inside the family's 15 "
                                                           "days for comments on the draft); `detail` says why. "
                                                           "Nothing was recorded")
    @blp.alt_response(422, response="PROBLEM", description="A malformed event; `errors` names each invalid field. "
                                                           "Nothing was recorded")
    def post(self, event: dict[str, Any], case_id: str) -> Any:
        """Record an event on a case; answers with the updated case.

        Events are never changed or deleted: to put a mistake right, record the right event
        with `corrects` set to the wrong one's id. The deadlines and the status are
        recomputed from all the events.
        """
        actor = current_actor()
        today = clock.today()
        case = access_case(actor, case_id, for_write=True)
        services.record_event(actor, case, event, policy=_policy(), today=today)
        return case_body(case, today=today), 201
