"""Server-side sign-in sessions: start, resume (with idle and absolute limits), end.

A session belongs to a council and to either a member of its staff (``user_id``) or an
outside person signing in with a platform identity (``identity_id``: a SENCO, parent, young
person or professional, whose memberships say what they may see). ``authenticated_at`` is
when they last proved who they are: sensitive actions ask them to do so again when it is
older than :data:`FRESH_FOR` (``requires_fresh_sign_in``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import update

from core.db import db, utcnow
from core.users.models import User, UserSession

#: ``last_seen_at`` is rewritten at most this often, so reading pages does not mean a write
#: per request; idle limits are accurate to within this.
TOUCH_EVERY = dt.timedelta(seconds=30)
#: Sensitive actions (giving someone access, changing consent, council settings, break-glass)
#: need a sign-in at most this old.
FRESH_FOR = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Resumed:
    session: UserSession
    #: The staff member, for a staff session; None for an identity's session.
    user: User | None

    @property
    def identity_id(self) -> uuid.UUID | None:
        return self.session.identity_id


def start_session(user: User | None = None, *, identity_id: uuid.UUID | None = None, method: str = "demo",
                  now: dt.datetime | None = None) -> UserSession:
    """A new session in the current tenant, for a staff ``user`` or an ``identity_id``,
    signed in by ``method`` (see ``UserSession.auth_method``)."""
    if (user is None) == (identity_id is None):
        raise ValueError("a session is for a user or an identity")
    now = now or utcnow()
    record = UserSession(user_id=user.id if user else None, identity_id=identity_id, created_at=now,
                         last_seen_at=now, authenticated_at=now, auth_method=method)
    db.session.add(record)
    db.session.flush()
    return record


def resume(session_id: uuid.UUID, *, idle: dt.timedelta, absolute: dt.timedelta,
           now: dt.datetime | None = None) -> tuple[Resumed | None, str | None]:
    """The live session ``session_id`` in the current tenant, or ``(None, reason)``.

    Ends the session (recording why) when it has been idle too long, is too old, or its user
    has been deactivated. ``reason`` is ``None`` when there simply is no such session.
    """
    now = now or utcnow()
    record = db.session.get(UserSession, session_id)
    if record is None:
        return None, None
    if record.ended_at is not None:
        return None, record.ended_reason
    reason = None
    if now - record.created_at > absolute:
        reason = "absolute"
    elif now - record.last_seen_at > idle:
        reason = "idle"
    user = db.session.get(User, record.user_id) if record.user_id is not None else None
    if reason is None and record.user_id is not None and (user is None or not user.active):
        reason = "deactivated"
    if reason is not None:
        record.ended_at, record.ended_reason = now, reason
        return None, reason
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
    return Resumed(record, user), None


def resume_session(session_id: uuid.UUID, *, idle: dt.timedelta, absolute: dt.timedelta,
                   now: dt.datetime | None = None) -> tuple[User | None, str | None]:
    """The staff user of a live session (None for identity sessions): see :func:`resume`."""
    found, reason = resume(session_id, idle=idle, absolute=absolute, now=now)
    return (found.user if found else None), reason


def is_fresh(record: UserSession, *, now: dt.datetime | None = None, within: dt.timedelta = FRESH_FOR) -> bool:
    return (now or utcnow()) - record.authenticated_at <= within


def reauthenticated(session_id: uuid.UUID, *, now: dt.datetime | None = None) -> None:
    """The person has just proved who they are again (in this same session)."""
    record = db.session.get(UserSession, session_id)
    if record is not None and record.ended_at is None:
        record.authenticated_at = now or utcnow()


def end_session(session_id: uuid.UUID, reason: str = "signed_out") -> None:
    record = db.session.get(UserSession, session_id)
    if record is not None and record.ended_at is None:
        record.ended_at, record.ended_reason = utcnow(), reason


def end_all_sessions(user_id: uuid.UUID, reason: str = "everywhere") -> int:
    """Sign a staff member out everywhere (every device). Returns how many sessions ended."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    return result.rowcount or 0


def end_all_identity_sessions(identity_id: uuid.UUID, reason: str = "everywhere") -> int:
    """End an identity's sessions in the current council (callers visit each council)."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.identity_id == identity_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    return result.rowcount or 0
