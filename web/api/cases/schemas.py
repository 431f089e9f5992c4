"""Schemas of the ``cases`` resource and of the deadline calculator (api-v1.md).

Events are checked by one validator only, the timescale engine's ``validate_event``, so the
API, the caseworker forms and the calculator give the same messages for the same mistake and
a new event type needs no change here. The marshmallow fields of :class:`EventInSchema` are
there to *document* the event object in OpenAPI; its ``load`` hands the whole object to
``validate_event`` and reports every invalid field at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import marshmallow as ma

from core.cases.services import DUE_FILTERS
from core.cases.workflow import STAGES
from core.timescales import EVENT_TYPES, validate_event
from core.timescales.rules import DEADLINE_KEYS
from web.api.fields import PageQuerySchema, UTCDateTime

#: Most events a calculator request may carry: a long case (annual reviews for 20 years,
#: amendments, appeals) has well under 200, and the limit keeps the public endpoint cheap.
MAX_CALCULATOR_EVENTS = 200

_NOT_AN_OBJECT = "Send an event object: {\"type\": ..., \"date\": \"YYYY-MM-DD\", ...}"


def _attributes_doc() -> str:
    """Each event type's attributes, for the OpenAPI description (from the engine's own table)."""
    lines = []
    for name, attrs in EVENT_TYPES.items():
        described = []
        for attr, spec in attrs.items():
            kind = "one of " + " | ".join(f"`{c}`" for c in spec.choices) if spec.choices else spec.kind
            described.append(f"`{attr}`{'' if spec.required else '?'}: {kind}")
        lines.append(f"- `{name}`" + (": " + "; ".join(described) if described else ""))
    return "\n".join(lines)


_EVENT_DESCRIPTION = (
    "What happened. An event is `{\"type\": ..., \"date\": \"YYYY-MM-DD\", ...attributes}` (api-v1.md \"Events\", "
    "plus the platform's documented extensions). Attributes outside the vocabulary are accepted and kept but not "
    "used. The attributes of each type (`?` = optional; dates are YYYY-MM-DD; `keys` is a list of deadline keys):\n\n"
)


class _RawObjectSchema(ma.Schema):
    """A schema that dumps every key of the object it is given: its declared fields format
    and document the known keys, and the rest (event attributes, deadline extras) pass
    through unchanged."""

    class Meta:
        unknown = ma.INCLUDE

    @ma.post_dump(pass_original=True)
    def _keep_other_keys(self, data: dict[str, Any], original: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        extra = {k: v for k, v in original.items() if k not in data and k not in self.dump_fields}
        return {**data, **extra}


# ---------------------------------------------------------------------------------------
# Events


class EventInSchema(ma.Schema):
    """An event as a client sends it (api-v1.md "Events")."""

    class Meta:
        unknown = ma.INCLUDE
        # No Meta.description: apispec would then leave out additionalProperties. The
        # vocabulary is documented on ``type`` instead.

    type = ma.fields.String(required=True, validate=ma.validate.OneOf(list(EVENT_TYPES)),
                            metadata={"description": _EVENT_DESCRIPTION + _attributes_doc()})
    date = ma.fields.Date(required=True, metadata={"description": "The day it happened (YYYY-MM-DD), not the day it "
                                                                  "was recorded."})
    corrects = ma.fields.String(metadata={"description": "To put a mistake right: the id of the earlier event this one "
                                                         "replaces. Events are never edited or deleted."})

    #: Keys of a recorded event that the platform sets; a client may not send them, or the
    #: case would read back with two meanings for one key.
    set_by_platform: tuple[str, ...] = ("id", "recorded_at", "superseded_by")

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: Any = None) -> Any:
        # One validator for events everywhere (see the module docstring): the fields above
        # describe the object, validate_event decides whether it is well formed.
        if not isinstance(data, Mapping):
            raise ma.ValidationError({"_schema": [_NOT_AN_OBJECT]})
        errors = validate_event(data)
        for name in self.set_by_platform:
            if name in data:
                errors.setdefault(name, []).append("is set by the platform; leave it out")
        if errors:
            raise ma.ValidationError(errors)
        return dict(data)


class CalculatorEventSchema(EventInSchema):
    """An event of a hypothetical case. ``id`` and ``corrects`` may name events within the
    same list: ``corrects`` is an earlier event's ``id`` (string) or its index in the list
    (integer)."""

    id = ma.fields.String(metadata={"description": "Optional: a name for this event, for `corrects` to refer to."})
    corrects = ma.fields.Raw(metadata={
        "description": "An earlier event of the list that this one replaces: its `id` or its index (from 0).",
        "oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0}],
    })

    set_by_platform = ()


class EventSchema(_RawObjectSchema):
    """An event of a case, as recorded. Its attributes sit beside ``type`` and ``date``."""

    id = ma.fields.String(required=True, metadata={"description": "Opaque identifier; give it as `corrects` to put "
                                                                  "this event right."})
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(list(EVENT_TYPES)))
    date = ma.fields.String(required=True, metadata={"format": "date", "description": "The day it happened."})
    recorded_at = UTCDateTime(required=True, metadata={"description": "When the platform recorded it (UTC)."})
    corrects = ma.fields.String(metadata={"description": "Present on a correction: the id of the event it replaces."})
    superseded_by = ma.fields.String(metadata={
        "description": "Present when a later event corrected this one: that event's id. A superseded event no "
                       "longer counts for the deadlines or the status, but stays on the record."})


class EventPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EventSchema))
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "Always null: a case's events come in one page."})


# ---------------------------------------------------------------------------------------
# Deadlines


class DeadlineExceptionSchema(ma.Schema):
    code = ma.fields.String(required=True)
    from_ = ma.fields.String(required=True, data_key="from", attribute="from", metadata={"format": "date"})
    to = ma.fields.String(allow_none=True, metadata={"format": "date", "description": "null while it lasts."})


class DeadlineTriggerSchema(ma.Schema):
    type = ma.fields.String(required=True, metadata={"description": "The event type the deadline counts from."})
    date = ma.fields.String(required=True, metadata={"format": "date", "description": "The day counting starts from."})
    event_id = ma.fields.String(metadata={"description": "That event's id, when it has one."})


class DeadlineSchema(_RawObjectSchema):
    """A statutory clock (or a council's own target) and where it stands today (api-v1.md)."""

    key = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(DEADLINE_KEYS)),
                           metadata={"description": "A key of statutory-rules.md section 2."})
    due = ma.fields.String(required=True, metadata={"format": "date"})
    comparison = ma.fields.String(required=True, validate=ma.validate.OneOf(["on_or_before", "before"]),
                                  metadata={"description": "`before`: acting on `due` itself is already late."})
    statutory = ma.fields.Boolean(required=True, metadata={"description": "false for a council's own target."})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["open", "met", "missed", "suspended"]))
    citation = ma.fields.String(required=True, metadata={"description": "The provision that sets it."})
    met_on = ma.fields.String(metadata={"format": "date", "description": "When it was met (status met)."})
    exception = ma.fields.Nested(DeadlineExceptionSchema, metadata={"description": "What suspends it (status suspended)."})
    label = ma.fields.String(metadata={"description": "Extension: one plain-English sentence about it."})
    trigger = ma.fields.Nested(DeadlineTriggerSchema, metadata={"description": "Extension: the event it counts from."})
    last_compliant_day = ma.fields.String(metadata={"format": "date",
                                                    "description": "Extension, `before` deadlines: the last day in time."})
    non_working_day_hint = ma.fields.String(metadata={
        "format": "date", "description": "Extension: the due day is a weekend or bank holiday, and there is no roll "
                                         "forward for this duty; act by this working day."})
    provisional = ma.fields.Boolean(metadata={"description": "Extension: counted from the latest permissible date "
                                                             "of a step that has not happened yet."})
    note = ma.fields.String(metadata={"description": "Extension: anything else worth knowing."})
    ref = ma.fields.String(metadata={"description": "Extension: tells repeated keys apart (an advice id, a URN)."})


