"""Identities and memberships: recording who signed in, inviting, accepting, revoking, and
working out what a person may see in a council.

Cross-council work here is explicit and narrow: the platform indexes (IdentityTenant,
InstitutionCouncil) say which councils to visit, and each council is then entered in its own
tenant context and transaction (``for_each_council``), never by switching isolation off.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from core import clock, permissions
from core.actors import Actor
from core.audit import services as audit
from core.db import db, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.models import (
    EMAIL_ISSUER, BreakGlass, Consent, Identity, IdentityTenant, InstitutionCouncil, Membership, MembershipRole,
    Operator,
)
from core.identity.scope import AccessScope
from core.tenancy import require_tenant_id, tenant_context

T = TypeVar("T")

#: How long an invitation may wait to be accepted.
INVITATION_DAYS = 14


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


# ---------------------------------------------------------------------------------------
# Identities (platform-wide)


def record_identity(*, issuer: str, subject: str, email: str | None, email_verified: bool,
                    display_name: str | None) -> Identity:
    """The identity for ``(issuer, subject)``, created on first sign-in, refreshed after.

    Never matched by e-mail: the same address at two providers is two identities.
    """
    if not issuer or not subject:
        raise ValidationFailed({"subject": ["The identity provider did not say who this is"]})
    identity = db.session.execute(
        select(Identity).where(Identity.issuer == issuer, Identity.subject == subject)).scalar_one_or_none()
    if identity is None:
        identity = Identity(issuer=issuer, subject=subject)
        db.session.add(identity)
    identity.email = normalise_email(email) if email else None
    identity.email_verified = bool(email and email_verified)
    # A provider's name for the person wins; an e-mail link knows no name, so it keeps the
    # one already held (or starts with the address).
    if display_name and display_name.strip():
        identity.display_name = display_name.strip()[:200]
    elif not identity.display_name:
        identity.display_name = (email or "Unknown person").strip()[:200]
    identity.last_signed_in_at = utcnow()
    db.session.flush()
    return identity


def email_identity(email: str) -> Identity:
    """The identity proven by a single-use e-mail link to ``email``."""
    address = normalise_email(email)
    return record_identity(issuer=EMAIL_ISSUER, subject=address, email=address, email_verified=True, display_name=None)


def councils_of(identity_id: uuid.UUID) -> list[uuid.UUID]:
    """Councils where this identity has (or had) a membership: the council switcher's list."""
    return list(db.session.execute(select(IdentityTenant.tenant_id).where(IdentityTenant.identity_id == identity_id))
                .scalars())


