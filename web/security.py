"""Response security headers, and the session cookie's small part in signing in.

The signed ``__Host-`` cookie holds, per council, only the id of a server-side session
(``core.users.sessions``): who is signed in, since when and until when is decided from the
database, so signing out on the server ends every copy of the cookie.
"""

from __future__ import annotations

import secrets
import uuid

from flask import Response, g, request, session

AUTH_KEY = "auth"


def csp_nonce() -> str:
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def set_security_headers(response: Response) -> Response:
    nonce = g.get("csp_nonce")
    script_src = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    # Anything shown to a signed-in person, and every API answer, may hold a child's data:
    # never let a browser or proxy cache it.
    if g.get("user") is not None or g.get("actor") is not None or request.path.startswith("/api/") \
            or request.path.startswith("/oauth/"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _auth_map() -> dict[str, str]:
    value = session.get(AUTH_KEY)
    return dict(value) if isinstance(value, dict) else {}


def remember_session(tenant_id: str, session_id: uuid.UUID) -> None:
    """Put this council's session id in the cookie (other councils' sign-ins are kept)."""
    auth = _auth_map()
    auth[tenant_id] = str(session_id)
    session[AUTH_KEY] = auth
    session.permanent = False


def forget_session(tenant_id: str) -> uuid.UUID | None:
    """Take this council's session id out of the cookie; returns it (to end it server-side)."""
    auth = _auth_map()
    raw = auth.pop(tenant_id, None)
    session[AUTH_KEY] = auth
    return session_id_from(raw)


def session_id_for(tenant_id: str) -> uuid.UUID | None:
    return session_id_from(_auth_map().get(tenant_id))


def session_id_from(raw: object) -> uuid.UUID | None:
    if not isinstance(raw, str):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None
