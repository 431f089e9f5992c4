"""OpenID Connect sign-in (web/ui/sso.py). None of these routes shows a council's records:
they start and finish sign-ins. What a signed-in person may then see is decided by the
routes they go on to, which are in their areas' matrices."""

PUBLIC_ENDPOINTS = {
    "sso.start_staff": "sends council staff to the council's identity provider; no council data",
    "sso.start_public": "starts GOV.UK One Login (or another public provider) sign-in; no council data",
    "sso.choose_school": "lists the schools' and colleges' identity providers; no child data",
    "sso.start_school": "sends a SENCO to their school's identity provider; no council data",
    "sso.start_operator": "sends a platform operator to the platform's identity provider; no council data",
    "sso.reauthenticate": "sends a signed-in person back to their identity provider to prove who they are",
    "sso.callback": "where identity providers send people back; signs them in (or refuses), shows no child data",
}
