"""Schemas of the ``plan`` resource (api-v1.md): sections A to K as structured data.

They describe the plan in the OpenAPI document and shape responses. A draft sent with
``PUT .../plan/draft`` is checked by the platform itself (``core.plans.content``), so the
messages and field paths are the same whichever way a plan is written.
"""

from __future__ import annotations

import marshmallow as ma

from core.plans.content import (
    ADVICE_KINDS, AREAS, LIST_KEY, PFA_AREAS, PLACEMENT_KINDS, PRIMARY_NEEDS, SECTION_DESCRIPTIONS, SECTION_TITLES,
    SHORT_MAX, TEXT_MAX,
)
from web.api.fields import UTCDateTime


def _text(description: str, limit: int = TEXT_MAX) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(max=limit), metadata={"description": description})


def _choice(options: dict[str, str], description: str) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=ma.validate.OneOf(list(options)), metadata={
        "description": f"{description} One of: " + "; ".join(f"`{k}` ({v})" for k, v in options.items()) + "."})


def _item_id() -> ma.fields.String:
    return ma.fields.String(metadata={
        "description": "Unique across the needs, outcomes and provision of the plan: 1 to 40 letters, digits, dots, "
                       "dashes or underscores. Leave it out for a new item and the platform gives it one."})


def _ids(what: str) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(), metadata={"description": f"Ids of the {what}."})


class NeedSchema(ma.Schema):
    """A special educational need (section B)."""

    id = _item_id()
    area = _choice(AREAS, "The broad area of need (SEND Code of Practice 6.28-6.35). Required to issue.")
    primary_need = _choice(PRIMARY_NEEDS, "The primary type of need, as coded for the school census and SEN2.")
    description = _text("The need, in plain words. Required to issue.")


class OtherNeedSchema(ma.Schema):
    """A health care need (section C) or a social care need (section D)."""

    id = _item_id()
    description = _text("The need, in plain words. Required to issue.")


class OutcomeSchema(ma.Schema):
    """An outcome sought (section E), linked to the needs it answers."""

    id = _item_id()
    description = _text("What the child or young person will achieve. Required to issue.")
    timeframe = _text("By when, for example `by the end of Year 6`. Required to issue.", SHORT_MAX)
    need_ids = _ids("needs in sections B, C and D this outcome answers; at least one to issue")
    pfa_area = _choice(PFA_AREAS, "For a preparing-for-adulthood outcome, its area; null otherwise.")


class ProvisionSchema(ma.Schema):
    """An item of provision (sections F, G, H1 and H2): specified and quantified."""

    id = _item_id()
    description = _text("What will be provided. Required to issue.")
    provider = _text("Who will provide it. Required to issue.", SHORT_MAX)
    frequency = _text("How often, for example `3 sessions of 30 minutes a week`. Required to issue; phrases that "
                      "quantify nothing (`as required`, `regularly`) are refused then (CFA 2014 s42; the Code 9.69).",
                      SHORT_MAX)
    duration = _text("How long, for example `until the next annual review`. Required to issue.", SHORT_MAX)
    outcome_ids = _ids("outcomes in section E this provision delivers; at least one to issue")


class PlacementSchema(ma.Schema):
    """Section I: where the child or young person will be educated."""

    kind = _choice(PLACEMENT_KINDS, "Required to issue.")
    urn = ma.fields.Integer(allow_none=True, metadata={
        "description": "With `named`: the DfE URN of the school, college or other institution (6 digits, a known, "
                       "open institution to issue)."})
    name = ma.fields.String(allow_none=True, metadata={
        "description": "The institution's name, filled in by the platform from the URN (what you send is ignored)."})
    type_description = _text("With `type`: the type of school or institution. Required to issue a `type`.", SHORT_MAX)


class PersonalBudgetSchema(ma.Schema):
    """Section J: the personal budget."""

    requested = ma.fields.Boolean(metadata={"description": "Whether a personal budget has been requested."})
    amount = ma.fields.Float(allow_none=True, metadata={"description": "Pounds a year, to the penny; null if not agreed."})
    direct_payment = ma.fields.Boolean(metadata={"description": "Whether any of it is paid as a direct payment."})
    arrangements = _text("What it pays for and how, including direct payment arrangements.")


class AdviceSchema(ma.Schema):
    """An item of section K: advice sought during the assessment."""

    advice_id = ma.fields.String(metadata={"description": "The `advice_id` of the advice events."})
    advice = _choice(ADVICE_KINDS, "The kind of advice.")
    requested_on = ma.fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD", "format": "date"})
    received_on = ma.fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD", "format": "date"})
    document_ids = ma.fields.List(ma.fields.String(), metadata={"description": "Documents filed under this advice."})


def _section(title: str, key: str, field: ma.fields.Field) -> type[ma.Schema]:
    return ma.Schema.from_dict({key: field}, name=f"PlanSection{title}")


def _described(section: str, schema: type[ma.Schema]) -> ma.fields.Nested:
    return ma.fields.Nested(schema, metadata={
        "description": f"Section {section}: {SECTION_TITLES[section]}. {SECTION_DESCRIPTIONS[section]}"})


class PlanSectionASchema(ma.Schema):
    views = _text("The views of the child and their parents, or of the young person.")
    interests = _text("Their interests.")
    aspirations = _text("Their aspirations, including for adult life.")


