"""``/api/v1/cases/{id}/plan`` and ``.../plan/versions`` (api-v1.md): the EHC plan (issue #3).

Reads need ``plans:read``; writing the working draft needs ``plans:write``. The case is found
through ``access_plan_case`` (another council's case is the same 404 as a missing one, and the
read is recorded against the child). A version's PDF is the one kept when it was issued, or
rendered on request for versions that have none (drafts, and versions with no content).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core.cases.models import Case
from core.cases.models import PlanVersion as PlanVersionRow
from core.documents.services import read_document
from core.errors import ValidationFailed
from core.plans import services as plans
from core.plans.access import access_plan_case, access_version
from core.plans.content import with_defaults
from core.plans.diff import diff_content
from core.plans.pdf import pdf_filename, render_version_pdf
from web.api.body import json_body
from web.api.idempotency import idempotent
from web.api.oauth import require_scope
from web.api.plans.schemas import PlanDiffSchema, PlanDraftWriteSchema, PlanSchema, PlanVersionPageSchema, PlanVersionSchema
from web.context import current_actor

blp = Blueprint("plans_api", __name__, url_prefix="/api/v1/cases",
                description="EHC plans: sections A to K, drafts and issued versions.")

_NOT_FOUND = "No such case (or version) in your council"


def _version_out(case: Case, version: PlanVersionRow | None, *, live_advice: bool = False) -> dict[str, Any] | None:
    if version is None:
        return None
    sections = with_defaults(version.content)
    if live_advice:
        sections["K"] = {"advice": plans.advice_list(case)}
    return {
        "id": version.id, "number": version.number, "state": version.state, "issued_on": version.issued_on,
        "based_on_id": version.based_on_id, "sections": sections, "updated_at": version.updated_at,
        "pdf_url": url_for("plans_api.PlanVersionPdf", case_id=case.id, version_id=version.id),
    }


@blp.route("/<case_id>/plan")
class Plan(MethodView):
    @require_scope("plans:read")
    @blp.response(200, PlanSchema)
    @blp.alt_response(404, response="PROBLEM", description=_NOT_FOUND)
    def get(self, case_id: str) -> dict[str, Any]:
        """The plan of a case: the plan in force (latest issued version) and the working draft."""
        case = access_plan_case(current_actor(), case_id)
        return {"case_id": case.id, "issued": _version_out(case, plans.latest_issued(case)),
                "draft": _version_out(case, plans.current_draft(case), live_advice=True)}


@blp.route("/<case_id>/plan/versions")
class PlanVersions(MethodView):
    @require_scope("plans:read")
    @blp.response(200, PlanVersionPageSchema)
    @blp.alt_response(404, response="PROBLEM", description=_NOT_FOUND)
    def get(self, case_id: str) -> dict[str, Any]:
        """Every version of the plan, oldest first, in one page."""
        case = access_plan_case(current_actor(), case_id)
        return {"items": [_version_out(case, v, live_advice=v.state == "draft") for v in plans.versions(case)],
                "next_cursor": None}


@blp.route("/<case_id>/plan/versions/<version_id>")
class PlanVersion(MethodView):
    @require_scope("plans:read")
    @blp.response(200, PlanVersionSchema)
    @blp.alt_response(404, response="PROBLEM", description=_NOT_FOUND)
    def get(self, case_id: str, version_id: str) -> dict[str, Any] | None:
        """One version of the plan."""
        actor = current_actor()
        case = access_plan_case(actor, case_id)
        version = access_version(actor, case, version_id)
        return _version_out(case, version, live_advice=version.state == "draft")


@blp.route("/<case_id>/plan/versions/<version_id>/pdf")
class PlanVersionPdf(MethodView):
    @require_scope("plans:read")
    @blp.response(200, description="The version as a tagged PDF (PDF/UA-1).", content_type="application/pdf")
    @blp.doc(responses={"200": {"description": "The version as a tagged PDF (PDF/UA-1).",
                                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    @blp.alt_response(404, response="PROBLEM", description=_NOT_FOUND)
    def get(self, case_id: str, version_id: str) -> Response:
        """One version of the plan as an accessible PDF. Recorded in the audit log."""
        actor = current_actor()
        case = access_plan_case(actor, case_id)
        version = access_version(actor, case, version_id)
        stored = plans.pdf_documents(case).get(version.id)
        if stored is not None:
            data, filename = read_document(actor, stored), stored.filename
        else:
            data, filename = render_version_pdf(version), pdf_filename(version, case.child)
        response = Response(data, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="{_ascii(filename)}"'
        response.headers["Cache-Control"] = "no-store"
        return response


def _ascii(name: str) -> str:
    return "".join(c for c in name if c.isascii() and c.isprintable() and c not in '"\\') or "plan.pdf"


@blp.route("/<case_id>/plan/versions/<version_id>/diff/<other_id>")
class PlanVersionDiff(MethodView):
    @require_scope("plans:read")
    @blp.response(200, PlanDiffSchema)
    @blp.alt_response(404, response="PROBLEM", description=_NOT_FOUND)
    def get(self, case_id: str, version_id: str, other_id: str) -> dict[str, Any]:
        """What changed from one version (``version_id``) to another (``other_id``), field by field.

        Needs, outcomes, provision and advice are matched by id, so reordering is not a change.
        """
        actor = current_actor()
        case = access_plan_case(actor, case_id)
        older = access_version(actor, case, version_id)
        newer = access_version(actor, case, other_id)
        return {"from_version": _version_out(case, older), "to_version": _version_out(case, newer),
                "changes": [c.as_dict() for c in diff_content(older.content, newer.content)]}


@blp.route("/<case_id>/plan/draft")
class PlanDraft(MethodView):
    @require_scope("plans:read")
    @blp.response(200, PlanVersionSchema)
    @blp.alt_response(404, response="PROBLEM", description=_NOT_FOUND)
    def get(self, case_id: str) -> dict[str, Any] | None:
        """The working draft; if there is none, what a new one would start from (the latest served or
        issued version), with ``id`` and ``number`` null. Change it and ``PUT`` it back."""
        case = access_plan_case(current_actor(), case_id)
        draft = plans.current_draft(case)
        if draft is not None:
            return _version_out(case, draft, live_advice=True)
        base = plans.latest_frozen(case)
        sections = plans.working_content(case)
        sections["K"] = {"advice": plans.advice_list(case)}
        return {"id": None, "number": None, "state": "draft", "issued_on": None, "pdf_url": None, "updated_at": None,
                "based_on_id": base.id if base else None, "sections": sections}

    @require_scope("plans:write")
    @json_body
    @idempotent
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": PlanDraftWriteSchema}}})
    @blp.response(200, PlanVersionSchema, description="The working draft, changed.")
    @blp.alt_response(201, schema=PlanVersionSchema, description="A working draft was started with this content.")
    @blp.alt_response(404, response="PROBLEM", description=_NOT_FOUND)
    @blp.alt_response(409, response="PROBLEM", description="The plan has ceased or moved to another council")
    @blp.alt_response(422, response="PROBLEM", description="Invalid content (errors keyed by field path, like "
                                                             "`sections.F.provision.0.frequency`); nothing was changed")
    def put(self, case_id: str) -> Any:
        """Replace the working draft's content, starting a draft if there is none (for an issued
        plan: an amendment draft copied from it, then replaced by what you send).

        A draft may be incomplete; its types, ids and links are checked. It must be complete
        when ``final_plan_issued`` or ``amended_plan_issued`` is recorded, or that event is
        refused (409) saying what is missing. Audited against the child.
        """
        actor = current_actor()
        case = access_plan_case(actor, case_id, for_write=True)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("sections"), dict):
            raise ValidationFailed({"sections": ["Send the plan as {\"sections\": {\"A\": ..., \"K\": ...}}"]})
        unknown = sorted(set(body) - {"sections"})
        if unknown:
            raise ValidationFailed({k: ["Unknown field: send only `sections`"] for k in unknown})
        created = plans.current_draft(case) is None
        try:
            draft = plans.save_draft(actor, case, body["sections"])
        except ValidationFailed as exc:
            raise ValidationFailed({("sections" if k == "content" else f"sections.{k}"): v
                                    for k, v in exc.errors.items()}) from None
        return _version_out(case, draft, live_advice=True), 201 if created else 200