def _index_membership(identity_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
    exists = db.session.execute(select(IdentityTenant).where(
        IdentityTenant.identity_id == identity_id, IdentityTenant.tenant_id == tenant_id)).first()
    if exists is None:
        try:
            with db.session.begin_nested():
                db.session.add(IdentityTenant(identity_id=identity_id, tenant_id=tenant_id))
                db.session.flush()
        except IntegrityError:
            pass  # another request indexed it first


def index_placement(urn: int, tenant_id: uuid.UUID) -> None:
    """Record that this council places children at ``urn`` (for schools' SENCOs)."""
    exists = db.session.execute(select(InstitutionCouncil).where(
        InstitutionCouncil.urn == urn, InstitutionCouncil.tenant_id == tenant_id)).first()
    if exists is None:
        try:
            with db.session.begin_nested():
                db.session.add(InstitutionCouncil(urn=urn, tenant_id=tenant_id))
                db.session.flush()
        except IntegrityError:
            pass


def councils_placing_at(urns: Iterable[int]) -> list[uuid.UUID]:
    wanted = list(set(urns))
    if not wanted:
        return []
    return sorted(set(db.session.execute(
        select(InstitutionCouncil.tenant_id).where(InstitutionCouncil.urn.in_(wanted))).scalars()))


def for_each_council(tenant_ids: Iterable[uuid.UUID], work: Callable[[uuid.UUID], T]) -> dict[uuid.UUID, T]:
    """Run ``work`` once per council, each in its own tenant context and transaction.

    The one way for cross-council work to happen: no statement ever sees two councils.
    """
    results: dict[uuid.UUID, T] = {}
    for tid in tenant_ids:
        with tenant_context(tid), db.isolated_scope() as session:
            results[tid] = work(tid)
            session.commit()
    return results


# ---------------------------------------------------------------------------------------
# Memberships (in the current council)


def _live(now: dt.datetime) -> Any:
    return (Membership.revoked_at.is_(None), Membership.accepted_at.is_not(None),
            or_(Membership.expires_at.is_(None), Membership.expires_at > now))


def live_memberships(identity_id: uuid.UUID) -> list[Membership]:
    """The identity's accepted, unexpired, unrevoked memberships in the current council that
    still give access today:

    * a professional's ends when the advice they were asked for has been returned;
    * a young person's starts only once they are over compulsory school age (CFA 2014 s83(2));
    * a parent's, once their child is a young person, only with the young person's consent:
      from then the rights and decisions are the young person's (CFA 2014 s27 onwards; CoP
      8.13-8.15). The protective reading: the young person decides who sees their case; a
      caseworker records consent where the young person lacks capacity and a parent acts for them.
    """
    now = utcnow()
    rows = list(db.session.execute(
        select(Membership).where(Membership.identity_id == identity_id, *_live(now))).scalars())
    out = []
    for m in rows:
        if m.role == MembershipRole.PROFESSIONAL and m.advice_id and _advice_returned(m):
            continue
        if m.role in (MembershipRole.YOUNG_PERSON, MembershipRole.PARENT) and m.child_id is not None:
            young = _is_young_person(m.child_id)
            if m.role == MembershipRole.YOUNG_PERSON and not young:
                continue
            if m.role == MembershipRole.PARENT and young and not has_portal_consent(m.child_id, identity_id):
                continue
        out.append(m)
    return out


def _is_young_person(child_id: uuid.UUID) -> bool:
    from core.cases.reviews import is_young_person
    from core.children.models import Child

    dob = db.session.execute(select(Child.date_of_birth).where(Child.id == child_id)).scalar_one_or_none()
    return dob is not None and is_young_person(dob, clock.today())


#: Consent.purpose of a young person's consent to a parent seeing their case in the portal.
PORTAL_ACCESS = "portal_access"


def portal_consent_recipient(identity_id: uuid.UUID) -> str:
    return f"identity:{identity_id}"


def has_portal_consent(child_id: uuid.UUID, identity_id: uuid.UUID) -> bool:
    return db.session.execute(select(Consent.id).where(
        Consent.child_id == child_id, Consent.purpose == PORTAL_ACCESS,
        Consent.recipient == portal_consent_recipient(identity_id), Consent.revoked_at.is_(None)).limit(1)).first() \
        is not None


def give_portal_consent(actor: Actor, child_id: uuid.UUID, parent_identity_id: uuid.UUID) -> Consent:
    """The young person (or a caseworker recording it) lets a parent keep seeing the case."""
    if not (actor.can(permissions.CASES_WRITE) or (actor.can(permissions.FAMILY_ACT) and actor.scope is not None
                                                    and child_id in actor.scope.child_ids)):
        raise Forbidden(permissions.FAMILY_ACT)
    existing = db.session.execute(select(Consent).where(
        Consent.child_id == child_id, Consent.purpose == PORTAL_ACCESS,
        Consent.recipient == portal_consent_recipient(parent_identity_id), Consent.revoked_at.is_(None))).scalars().first()
    if existing is not None:
        return existing
    row = Consent(child_id=child_id, recipient=portal_consent_recipient(parent_identity_id), purpose=PORTAL_ACCESS,
                  given_by=f"{actor.kind}:{actor.id}")
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "consent.given", subject_type="child", subject_ids=[child_id], object_type="consent",
                 object_id=row.id)
    return row


def _advice_returned(m: Membership) -> bool:
    from core.cases.models import CaseEvent

    rows = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == m.case_id,
                                                      CaseEvent.type == "advice_received")).scalars()
    return any(r.attributes.get("advice_id") == m.advice_id for r in rows)


