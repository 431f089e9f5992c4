"""``POST /api/v1/timescales`` (api-v1.md): the deadline calculator; no token, stores nothing (issue #3)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("timescales_api", __name__, url_prefix="/api/v1/timescales",
                description="Work out the statutory deadlines of a hypothetical case.")
