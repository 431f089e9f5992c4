"""OAuth 2.0 clients of the public API (client-credentials grant), one council each.

Tenant-owned and under RLS like any other council data. A client id has the form
``<tenant slug>.<random>``, so the token endpoint (which runs before any tenant is known)
can tell which council to look in from the id alone and then look the client up inside that
council's context, instead of reading across tenants.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped


class ApiClient(TenantScoped, Base):
    __tablename__ = "api_client"
    __table_args__ = (UniqueConstraint("tenant_id", "client_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    client_id: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``; the secret itself is shown once, never stored.
    secret_hash: Mapped[str] = mapped_column(String(300))
    #: Space-separated scopes from api-v1.md (``children:read children:write`` ...).
    scopes: Mapped[str] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())
