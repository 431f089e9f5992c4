"""The council's side of the portals: who has access to a child's records, inviting people,
resending and withdrawing invitations, consent recorded by staff, and what has been sent in
through the portals (issue #4 items 3, 4, 6 and 7).

Who may be invited is checked here before ``core.identity.services.invite`` is called:

* a parent or carer: only a contact recorded on the child with parental responsibility
  (Children Act 1989 s3; issue #4: online access only for recorded contacts with parental
  responsibility), and only at the e-mail address recorded for them;
* a young person: only once over compulsory school age (Children and Families Act 2014
  s83(2); Education Act 1996 s8: after the last Friday in June of the school year in which
  they turn 16), when decisions under Part 3 become theirs (SEND Code of Practice, chapter 8);
* a professional: for the case, or for one of its advice requests still awaited (SEND
  Regulations 2014 reg 6(1)); their access ends when the advice is returned or when it
  expires (by default 14 days after the advice is due, reg 8(1): 6 weeks from the request);
* a SENCO: for a school or college the child is on roll at now (they see every pupil of that
  school with a case here; normally they arrive through their school's own sign-in).

Every function takes an actor who has already passed ``access_child`` / ``access_case`` for
the child or case concerned; object lookups from request input (``access_membership``,
``access_consent``, ``access_submission``) return the same :class:`NotFound` for missing and
for "not this child's".
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from core import clock, mail, permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases.models import Case, CaseEvent, Document
from core.cases.reviews import is_young_person, last_friday_of_june
from core.cases.services import deadlines_of, events_of
from core.cases.workflow import derive_state
from core.children.models import Child, Contact
from core.db import db, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import services as identities
from core.identity.models import Consent, Identity, Membership, MembershipRole
from core.ids import parse_id
from core.submissions.models import Submission
from core.timescales import TimescalePolicy
from core.users.services import staff_names

#: A professional's access lasts until this many days after their advice is due (reg 8(1)).
PROFESSIONAL_GRACE_DAYS = 14
#: Reg 8(1): advice within 6 weeks of the request, the default for a whole-case invitation.
ADVICE_WEEKS = 6
#: The furthest ahead a chosen end of access may be.
MAX_ACCESS_DAYS = 366


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission) or actor.scope is not None:
        # Only the council's own staff manage access: never a portal user, whatever they hold.
        raise Forbidden(permission)


def long_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def end_of_day(day: dt.date) -> dt.datetime:
    """The instant a day in England ends (access "until 3 March" lasts all of 3 March)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=clock.LONDON).astimezone(dt.timezone.utc)


def last_day(expires_at: dt.datetime) -> dt.date:
    """The last day (in England) on which something that ends at ``expires_at`` still works."""
    return (expires_at.astimezone(clock.LONDON) - dt.timedelta(microseconds=1)).date()


# ---------------------------------------------------------------------------------------
# Who has access


@dataclass(frozen=True)
class AccessEntry:
    """One membership of a child's records, as the "people with access" page shows it."""

    membership: Membership
    #: The person's name once they have accepted, otherwise the address invited.
    name: str
    email: str | None
    #: ``invited``, ``active``, ``expired``, ``revoked`` or ``ended`` (advice returned).
    status: str
    #: What it covers, in words ("This child", "Medical advice (reference med-1)" ...).
    covers: str
    #: Who gave it, in words.
    granted_by: str
    #: When it was given (accepted) or the invitation sent.
    since: dt.datetime
    #: When it ends, if it does (the invitation's or the access's expiry).
    ends: dt.datetime | None

    @property
    def live(self) -> bool:
        return self.status in ("invited", "active")

    @property
    def can_resend(self) -> bool:
        m = self.membership
        if m.accepted_at is not None or m.revoked_at is not None:
            return False
        return self.status == "invited" or m.role != MembershipRole.PROFESSIONAL


