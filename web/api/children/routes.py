"""``/api/v1/children`` (api-v1.md): list, create, read and change children."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core.children import services
from core.children.access import access_child
from web.api.body import json_body
from web.api.children.schemas import ChildCreateSchema, ChildListQuerySchema, ChildPageSchema, ChildSchema, ChildUpdateSchema
from web.api.idempotency import idempotent
from web.api.oauth import require_scope
from web.api.pagination import decode_cursor, encode_cursor
from web.context import current_actor

blp = Blueprint("children_api", __name__, url_prefix="/api/v1/children",
                description="Children and young people known to the council's SEND service.")


@blp.route("")
class Children(MethodView):
    @require_scope("children:read")
    # Unknown query parameters are refused, not ignored: a misspelt filter (``?nhs=...``)
    # must not silently list, and audit as seen, every child.
    @blp.arguments(ChildListQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, ChildPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List children, oldest record first, a page at a time.

        Every child returned is recorded in the audit log as seen by this client.
        """
        after = decode_cursor(args.get("cursor"))
        flt = services.ChildFilter(q=args.get("q"), upn=args.get("upn"), nhs_number=args.get("nhs_number"),
                                   uln=args.get("uln"), date_of_birth=args.get("date_of_birth"))
        items, last = services.list_children_page(current_actor(), flt, after=after, limit=args["limit"])
        return {"items": items, "next_cursor": encode_cursor(last)}

    @require_scope("children:write")
    @json_body
    @idempotent
    @blp.arguments(ChildCreateSchema)
    @blp.response(201, ChildSchema, headers={"Location": {"description": "The new child's URL", "schema": {"type": "string"}}})
    @blp.alt_response(409, response="PROBLEM", description="A child with this UPN, ULN or NHS number already exists")
    @blp.alt_response(422, response="PROBLEM", description="Invalid fields; nothing was created")
    def post(self, data: dict[str, Any]) -> Any:
        """Record a new child or young person."""
        child = services.create_child(current_actor(), data)
        return child, 201, {"Location": url_for("children_api.Child", child_id=child.id)}


@blp.route("/<child_id>")
class Child(MethodView):
    @require_scope("children:read")
    @blp.response(200, ChildSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such child in your council")
    def get(self, child_id: str) -> Any:
        """Read one child. Recorded in the audit log."""
        return access_child(current_actor(), child_id)

    @require_scope("children:write")
    @json_body
    @idempotent
    @blp.arguments(ChildUpdateSchema(partial=True))
    @blp.response(200, ChildSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such child in your council")
    @blp.alt_response(409, response="PROBLEM", description="Another child already has this UPN, ULN or NHS number")
    @blp.alt_response(422, response="PROBLEM", description="Invalid fields; nothing was changed")
    def patch(self, changes: dict[str, Any], child_id: str) -> Any:
        """Change some of a child's details."""
        actor = current_actor()
        child = access_child(actor, child_id, for_write=True)
        services.update_child(actor, child, changes)
        return child
