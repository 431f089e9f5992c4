"""The professionals' portal (web/ui/portal/advice.py). Its inbox, ``portal_advice.index``, is
listed with the other portals' home lists in tests/isolation/portal.py.

The request page takes the advice id in its path; the object graph's case asked for
psychological advice ``ep1`` and received it, so a professional invited for that case sees
the "already received" page (the positive control) and another council's or another case's
professional gets the 404.
"""

PUBLIC_ENDPOINTS: dict = {}

ISOLATION_MATRIX = {
    "portal_advice.advice_request": {"kind": "portal_object", "path": "/portal/advice/cases/{case_id}/requests/ep1",
                                     "roles": ["professional"], "post": True},
}
