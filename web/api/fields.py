"""Shared marshmallow fields and schemas of the public API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma


class UTCDateTime(ma.fields.DateTime):
    """RFC 3339 timestamps in UTC with a ``Z`` (api-v1 conventions). Naive values (SQLite)
    are UTC by construction (``core.db.utcnow``)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class PageQuerySchema(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200),
                              metadata={"description": "Items per page, 1 to 200 (default 50)."})
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200),
                              metadata={"description": "`next_cursor` from the previous page."})