def scope_for(identity_id: uuid.UUID) -> AccessScope:
    """What this identity may see in the current council (empty if nothing)."""
    members = live_memberships(identity_id)
    return AccessScope(
        roles=frozenset(m.role.value for m in members),
        urns=frozenset(m.urn for m in members if m.role == MembershipRole.SENCO and m.urn is not None),
        child_ids=frozenset(m.child_id for m in members
                            if m.role in (MembershipRole.PARENT, MembershipRole.YOUNG_PERSON) and m.child_id),
        case_ids=frozenset(m.case_id for m in members if m.role == MembershipRole.PROFESSIONAL and m.case_id),
        advice=frozenset((m.case_id, m.advice_id) for m in members
                         if m.role == MembershipRole.PROFESSIONAL and m.case_id and m.advice_id),
    )


def actor_for_identity(identity: Identity) -> Actor | None:
    """The actor for a signed-in person in the current council, or None if they have no
    business here (no live membership, and not a platform operator).

    An operator sees no child data: their actor has no permissions and an empty scope,
    unless they hold a live :class:`BreakGlass` in this council, which gives read-only access
    for its duration, every read audited under their identity.
    """
    tenant_id = require_tenant_id()
    if is_operator(identity.id):
        glass = live_break_glass(identity.id)
        if glass is None:
            return Actor(tenant_id=tenant_id, kind="operator", id=str(identity.id), permissions=frozenset(),
                         display_name=identity.display_name, scope=AccessScope(), identity_id=identity.id)
        return Actor(tenant_id=tenant_id, kind="operator", id=str(identity.id),
                     permissions=permissions.BREAK_GLASS_PERMISSIONS, display_name=identity.display_name,
                     scope=None, identity_id=identity.id)
    scope = scope_for(identity.id)
    if scope.empty:
        return None
    return Actor(tenant_id=tenant_id, kind="identity", id=str(identity.id),
                 permissions=permissions.permissions_for_memberships(scope.roles),
                 display_name=identity.display_name, scope=scope, identity_id=identity.id)


# ---------------------------------------------------------------------------------------
# Platform operators and break-glass


BREAK_GLASS_REASON_ERROR = "Say why you need to see this council's records, in 10 to 1000 characters"
#: How long a break-glass lasts unless ended sooner.
BREAK_GLASS_MINUTES = 60


def is_operator(identity_id: uuid.UUID) -> bool:
    row = db.session.get(Operator, identity_id)
    return row is not None and row.active


def live_break_glass(identity_id: uuid.UUID) -> BreakGlass | None:
    now = utcnow()
    return db.session.execute(select(BreakGlass).where(
        BreakGlass.identity_id == identity_id, BreakGlass.ended_at.is_(None), BreakGlass.expires_at > now)
        .order_by(BreakGlass.started_at.desc()).limit(1)).scalar_one_or_none()


def break_glass(identity: Identity, *, reason: str, minutes: int = BREAK_GLASS_MINUTES) -> BreakGlass:
    """An operator opens read-only access to this council's child data, for a stated reason
    (a support ticket, an incident). Recorded in the council and its audit log."""
    if not is_operator(identity.id):
        raise Forbidden("operator")
    words = reason.strip()
    if len(words) < 10 or len(words) > 1000:
        raise ValidationFailed({"reason": [BREAK_GLASS_REASON_ERROR]})
    if not 5 <= minutes <= 240:
        raise ValidationFailed({"minutes": ["Choose between 5 minutes and 4 hours"]})
    existing = live_break_glass(identity.id)
    if existing is not None:
        return existing
    now = utcnow()
    row = BreakGlass(identity_id=identity.id, reason=words, started_at=now, expires_at=now + dt.timedelta(minutes=minutes))
    db.session.add(row)
    db.session.flush()
    actor = Actor(tenant_id=row.tenant_id, kind="operator", id=str(identity.id))
    audit.record(actor, "break_glass.started", subject_type="break_glass", subject_ids=[row.id])
    return row


