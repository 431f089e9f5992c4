"""Annual reviews and "Your reminders" (web/ui/reviews.py)."""

PUBLIC_ENDPOINTS: dict = {}

ISOLATION_MATRIX = {
    "reviews.case_reviews": {"kind": "object", "path": "/cases/{case_id}/reviews", "permission": "cases.read"},
    "reviews.schedule": {"kind": "object", "path": "/cases/{case_id}/reviews/new", "post": True,
                         "permission": "cases.write"},
    "reviews.meeting": {"kind": "object", "path": "/reviews/{meeting_id}", "permission": "cases.read"},
    "reviews.invitees": {"kind": "object", "path": "/reviews/{meeting_id}/invitees", "post": True,
                         "permission": "cases.write"},
    "reviews.record_step": {"kind": "object", "path": "/reviews/{meeting_id}/steps/invitations", "post": True,
                            "permission": "cases.write"},
    "reviews.upload": {"kind": "object", "path": "/reviews/{meeting_id}/documents", "post": True,
                       "permission": "cases.write"},
    "reviews.adulthood": {"kind": "object", "path": "/reviews/{meeting_id}/adulthood", "post": True,
                          "permission": "cases.write"},
    "reviews.decision": {"kind": "object", "path": "/reviews/{meeting_id}/decision", "post": True,
                         "permission": "cases.write"},
    # A list whose rows show case ids, so the leak test looks for tenant A's case id on tenant
    # B's page for every role, with the ORM criterion on and off. Its rows are the signed-in
    # person's own notifications, not a council-wide list: the generic positive control (a
    # user created after the object graph, to whom no reminder was ever addressed, should see
    # B's case) cannot hold for a per-person list. "reminders.own" is deliberately no role's
    # permission, so that control is skipped here; the real positive control -- B's caseworker
    # sees B's own reminder and never A's, ORM criterion on and off -- is
    # tests/web/ui/test_review_pages.py::test_reminders_never_show_another_councils_cases.
    "reviews.reminders": {"kind": "list", "path": "/reminders", "shows": "case_id", "permission": "reminders.own"},
}
