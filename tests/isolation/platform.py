"""Routes that show no council's data."""

PUBLIC_ENDPOINTS = {
    "static": "our CSS and JS",
    "govuk_assets": "GOV.UK Frontend fonts and images",
    "govuk_dist": "GOV.UK Frontend CSS and JS",
    "public.healthz": "liveness, no tenant data",
    "public.home": "start page; a signed-in user is redirected to their own council's list",
    "public.accessibility": "static text",
    "public.privacy": "static text",
    "auth.sign_in": "sign-in page of the host's council",
    "auth.sign_in_post": "sign-in: looks users up in the host's council only",
    "auth.sign_out": "ends this council's session only",
    "oauth.token": "tokens: the client id names the council, looked up inside it",
    "api-docs.openapi_json": "the API description, no data",
    "api_docs.docs": "API documentation, no data",
    "api_docs.problem_type": "problem type documentation, no data",
}

ISOLATION_MATRIX: dict = {}
