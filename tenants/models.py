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

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow


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
