"""Signing in to the portals, and out again.

* ``/portal/sign-in``: the ways in this council offers: an e-mail link (always), GOV.UK One
  Login (when the council has configured it), a school's or college's own sign-in.
* ``/portal/sign-in/link/<token>``: a page with a button, not an action: e-mail security
  scanners open links, and must not spend a single-use link (or sign anyone in) by doing so.
* ``/invitations/<token>``: where an invitation e-mail lands. It names the council and what
  kind of access is offered, never a child; the secret waits in the signed cookie while the
  person signs in, and is taken up only by an identity that proves the invited address.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for

from core import mail
from core.errors import Conflict, ValidationFailed
from core.identity import links
from core.identity import services as identities
from core.users.sessions import end_all_identity_sessions, end_session
from tenants.identity_providers import public_providers
from tenants.services import tenant_names
from web import security
from web.context import require_tenant
from web.extensions import limiter
from web.ui.forms import FormErrors, text
from web.ui.portal import identity_actor
from web.ui.sessions import INVITATION_KEY, begin, mark_reauthenticated, safe_next, sign_in_identity

bp = Blueprint("portal", __name__)

#: The browser's half of an e-mail link (see core.identity.links), in the signed cookie.
LINK_BROWSER_KEY = "link_browser"
ENDED = {
    "idle": "You were signed out because you had not done anything for 30 minutes.",
    "absolute": "You were signed out because you signed in more than 12 hours ago.",
    "no_access": "You were signed out because you no longer have access to anything here. "
                 "Contact the SEND team if you think this is wrong.",
}
REFUSED = {
    "unknown": "This link is not valid. It may have been copied wrongly.",
    "used": "This link has already been used. Each link works once.",
    "expired": "This link has expired. Links work for 15 minutes.",
    "other_browser": "This link only works in the browser where you asked for it. Ask for a new link here.",
}


@bp.get("/portal/sign-in")
def sign_in():  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    if identity_actor() is not None:
        return redirect(url_for("portal.home"))
    return _sign_in_page(tenant)


def _sign_in_page(tenant, errors: FormErrors | None = None, email: str = "", status: int = 200):  # type: ignore[no-untyped-def]
    next_url = safe_next(request.values.get("next"))
    if next_url:
        session["portal_next"] = next_url
    notice = ENDED.get(g.get("session_ended") or request.args.get("ended", ""))
    demo = current_app.config["SENDBRIDGE_SETTINGS"].demo_mode
    return render_template(
        "portal/sign_in.html", title="Sign in", notice=notice, errors=errors, email=email,
        error_list=errors.summary(anchors={"identity_id": "identity_id"}) if errors else None,
        providers=public_providers(), invited=isinstance(session.get(INVITATION_KEY), str), tenant_name=tenant.name,
        demo_people=identities.demo_people() if demo else [],
    ), status


@bp.post("/portal/sign-in/demo")
@limiter.limit("20 per minute")
def demo_sign_in():  # type: ignore[no-untyped-def]
    """The demo's stand-in for a real sign-in: pick a made-up person. Demo mode only (refused
    in production by core.config)."""
    tenant = require_tenant()
    if not current_app.config["SENDBRIDGE_SETTINGS"].demo_mode:
        abort(404)
    chosen = {str(i.id): i for i in identities.demo_people()}.get(request.form.get("identity_id", ""))
    if chosen is None:
        errors = FormErrors()
        errors.add("identity_id", "Select who you want to sign in as")
        return _sign_in_page(tenant, errors, status=400)
    if identities.is_operator(chosen.id):
        begin(tenant.id, identity=chosen, method="demo")
        flash(f"Signed in as {chosen.display_name}", "success")
        return redirect(url_for("operator.home"))
    sign_in_identity(tenant.id, chosen, method="demo")
    flash(f"Signed in as {chosen.display_name}", "success")
    return redirect(safe_next(session.pop("portal_next", None)) or url_for("portal.home"))


@bp.post("/portal/sign-in/email")
@limiter.limit("10 per 15 minutes")
def send_link():  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    errors = FormErrors()
    raw = text(request.form, "email")
    try:
        address = links.check_address(raw)
    except ValidationFailed as exc:
        errors.merge(exc.errors)
        return _sign_in_page(tenant, errors, raw, 400)
    secret = session.get(LINK_BROWSER_KEY)
    if not isinstance(secret, str):
        secret = session[LINK_BROWSER_KEY] = secrets.token_urlsafe(32)
    if links.may_sign_in(address):
        token = links.create_link(address, secret)
        if token is not None:
            url = url_for("portal.link", token=token, _external=True)
            mail.send(address, f"Sign in to {tenant.name} SEND services",
                      f"Use this link to sign in to {tenant.name} SEND services:\n\n{url}\n\n"
                      "The link works once, for 15 minutes, and only in the browser where you asked for it.\n\n"
                      "If you did not ask to sign in, you can ignore this email: nobody can sign in without the link.")
    else:
        # The same page either way: it never tells anyone whether an address has a case here.
        # The owner of the address learns why nothing arrived.
        mail.send(address, f"Signing in to {tenant.name} SEND services",
                  f"Someone asked to sign in to {tenant.name} SEND services with this email address, but it "
                  "has not been given access to anything there.\n\nIf you are a parent, carer or young person, ask "
                  "your SEND caseworker to invite you. If you did not ask, you can ignore this email.")
    session["link_sent_to"] = address
    return redirect(url_for("portal.check_email"))


@bp.get("/portal/sign-in/check-email")
def check_email():  # type: ignore[no-untyped-def]
    require_tenant()
    address = session.get("link_sent_to")
    if not isinstance(address, str):
        return redirect(url_for("portal.sign_in"))
    return render_template("portal/check_email.html", title="Check your email", email=address)


@bp.get("/portal/sign-in/link/<token>")
def link(token: str):  # type: ignore[no-untyped-def]
    require_tenant()
    return render_template("portal/link.html", title="Sign in", token=token)


@bp.post("/portal/sign-in/link/<token>")
@limiter.limit("20 per 15 minutes")
def use_link(token: str):  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    try:
        spent = links.use_link(token, session.get(LINK_BROWSER_KEY))
    except links.LinkRefused as exc:
        return render_template("portal/link_refused.html", title="You could not be signed in",
                               reason=REFUSED[exc.reason]), 400
    identity = identities.email_identity(spent.email)
    if spent.purpose == "reauth":
        current = g.get("identity")
        if current is None or current.id != identity.id:
            return render_template("portal/link_refused.html", title="You could not be signed in",
                                   reason="This link was for someone else. Sign in again."), 400
        mark_reauthenticated()
        return redirect(safe_next(session.pop("reauth_next", None)) or url_for("portal.home"))
    try:
        signed_in = sign_in_identity(tenant.id, identity, method="email_link")
    except Conflict as exc:
        return render_template("portal/link_refused.html", title="You could not be signed in", reason=exc.message), 400
    if not signed_in:
        return render_template("portal/no_access.html", title="You do not have access yet"), 403
    flash("You are signed in", "success")
    return redirect(safe_next(session.pop("portal_next", None)) or url_for("portal.home"))


@bp.get("/invitations/<token>")
def invitation(token: str):  # type: ignore[no-untyped-def]
    """The landing page of an invitation e-mail: says what is offered, keeps the secret."""
    require_tenant()
    membership = identities.pending_invitation(token)
    if membership is None:
        return render_template("portal/link_refused.html", title="This invitation cannot be used",
                               reason="The invitation has expired, been withdrawn or already been used. "
                                      "Ask the person who invited you to send a new one."), 404
    session[INVITATION_KEY] = token
    return render_template("portal/invitation.html", title="You have been invited", membership=membership,
                           providers=public_providers())


@bp.get("/portal/")
def home():  # type: ignore[no-untyped-def]
    """Where a signed-in person starts: what they can do here, by role."""
    require_tenant()
    actor = identity_actor()
    if actor is None or actor.kind != "identity":
        from web.ui.portal import sign_in_redirect

        return sign_in_redirect()
    scope = actor.scope
    assert scope is not None
    return render_template("portal/home.html", title="Your SEND services", roles=scope.roles,
                           councils=_other_councils())


def _other_councils() -> list[tuple[str, str]]:
    """The other councils this person has access in (the council switcher)."""
    identity = g.get("identity")
    if identity is None:
        return []
    ids = [t for t in identities.councils_of(identity.id) if t != require_tenant().id]
    return tenant_names(ids)


@bp.get("/portal/councils")
def councils():  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    if identity_actor() is None:
        from web.ui.portal import sign_in_redirect

        return sign_in_redirect()
    return render_template("portal/councils.html", title="Choose a council", current=tenant,
                           councils=_other_councils())


@bp.post("/portal/sign-out")
def sign_out():  # type: ignore[no-untyped-def]
    tenant = require_tenant()
    session_id = security.forget_session(str(tenant.id))
    if session_id is not None:
        end_session(session_id, "signed_out")
    flash("You have signed out", "success")
    return redirect(url_for("portal.sign_in"))


@bp.post("/portal/sign-out-everywhere")
def sign_out_everywhere():  # type: ignore[no-untyped-def]
    """End every session of this person in every council they belong to (a lost phone, a
    shared computer): each council is visited in its own tenant context."""
    tenant = require_tenant()
    identity = g.get("identity")
    if identity is None:
        abort(404)
    security.forget_session(str(tenant.id))
    ended = end_all_identity_sessions(identity.id)
    others = [t for t in identities.councils_of(identity.id) if t != tenant.id]
    ended += sum(identities.for_each_council(others, lambda _t: end_all_identity_sessions(identity.id)).values())
    flash(f"You have signed out everywhere ({ended} {'session' if ended == 1 else 'sessions'} ended)", "success")
    return redirect(url_for("portal.sign_in"))

