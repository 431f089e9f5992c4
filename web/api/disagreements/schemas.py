"""Schemas of the ``disagreements`` resource (api-v1.md; issue 6 item 5).

Steps are checked by one validator only, ``core.disagreements.services.record_step`` (with the
timescale engine's for the case events it records), so the API and the caseworker pages give
the same messages for the same mistake. The marshmallow fields of :class:`StepInSchema` are
there to document the step in OpenAPI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma

from core.disagreements.models import (
    APPEAL_GROUNDS, APPEAL_OUTCOMES, CERTIFICATE_KINDS, COMPLAINT_OUTCOMES, COMPLAINT_STAGES, DR_PARTIES, KINDS,
    MEDIATION_OUTCOMES, ORDER_KINDS, STATUSES,
)
from core.disagreements.services import CASE_EVENT_STEPS, DISPUTE_STEPS, STEP_KINDS
from web.api.cases.schemas import DeadlineSchema
from web.api.fields import PageQuerySchema, UTCDateTime


class _Open(ma.Schema):
    """Dumps every key of the object given: declared fields document the known keys."""

    class Meta:
        unknown = ma.INCLUDE

    @ma.post_dump(pass_original=True)
    def _keep_other_keys(self, data: dict[str, Any], original: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        return {**data, **{k: v for k, v in original.items() if k not in data and k not in self.dump_fields}}


def _date(description: str, **kw: Any) -> ma.fields.Field:
    return ma.fields.String(allow_none=True, metadata={"format": "date", "description": description}, **kw)


# ---------------------------------------------------------------------------------------
# In


class DisagreementCreateSchema(ma.Schema):
    """Open a disagreement about a case. Fields not of the chosen `kind` are refused (422)."""

    class Meta:
        unknown = ma.RAISE

    case_id = ma.fields.String(required=True, validate=ma.validate.Length(max=100), metadata={
        "description": "The case. Another council's case is a 404, exactly as a case that does not exist."})
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS), metadata={
        "description": "`mediation` (CFA 2014 ss52-56), `appeal` (First-tier Tribunal SEND), `dr_referral` "
                       "(disagreement resolution, s57: no statutory clock, appeal rights unaffected) or `complaint`."})
    opened_on = ma.fields.Date(metadata={"description": "Default today."})
    summary = ma.fields.String(metadata={"description": "What it is about (required for dr_referral and complaint)."})
    owner_id = ma.fields.String(allow_none=True, metadata={"description": "The member of staff who owns it."})
    decision_event_id = ma.fields.String(metadata={
        "description": "mediation, appeal: the case's `decision_letter_sent` event it is about (default the latest)."})
    grounds = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(APPEAL_GROUNDS)), metadata={
        "description": "appeal (required): what is appealed, CFA 2014 s51(2); plan content by section B, F or I."})
    tribunal_reference = ma.fields.String(metadata={"description": "appeal: the Tribunal's reference."})
    lodged_on = ma.fields.Date(metadata={"description": "appeal: the day the family sent the appeal."})
    provider = ma.fields.String(metadata={"description": "mediation, dr_referral: the service."})
    mediator = ma.fields.String(metadata={"description": "mediation: the mediator."})
    health_bodies = ma.fields.List(ma.fields.String(), metadata={"description": "mediation: health bodies told."})
    agreement_text = ma.fields.String(metadata={"description": "mediation: the written agreement."})
    parties = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(DR_PARTIES)), metadata={
        "description": "dr_referral (required): who the disagreement is between."})
    referred_on = ma.fields.Date(metadata={"description": "dr_referral: default the opening date."})
    stage = ma.fields.String(validate=ma.validate.OneOf(COMPLAINT_STAGES), metadata={
        "description": "complaint: the stage it starts at (default `stage_1`)."})
    reference = ma.fields.String(metadata={"description": "complaint: the complaint's reference."})
    aware_on = ma.fields.Date(metadata={
        "description": "complaint: the day the complainant became aware of the matter (for the LGSCO guidance)."})


def _step_description() -> str:
    lines = ["What happened. `{\"type\": ..., \"date\": \"YYYY-MM-DD\", ...attributes}`. Types recorded as the "
             "api-v1 case event of the same name (so the case's statutory clocks follow): "
             + ", ".join(f"`{t}` ({k})" for t, k in CASE_EVENT_STEPS.items())
             + ". Steps of the dispute only (no statutory clock): "
             + ", ".join(f"`{t}` ({k or 'any kind'})" for t, k in DISPUTE_STEPS.items()) + ".",
             "Attributes: mediation_requested `includes_health`?, `health_bodies`?; mediation_arranged "
             "`arranged_for`, `provider`?, `mediator`?; mediation_concluded `outcome`? ("
             + ", ".join(MEDIATION_OUTCOMES) + "); mediation_agreement_made `appealable`, `la_party`?, `agreed_due`?, `text`?; "
             "mediation_certificate_issued `certificate_kind`? (" + ", ".join(CERTIFICATE_KINDS) + "); "
             "appeal_registered `response_due`?, `lodged_on`?, `late_permission_granted`?, `tribunal_reference`?; "
             "appeal_unopposed `decision`? (default from the appeal); hearing_listed `hearing_on`; appeal_decided "
             "`outcome` (" + ", ".join(APPEAL_OUTCOMES) + "); tribunal_order_made `order` (" + ", ".join(ORDER_KINDS)
             + "), `requires`?; dr_concluded `outcome`; complaint_stage_received `stage`, `reference`?; "
             "complaint_stage_responded `stage`, `outcome` (" + ", ".join(COMPLAINT_OUTCOMES) + "), `remedy`?; "
             "disagreement_closed `reason`?."]
    return "\n\n".join(lines)


class StepInSchema(ma.Schema):
    """A step of a disagreement as a client sends it."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True, validate=ma.validate.OneOf(list(STEP_KINDS)),
                            metadata={"description": _step_description()})
    date = ma.fields.Date(required=True, metadata={"description": "The day it happened, not the day it was recorded."})

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: Any = None) -> Any:
        # One validator (module docstring): the service decides whether the step is well formed.
        if not isinstance(data, Mapping):
            raise ma.ValidationError({"_schema": ["Send a step object: {\"type\": ..., \"date\": \"YYYY-MM-DD\"}"]})
        return dict(data)


