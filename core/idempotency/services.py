"""Remembering and replaying idempotent writes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.db import db, utcnow
from core.errors import Conflict
from core.idempotency.models import IdempotencyRecord

TTL = dt.timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]
    location: str | None


class KeyReusedForDifferentRequest(Conflict):
    pass


class KeyAlreadyUsed(Exception):
    """Another request with the same key committed first; replay its response instead."""


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def find(actor_id: str, key: str, fp: str) -> StoredResponse | None:
    """The stored response for this key, if an unexpired one exists.

    Raises :class:`KeyReusedForDifferentRequest` when the key was used for another request.
    """
    rec = db.session.execute(
        select(IdempotencyRecord).where(IdempotencyRecord.actor_id == actor_id, IdempotencyRecord.key == key)
    ).scalar_one_or_none()
    if rec is None or rec.expires_at <= utcnow():
        return None
    if rec.fingerprint != fp:
        raise KeyReusedForDifferentRequest(
            "This Idempotency-Key was already used for a different request; use a new key for a new request"
        )
    return StoredResponse(rec.status_code, rec.response_body, rec.location)


def remember(actor_id: str, key: str, fp: str, status_code: int, body: dict[str, Any], location: str | None) -> None:
    """Store the response in the current transaction, so it commits with the write itself.

    Raises :class:`KeyAlreadyUsed` if a concurrent request with the same key got there first
    (the unique index makes this INSERT wait for that transaction, then fail).
    """
    now = utcnow()
    # An expired record with this key may still be there: replace it.
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.actor_id == actor_id, IdempotencyRecord.key == key, IdempotencyRecord.expires_at <= now
        )
    )
    record = IdempotencyRecord(
        actor_id=actor_id, key=key, fingerprint=fp, status_code=status_code,
        response_body=body, location=location, created_at=now, expires_at=now + TTL,
    )
    try:
        # Added inside the savepoint: if it fails, the record leaves the session with it and
        # is not flushed again at commit.
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:
        raise KeyAlreadyUsed(key) from None


def purge_expired() -> int:
    """Delete expired records of the current tenant; returns how many."""
    result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow()))
    return result.rowcount or 0
