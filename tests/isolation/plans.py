"""EHC plans: pages and API. Every route that shows or changes a plan, a version or a document.

Edit pages answer for any case (with no working draft they show what a new draft would start
from), so each has a positive control with the object graph's case. Item pages take the item
in the query string (``?id=``), so the path names only the case.
"""

PUBLIC_ENDPOINTS: dict = {}

ISOLATION_MATRIX = {
    "plans.plan": {"kind": "object", "path": "/cases/{case_id}/plan", "permission": "plans.read"},
    "plans.start": {"kind": "object", "path": "/cases/{case_id}/plan/start", "post": True,
                    "permission": "plans.write"},
    "plans.edit_a": {"kind": "object", "path": "/cases/{case_id}/plan/draft/A", "post": True,
                     "permission": "plans.write"},
    "plans.section": {"kind": "object", "path": "/cases/{case_id}/plan/draft/F", "permission": "plans.write"},
    "plans.item": {"kind": "object", "path": "/cases/{case_id}/plan/draft/B/item", "post": True,
                   "permission": "plans.write"},
    "plans.remove": {"kind": "object", "path": "/cases/{case_id}/plan/draft/E/remove", "post": True,
                     "permission": "plans.write"},
    "plans.edit_i": {"kind": "object", "path": "/cases/{case_id}/plan/draft/I", "post": True,
                     "permission": "plans.write"},
    "plans.edit_j": {"kind": "object", "path": "/cases/{case_id}/plan/draft/J", "post": True,
                     "permission": "plans.write"},
    "plans.versions": {"kind": "object", "path": "/cases/{case_id}/plan/versions", "permission": "plans.read"},
    "plans.version": {"kind": "object", "path": "/cases/{case_id}/plan/versions/{version_id}",
                      "permission": "plans.read"},
    "plans.diff": {"kind": "object", "path": "/cases/{case_id}/plan/diff", "permission": "plans.read"},
    "plans.download_document": {"kind": "object", "path": "/documents/{document_id}", "permission": "cases.read"},
    "plans_api.Plan": {"kind": "api_object", "scope": "plans:read", "path": "/api/v1/cases/{case_id}/plan"},
    "plans_api.PlanVersions": {"kind": "api_object", "scope": "plans:read", "path": "/api/v1/cases/{case_id}/plan/versions"},
    "plans_api.PlanVersion": {"kind": "api_object", "scope": "plans:read", "path": "/api/v1/cases/{case_id}/plan/versions/{version_id}"},
    "plans_api.PlanVersionPdf": {"kind": "api_object", "scope": "plans:read",
                                 "path": "/api/v1/cases/{case_id}/plan/versions/{version_id}/pdf"},
    "plans_api.PlanVersionDiff": {"kind": "api_object", "scope": "plans:read",
                                  "path": "/api/v1/cases/{case_id}/plan/versions/{version_id}/diff/{version_id}"},
    # GET here; the PUT of another council's case is tested in tests/web/api/test_plans_api.py
    # (the matrix's write checks are POST and PATCH).
    "plans_api.PlanDraft": {"kind": "api_object", "scope": "plans:read", "path": "/api/v1/cases/{case_id}/plan/draft"},
}