_ADVICE_WORDS = {"educational": "Educational advice", "medical": "Medical advice",
                 "psychological": "Psychological advice", "social_care": "Social care advice", "other": "Advice"}


def _granted_words(raw: str, names: dict[str, str]) -> str:
    kind, _, who = raw.partition(":")
    if kind in ("user", "staff"):
        return names.get(who, "A former member of staff")
    if kind == "claims":
        return "Their school's or college's sign-in"
    return "Set up by Sendbridge"


def current_urns(child: Child, today: dt.date) -> list[int]:
    return sorted({p.urn for p in child.placements if p.is_current(today)})


def _memberships_for(child: Child, today: dt.date) -> list[Membership]:
    rows = identities.memberships_of_child(child.id)
    urns = current_urns(child, today)
    if urns:
        # A SENCO's access is to the school's pupils: this child is one of them while on roll.
        rows += list(db.session.execute(select(Membership).where(
            Membership.role == MembershipRole.SENCO, Membership.urn.in_(urns)).order_by(Membership.created_at)).scalars())
    return rows


def _status(m: Membership, now: dt.datetime, answered: set[tuple[uuid.UUID, str]]) -> str:
    if m.revoked_at is not None:
        return "revoked"
    if m.expires_at is not None and m.expires_at <= now:
        return "expired"
    if m.accepted_at is None:
        return "invited"
    if m.role == MembershipRole.PROFESSIONAL and m.advice_id and m.case_id and (m.case_id, m.advice_id) in answered:
        return "ended"
    return "active"


def people_with_access(actor: Actor, child: Child, *, today: dt.date | None = None) -> list[AccessEntry]:
    """Everyone given (or invited to) access to ``child``'s records, newest first: family,
    professionals on its cases, SENCOs of the school it is on roll at now."""
    _require(actor, permissions.CHILDREN_READ)
    today = today or clock.today()
    now = utcnow()
    rows = _memberships_for(child, today)
    answered: set[tuple[uuid.UUID, str]] = set()
    kinds: dict[tuple[uuid.UUID, str], str | None] = {}
    for case_id in {m.case_id for m in rows if m.case_id is not None}:
        case = db.session.get(Case, case_id)
        if case is None:
            continue
        events = events_of(case)
        state = derive_state(events)
        answered |= {(case_id, a) for a in state.advice_received}
        kinds.update({(case_id, str(e["advice_id"])): e.get("advice") for e in events
                      if e["type"] == "advice_requested" and e.get("advice_id")})
    people = {i.id: i for i in db.session.execute(
        select(Identity).where(Identity.id.in_({m.identity_id for m in rows if m.identity_id}))).scalars()}
    names = staff_names([m.granted_by.partition(":")[2] for m in rows])
    schools = {p.urn: p.institution.name for p in child.placements if p.institution is not None}
    out = []
    for m in rows:
        person = people.get(m.identity_id) if m.identity_id else None
        if m.role in (MembershipRole.PARENT, MembershipRole.YOUNG_PERSON):
            covers = f"{child.full_name}'s records"
        elif m.role == MembershipRole.SENCO:
            covers = f"Pupils on roll at {schools.get(m.urn, 'the school')} (URN {m.urn})"
        elif m.advice_id and m.case_id:
            covers = f"{_ADVICE_WORDS.get(kinds.get((m.case_id, m.advice_id)) or '', 'Advice')} " \
                     f"(reference {m.advice_id})"
        else:
            covers = "Every advice request on the EHC case"
        out.append(AccessEntry(
            membership=m, name=person.display_name if person else (m.invited_email or "Unknown"),
            email=(person.email if person and person.email else m.invited_email), status=_status(m, now, answered),
            covers=covers, granted_by=_granted_words(m.granted_by, names), since=m.accepted_at or m.created_at,
            ends=m.expires_at,
        ))
    return sorted(out, key=lambda e: e.membership.created_at, reverse=True)