_LIST = {s: ma.fields.List(ma.fields.Nested(schema)) for s, schema in (
    ("B", NeedSchema), ("C", OtherNeedSchema), ("D", OtherNeedSchema), ("E", OutcomeSchema), ("F", ProvisionSchema),
    ("G", ProvisionSchema), ("H1", ProvisionSchema), ("H2", ProvisionSchema))}


class PlanSectionsSchema(ma.Schema):
    """Sections A to K (SEND Regulations 2014, regulation 12(1); the Code 9.62). A draft may leave
    anything out; sections left out of a ``PUT`` are emptied. Section K is always the case's own
    advice (from its advice events and documents), whatever is sent."""

    A = _described("A", PlanSectionASchema)
    B = _described("B", _section("B", LIST_KEY["B"], _LIST["B"]))
    C = _described("C", _section("C", LIST_KEY["C"], _LIST["C"]))
    D = _described("D", _section("D", LIST_KEY["D"], _LIST["D"]))
    E = _described("E", _section("E", LIST_KEY["E"], _LIST["E"]))
    F = _described("F", _section("F", LIST_KEY["F"], _LIST["F"]))
    G = _described("G", _section("G", LIST_KEY["G"], _LIST["G"]))
    H1 = _described("H1", _section("H1", LIST_KEY["H1"], _LIST["H1"]))
    H2 = _described("H2", _section("H2", LIST_KEY["H2"], _LIST["H2"]))
    I = _described("I", _section("I", "placement", ma.fields.Nested(PlacementSchema)))  # noqa: E741 - the law's name
    J = _described("J", _section("J", "personal_budget", ma.fields.Nested(PersonalBudgetSchema)))
    K = _described("K", _section("K", "advice", ma.fields.List(ma.fields.Nested(AdviceSchema))))


class PlanVersionSchema(ma.Schema):
    """A version of the plan: the working draft, a draft as served on the family, or an issued plan."""

    id = ma.fields.UUID(allow_none=True, metadata={
        "description": "Opaque identifier. Null only in `GET .../plan/draft` when there is no draft yet."})
    number = ma.fields.Integer(allow_none=True, metadata={"description": "1, 2, ... in the order versions were made."})
    state = ma.fields.String(metadata={"description": "`draft` (changes), `served` (frozen when the draft was served, "
                                                      "reg 13(1)) or `issued` (a final or amended plan; never changes)."})
    issued_on = ma.fields.Date(allow_none=True, metadata={"description": "For issued versions, the day it was issued."})
    based_on_id = ma.fields.UUID(allow_none=True, metadata={"description": "The version this one was started from."})
    sections = ma.fields.Nested(PlanSectionsSchema)
    pdf_url = ma.fields.String(allow_none=True, metadata={
        "description": "The version as a tagged (accessible) PDF. For an issued version, the PDF kept when it was issued."})
    updated_at = UTCDateTime(allow_none=True)


class PlanSchema(ma.Schema):
    """A case's EHC plan: the plan in force and the working draft."""

    case_id = ma.fields.UUID()
    issued = ma.fields.Nested(PlanVersionSchema, allow_none=True, metadata={
        "description": "The latest issued version: the plan in force. Null before a plan is issued."})
    draft = ma.fields.Nested(PlanVersionSchema, allow_none=True, metadata={
        "description": "The working draft, if there is one."})


class PlanVersionPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PlanVersionSchema), metadata={"description": "Oldest first."})
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "Always null: a plan's versions come in one page."})


class PlanDraftWriteSchema(ma.Schema):
    """The new content of the working draft (the whole of it: a ``PUT`` replaces it)."""

    sections = ma.fields.Nested(PlanSectionsSchema, required=True)


class PlanChangeSchema(ma.Schema):
    """One difference between two versions."""

    section = ma.fields.String(metadata={"description": "A to K."})
    kind = ma.fields.String(metadata={"description": "`added`, `removed` or `changed`."})
    item_id = ma.fields.String(allow_none=True, metadata={"description": "The need, outcome, provision or advice id."})
    label = ma.fields.String(allow_none=True, metadata={"description": "The item's short name."})
    field = ma.fields.String(allow_none=True, metadata={"description": "The field that changed; null for a whole item."})
    field_label = ma.fields.String(allow_none=True, metadata={"description": "The field in plain English."})
    before = ma.fields.Raw(allow_none=True)
    after = ma.fields.Raw(allow_none=True)
    before_text = ma.fields.String(metadata={"description": "`before` in words."})
    after_text = ma.fields.String(metadata={"description": "`after` in words."})
    summary = ma.fields.String(metadata={
        "description": "One line for a person, e.g. \"Section F: Speech and language therapy — how often: 'weekly' → "
                       "'twice a week'\"."})


class PlanVersionRefSchema(ma.Schema):
    """Which version, without its content."""

    id = ma.fields.UUID()
    number = ma.fields.Integer()
    state = ma.fields.String()
    issued_on = ma.fields.Date(allow_none=True)


class PlanDiffSchema(ma.Schema):
    from_version = ma.fields.Nested(PlanVersionRefSchema, data_key="from")
    to_version = ma.fields.Nested(PlanVersionRefSchema, data_key="to")
    changes = ma.fields.List(ma.fields.Nested(PlanChangeSchema), metadata={"description": "In section order, A to K."})
