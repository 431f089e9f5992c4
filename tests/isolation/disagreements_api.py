"""Disagreements through the API (``/api/v1/disagreements``; issue 6 item 5)."""

PUBLIC_ENDPOINTS: dict = {}

_API = "/api/v1/disagreements"

#: A well-formed step, so a write to another council's disagreement reaches the lookup (and
#: its 404) rather than stopping at validation.
_STEP = {"type": "disagreement_closed", "date": "2026-06-02"}

ISOLATION_MATRIX = {
    "disagreements_api.Disagreements": {"kind": "api_list", "path": _API, "shows": "disagreement_id",
                                        "scope": "disagreements:read",
                                        "queries": ["", "?limit=200", "?kind=complaint", "?status=open",
                                                    "?status=closed", "?kind=appeal"]},
    # GET reads it; PATCH changes its particulars.
    "disagreements_api.Disagreement": {"kind": "api_object", "path": _API + "/{disagreement_id}", "patch": True,
                                       "scope": "disagreements:read"},
    # POST only: record a step (the steps are read with the disagreement).
    "disagreements_api.DisagreementEvents": {"kind": "api_action", "path": _API + "/{disagreement_id}/events",
                                             "body": _STEP, "scope": "disagreements:write"},
}
