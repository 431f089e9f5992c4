"""``/api/v1/disagreements`` (api-v1.md; issue 6 item 5): mediation, Tribunal appeals and
their orders, referrals to disagreement resolution services, complaints.

Steps are written with ``POST .../{id}/events`` in the api-v1 event vocabulary: the steps the
law times are recorded on the case as that event, so the case's deadlines follow. Every error
is problem JSON and changes nothing; another council's disagreement is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core import clock
from core.cases.access import access_case
from core.disagreements import services
from core.disagreements.models import Disagreement as DisagreementRow
from web.api.body import json_body
from web.api.disagreements.schemas import (
    DisagreementCreateSchema, DisagreementListQuerySchema, DisagreementPageSchema, DisagreementPatchSchema,
    DisagreementSchema, StepInSchema,
)
from web.api.idempotency import idempotent
from web.api.oauth import require_scope
from web.api.pagination import decode_cursor, encode_cursor
from web.context import current_actor

blp = Blueprint("disagreements_api", __name__, url_prefix="/api/v1/disagreements",
                description="Disagreements: mediation, Tribunal appeals and orders, disagreement resolution, "
                            "complaints.")

_LOCATION = {"Location": {"description": "The new disagreement's URL", "schema": {"type": "string"}}}


def _policy() -> services.DisagreementPolicy:
    # The token's council (set by require_scope): its own options, never another's.
    return services.policy_from_settings(g.tenant.settings)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _kind_body(d: DisagreementRow) -> dict[str, Any]:
    if d.kind == "mediation":
        return {"mediation": {
            "adviser_contacted_on": _iso(d.adviser_contacted_on), "wants_mediation": d.wants_mediation,
            "includes_health": d.includes_health, "health_bodies": list(d.health_bodies or []),
            "health_notified_on": _iso(d.health_notified_on), "provider": d.provider, "mediator": d.mediator,
            "arranged_for": _iso(d.arranged_for), "not_arranged_notified_on": _iso(d.not_arranged_notified_on),
            "held_on": _iso(d.held_on), "outcome": d.mediation_outcome,
            "certificate": {"issued_on": _iso(d.certificate_issued_on), "kind": d.certificate_kind},
            "agreement": None if d.agreement_made_on is None else {
                "made_on": _iso(d.agreement_made_on), "text": d.agreement_text,
                "appealable": d.agreement_appealable, "la_party": d.agreement_la_party,
                "agreed_due": _iso(d.agreement_due), "actioned_on": _iso(d.agreement_actioned_on)},
        }}
    if d.kind == "appeal":
        return {"appeal": {
            "tribunal_reference": d.tribunal_reference, "grounds": list(d.grounds or []),
            "lodged_on": _iso(d.lodged_on), "registered_on": _iso(d.registered_on),
            "late_permission_granted": d.late_permission, "response_due": _iso(d.response_due),
            "response_submitted_on": _iso(d.response_submitted_on), "conceded_on": _iso(d.conceded_on),
            "hearing_on": _iso(d.hearing_on), "decided_on": _iso(d.decided_on), "outcome": d.appeal_outcome,
            "orders": [{"id": str(o.id), "order": o.order, "made_on": o.made_on.isoformat(), "requires": o.requires,
                        "case_event_id": str(o.case_event_id), "complied_on": _iso(o.complied_on)}
                       for o in services.orders_of(d)],
        }}
    if d.kind == "dr_referral":
        return {"dr_referral": {"parties": list(d.parties or []), "provider": d.provider,
                                "referred_on": _iso(d.referred_on), "meeting_on": _iso(d.meeting_on),
                                "outcome": d.outcome, "statutory_clock": False}}
    return {"complaint": {"aware_on": _iso(d.aware_on), "stages": [
        {"stage": s.stage, "received_on": s.received_on.isoformat(), "reference": s.reference,
         "target_due": _iso(s.target_due), "responded_on": _iso(s.responded_on), "outcome": s.outcome,
         "remedy": s.remedy} for s in services.complaint_stages_of(d)]}}


def disagreement_body(d: DisagreementRow, *, today: dt.date, whole: bool) -> dict[str, Any]:
    """The api-v1 disagreement; ``whole`` adds its steps and clocks (single reads and writes)."""
    body: dict[str, Any] = {
        "id": str(d.id), "case_id": str(d.case_id), "child_id": str(d.child_id), "kind": d.kind, "status": d.status,
        "opened_on": d.opened_on.isoformat(), "closed_on": _iso(d.closed_on), "closed_reason": d.closed_reason,
        "owner_id": str(d.owner_id) if d.owner_id else None, "summary": d.summary,
        "decision": None if d.decision_event_id is None else {
            "event_id": str(d.decision_event_id), "decision": d.decision, "sent_on": _iso(d.decision_sent_on)},
    }
    if whole:
        # Clocks first: reading them brings the orders' compliance up to date.
        body["deadlines"] = services.clocks_of(d, policy=_policy(), today=today)
    body.update(_kind_body(d))
    if whole:
        body["steps"] = [{**s.attributes, "id": str(s.id), "type": s.type, "date": s.date.isoformat(),
                          "case_event_id": str(s.case_event_id) if s.case_event_id else None,
                          "recorded_at": s.recorded_at} for s in services.steps_of(d)]
    body["created_at"] = d.created_at
    body["updated_at"] = d.updated_at
    return body


@blp.route("")
class Disagreements(MethodView):
    @require_scope("disagreements:read")
    # Unknown query parameters are refused: a misspelt filter must not list every dispute.
    @blp.arguments(DisagreementListQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, DisagreementPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the council's disagreements, oldest first, a page at a time.

        Items carry their particulars but not their steps or clocks: read one for those. Every
        child whose disagreement is listed is recorded in the audit log as seen by this client.
        """
        today = clock.today()
        items, last = services.list_disagreements_page(
            current_actor(), case_id=args.get("case_id"), kind=args.get("kind"), status=args.get("status"),
            after=decode_cursor(args.get("cursor")), limit=args["limit"])
        return {"items": [disagreement_body(d, today=today, whole=False) for d in items],
                "next_cursor": encode_cursor(last)}

    @require_scope("disagreements:write")
    @json_body
    @idempotent
    @blp.arguments(DisagreementCreateSchema)
    @blp.response(201, DisagreementSchema, headers=_LOCATION)
    @blp.alt_response(404, response="PROBLEM", description="No such case in your council")
    @blp.alt_response(422, response="PROBLEM", description="Invalid fields (for example an appeal whose grounds "
                                                           "are not the decision's); nothing was created")
    def post(self, data: dict[str, Any]) -> Any:
        """Open a disagreement about a case.

        Mediation and appeals are about a decision letter of the case (`decision_letter_sent`);
        the statutory clocks (adviser contact, appeal deadline, ...) are the case's, shown on
        the disagreement.
        """
        actor = current_actor()
        today = clock.today()
        case = access_case(actor, data.pop("case_id"))
        d = services.open_disagreement(actor, case, data, policy=_policy(), today=today)
        return (disagreement_body(d, today=today, whole=True), 201,
                {"Location": url_for("disagreements_api.Disagreement", disagreement_id=d.id)})