def end_break_glass(identity: Identity) -> None:
    row = live_break_glass(identity.id)
    if row is not None:
        row.ended_at = utcnow()
        actor = Actor(tenant_id=row.tenant_id, kind="operator", id=str(identity.id))
        audit.record(actor, "break_glass.ended", subject_type="break_glass", subject_ids=[row.id])


def display_names(identity_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(identity_ids))
    if not wanted:
        return {}
    return {i.id: i.display_name for i in db.session.execute(select(Identity).where(Identity.id.in_(wanted))).scalars()}


def break_glass_history(limit: int = 50) -> list[BreakGlass]:
    """This council's break-glass record, newest first (its managers see who looked and why)."""
    return list(db.session.execute(select(BreakGlass).order_by(BreakGlass.started_at.desc()).limit(limit)).scalars())


def invite(actor: Actor, *, role: MembershipRole, email: str, child_id: uuid.UUID | None = None,
           urn: int | None = None, case_id: uuid.UUID | None = None, advice_id: str | None = None,
           expires_at: dt.datetime | None = None) -> tuple[Membership, str]:
    """Invite someone (by e-mail) into part of this council; returns the membership and the
    invitation's secret (sent to them once; only its hash is kept). Audited against the child
    where there is one. Callers check who may be invited (a contact with parental
    responsibility, a young person over compulsory school age ...)."""
    if not actor.can(permissions.CASES_WRITE):
        raise Forbidden(permissions.CASES_WRITE)
    address = normalise_email(email)
    if "@" not in address or len(address) > 254:
        raise ValidationFailed({"email": ["Enter an email address in the correct format, like name@example.com"]})
    scope_fields = {MembershipRole.SENCO: urn, MembershipRole.PARENT: child_id, MembershipRole.YOUNG_PERSON: child_id,
                    MembershipRole.PROFESSIONAL: case_id}
    if scope_fields[role] is None:
        raise ValidationFailed({"role": [f"Say what a {role.label.lower()} is invited to"]})
    token = secrets.token_urlsafe(32)
    membership = Membership(
        role=role, urn=urn, child_id=child_id, case_id=case_id, advice_id=advice_id, invited_email=address,
        invite_token_hash=token_hash(token), granted_by=f"{actor.kind}:{actor.id}",
        expires_at=expires_at or (utcnow() + dt.timedelta(days=INVITATION_DAYS)),
    )
    db.session.add(membership)
    db.session.flush()
    audit_membership(actor, membership, "membership.invited")
    return membership, token


def pending_invitation(token: str) -> Membership | None:
    """The live, not yet accepted invitation with this secret, if any."""
    membership = db.session.execute(select(Membership).where(Membership.invite_token_hash == token_hash(token)))\
        .scalar_one_or_none()
    now = utcnow()
    if membership is None or membership.revoked_at is not None or membership.accepted_at is not None \
            or (membership.expires_at is not None and membership.expires_at <= now):
        return None
    return membership


def accept_invitation(token: str, identity: Identity) -> Membership:
    """Bind an invitation to the signed-in identity. The identity must have proven the address
    the invitation went to: a forwarded link does not give access."""
    membership = db.session.execute(select(Membership).where(Membership.invite_token_hash == token_hash(token)))\
        .scalar_one_or_none()
    now = utcnow()
    if membership is None or membership.revoked_at is not None or (membership.expires_at and membership.expires_at <= now):
        raise NotFound("invitation")
    if membership.accepted_at is not None:
        if membership.identity_id == identity.id:
            return membership
        raise NotFound("invitation")
    if not identity.email_verified or normalise_email(identity.email or "") != membership.invited_email:
        raise Conflict("This invitation was sent to another email address: sign in with the address it was sent to",
                       field="email")
    _accept(membership, identity, now)
    return membership


