"""Signing in and out of a council.

Staff sign in with their council's own identity provider (single sign-on, web/ui/sso.py): the
page lists the council's staff providers. The demo sign-in exists only in demo mode and is
refused in production (``core.config``).
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from core.users.services import demo_sign_in_choices, record_sign_in
from tenants.identity_providers import staff_providers
from core.users.sessions import end_session
from web import security
from web.context import require_tenant
from web.extensions import limiter
from web.ui.forms import FormErrors
from web.ui.sessions import begin, safe_next

bp = Blueprint("auth", __name__)


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
                           notice=notice, next=safe_next(request.args.get("next")), tenant_name=tenant.name,
                           providers=staff_providers())


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
                               next=safe_next(request.form.get("next")), tenant_name=tenant.name,
                               providers=staff_providers()), 400
    begin(tenant.id, user=user, method="demo")
    flash(f"Signed in as {user.display_name}", "success")
    return redirect(safe_next(request.form.get("next")) or url_for("children.index"))


@bp.post("/sign-out")
def sign_out():  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    session_id = security.forget_session(str(tenant.id))
    if session_id is not None:
        end_session(session_id, "signed_out")  # every copy of the cookie dies with it
    g.user = None
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))
