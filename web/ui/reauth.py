"""Confirm it is you: re-authentication before sensitive actions (issue #4 item 7).

The person is asked the way they signed in: a new e-mail link (to the same address, in the
same browser), their identity provider again with ``prompt=login`` and ``max_age=0`` (SSO:
the provider decides how, MFA included), or in the demo a button. Only the session's
``authenticated_at`` changes; the session itself carries on.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for

from core import mail
from core.identity import links
from web.context import require_tenant
from web.extensions import limiter
from web.ui.sessions import mark_reauthenticated, safe_next

bp = Blueprint("reauth", __name__)


@bp.get("/confirm-it-is-you")
def confirm():  # type: ignore[no-untyped-def]
    require_tenant()
    record = g.get("user_session")
    if record is None:
        abort(404)
    next_url = safe_next(request.args.get("next"))
    method = record.auth_method
    if method.startswith(("oidc:", "org:", "public:", "operator")):
        return redirect(url_for("sso.reauthenticate", next=next_url))
    return render_template("reauth/confirm.html", title="Confirm it is you", method=method, next=next_url,
                           demo=current_app.config["SENDBRIDGE_SETTINGS"].demo_mode)


@bp.post("/confirm-it-is-you")
@limiter.limit("10 per 15 minutes")
def confirm_post():  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    record = g.get("user_session")
    if record is None:
        abort(404)
    next_url = safe_next(request.form.get("next"))
    if record.auth_method == "demo":
        if not current_app.config["SENDBRIDGE_SETTINGS"].demo_mode:
            abort(404)
        mark_reauthenticated()
        return redirect(next_url or url_for("public.home"))
    if record.auth_method == "email_link":
        identity = g.get("identity")
        if identity is None or not identity.email:
            abort(404)
        from web.ui.portal.sign_in import LINK_BROWSER_KEY

        secret = session.get(LINK_BROWSER_KEY)
        if not isinstance(secret, str):
            secret = session[LINK_BROWSER_KEY] = secrets.token_urlsafe(32)
        token = links.create_link(identity.email, secret, purpose="reauth")
        if token is not None:
            url = url_for("portal.link", token=token, _external=True)
            mail.send(identity.email, f"Confirm it is you: {tenant.name} SEND services",
                      f"Use this link to confirm it is you and carry on:\n\n{url}\n\n"
                      "The link works once, for 15 minutes, and only in the browser where you asked for it.")
        session["reauth_next"] = next_url
        session["link_sent_to"] = identity.email
        return redirect(url_for("portal.check_email"))
    abort(404)
