"""Which council a request belongs to: by host subdomain or by ``/t/<slug>/`` path.

Resolution runs before any tenant context exists, in a session of its own, and returns a
detached :class:`TenantInfo`; unknown and disabled tenants both resolve to ``None`` (the
caller answers 404 to both, identically).
"""

from __future__ import annotations

from sqlalchemy import select

from core.db import db
from tenants.models import Tenant
from tenants.services import SLUG, TenantInfo


def slug_from_host(host: str, base_domain: str) -> str | None:
    """``kent.councils.example`` -> ``kent`` when the base domain is ``councils.example``."""
    hostname = host.split(":", 1)[0].lower().rstrip(".")
    suffix = "." + base_domain
    if not hostname.endswith(suffix):
        return None
    label = hostname[: -len(suffix)]
    if "." in label or not SLUG.match(label):
        return None
    return label


def resolve_slug(slug: str) -> TenantInfo | None:
    """The active tenant with this slug, or ``None``."""
    if not SLUG.match(slug):
        return None
    with db.isolated_scope() as session:
        tenant = session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
        if tenant is None or not tenant.is_active:
            return None
        return TenantInfo.of(tenant)


def resolve_tenant(host: str, base_domain: str, path_slug: str | None = None) -> tuple[bool, TenantInfo | None]:
    """Resolve a request. Returns ``(tenant_requested, tenant)``.

    ``tenant_requested`` is false for the platform's own host (no subdomain, no path
    prefix). When both a subdomain and a path prefix are given they must agree.
    """
    host_slug = slug_from_host(host, base_domain)
    if host_slug is None and path_slug is None:
        return False, None
    if host_slug and path_slug and host_slug != path_slug:
        return True, None
    return True, resolve_slug(path_slug or host_slug)  # type: ignore[arg-type]
