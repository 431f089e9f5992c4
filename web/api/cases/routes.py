"""``/api/v1/cases`` (api-v1.md): cases, their events, plan and versions (issue #3)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("cases_api", __name__, url_prefix="/api/v1/cases",
                description="EHC cases: events, deadlines, the plan and its versions.")
