"""``/api/v1/cases/{id}/plan`` and ``.../plan/versions`` (api-v1.md): the EHC plan (issue #3)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("plans_api", __name__, url_prefix="/api/v1/cases",
                description="EHC plans: sections A to K, drafts and issued versions.")
