"""The portals: what people outside the council's SEND team see (issue #4 item 6).

Parents, carers and young people, school and college SENCOs, and professionals sign in as a
platform :class:`core.identity.models.Identity` and act through their memberships in this
council (``g.identity``, ``g.actor`` with a scope). Council staff never use these pages (and
the staff pages refuse identities: they need ``g.user``).

``web.ui.portal.sign_in`` signs people in and out; ``family``, ``school`` and ``advice`` are
the three portals. Everything here goes through ``core``'s services and ``access_*``
functions with the person's scoped actor, so a page can never show more than the person's
memberships allow, whatever its URL says.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, url_for

from core.actors import Actor
from core.errors import Forbidden
from web.context import require_tenant


def identity_actor() -> Actor | None:
    actor = g.get("actor")
    if actor is None or g.get("identity") is None or actor.kind not in ("identity", "operator"):
        return None
    return actor


def sign_in_redirect() -> Any:
    target = request.script_root + request.full_path if request.method == "GET" else None
    return redirect(url_for("portal.sign_in", next=target.rstrip("?") if target else None,
                            ended=g.get("session_ended")))


def require_identity() -> Any:
    """A ``before_request`` for portal blueprints: a signed-in outside person, or the sign-in page."""
    require_tenant()
    if identity_actor() is None or identity_actor().kind != "identity":  # type: ignore[union-attr]
        return sign_in_redirect()
    return None


def require_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view needs one of these membership roles here (403 otherwise, a page that says so)."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            actor = identity_actor()
            if actor is None or actor.scope is None or not (actor.scope.roles & set(roles)):
                raise Forbidden("portal:" + "|".join(roles))
            return view(*args, **kwargs)

        return inner

    return wrap
