"""Beginning and ending signed-in sessions in the browser, for every way of signing in.

Staff (demo sign-in, council SSO) and outside people (e-mail link, GOV.UK One Login, a
school's SSO) all end up here, so fixation protection, cookie handling, invitations and
re-authentication are written once.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, session, url_for

from core.identity import services as identities
from core.identity.models import Identity
from core.users.models import User
from core.users.sessions import end_session, is_fresh, reauthenticated, start_session
from web import security

#: The pending invitation (its secret), kept in the signed cookie between the invitation
#: page and the end of sign-in.
INVITATION_KEY = "invitation"


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def begin(tenant_id: uuid.UUID, *, user: User | None = None, identity: Identity | None = None,
          method: str) -> uuid.UUID:
    """A fresh session on sign-in (no fixation): end any earlier one of this council, clear
    the cookie but for other councils' sign-ins, and record a new server-side session."""
    previous = security.forget_session(str(tenant_id))
    if previous is not None:
        end_session(previous, "replaced")
    kept = dict(session.get(security.AUTH_KEY) or {})
    session.clear()
    session[security.AUTH_KEY] = kept
    record = start_session(user, identity_id=identity.id if identity else None, method=method)
    security.remember_session(str(tenant_id), record.id)
    return record.id


def sign_in_identity(tenant_id: uuid.UUID, identity: Identity, *, method: str) -> bool:
    """Finish an outside person's sign-in: accept the invitation they came with (if any) and
    open a session if they have anything to see here. Returns False (and opens nothing) if
    they have no access in this council."""
    token = session.pop(INVITATION_KEY, None)
    if isinstance(token, str):
        identities.accept_invitation(token, identity)
    if identity.email_verified and identity.email:
        # The address is proven: invitations sent to it here are theirs to take up.
        identities.accept_invitations_for_address(identity)
    if identities.actor_for_identity(identity) is None:
        return False
    begin(tenant_id, identity=identity, method=method)
    return True


def current_session_fresh() -> bool:
    record = g.get("user_session")
    return record is not None and is_fresh(record)


def mark_reauthenticated() -> None:
    session_id = g.get("user_session_id")
    if session_id is not None:
        reauthenticated(session_id)


def fresh_sign_in_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Sensitive actions (giving or taking away access, consent, break-glass) need the person
    to have proved who they are in the last 15 minutes; otherwise they are asked again, the
    same way they signed in, and brought back here."""

    @functools.wraps(view)
    def inner(*args: Any, **kwargs: Any) -> Any:
        if g.get("user_session") is not None and not current_session_fresh():
            back = request.script_root + request.full_path if request.method == "GET" else request.referrer
            return redirect(url_for("reauth.confirm", next=safe_next(_local(back))))
        return view(*args, **kwargs)

    return inner


def _local(url: str | None) -> str | None:
    if not url:
        return None
    if url.startswith(request.host_url):
        url = "/" + url[len(request.host_url):]
    return url.rstrip("?")
