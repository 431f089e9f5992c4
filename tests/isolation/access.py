"""Council staff pages for the portals (web/ui/access.py): people with access, invitations,
withdrawing access, consent, and what was sent in through the portals.

Pages that pick a membership or a consent take it in the query string or the form
(``?membership=``, ``?consent=``) and otherwise list the child's, so each path names only the
child or case, and each has its positive control with the object graph's.

A submission's own page names the submission: the object graph makes one (a family's views).
"""

PUBLIC_ENDPOINTS: dict = {}

ISOLATION_MATRIX = {
    "access.people": {"kind": "object", "path": "/children/{child_id}/access", "permission": "children.read"},
    "access.invite_parent": {"kind": "object", "path": "/children/{child_id}/access/parent", "post": True,
                             "permission": "cases.write"},
    "access.invite_young_person": {"kind": "object", "path": "/children/{child_id}/access/young-person",
                                   "post": True, "permission": "cases.write"},
    "access.invite_senco": {"kind": "object", "path": "/children/{child_id}/access/senco", "post": True,
                            "permission": "cases.write"},
    "access.invite_professional": {"kind": "object", "path": "/cases/{case_id}/access/professional", "post": True,
                                   "permission": "cases.write"},
    "access.resend": {"kind": "object", "path": "/children/{child_id}/access/resend", "post": True,
                      "permission": "cases.write"},
    "access.revoke": {"kind": "object", "path": "/children/{child_id}/access/revoke", "post": True,
                      "permission": "cases.write"},
    "access.record_consent": {"kind": "object", "path": "/children/{child_id}/consents/new", "post": True,
                              "permission": "cases.write"},
    "access.withdraw_consent": {"kind": "object", "path": "/children/{child_id}/consents/withdraw", "post": True,
                                "permission": "cases.write"},
    "access.submissions": {"kind": "object", "path": "/cases/{case_id}/submissions", "permission": "cases.read"},
    "access.submission": {"kind": "object", "path": "/cases/{case_id}/submissions/{submission_id}", "post": True,
                          "permission": "cases.read"},
}