def access_membership(actor: Actor, child: Child, membership_id: uuid.UUID | str | None) -> Membership:
    """A membership of ``child``'s records (as :func:`people_with_access` lists them)."""
    mid = parse_id(membership_id) if membership_id else None
    if mid is None or actor.scope is not None or not actor.can(permissions.CHILDREN_READ):
        raise NotFound("membership")
    found = next((m for m in _memberships_for(child, clock.today()) if m.id == mid), None)
    if found is None:
        raise NotFound("membership")
    return found


# ---------------------------------------------------------------------------------------
# Inviting


def parent_candidates(child: Child) -> list[Contact]:
    """Contacts who may be invited as a parent or carer: parental responsibility and an e-mail."""
    return [c for c in child.contacts if c.parental_responsibility and c.email]


def _refuse_duplicate(*, email: str, role: MembershipRole, child_id: uuid.UUID | None = None,
                      case_id: uuid.UUID | None = None, advice_id: str | None = None, urn: int | None = None) -> None:
    now = utcnow()
    stmt = select(Membership).where(
        Membership.invited_email == identities.normalise_email(email), Membership.role == role,
        Membership.revoked_at.is_(None), or_(Membership.expires_at.is_(None), Membership.expires_at > now))
    for column, value in ((Membership.child_id, child_id), (Membership.case_id, case_id), (Membership.urn, urn)):
        if value is not None:
            stmt = stmt.where(column == value)
    stmt = stmt.where(Membership.advice_id.is_(None) if advice_id is None else Membership.advice_id == advice_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(f"{email} already has access, or an invitation waiting, for this. To send the invitation "
                       "again, use ‘Resend’ on the list of people with access", field="email")


def invite_parent(actor: Actor, child: Child, contact_id: uuid.UUID | str) -> tuple[Membership, str]:
    """Invite one of the child's contacts as a parent or carer, at their recorded address.

    Only a contact with parental responsibility (Children Act 1989 s3): anyone
    else is refused with the reason, and nothing is stored.
    """
    _require(actor, permissions.CASES_WRITE)
    cid = parse_id(contact_id)
    contact = next((c for c in child.contacts if c.id == cid), None) if cid else None
    if contact is None:
        raise ValidationFailed({"contact": ["Select the parent or carer to invite"]})
    if not contact.parental_responsibility:
        raise ValidationFailed({"contact": [
            f"{contact.full_name} cannot be invited as a parent or carer because they do not have parental "
            f"responsibility for {child.full_name}. If they do, record it on their contact details first"]})
    if not contact.email:
        raise ValidationFailed({"contact": [
            f"{contact.full_name} has no email address recorded. Add it to their contact details first"]})
    _refuse_duplicate(email=contact.email, role=MembershipRole.PARENT, child_id=child.id)
    return identities.invite(actor, role=MembershipRole.PARENT, email=contact.email, child_id=child.id)


def young_person_from(child: Child) -> dt.date:
    """The first day the child is over compulsory school age (a young person in law)."""
    # The summer term of the school year in which they turn 16 (Year 11).
    summer = child.date_of_birth.year + 16 + (1 if child.date_of_birth.month >= 9 else 0)
    return last_friday_of_june(summer) + dt.timedelta(days=1)


def invite_young_person(actor: Actor, child: Child, email: str, *, today: dt.date | None = None) -> tuple[Membership, str]:
    """Invite the young person themselves: only once over compulsory school age (CFA 2014
    s83(2); Education Act 1996 s8), when the rights under Part 3 become theirs."""
    _require(actor, permissions.CASES_WRITE)
    today = today or clock.today()
    if not is_young_person(child.date_of_birth, today):
        raise Conflict(f"{child.full_name} is not over compulsory school age yet, so cannot be invited as a young "
                       f"person until {long_date(young_person_from(child))}. Until then, invite a parent or carer",
                       field="email")
    check_email(email)
    _refuse_duplicate(email=email, role=MembershipRole.YOUNG_PERSON, child_id=child.id)
    return identities.invite(actor, role=MembershipRole.YOUNG_PERSON, email=email, child_id=child.id)


def check_email(email: str) -> None:
    """An address an invitation can be sent to (the form's error wording otherwise)."""
    address = identities.normalise_email(email)
    local, _, domain = address.partition("@")
    if not address:
        raise ValidationFailed({"email": ["Enter an email address"]})
    if not local or "." not in domain or " " in address or len(address) > 254:
        raise ValidationFailed({"email": ["Enter an email address in the correct format, like name@example.com"]})


@dataclass(frozen=True)
class OutstandingAdvice:
    advice_id: str
    kind: str | None
    requested_on: dt.date
    #: The last day the advice is due (reg 8(1): 6 weeks from the request).
    due: dt.date | None


def outstanding_advice(case: Case, *, policy: TimescalePolicy, today: dt.date | None = None) -> list[OutstandingAdvice]:
    """The case's advice requests not yet answered, with their due dates."""
    today = today or clock.today()
    events = events_of(case)
    state = derive_state(events)
    kinds = {str(e["advice_id"]): e.get("advice") for e in events if e["type"] == "advice_requested" and e.get("advice_id")}
    clocks = [d for d in deadlines_of(case, policy=policy, today=today, events=events) if d.key == "advice_returned"]
    out = []
    for advice_id, on in sorted(state.advice_requested.items(), key=lambda kv: (kv[1], kv[0])):
        if advice_id in state.advice_received:
            continue
        due = next((d.last_compliant_day for d in clocks if d.ref == advice_id and d.trigger.date == on), None)
        out.append(OutstandingAdvice(advice_id, kinds.get(advice_id), on, due))
    return out


def default_professional_end(case: Case, advice_id: str | None, *, policy: TimescalePolicy,
                             today: dt.date | None = None) -> dt.date:
    """When a professional's access ends unless the caseworker chooses: 14 days after the
    advice is due (for the whole case, after the last advice awaited is due; with none
    awaited, 6 weeks and 14 days from today)."""
    today = today or clock.today()
    waiting = outstanding_advice(case, policy=policy, today=today)
    dues = [a.due for a in waiting if a.due is not None and (advice_id is None or a.advice_id == advice_id)]
    base = max(dues) if dues else today + dt.timedelta(weeks=ADVICE_WEEKS)
    return max(base, today) + dt.timedelta(days=PROFESSIONAL_GRACE_DAYS)


def invite_professional(actor: Actor, case: Case, email: str, *, advice_id: str | None, policy: TimescalePolicy,
                        ends_on: dt.date | None = None, today: dt.date | None = None) -> tuple[Membership, str]:
    """Invite a professional for the whole case or for one advice request still awaited.

    Their access ends on ``ends_on`` (inclusive) or, by default, 14 days after the advice is
    due; for one request, also as soon as that advice is received.
    """
    _require(actor, permissions.CASES_WRITE)
    today = today or clock.today()
    errors: dict[str, list[str]] = {}
    try:
        check_email(email)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if advice_id is not None and advice_id not in {a.advice_id for a in outstanding_advice(case, policy=policy, today=today)}:
        errors["advice_id"] = ["Select an advice request that is still awaited, or the whole case"]
    if ends_on is not None and not today < ends_on <= today + dt.timedelta(days=MAX_ACCESS_DAYS):
        errors["ends_on"] = ["The date access ends must be after today and within a year"]
    if errors:
        raise ValidationFailed(errors)
    _refuse_duplicate(email=email, role=MembershipRole.PROFESSIONAL, case_id=case.id, advice_id=advice_id)
    ends = ends_on or default_professional_end(case, advice_id, policy=policy, today=today)
    return identities.invite(actor, role=MembershipRole.PROFESSIONAL, email=email, case_id=case.id,
                             advice_id=advice_id, expires_at=end_of_day(ends))


def invite_senco(actor: Actor, child: Child, urn: int | str, email: str, *,
                 today: dt.date | None = None) -> tuple[Membership, str]:
    """Invite the SENCO of a school or college the child is on roll at now. They will see
    every pupil of that school with records here, as a SENCO signing in through the school's
    own sign-in does."""
    _require(actor, permissions.CASES_WRITE)
    today = today or clock.today()
    errors: dict[str, list[str]] = {}
    try:
        check_email(email)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        chosen = int(urn)
    except (TypeError, ValueError):
        chosen = None
    if chosen is None or chosen not in current_urns(child, today):
        errors["urn"] = [f"Select a school, college or setting {child.full_name} is on roll at now"]
    if errors:
        raise ValidationFailed(errors)
    assert chosen is not None
    _refuse_duplicate(email=email, role=MembershipRole.SENCO, urn=chosen)
    return identities.invite(actor, role=MembershipRole.SENCO, email=email, urn=chosen)


_WHAT = {
    MembershipRole.PARENT: "see and take part in your child's education, health and care (EHC) needs assessment "
                           "or plan",
    MembershipRole.YOUNG_PERSON: "see and take part in your education, health and care (EHC) needs assessment or plan",
    MembershipRole.SENCO: "see the EHC needs assessments and plans of pupils on roll at your school or college",
    MembershipRole.PROFESSIONAL: "give advice for an education, health and care (EHC) needs assessment",
}


def invitation_message(membership: Membership, *, council: str, url: str) -> tuple[str, str]:
    """The invitation e-mail's subject and body. It names the council and the kind of access,
    never the child (an e-mail can go astray; the invitation page says no more either)."""
    until = last_day(membership.expires_at) if membership.expires_at else None
    lines = [
        f"{council} has invited you to {_WHAT[membership.role]}, using its online SEND service.",
        "",
        "To accept, open this link and sign in with this email address:",
        "",
        url,
        "",
    ]
    if until is not None:
        lines.append(f"The invitation can be accepted until {long_date(until)}.")
    if membership.role == MembershipRole.PROFESSIONAL:
        lines.append("Your access ends when you have sent your advice"
                     + (f", or on {long_date(until)} if that is sooner." if until else "."))
    lines += ["", "The link works only for the person it was sent to: please do not forward this email.",
              f"If you were not expecting it, you can ignore it, or tell {council}'s SEND team."]
    return f"Invitation from {council} SEND services", "\n".join(lines)


def send_invitation(membership: Membership, *, council: str, url: str) -> None:
    """E-mail the invitation (inside the request: the link holds a secret, never put in a job)."""
    assert membership.invited_email is not None
    subject, body = invitation_message(membership, council=council, url=url)
    mail.send(membership.invited_email, subject, body)


def resend_invitation(actor: Actor, membership: Membership) -> str:
    """A new secret for an invitation not yet accepted (the old link stops working). A
    family's or SENCO's invitation gets another 14 days; a professional's keeps its end
    date, and once that has passed they are invited afresh instead."""
    _require(actor, permissions.CASES_WRITE)
    now = utcnow()
    if membership.revoked_at is not None or membership.accepted_at is not None:
        raise Conflict("Only an invitation that has not been accepted or withdrawn can be sent again")
    if membership.role == MembershipRole.PROFESSIONAL:
        if membership.expires_at is not None and membership.expires_at <= now:
            raise Conflict("This professional's access has already ended: invite them again and choose when it ends")
    else:
        membership.expires_at = now + dt.timedelta(days=identities.INVITATION_DAYS)
    token = secrets.token_urlsafe(32)
    membership.invite_token_hash = identities.token_hash(token)
    db.session.flush()
    identities.audit_membership(actor, membership, "membership.invitation_resent")
    return token


def revoke_access(actor: Actor, membership: Membership) -> None:
    """End a membership now (an invitation not yet accepted, or access given). The person's
    very next request is judged without it (``web.app`` builds their actor per request)."""
    _require(actor, permissions.CASES_WRITE)
    if membership.revoked_at is not None:
        raise Conflict("This access has already been withdrawn")
    identities.revoke(actor, membership)


# ---------------------------------------------------------------------------------------
# Consent to share beyond the statutory recipients (SEND Regulations 2014 reg 17 and the CoP,
# chapter 9 "Disclosure of an EHC plan": not disclosed without consent but for statutory purposes)


MAX_RECIPIENT, MAX_PURPOSE = 200, 500


def consents_of(actor: Actor, child: Child) -> list[Consent]:
    """Consents given for ``child`` (current and withdrawn), newest first."""
    _require(actor, permissions.CHILDREN_READ)
    return list(db.session.execute(select(Consent).where(Consent.child_id == child.id)
                                   .order_by(Consent.given_at.desc())).scalars())


def consent_given_by(consent: Consent) -> str:
    """Who recorded a consent, in words."""
    kind, _, who = consent.given_by.partition(":")
    if kind == "identity":
        person = db.session.get(Identity, parse_id(who)) if parse_id(who) else None
        return f"{person.display_name if person else 'The family'}, online"
    names = staff_names([who])
    return f"Recorded by {names.get(who, 'a former member of staff')}"


def record_consent(actor: Actor, child: Child, *, recipient: str, purpose: str) -> Consent:
    """Record consent the family gave another way (on paper, by phone). Audited."""
    _require(actor, permissions.CASES_WRITE)
    errors: dict[str, list[str]] = {}
    recipient, purpose = recipient.strip(), purpose.strip()
    if not recipient:
        errors["recipient"] = ["Enter who the information may be shared with"]
    elif len(recipient) > MAX_RECIPIENT:
        errors["recipient"] = [f"Who it may be shared with must be {MAX_RECIPIENT} characters or fewer"]
    if not purpose:
        errors["purpose"] = ["Enter what it may be shared for"]
    elif len(purpose) > MAX_PURPOSE:
        errors["purpose"] = [f"What it may be shared for must be {MAX_PURPOSE} characters or fewer"]
    if errors:
        raise ValidationFailed(errors)
    consent = Consent(child_id=child.id, recipient=recipient, purpose=purpose, given_by=f"staff:{actor.id}")
    db.session.add(consent)
    db.session.flush()
    audit.record(actor, "consent.recorded", subject_type="child", subject_ids=[child.id], object_type="consent",
                 object_id=consent.id)
    return consent


def access_consent(actor: Actor, child: Child, consent_id: uuid.UUID | str | None) -> Consent:
    """A consent of ``child``; the same :class:`NotFound` for missing and another child's."""
    cid = parse_id(consent_id) if consent_id else None
    if cid is None or actor.scope is not None or not actor.can(permissions.CHILDREN_READ):
        raise NotFound("consent")
    consent = db.session.execute(select(Consent).where(Consent.id == cid, Consent.child_id == child.id))\
        .scalar_one_or_none()
    if consent is None:
        raise NotFound("consent")
    return consent


def withdraw_consent(actor: Actor, consent: Consent) -> None:
    """Record that consent has been withdrawn (told to staff). Audited."""
    _require(actor, permissions.CASES_WRITE)
    if consent.revoked_at is not None:
        raise Conflict("This consent has already been withdrawn")
    consent.revoked_at = utcnow()
    consent.revoked_by = f"staff:{actor.id}"
    audit.record(actor, "consent.withdrawn", subject_type="child", subject_ids=[consent.child_id],
                 object_type="consent", object_id=consent.id)


# ---------------------------------------------------------------------------------------
# What arrived through the portals


def case_submissions(actor: Actor, case: Case) -> list[Submission]:
    """Everything sent in through the portals on ``case`` (already accessed), newest first."""
    _require(actor, permissions.CASES_READ)
    return list(db.session.execute(select(Submission).where(Submission.case_id == case.id)
                                   .order_by(Submission.submitted_at.desc(), Submission.id.desc())).scalars())


def waiting_count(actor: Actor, case: Case) -> int:
    """How many of the case's submissions nobody has yet marked as dealt with."""
    _require(actor, permissions.CASES_READ)
    return int(db.session.execute(select(func.count()).select_from(Submission).where(
        Submission.case_id == case.id, Submission.acknowledged_at.is_(None), Submission.withdrawn_at.is_(None)))
        .scalar_one())


def access_submission(actor: Actor, case: Case, submission_id: uuid.UUID | str) -> Submission:
    """One submission on ``case``; the same :class:`NotFound` for missing and another case's.
    Reading it is audited against the child."""
    sid = parse_id(submission_id)
    if sid is None or actor.scope is not None or not actor.can(permissions.CASES_READ):
        raise NotFound("submission")
    found = db.session.execute(select(Submission).where(Submission.id == sid, Submission.case_id == case.id))\
        .scalar_one_or_none()
    if found is None:
        raise NotFound("submission")
    audit.record(actor, "submission.viewed", subject_type="child", subject_ids=[found.child_id],
                 object_type="submission", object_id=found.id)
    return found


def submission_documents(submission: Submission) -> list[Document]:
    return list(db.session.execute(select(Document).where(Document.submission_id == submission.id)
                                   .order_by(Document.created_at)).scalars())


def submission_event(submission: Submission) -> CaseEvent | None:
    """The case event the submission recorded (advice received, a request ...), if any."""
    return db.session.get(CaseEvent, submission.case_event_id) if submission.case_event_id else None


def acknowledge(actor: Actor, submission: Submission) -> bool:
    """Mark a submission as dealt with. Returns False if it already was (nothing changes)."""
    _require(actor, permissions.CASES_WRITE)
    if submission.acknowledged_at is not None:
        return False
    submission.acknowledged_at = utcnow()
    submission.acknowledged_by = f"staff:{actor.id}"
    audit.record(actor, "submission.acknowledged", subject_type="child", subject_ids=[submission.child_id],
                 object_type="submission", object_id=submission.id)
    return True


def acknowledged_by_name(submission: Submission) -> str | None:
    if submission.acknowledged_by is None:
        return None
    who = submission.acknowledged_by.partition(":")[2]
    return staff_names([who]).get(who, "a former member of staff")


def describe_body(submission: Submission) -> list[tuple[str, str]]:
    """A submission's fields as (label, text) pairs, whatever its kind: known fields get their
    labels, others a readable version of their name; empty ones are left out."""
    labels = {
        "advice": "Kind of advice", "summary": "The child's or young person's needs",
        "provision": "Provision recommended", "outcomes": "Outcomes", "views": "Views", "interests": "Interests",
        "aspirations": "Aspirations", "comment": "Comment", "section_title": "Plan section",
        "school": "Preferred school or college", "name": "School or college", "name_given": "Name as they gave it",
        "urn": "URN", "in_window": "Sent within the time for comments", "window_last_day": "Last day for comments",
        "needs": "Needs", "areas": "Areas of need", "setting": "School or setting",
        "parent_informed": "Parent or carer told", "way": "How", "details": "Details", "title": "Title",
        "recommendation": "Recommendation", "sent_on": "Sent on", "reason": "Reason", "reasons": "Reasons",
    }
    out: list[tuple[str, str]] = []
    body = submission.body or {}
    # Known fields in the order the forms ask them (the database keeps JSON keys sorted).
    order = {key: n for n, key in enumerate(labels)}
    for key, value in sorted(body.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])):
        if value in (None, "", [], {}):
            continue
        label = labels.get(key, key.replace("_", " ").capitalize())
        if key == "advice":
            value = _ADVICE_WORDS.get(str(value), str(value))
        out.append((label, _flatten(value)))
    return out


def _flatten(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_flatten(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(_flatten(v) for v in value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)
