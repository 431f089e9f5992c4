"""Response security headers and sign-in session lifetimes.

Sessions: the signed ``__Host-`` cookie holds, per tenant, the signed-in user id, when they
signed in and when they were last seen. A session ends after ``session_idle_minutes`` of
inactivity or ``session_absolute_hours`` after sign-in, whichever comes first.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Flask, Response, g, request, session

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


def _auth_map() -> dict[str, Any]:
    value = session.get(AUTH_KEY)
    return value if isinstance(value, dict) else {}


def start_session(tenant_id: str, user_id: str) -> None:
    """Sign ``user_id`` in to ``tenant_id`` (other tenants' sign-ins in the cookie are kept)."""
    now = int(time.time())
    auth = _auth_map()
    auth[tenant_id] = {"uid": user_id, "iat": now, "seen": now}
    session[AUTH_KEY] = auth
    session.permanent = False


def end_session(tenant_id: str) -> None:
    auth = _auth_map()
    auth.pop(tenant_id, None)
    session[AUTH_KEY] = auth


def session_user_id(app: Flask, tenant_id: str) -> tuple[str | None, str | None]:
    """The signed-in user id for this tenant, refreshing ``seen``; or ``(None, reason)``."""
    entry = _auth_map().get(tenant_id)
    if not isinstance(entry, dict):
        return None, None
    settings = app.config["SENDBRIDGE_SETTINGS"]
    now = int(time.time())
    try:
        iat, seen, uid = int(entry["iat"]), int(entry["seen"]), str(entry["uid"])
    except (KeyError, TypeError, ValueError):
        end_session(tenant_id)
        return None, None
    if now - iat > settings.session_absolute_hours * 3600:
        end_session(tenant_id)
        return None, "absolute"
    if now - seen > settings.session_idle_minutes * 60:
        end_session(tenant_id)
        return None, "idle"
    if now - seen >= 30:  # refresh at most every 30 s, so pages do not all rewrite the cookie
        entry["seen"] = now
        auth = _auth_map()
        auth[tenant_id] = entry
        session[AUTH_KEY] = auth
    return uid, None
