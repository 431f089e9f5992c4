"""The SENCO portal (web/ui/portal/school.py). Its pupils list (``portal_school.index``) is
listed with the other portals' home lists in ``portal.py``.

Every page here shows or changes a pupil's record, so each is proved by the generic portal
tests in tests/test_isolation.py: a SENCO of another council, and a SENCO in the same council
whose own pupils are other children, get the same 404 as for a made-up id (ORM criterion on
and off), and their form posts change nothing.
"""

PUBLIC_ENDPOINTS: dict = {}

SENCO = ["senco"]
R = "/portal/school/reviews/{meeting_id}"

ISOLATION_MATRIX = {
    "portal_school.deadlines": {"kind": "portal_list", "path": "/portal/school/deadlines", "roles": SENCO},
    "portal_school.pupil": {"kind": "portal_object", "path": "/portal/school/pupils/{child_id}", "roles": SENCO},
    "portal_school.request_assessment": {"kind": "portal_object", "path": "/portal/school/pupils/{child_id}/request-assessment",
                                         "roles": SENCO, "post": True},
    "portal_school.advice": {"kind": "portal_object", "path": "/portal/school/cases/{case_id}/advice", "roles": SENCO,
                             "post": True},
    "portal_school.review": {"kind": "portal_object", "path": R, "roles": SENCO},
    "portal_school.review_papers": {"kind": "portal_object", "path": R + "/papers", "roles": SENCO, "post": True},
    "portal_school.papers_sent": {"kind": "portal_object", "path": R + "/papers/sent", "roles": SENCO, "post": True},
    "portal_school.review_report": {"kind": "portal_object", "path": R + "/report", "roles": SENCO, "post": True},
}
