"""Cases through the API (``/api/v1/cases``) and the public deadline calculator."""

PUBLIC_ENDPOINTS = {
    "timescales_api.calculate": "the deadline calculator: needs no token and no council, reads and stores nothing, "
                                "answers only from the events in the request body",
}

#: A well-formed event, so a write to another council's case reaches the lookup (and its 404)
#: rather than stopping at body validation.
_EVENT = {"type": "review_meeting_held", "date": "2026-11-02"}

ISOLATION_MATRIX = {
    "cases_api.Cases": {"kind": "api_list", "path": "/api/v1/cases", "shows": "case_id", "scope": "cases:read",
                        "queries": ["", "?limit=200", "?due=overdue", "?due=this_week", "?due=four_weeks",
                                    "?stage=plan", "?stage=request"]},
    "cases_api.Case": {"kind": "api_object", "path": "/api/v1/cases/{case_id}", "scope": "cases:read"},
    # GET lists the case's events (the positive control reads B's own); POST records one.
    "cases_api.CaseEvents": {"kind": "api_object", "path": "/api/v1/cases/{case_id}/events", "post_json": True,
                             "body": _EVENT, "scope": "cases:read"},
}