class DisagreementPatchSchema(ma.Schema):
    """Change a disagreement's particulars: `summary`, `owner_id` and the fields of its kind that are
    not steps (mediation: `provider`, `mediator`, `health_bodies`, `agreement_text`; appeal:
    `tribunal_reference`, `grounds`, `lodged_on`; dr_referral: `parties`, `provider`, `referred_on`;
    complaint: `aware_on`). What happened is recorded as steps, never patched."""

    class Meta:
        unknown = ma.INCLUDE

    summary = ma.fields.String()
    owner_id = ma.fields.String(allow_none=True)

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: Any = None) -> Any:
        # The service checks the fields against the disagreement's kind, after the lookup, so
        # another council's id is a 404 whatever the body says.
        if not isinstance(data, Mapping):
            raise ma.ValidationError({"_schema": ["Send an object of the fields to change"]})
        return dict(data)


class DisagreementListQuerySchema(PageQuerySchema):
    case_id = ma.fields.UUID(metadata={"description": "Only this case's disagreements."})
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))


# ---------------------------------------------------------------------------------------
# Out


class StepSchema(_Open):
    """A recorded step; its attributes sit beside ``type`` and ``date``."""

    id = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    date = ma.fields.String(required=True, metadata={"format": "date"})
    case_event_id = ma.fields.String(allow_none=True, metadata={
        "description": "The case event it was recorded as (null for steps of the dispute only)."})
    recorded_at = UTCDateTime(required=True)


class OrderSchema(ma.Schema):
    id = ma.fields.String(required=True)
    order = ma.fields.String(required=True, validate=ma.validate.OneOf(ORDER_KINDS))
    made_on = _date("The day of the order.", required=True)
    requires = ma.fields.String(allow_none=True)
    case_event_id = ma.fields.String(required=True)
    complied_on = _date("When every reg 44 clock of the order was done (null: not yet).")


class ComplaintStageSchema(ma.Schema):
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf(COMPLAINT_STAGES))
    received_on = _date("", required=True)
    reference = ma.fields.String(allow_none=True)
    target_due = _date("The council's own response target (not statutory); null outside the council.")
    responded_on = _date("")
    outcome = ma.fields.String(allow_none=True)
    remedy = ma.fields.String(allow_none=True)


class DisagreementSchema(_Open):
    """A disagreement: its particulars by kind, and (single reads and writes) its steps and clocks."""

    id = ma.fields.String(required=True)
    case_id = ma.fields.String(required=True)
    child_id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES))
    opened_on = _date("", required=True)
    closed_on = _date("")
    owner_id = ma.fields.String(allow_none=True)
    summary = ma.fields.String(allow_none=True)
    decision = ma.fields.Dict(allow_none=True, metadata={
        "description": "mediation, appeal: `{event_id, decision, sent_on}` of the decision letter."})
    mediation = ma.fields.Dict(metadata={"description": "kind mediation: adviser contact, choice, health, "
                                                        "arrangements, certificate, outcome, agreement."})
    appeal = ma.fields.Dict(metadata={"description": "kind appeal: reference, grounds, dates, outcome, `orders`."})
    dr_referral = ma.fields.Dict(metadata={"description": "kind dr_referral: parties, provider, dates, outcome."})
    complaint = ma.fields.Dict(metadata={"description": "kind complaint: `stages` (see ComplaintStage)."})
    steps = ma.fields.List(ma.fields.Nested(StepSchema), metadata={
        "description": "Single reads and writes only: every step, in date order."})
    deadlines = ma.fields.List(ma.fields.Nested(DeadlineSchema), metadata={
        "description": "Single reads and writes only: the case's statutory deadlines that belong to this "
                       "disagreement (api-v1 deadline shape, computed now), and for complaints the council's "
                       "response targets (`statutory: false`) and the LGSCO guidance (`guidance: true`)."})
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class DisagreementPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DisagreementSchema))
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "Pass as `cursor` for the next page; "
                                                                             "null on the last page."})
