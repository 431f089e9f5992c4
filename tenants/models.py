"""The tenant registry: one row per council on the platform.

``Tenant`` is platform-level, not tenant-owned: the app must read it *before* it knows which
tenant a request belongs to (host or path resolution), and it holds no child data. It is on
the isolation tests' allow-list, and the runtime database role may only read it; councils
are created and disabled by operators (``flask --app wsgi tenants ...``) as the owner role.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import Enum, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped


class TenantStatus(str, enum.Enum):
    ACTIVE = "active"
    #: A disabled council resolves to 404 everywhere: pages, API and tokens.
    DISABLED = "disabled"


class Tenant(Base):
    __tablename__ = "tenant"
    __app_grants__ = ("SELECT",)
    # Slug and LA code formats are checked by tenants.services (and by CHECK constraints the
    # initial migration adds on PostgreSQL, where regular expressions are available).

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    #: Immutable once created: API client ids and host names are built from it.
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The DfE three-digit local authority code (e.g. 886 Kent); one tenant per authority.
    la_code: Mapped[str] = mapped_column(String(3), unique=True)
    status: Mapped[TenantStatus] = mapped_column(
        Enum(TenantStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=TenantStatus.ACTIVE,
    )
    #: Validated against ``tenants.settings.TENANT_SETTINGS`` on every write.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class IdpPurpose(str, enum.Enum):
    #: The council's own staff directory (council SSO): claims map to staff roles.
    STAFF = "staff"
    #: Sign-in for families and young people (GOV.UK One Login), configured per council.
    PUBLIC = "public"


class CouncilIdentityProvider(TenantScoped, Base):
    """An OpenID Connect provider a council trusts for its staff or its families.

    The client secret is encrypted at rest (``core.crypto``, a key derived from SECRET_KEY),
    never shown back. ``claim_mapping`` (staff only) says which claim values give which staff
    role, e.g. ``{"claim": "groups", "roles": {"send-caseworkers": "caseworker"}}``; a person
    whose claims map to no role is refused.
    """

    __tablename__ = "council_identity_provider"
    __table_args__ = (UniqueConstraint("tenant_id", "issuer", "purpose"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    purpose: Mapped[IdpPurpose] = mapped_column(
        Enum(IdpPurpose, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]))
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret_encrypted: Mapped[str] = mapped_column(String(1000))
    scopes: Mapped[str] = mapped_column(String(300), default="openid email profile")
    claim_mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OrganisationIdentityProvider(Base):
    """A school's, college's or trust's identity provider (Microsoft Entra ID, Google),
    registered once for the whole platform and trusted by every council that places children
    at its institutions. ``urns`` are the institutions it speaks for; ``claim_mapping`` says
    which claim marks a SENCO and, optionally, which claim narrows a person to some of those
    URNs. Platform-level: no child data."""

    __tablename__ = "organisation_identity_provider"
    __app_grants__ = ("SELECT",)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    #: Short name used in sign-in addresses (``/sign-in/school/<slug>``).
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(300), unique=True)
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret_encrypted: Mapped[str] = mapped_column(String(1000))
    scopes: Mapped[str] = mapped_column(String(300), default="openid email profile")
    urns: Mapped[list[Any]] = mapped_column(default=list)
    claim_mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
