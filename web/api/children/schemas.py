"""Schemas of the ``children`` resource (api-v1.md)."""

from __future__ import annotations

import marshmallow as ma

from core.children.models import Sex
from web.api.fields import PageQuerySchema, UTCDateTime

_SEX = [s.value for s in Sex]


class ChildSchema(ma.Schema):
    """A child or young person."""

    id = ma.fields.UUID(dump_only=True, metadata={"description": "Opaque identifier."})
    given_name = ma.fields.String(metadata={"description": "First name."})
    family_name = ma.fields.String(metadata={"description": "Last name."})
    date_of_birth = ma.fields.Date(metadata={"description": "YYYY-MM-DD."})
    upn = ma.fields.String(allow_none=True, metadata={"description": "Unique Pupil Number, 13 characters with a valid check letter."})
    uln = ma.fields.String(allow_none=True, metadata={"description": "Unique Learner Number, 10 digits with a valid check digit."})
    nhs_number = ma.fields.String(allow_none=True, metadata={"description": "NHS number, 10 digits with a valid modulus 11 check digit."})
    sex = ma.fields.Enum(Sex, by_value=True, allow_none=True,
                         metadata={"description": "Administrative sex (HL7 FHIR AdministrativeGender)."})
    postcode = ma.fields.String(allow_none=True, metadata={"description": "UK postcode, normalised (e.g. SW1A 1AA)."})
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


def _optional_text(max_len: int, description: str) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=ma.validate.Length(max=max_len), metadata={"description": description})


class ChildWriteSchema(ma.Schema):
    """Fields a client may send. Identifiers are checked (check digits) and normalised by the
    platform; an invalid one is a 422 naming the field."""

    given_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    family_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    date_of_birth = ma.fields.Date(required=True)
    upn = _optional_text(20, "Unique Pupil Number.")
    uln = _optional_text(20, "Unique Learner Number.")
    nhs_number = _optional_text(20, "NHS number; spaces allowed.")
    sex = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(_SEX))
    postcode = _optional_text(10, "UK postcode.")


class ChildCreateSchema(ChildWriteSchema):
    pass


class ChildUpdateSchema(ChildWriteSchema):
    """Any subset of the fields; those sent replace the stored values (``null`` clears an optional one)."""

    given_name = ma.fields.String(validate=ma.validate.Length(min=1, max=100))
    family_name = ma.fields.String(validate=ma.validate.Length(min=1, max=100))
    date_of_birth = ma.fields.Date()


class ChildListQuerySchema(PageQuerySchema):
    q = ma.fields.String(validate=ma.validate.Length(max=100),
                         metadata={"description": "Name words (each a prefix of the first or last name), or a UPN, ULN or NHS number."})
    upn = ma.fields.String(validate=ma.validate.Length(max=20))
    uln = ma.fields.String(validate=ma.validate.Length(max=20))
    nhs_number = ma.fields.String(validate=ma.validate.Length(max=20))
    date_of_birth = ma.fields.Date()


class ChildPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ChildSchema))
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last page."})
