"""EHC case pages (web/ui/cases.py) and the public deadline calculator (web/ui/calculator.py)."""

PUBLIC_ENDPOINTS = {
    "calculator.index": "the deadline calculator: dates in, deadlines out; reads and stores no council's data",
}

ISOLATION_MATRIX = {
    "cases.index": {"kind": "list", "path": "/cases/", "permission": "cases.read", "shows": "case_id"},
    # object_graph plans a move for the coming September, so the cohort lists B's own case.
    "cases.transfers": {"kind": "list", "path": "/cases/transfers", "permission": "cases.read", "shows": "case_id"},
    "cases.new": {"kind": "object", "path": "/cases/children/{child_id}/new", "post": True,
                  "permission": "cases.write"},
    "cases.view": {"kind": "object", "path": "/cases/{case_id}", "permission": "cases.read"},
    "cases.assign": {"kind": "object", "path": "/cases/{case_id}/caseworker", "post": True,
                     "permission": "cases.write"},
    "cases.record_event": {"kind": "object", "path": "/cases/{case_id}/events/new?corrects={event_id}", "post": True,
                           "permission": "cases.write"},
    # object_graph's event_id is its last event, the final plan: its correction form.
    "cases.event_form": {"kind": "object", "path": "/cases/{case_id}/events/new/final_plan_issued?corrects={event_id}",
                         "post": True, "permission": "cases.write"},
}
