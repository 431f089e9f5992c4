"""Schemas of a child's ``circumstances`` (SEND Code of Practice chapter 10; issue 6)."""

from __future__ import annotations

import marshmallow as ma

from core.circumstances.models import CircumstanceKind
from core.circumstances.services import FIELDS, KIND_FIELDS
from web.api.fields import PageQuerySchema, UTCDateTime

_KINDS = [k.value for k in CircumstanceKind]


def _kinds_of(name: str) -> str:
    return ", ".join(k.value for k, fields in KIND_FIELDS.items() if name in dict(fields))


def _detail(name: str) -> ma.fields.Field:
    spec = FIELDS[name]
    doc = {"description": f"{spec.label}{'. ' + spec.hint if spec.hint else ''}. Kinds: {_kinds_of(name)}."}
    if spec.type == "date":
        return ma.fields.Date(allow_none=True, metadata=doc)
    if spec.type == "bool":
        return ma.fields.Boolean(allow_none=True, metadata=doc)
    if spec.type == "urn":
        return ma.fields.Integer(allow_none=True, metadata=doc)
    if spec.type == "choice":
        return ma.fields.String(allow_none=True, validate=ma.validate.OneOf([v for v, _ in spec.choices]),
                                metadata=doc)
    return ma.fields.String(allow_none=True, validate=ma.validate.Length(max=spec.max_length), metadata=doc)


class CircumstanceSchema(ma.Schema):
    """A dated circumstance of a child. Details that do not belong to its kind are null."""

    id = ma.fields.UUID(dump_only=True)
    child_id = ma.fields.UUID(dump_only=True)
    kind = ma.fields.Function(lambda row: row.kind.value, metadata={"enum": _KINDS})
    label = ma.fields.String(dump_only=True, metadata={"description": "The kind in plain English."})
    started_on = ma.fields.Date()
    ended_on = ma.fields.Date(allow_none=True, metadata={
        "description": "The last day it applied (youth custody: the day of release); null while it lasts."})
    current = ma.fields.Function(lambda row: row.is_current(_today()), dump_only=True,
                                 metadata={"description": "True when it applies today."})
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


def _today():  # type: ignore[no-untyped-def]
    from core import clock

    return clock.today()


# Every detail of every kind, declared once from core's table (the same words as the pages).
CircumstanceSchema = type("CircumstanceSchema", (CircumstanceSchema,),  # type: ignore[misc]
                          {"__doc__": CircumstanceSchema.__doc__, **{n: _detail(n) for n in FIELDS}})


class _WriteDates(ma.Schema):
    started_on = ma.fields.Date()
    ended_on = ma.fields.Date(allow_none=True)


CircumstanceWriteBase = type("CircumstanceWriteBase", (_WriteDates,), {n: _detail(n) for n in FIELDS})


class CircumstanceCreateSchema(CircumstanceWriteBase):
    """A new circumstance: ``kind`` and ``started_on`` plus the details of that kind.

    Details of another kind are refused (422). A ``youth_custody`` record is also recorded on
    the child's open EHC case as ``detention_started`` (and ``released_from_detention`` once
    ``ended_on`` is given) when the client also holds the ``cases:write`` scope.
    """

    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(_KINDS))
    started_on = ma.fields.Date(required=True)


class CircumstanceUpdateSchema(CircumstanceWriteBase):
    """Any subset of the fields; those sent replace the stored values (``null`` clears an
    optional one). The kind cannot change."""


class CircumstanceListQuerySchema(PageQuerySchema):
    pass


class CircumstancePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CircumstanceSchema))
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last page."})
