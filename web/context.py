"""The current request's tenant, signed-in user and actor (set by web.app hooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import abort, g, redirect, request, url_for

if TYPE_CHECKING:
    from core.actors import Actor
    from core.users.models import User
    from tenants.services import TenantInfo


def current_tenant() -> TenantInfo | None:
    return g.get("tenant")


def require_tenant() -> TenantInfo:
    tenant = g.get("tenant")
    if tenant is None:
        abort(404)
    return tenant


def current_user() -> User | None:
    return g.get("user")


def staff_signed_in() -> bool:
    """Whether the staff pages may be shown: a member of the council's staff, or a platform
    operator holding a live break-glass here (read-only permissions, every read audited)."""
    if g.get("user") is not None:
        return True
    actor = g.get("actor")
    return actor is not None and actor.kind == "operator" and bool(actor.permissions)


def require_staff() -> Any:
    """A ``before_request`` for the council staff's blueprints: staff (or an operator under
    break-glass) carry on; anyone else goes to the staff sign-in, coming back here after."""
    require_tenant()
    if not staff_signed_in():
        target = request.script_root + request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=target.rstrip("?") if target else None,
                                ended=g.get("session_ended")))
    return None


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        abort(404)
    return actor
