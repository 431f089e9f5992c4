"""Portal sign-in, invitations and the portals' home pages (web/ui/portal/, web/ui/reauth.py)."""

PUBLIC_ENDPOINTS = {
    "portal.sign_in": "the portal sign-in form; shows no council data",
    "portal.demo_sign_in": "the demo sign-in (demo mode only): opens a session for a made-up person",
    "portal.send_link": "asks for an e-mail sign-in link; the same answer whether or not the address has access",
    "portal.check_email": "says a link may have been sent, to the address the asker typed",
    "portal.link": "a button to spend a sign-in link; shows nothing",
    "portal.use_link": "spends a sign-in link (single use, this browser only); opens a session",
    "portal.invitation": "an invitation's landing page: the council's name and the kind of access, never a child",
    "portal.home": "the signed-in person's start page: links by role, no child data",
    "portal.councils": "the council switcher: names of councils where the person has memberships",
    "portal.sign_out": "ends the person's session",
    "portal.sign_out_everywhere": "ends the person's sessions in every council they belong to",
    "reauth.confirm": "asks a signed-in person to prove who they are again; no child data",
    "reauth.confirm_post": "sends a confirmation link or re-runs the demo confirmation; no child data",
}

ISOLATION_MATRIX = {
    "portal_family.index": {"kind": "portal_list", "path": "/portal/family/", "roles": ["parent", "young_person"]},
    "portal_school.index": {"kind": "portal_list", "path": "/portal/school/", "roles": ["senco"]},
    "portal_advice.index": {"kind": "portal_list", "path": "/portal/advice/", "roles": ["professional"]},
}

PUBLIC_ENDPOINTS.update({
    "operator.home": "an operator's page in a council: break-glass status and form; no child data",
    "operator.open_glass": "opens an operator's audited, time-limited, read-only break-glass",
    "operator.end_glass": "ends the operator's break-glass",
})

ISOLATION_MATRIX.update({
    # The council's own list of break-glass access (operators' names and reasons; no child data,
    # but council-owned): another council's managers must never see it.
    "operator.history": {"kind": "list", "path": "/break-glass", "permission": "audit.read", "shows": None},
})
