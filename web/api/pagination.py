"""Opaque cursors for keyset pagination (api-v1: ``{"items": [...], "next_cursor": ...}``)."""

from __future__ import annotations

import base64
import uuid

from core.errors import ValidationFailed

_PREFIX = "v1:"


def encode_cursor(last_id: uuid.UUID | None) -> str | None:
    if last_id is None:
        return None
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    """The id to continue after; a cursor that is not one of ours is a validation error."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith(_PREFIX):
            raise ValueError
        return uuid.UUID(raw[len(_PREFIX):])
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed({"cursor": ["This is not a cursor from this API; use next_cursor from the previous page"]}) from None
