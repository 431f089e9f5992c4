"""Council staff accounts. Tenant-owned: a user exists in exactly one council.

Sign-in looks users up by ``(id, tenant_id)`` (STYLE.md section 3, layer 1), so a session
from one council is dead in another. Single sign-on identities (issuer, subject) arrive with
issue #4 and link here.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import CheckConstraint, Enum, ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped


class Role(str, enum.Enum):
    CASEWORKER = "caseworker"
    TEAM_MANAGER = "team_manager"
    SEND_OFFICER = "send_officer"  # read-only
    TENANT_ADMIN = "tenant_admin"

    @property
    def label(self) -> str:
        return {
            "caseworker": "Caseworker",
            "team_manager": "Team manager",
            "send_officer": "SEND officer (read only)",
            "tenant_admin": "Council administrator",
        }[self.value]


class User(TenantScoped, Base):
    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("tenant_id", "id"),
                      Index("uq_app_user_tenant_id_identity_id", "tenant_id", "identity_id", unique=True))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: The person's single sign-on identity (issuer, subject): the only link SSO follows.
    identity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity.id"), default=None)


# E-mail is unique per council, compared case-insensitively.
Index("uq_app_user_tenant_id_email", User.tenant_id, func.lower(User.email), unique=True)


class UserSession(TenantScoped, Base):
    """A signed-in session, held on the server so it can be ended from the server.

    The session cookie carries only this row's id. Signing out ends the row, so a copy of the
    cookie (a shared council computer, a stolen laptop) is dead the moment its owner signs
    out; idle and absolute limits are judged from these timestamps, not from the cookie.
    """

    __tablename__ = "user_session"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        Index("ix_user_session_tenant_id_user_id", "tenant_id", "user_id"),
        Index("ix_user_session_tenant_id_identity_id", "tenant_id", "identity_id"),
        CheckConstraint("(user_id IS NULL) <> (identity_id IS NULL)", name="user_or_identity"),
    )

    # Random (v4), not time-ordered: nothing about one session id says anything about another.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    #: Council staff sign in as a user; everyone else as an identity with memberships here.
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    identity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity.id", ondelete="CASCADE"), default=None)
    #: When the person last proved who they are (sensitive actions ask again after a while).
    authenticated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: How they signed in (``demo``, ``email_link``, ``oidc:<provider id>``, ``org:<slug>``):
    #: re-authentication asks them the same way.
    auth_method: Mapped[str] = mapped_column(String(80), default="demo")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: ``signed_out``, ``replaced`` (signed in again), ``idle``, ``absolute``, ``everywhere`` or ``deactivated``.
    ended_reason: Mapped[str | None] = mapped_column(String(16), default=None)
