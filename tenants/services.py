"""Provisioning and managing tenants (councils). Operator-side: runs as the owner role."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.schema import SchemaError
from tenants.models import Tenant, TenantStatus
from tenants.settings import TENANT_SETTINGS

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
#: Names that would collide with the platform's own host names or paths.
RESERVED_SLUGS = frozenset({"www", "api", "app", "admin", "static", "assets", "auth", "oauth", "login", "t", "healthz", "platform"})


@dataclass(frozen=True)
class TenantInfo:
    """A detached, immutable view of a tenant, safe to keep for a whole request."""

    id: uuid.UUID
    slug: str
    name: str
    la_code: str
    status: TenantStatus
    settings: Mapping[str, Any]

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE

    @classmethod
    def of(cls, t: Tenant) -> TenantInfo:
        return cls(t.id, t.slug, t.name, t.la_code, t.status, TENANT_SETTINGS.validate(t.settings or {}))


def validate_tenant_fields(slug: str, name: str, la_code: str) -> None:
    errors: dict[str, list[str]] = {}
    if not SLUG.match(slug):
        errors["slug"] = ["Use 3 to 63 lower-case letters, digits and hyphens, starting with a letter"]
    elif slug in RESERVED_SLUGS:
        errors["slug"] = [f"{slug!r} is reserved by the platform"]
    if not name.strip() or len(name) > 200:
        errors["name"] = ["Give the council's name, up to 200 characters"]
    if not re.fullmatch(r"[0-9]{3}", la_code):
        errors["la_code"] = ["Give the DfE three-digit local authority code, like 886"]
    if errors:
        raise ValidationFailed(errors)


def provision_tenant(*, slug: str, name: str, la_code: str, settings: Mapping[str, Any] | None = None) -> Tenant:
    """Create a council. Refuses duplicates of slug or LA code."""
    validate_tenant_fields(slug, name, la_code)
    try:
        checked = TENANT_SETTINGS.validate(settings or {})
    except SchemaError as exc:
        raise ValidationFailed({f"settings.{k}": v for k, v in exc.errors.items()}) from None
    for column, value, label in ((Tenant.slug, slug, "slug"), (Tenant.la_code, la_code, "la_code")):
        if db.session.execute(select(Tenant.id).where(column == value)).first():
            raise Conflict(f"A tenant with this {label} already exists", field=label)
    tenant = Tenant(slug=slug, name=name.strip(), la_code=la_code, settings=checked)
    db.session.add(tenant)
    db.session.flush()
    return tenant


def tenant_by_slug(slug: str) -> Tenant:
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        raise NotFound("tenant")
    return tenant


def list_tenants() -> list[Tenant]:
    return list(db.session.execute(select(Tenant).order_by(Tenant.name)).scalars())


def set_status(slug: str, status: TenantStatus) -> Tenant:
    tenant = tenant_by_slug(slug)
    tenant.status = status
    return tenant


def update_settings(slug: str, changes: Mapping[str, Any]) -> Tenant:
    tenant = tenant_by_slug(slug)
    try:
        TENANT_SETTINGS.validate(changes, partial=True)
        merged = TENANT_SETTINGS.validate({**(tenant.settings or {}), **changes})
    except SchemaError as exc:
        raise ValidationFailed(exc.errors) from None
    tenant.settings = merged
    return tenant


def active_tenant_ids() -> list[uuid.UUID]:
    return list(db.session.execute(select(Tenant.id).where(Tenant.status == TenantStatus.ACTIVE)).scalars())


def tenant_names(ids: list[uuid.UUID]) -> list[tuple[str, str]]:
    """``(slug, name)`` of the active councils among ``ids``, by name (the council switcher)."""
    if not ids:
        return []
    rows = db.session.execute(select(Tenant.slug, Tenant.name).where(
        Tenant.id.in_(ids), Tenant.status == TenantStatus.ACTIVE).order_by(Tenant.name)).all()
    return [(r.slug, r.name) for r in rows]
