"""Signing in and out of a council.

Real council single sign-on (per-tenant OIDC) arrives with issue #4. Until then the only way
in is the demo sign-in, which exists only in demo mode and is refused in production
(``core.config``).
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for

from core.users.services import demo_sign_in_choices, record_sign_in
from core.users.sessions import end_session, start_session
from web import security
from web.context import require_tenant
from web.extensions import limiter
from web.ui.forms import FormErrors

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.get("/sign-in")
def sign_in():  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    settings = current_app.config["SENDBRIDGE_SETTINGS"]
    users = demo_sign_in_choices() if settings.demo_mode else []
    notice = {
        "idle": "You were signed out because you had not done anything for 30 minutes.",
        "absolute": "You were signed out because you signed in more than 12 hours ago.",
    }.get(g.get("session_ended") or request.args.get("ended", ""))
    return render_template("auth/sign_in.html", title="Sign in", users=users, demo=settings.demo_mode,
                           notice=notice, next=_safe_next(request.args.get("next")), tenant_name=tenant.name)


@bp.post("/sign-in")
@limiter.limit("20 per minute")
def sign_in_post():  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    settings = current_app.config["SENDBRIDGE_SETTINGS"]
    if not settings.demo_mode:
        abort(404)
    errors = FormErrors()
    user = None
    raw = request.form.get("user_id", "")
    try:
        user = record_sign_in(uuid.UUID(raw)) if raw else None
    except ValueError:
        user = None
    if user is None:
        errors.add("user_id", "Select who you want to sign in as")
        users = demo_sign_in_choices()
        return render_template("auth/sign_in.html", title="Sign in", users=users, demo=True, errors=errors,
                               error_list=errors.summary(anchors={"user_id": f"user_id-{users[0].id}" if users else "user_id"}),
                               next=_safe_next(request.form.get("next")), tenant_name=tenant.name), 400
    # A fresh session on sign-in (no fixation): end any earlier one of this council, clear
    # the cookie but for other councils' sign-ins, and record a new server-side session.
    previous = security.forget_session(str(tenant.id))
    if previous is not None:
        end_session(previous, "replaced")
    kept = dict(session.get(security.AUTH_KEY) or {})
    session.clear()
    session[security.AUTH_KEY] = kept
    security.remember_session(str(tenant.id), start_session(user).id)
    flash(f"Signed in as {user.display_name}", "success")
    return redirect(_safe_next(request.form.get("next")) or url_for("children.index"))


@bp.post("/sign-out")
def sign_out():  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    session_id = security.forget_session(str(tenant.id))
    if session_id is not None:
        end_session(session_id, "signed_out")  # every copy of the cookie dies with it
    g.user = None
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))
