"""Schemas of the ``transfers`` resource (api-v1.md: ``POST /api/v1/transfers`` and friends)."""

from __future__ import annotations

import marshmallow as ma

from core.transfers.models import ALERTS, DIRECTIONS, STATUSES
from web.api.cases.schemas import DeadlineSchema
from web.api.fields import PageQuerySchema, UTCDateTime


class TransferCreateSchema(ma.Schema):
    """Start moving a case to another council (api-v1)."""

    class Meta:
        unknown = ma.RAISE

    case_id = ma.fields.String(required=True, metadata={"description": "The case whose plan moves."})
    to_la_code = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^\d{3}$", error="Enter the receiving council's 3-digit local authority code, like 886"),
        metadata={"description": "The receiving council's 3-digit local authority code."})
    move_on = ma.fields.Date(required=True, metadata={"description": "The date of the move."})
    became_aware_on = ma.fields.Date(required=True, metadata={
        "description": "The day this council learnt of the move (reg 15(2) counts from it)."})
    health_body_changes = ma.fields.Boolean(load_default=True, metadata={
        "description": "Extension: the move changes the responsible health body (ICB), so reg 16 applies. "
                       "Default true."})
    to_la_name = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200), metadata={
        "description": "Extension: the receiving council's name, for one not on the platform."})


class TransferCompleteSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    transferred_on = ma.fields.Date(required=True, metadata={"description": "The day the plan transfers."})


class TransferChildSchema(ma.Schema):
    given_name = ma.fields.String(required=True)
    family_name = ma.fields.String(required=True)
    date_of_birth = ma.fields.String(required=True, metadata={"format": "date"})


class TransferSchema(ma.Schema):
    """One transfer as this council sees it. Both councils know it by the same ``id``."""

    id = ma.fields.String(required=True, metadata={"description": "Opaque identifier, the same in both councils."})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(list(STATUSES)), metadata={
        "description": "`planned`, `completed`, `cancelled`, or `failed` (nothing moved; complete it again to retry)."})
    direction = ma.fields.String(required=True, validate=ma.validate.OneOf(list(DIRECTIONS)))
    from_la_code = ma.fields.String(required=True)
    from_la_name = ma.fields.String(required=True)
    to_la_code = ma.fields.String(required=True)
    to_la_name = ma.fields.String(required=True)
    receiver_on_platform = ma.fields.Boolean(required=True)
    health_body_changes = ma.fields.Boolean(required=True)
    move_on = ma.fields.String(required=True, metadata={"format": "date"})
    became_aware_on = ma.fields.String(required=True, metadata={"format": "date"})
    due_on = ma.fields.String(allow_none=True, metadata={
        "format": "date", "description": "The statutory date for the transfer (reg 15(2))."})
    transferred_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    case_id = ma.fields.String(allow_none=True, metadata={"description": "The sending council's case (outgoing)."})
    received_case_id = ma.fields.String(allow_none=True, metadata={
        "description": "The case's id in the receiving council, once completed."})
    attempts = ma.fields.Integer(required=True)
    last_error = ma.fields.String(allow_none=True)
    alert = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(list(ALERTS)))
    child = ma.fields.Nested(TransferChildSchema, required=True, metadata={
        "description": "Who is moving: name and date of birth only, never the plan."})
    deadlines = ma.fields.List(ma.fields.Nested(DeadlineSchema), required=True, metadata={
        "description": "The transfer's clocks as this council may see them: the receiving council sees them once "
                       "the plan is its own."})
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class TransferListQuerySchema(PageQuerySchema):
    direction = ma.fields.String(load_default=None, validate=ma.validate.OneOf(list(DIRECTIONS)))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf([*STATUSES, "active"]))


class TransferPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TransferSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)
