"""The current request's tenant, signed-in user and actor (set by web.app hooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort, g

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


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        abort(404)
    return actor
