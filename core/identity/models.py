"""Who signs in, and what they may see in each council (issue #4).

* :class:`Identity` is a person who signs in, platform-wide, keyed by ``(issuer, subject)``
  from their identity provider, never by e-mail alone: the same address at another provider
  is another identity, so nobody takes over an account by registering a look-alike. E-mail
  link sign-in has its own issuer (``EMAIL_ISSUER``). Identities hold names and e-mail
  addresses, no child data; they are reached only by id or by (issuer, subject).
* :class:`Membership` (tenant-owned, under RLS) says what someone from outside the council
  may see there: a SENCO the children on roll at a URN, a parent or young person one child,
  a professional one case (or one advice request). Memberships are invited, accepted,
  expire and are revoked, and every change is audited.
* :class:`IdentityTenant` is the platform's index of which councils an identity has
  memberships in, for the council switcher: the one narrow, explicit way to learn "where
  does this person belong" without reading across councils.
* :class:`InstitutionCouncil` indexes which councils place children at a URN (no child
  data), so a SENCO signing in through their school's identity provider is offered exactly
  those councils.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import Enum, ForeignKey, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, default_id, utcnow
from core.tenancy import TenantScoped

#: The issuer of identities proven by a single-use e-mail link.
EMAIL_ISSUER = "urn:sendbridge:email-link"


def _values(e: type[enum.Enum]) -> list[str]:
    return [m.value for m in e]


class Identity(Base):
    __tablename__ = "identity"
    # The runtime role finds and records identities; it never deletes them (history names them).
    __app_grants__ = ("SELECT", "INSERT", "UPDATE")
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))
    email_verified: Mapped[bool] = mapped_column(default=False)
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class IdentityTenant(Base):
    """Identity X has at least one membership in council Y (the council switcher)."""

    __tablename__ = "identity_tenant"
    __app_grants__ = ("SELECT", "INSERT", "DELETE")

    identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InstitutionCouncil(Base):
    """Council Y has (or had) a child placed at URN X: which councils a school's SENCO may ask
    to see. Maintained with placements; holds no child data."""

    __tablename__ = "institution_council"
    __app_grants__ = ("SELECT", "INSERT")

    urn: Mapped[int] = mapped_column(Integer, ForeignKey("institution.urn"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)


class MembershipRole(str, enum.Enum):
    SENCO = "senco"
    PROFESSIONAL = "professional"
    PARENT = "parent"
    YOUNG_PERSON = "young_person"

    @property
    def label(self) -> str:
        return {"senco": "SENCO", "professional": "Professional", "parent": "Parent or carer",
                "young_person": "Young person"}[self.value]


class Membership(TenantScoped, Base):
    """What one outside person may see in this council. Exactly one scope field is set,
    by role: ``urn`` (SENCO), ``child_id`` (parent, young person), ``case_id`` and perhaps
    ``advice_id`` (professional)."""

    __tablename__ = "membership"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="CASCADE",
                             name="fk_membership_tenant_id_child_id_child"),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["ehc_case.tenant_id", "ehc_case.id"], ondelete="CASCADE",
                             name="fk_membership_tenant_id_case_id_ehc_case"),
        Index("ix_membership_tenant_id_identity_id", "tenant_id", "identity_id"),
        Index("ix_membership_tenant_id_child_id", "tenant_id", "child_id"),
        Index("uq_membership_tenant_id_invite_token_hash", "tenant_id", "invite_token_hash", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    #: Set when the invitation is accepted (or at once, for a SENCO from a trusted school IdP).
    identity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity.id", ondelete="CASCADE"), default=None)
    role: Mapped[MembershipRole] = mapped_column(Enum(MembershipRole, native_enum=False, length=16,
                                                      values_callable=_values))
    urn: Mapped[int | None] = mapped_column(Integer, ForeignKey("institution.urn"), default=None)
    child_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    case_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    advice_id: Mapped[str | None] = mapped_column(String(64), default=None)
    #: Who was invited (the address the invitation went to), and the invitation's secret (hashed).
    invited_email: Mapped[str | None] = mapped_column(String(254), default=None)
    invite_token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    #: ``user:<user id>`` (a caseworker), ``claims:<issuer>`` (a school identity provider), ...: who or what granted it.
    granted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(200), default=None)


class SignInLink(TenantScoped, Base):
    """A single-use e-mail sign-in link: 15 minutes, used once, hashed at rest."""

    __tablename__ = "sign_in_link"
    __table_args__ = (
        Index("uq_sign_in_link_tenant_id_token_hash", "tenant_id", "token_hash", unique=True),
        Index("ix_sign_in_link_tenant_id_email_created_at", "tenant_id", "email", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64))
    #: Hash of a secret kept in the asking browser's cookie: the link works only there, so
    #: a forwarded or intercepted e-mail alone does not sign anyone in.
    browser_hash: Mapped[str] = mapped_column(String(64))
    #: Whether the link re-proves an existing session (before a sensitive action).
    purpose: Mapped[str] = mapped_column(String(16), default="sign_in")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Consent(TenantScoped, Base):
    """Consent to share a child's information beyond the statutory recipients: one row per
    recipient, revocable. (Statutory recipients such as the health body need no consent.)"""

    __tablename__ = "consent"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "child_id"], ["child.tenant_id", "child.id"], ondelete="CASCADE",
                             name="fk_consent_tenant_id_child_id_child"),
        Index("ix_consent_tenant_id_child_id", "tenant_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    child_id: Mapped[uuid.UUID]
    #: Who may receive it: a person or organisation, in words.
    recipient: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(500))
    #: ``identity:<id>`` (a parent or young person in the portal) or ``staff:<user id>``
    #: recording consent given another way.
    given_by: Mapped[str] = mapped_column(String(200))
    given_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(200), default=None)


class Operator(Base):
    """A platform operator: runs tenants and configuration, sees no child data except
    through an audited :class:`BreakGlass`."""

    __tablename__ = "operator"
    __app_grants__ = ("SELECT",)

    identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity.id", ondelete="CASCADE"), primary_key=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BreakGlass(TenantScoped, Base):
    """An operator's time-limited, reasoned access to one council's child data, recorded in
    that council (whose managers see it) and in its audit log."""

    __tablename__ = "break_glass"
    __app_grants__ = ("SELECT", "INSERT", "UPDATE")
    __table_args__ = (Index("ix_break_glass_tenant_id_identity_id", "tenant_id", "identity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=default_id)
    identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(1000))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)


def membership_summary(m: Membership) -> dict[str, Any]:
    return {"role": m.role.value, "urn": m.urn, "child_id": m.child_id, "case_id": m.case_id, "advice_id": m.advice_id}
