"""EHC case pages (web/ui/cases.py) and the public deadline calculator (web/ui/calculator.py)."""

PUBLIC_ENDPOINTS = {
    "calculator.index": "the deadline calculator: dates in, deadlines out; reads and stores no council's data",
}

ISOLATION_MATRIX = {
    "cases.index": {"kind": "list", "path": "/cases/", "permission": "cases.read", "shows": "case_id"},
    # The cohort lists only cases with a phase transfer planned, which object_graph does not
    # make, so the generic positive control cannot run here (permission None skips it). Its
    # real leak test, with transfers in both councils and the ORM criterion on and off, is
    # tests/web/ui/test_case_pages.py::test_the_transfer_cohort_never_shows_another_councils_cases.
    "cases.transfers": {"kind": "list", "path": "/cases/transfers", "permission": None, "shows": "case_id"},
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