# ---------------------------------------------------------------------------------------
# Cases


class CaseSchema(ma.Schema):
    """An EHC case: what has happened (``events``) and what is due (``deadlines``)."""

    id = ma.fields.String(required=True, metadata={"description": "Opaque identifier."})
    child_id = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(list(STAGES)),
                              metadata={"description": "Where the case stands, derived from its events."})
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf(list(STAGES)),
                             metadata={"description": "The same word as `status` (the caseload filter's name)."})
    opened_on = ma.fields.String(required=True, metadata={"format": "date", "description": "The day of the request."})
    caseworker_id = ma.fields.String(allow_none=True, metadata={"description": "The member of staff holding the case."})
    events = ma.fields.List(ma.fields.Nested(EventSchema), required=True,
                            metadata={"description": "Every event ever recorded, corrected ones included, in date "
                                                     "order (recording order within a day)."})
    deadlines = ma.fields.List(ma.fields.Nested(DeadlineSchema), required=True,
                               metadata={"description": "Computed now from the events, soonest first."})
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class _EventList(ma.fields.List):
    """A list of events whose length is checked *before* any event is read, so an
    oversized request costs nothing to refuse."""

    def __init__(self, inner: ma.fields.Field, *, min_items: int, max_items: int, too_many: str, **kwargs: Any):
        self.min_items = min_items
        self.max_items = max_items
        self.too_many = too_many
        metadata = {**kwargs.pop("metadata", {}), "minItems": min_items, "maxItems": max_items}
        super().__init__(inner, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            if len(value) > self.max_items:
                raise ma.ValidationError(self.too_many)
            if len(value) < self.min_items:
                raise ma.ValidationError(f"Send at least {self.min_items} event")
        return super()._deserialize(value, attr, data, **kwargs)


class CaseCreateSchema(ma.Schema):
    """Open a case for a child with its first event."""

    child_id = ma.fields.String(required=True, validate=ma.validate.Length(max=100),
                                metadata={"description": "The child's id. Another council's child is a 404, exactly "
                                                         "as a child that does not exist."})
    events = _EventList(ma.fields.Nested(EventInSchema), required=True, min_items=1, max_items=1,
                        too_many="Send only the first event (usually request_received); record the rest with "
                                 "POST /api/v1/cases/{id}/events",
                        metadata={"description": "Exactly one event, the first: `request_received`."})
    caseworker_id = ma.fields.UUID(allow_none=True, load_default=None,
                                   metadata={"description": "Optional: an active member of staff who works on cases."})


class CaseListQuerySchema(PageQuerySchema):
    stage = ma.fields.String(validate=ma.validate.OneOf(list(STAGES)), metadata={"description": "Only cases at this stage."})
    child_id = ma.fields.UUID(metadata={"description": "Only this child's cases."})
    caseworker_id = ma.fields.UUID(metadata={"description": "Only this caseworker's cases."})
    due = ma.fields.String(validate=ma.validate.OneOf(list(DUE_FILTERS)), metadata={
        "description": "Only cases with an open statutory deadline that is `overdue` (last day before today), due "
                       "`this_week` (within 7 days from today) or within `four_weeks` (28 days)."})


class CasePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CaseSchema))
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last page."})


# ---------------------------------------------------------------------------------------
# The calculator


class ChildFactsSchema(ma.Schema):
    date_of_birth = ma.fields.Date(allow_none=True, metadata={
        "description": "Needed only for the clocks that depend on age (the under-5 review guidance)."})


class TimescalesRequestSchema(ma.Schema):
    """A hypothetical case: its events and, optionally, the child's date of birth."""

    events = _EventList(ma.fields.Nested(CalculatorEventSchema), required=True, min_items=0,
                        max_items=MAX_CALCULATOR_EVENTS,
                        too_many=f"Send at most {MAX_CALCULATOR_EVENTS} events",
                        metadata={"description": "What has happened, in any order (the calculator sorts them by "
                                                 "date). Any well-formed sequence is answered, even an incomplete one."})
    child = ma.fields.Nested(ChildFactsSchema, allow_none=True)
    today = ma.fields.Date(allow_none=True, metadata={
        "description": "Extension: the day to judge each deadline's status on (default: today in England), to ask "
                       "what was open, met or missed on a given day. Dates and keys do not depend on it."})


class TimescalesResponseSchema(ma.Schema):
    deadlines = ma.fields.List(ma.fields.Nested(DeadlineSchema), required=True)