def _accept(membership: Membership, identity: Identity, now: dt.datetime) -> None:
    membership.identity_id = identity.id
    membership.accepted_at = now
    membership.invite_token_hash = None  # single use
    if membership.role != MembershipRole.PROFESSIONAL:
        # A family's or SENCO's access lasts until revoked; a professional's keeps its expiry
        # (and ends when the advice is returned).
        membership.expires_at = None
    _index_membership(identity.id, membership.tenant_id)
    audit_membership(Actor(tenant_id=membership.tenant_id, kind="identity", id=str(identity.id)), membership, "membership.accepted")


def accept_invitations_for_address(identity: Identity) -> list[Membership]:
    """Take up every live invitation in this council sent to the identity's proven address."""
    if not identity.email_verified or not identity.email:
        return []
    now = utcnow()
    pending = list(db.session.execute(select(Membership).where(
        Membership.invited_email == normalise_email(identity.email), Membership.accepted_at.is_(None),
        Membership.revoked_at.is_(None), Membership.invite_token_hash.is_not(None),
        or_(Membership.expires_at.is_(None), Membership.expires_at > now))).scalars())
    for membership in pending:
        _accept(membership, identity, now)
    return pending


def revoke(actor: Actor, membership: Membership) -> None:
    if not actor.can(permissions.CASES_WRITE):
        raise Forbidden(permissions.CASES_WRITE)
    if membership.revoked_at is None:
        membership.revoked_at = utcnow()
        membership.revoked_by = f"{actor.kind}:{actor.id}"
        audit_membership(actor, membership, "membership.revoked")


def grant_senco(identity: Identity, urn: int, *, issuer: str) -> Membership:
    """In the current council: make sure a SENCO from a trusted school identity provider has a
    membership for ``urn`` (explicit, audited; the council can revoke it)."""
    existing = db.session.execute(select(Membership).where(
        Membership.identity_id == identity.id, Membership.role == MembershipRole.SENCO, Membership.urn == urn))\
        .scalar_one_or_none()
    if existing is not None:
        return existing
    membership = Membership(role=MembershipRole.SENCO, urn=urn, identity_id=identity.id, invited_email=identity.email,
                            granted_by=f"claims:{issuer}", accepted_at=utcnow())
    db.session.add(membership)
    db.session.flush()
    _index_membership(identity.id, membership.tenant_id)
    audit_membership(Actor(tenant_id=membership.tenant_id, kind="identity", id=str(identity.id)), membership, "membership.granted")
    return membership


def demo_people() -> list[Identity]:
    """The current council's people with a live membership, and the platform's operators, for
    the demo's portal sign-in (only ever called in demo mode)."""
    now = utcnow()
    ids = select(Membership.identity_id).where(*_live(now))
    operators = select(Operator.identity_id).where(Operator.active.is_(True))
    return list(db.session.execute(select(Identity).where(Identity.id.in_(ids) | Identity.id.in_(operators))
                                   .order_by(Identity.display_name)).scalars())


def memberships_of_child(child_id: uuid.UUID) -> list[Membership]:
    """Everyone with (or invited to) access to a child's case: for "who can see my case"."""
    return list(db.session.execute(select(Membership).where(
        or_(Membership.child_id == child_id,
            Membership.case_id.in_(_case_ids_of(child_id)))).order_by(Membership.created_at)).scalars())


def _case_ids_of(child_id: uuid.UUID) -> Any:
    from core.cases.models import Case

    return select(Case.id).where(Case.child_id == child_id)


def audit_membership(actor: Actor, membership: Membership, action: str) -> None:
    """Record a change to a membership against the child it is about (or the membership itself)."""
    subject = membership.child_id
    if subject is None and membership.case_id is not None:
        from core.cases.models import Case

        case = db.session.get(Case, membership.case_id)
        subject = case.child_id if case else None
    if subject is not None:
        audit.record(actor, action, subject_type="child", subject_ids=[subject], object_type="membership",
                     object_id=membership.id)
    else:
        # A SENCO's membership is about a school, not one child: recorded against the
        # membership itself, so the council's audit log still has it.
        audit.record(actor, action, subject_type="membership", subject_ids=[membership.id])

