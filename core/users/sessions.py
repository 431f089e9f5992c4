"""Server-side sign-in sessions: start, resume (with idle and absolute limits), end."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import update

from core.db import db, utcnow
from core.users.models import User, UserSession

#: ``last_seen_at`` is rewritten at most this often, so reading pages does not mean a write
#: per request; idle limits are accurate to within this.
TOUCH_EVERY = dt.timedelta(seconds=30)


def start_session(user: User, *, now: dt.datetime | None = None) -> UserSession:
    """A new session for ``user`` in the current tenant."""
    now = now or utcnow()
    record = UserSession(user_id=user.id, created_at=now, last_seen_at=now)
    db.session.add(record)
    db.session.flush()
    return record


def resume_session(session_id: uuid.UUID, *, idle: dt.timedelta, absolute: dt.timedelta,
                   now: dt.datetime | None = None) -> tuple[User | None, str | None]:
    """The signed-in user of a live session in the current tenant, or ``(None, reason)``.

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
    user = db.session.get(User, record.user_id)
    if reason is None and (user is None or not user.active):
        reason = "deactivated"
    if reason is not None:
        record.ended_at, record.ended_reason = now, reason
        return None, reason
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
    return user, None


def end_session(session_id: uuid.UUID, reason: str = "signed_out") -> None:
    record = db.session.get(UserSession, session_id)
    if record is not None and record.ended_at is None:
        record.ended_at, record.ended_reason = utcnow(), reason


def end_all_sessions(user_id: uuid.UUID, reason: str = "everywhere") -> int:
    """Sign a user out everywhere (every device). Returns how many sessions ended."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    return result.rowcount or 0