@blp.route("/<disagreement_id>")
class Disagreement(MethodView):
    @require_scope("disagreements:read")
    @blp.response(200, DisagreementSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such disagreement in your council")
    def get(self, disagreement_id: str) -> Any:
        """Read one disagreement with its steps and its clocks as of today. Recorded in the audit log."""
        d = services.access_disagreement(current_actor(), disagreement_id)
        return disagreement_body(d, today=clock.today(), whole=True)

    @require_scope("disagreements:write")
    @json_body
    @idempotent
    @blp.arguments(DisagreementPatchSchema)
    @blp.response(200, DisagreementSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such disagreement in your council")
    @blp.alt_response(422, response="PROBLEM", description="A field this kind does not take, or an invalid value; "
                                                           "nothing was changed")
    def patch(self, data: dict[str, Any], disagreement_id: str) -> Any:
        """Change a disagreement's particulars (owner, summary, references, grounds, parties, ...).

        Steps (what happened, and when) are recorded with `POST .../events`, never patched.
        Audited as a change to the child's record.
        """
        actor = current_actor()
        d = services.access_disagreement(actor, disagreement_id, for_write=True)
        services.update_disagreement(actor, d, data)
        return disagreement_body(d, today=clock.today(), whole=True)


@blp.route("/<disagreement_id>/events")
class DisagreementEvents(MethodView):
    @require_scope("disagreements:write")
    @json_body
    @idempotent
    @blp.arguments(StepInSchema)
    @blp.response(201, DisagreementSchema)
    @blp.alt_response(404, response="PROBLEM", description="No such disagreement in your council")
    @blp.alt_response(422, response="PROBLEM", description="A malformed step, or one that cannot happen now (for "
                                                           "example an order before the appeal is registered, or "
                                                           "closing with an order not complied with); `errors` "
                                                           "says why. Nothing was recorded")
    def post(self, step: dict[str, Any], disagreement_id: str) -> Any:
        """Record a step; answers with the updated disagreement.

        Steps the law times are recorded on the case as the api-v1 event of the same type
        (carrying `disagreement_id`), so the case's deadlines are recomputed.
        """
        actor = current_actor()
        today = clock.today()
        d = services.access_disagreement(actor, disagreement_id, for_write=True)
        services.record_step(actor, d, step, policy=_policy(), today=today)
        return disagreement_body(d, today=today, whole=True), 201
