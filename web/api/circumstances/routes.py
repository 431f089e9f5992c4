"""``/api/v1/children/{id}/circumstances``: a child's specific circumstances (issue 6)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core.cases.services import policy_from_settings
from core.children.access import access_child
from core.circumstances import services
from core.circumstances.access import access_circumstance
from web.api.body import json_body
from web.api.circumstances.schemas import (
    CircumstanceCreateSchema, CircumstanceListQuerySchema, CircumstancePageSchema, CircumstanceSchema,
    CircumstanceUpdateSchema,
)
from web.api.idempotency import idempotent
from web.api.oauth import require_scope
from web.api.pagination import decode_cursor, encode_cursor
from web.context import current_actor

blp = Blueprint("circumstances_api", __name__, url_prefix="/api/v1/children/<child_id>/circumstances",
                description="A child's specific circumstances (SEND Code of Practice chapter 10): looked after, "
                            "child in need or protection, home education, alternative provision, youth custody, "
                            "Service family, placed out of area.")


def _policy() -> Any:
    return policy_from_settings(g.tenant.settings)


def _found_first(view: Callable[..., Any]) -> Callable[..., Any]:
    """Look the child (and circumstance) up before the body is read: another council's id
    is the same 404 whatever the body says, never a 422 about fields."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor = current_actor()
        child = access_child(actor, kwargs["child_id"], for_write=True)
        if "circumstance_id" in kwargs:
            access_circumstance(actor, child, kwargs["circumstance_id"], for_write=True)
        return view(*args, **kwargs)
    return wrapper


@blp.route("")
class Circumstances(MethodView):
    @require_scope("children:read")
    @blp.arguments(CircumstanceListQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, CircumstancePageSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such child in your council")
    def get(self, args: dict[str, Any], child_id: str) -> dict[str, Any]:
        """List the child's circumstances in the order they were recorded. Recorded in the audit log."""
        actor = current_actor()
        child = access_child(actor, child_id)
        rows = sorted(services.circumstances_of(actor, child), key=lambda r: r.id)
        after: uuid.UUID | None = decode_cursor(args.get("cursor"))
        if after is not None:
            rows = [r for r in rows if r.id > after]
        page = rows[:args["limit"]]
        more = len(rows) > len(page)
        return {"items": page, "next_cursor": encode_cursor(page[-1].id) if more and page else None}

    @require_scope("children:write")
    @_found_first
    @json_body
    @idempotent
    @blp.arguments(CircumstanceCreateSchema)
    @blp.response(201, CircumstanceSchema, headers={"Location": {"description": "The new record's URL", "schema": {"type": "string"}}})
    @blp.alt_response(404, response="PROBLEM", description="No such child in your council")
    @blp.alt_response(409, response="PROBLEM", description="The EHC case cannot take the detention or release now; nothing was recorded")
    @blp.alt_response(422, response="PROBLEM", description="Invalid fields, or dates overlapping a record of the same kind; nothing was recorded")
    def post(self, data: dict[str, Any], child_id: str) -> Any:
        """Record a circumstance of a child."""
        actor = current_actor()
        child = access_child(actor, child_id, for_write=True)
        kind = data.pop("kind")
        row = services.create_circumstance(actor, child, kind, data, policy=_policy(), home_la_code=g.tenant.la_code)
        return row, 201, {"Location": url_for("circumstances_api.Circumstance", child_id=child.id,
                                              circumstance_id=row.id)}


@blp.route("/<circumstance_id>")
class Circumstance(MethodView):
    @require_scope("children:read")
    @blp.response(200, CircumstanceSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such child or circumstance in your council")
    def get(self, child_id: str, circumstance_id: str) -> Any:
        """Read one circumstance. Recorded in the audit log."""
        actor = current_actor()
        child = access_child(actor, child_id)
        return access_circumstance(actor, child, circumstance_id)

    @require_scope("children:write")
    @_found_first
    @json_body
    @idempotent
    @blp.arguments(CircumstanceUpdateSchema(partial=True))
    @blp.response(200, CircumstanceSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such child or circumstance in your council")
    @blp.alt_response(409, response="PROBLEM", description="The EHC case cannot take the change now; nothing was changed")
    @blp.alt_response(422, response="PROBLEM", description="Invalid fields; nothing was changed")
    def patch(self, changes: dict[str, Any], child_id: str, circumstance_id: str) -> Any:
        """Change some details of a circumstance, or end it by sending ``ended_on``."""
        actor = current_actor()
        child = access_child(actor, child_id, for_write=True)
        row = access_circumstance(actor, child, circumstance_id, for_write=True)
        services.update_circumstance(actor, child, row, changes, policy=_policy(), home_la_code=g.tenant.la_code)
        return row
