"""Pages that need no sign-in: the start page, health check, accessibility and privacy."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from sqlalchemy import text

from core.db import db
from tenants.services import list_tenants
from web.context import current_tenant, current_user

bp = Blueprint("public", __name__)


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    tenant = current_tenant()
    if tenant is not None:
        if current_user() is not None:
            return redirect(url_for("children.index"))
        return render_template("public/tenant_start.html", title="SEND casework")
    settings = current_app.config["SENDBRIDGE_SETTINGS"]
    councils = []
    if settings.demo_mode:
        # Council names are public; listing them helps a newcomer find the demo councils.
        with db.isolated_scope():
            councils = [(t.slug, t.name) for t in list_tenants() if t.is_active]
    return render_template("public/platform_home.html", title="Sendbridge", councils=councils)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """Liveness and database reachability, for load balancers. No tenant, no personal data."""
    checks = {"database": "ok"}
    status = 200
    try:
        with db.isolated_scope() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - report, never raise, from a health check
        checks["database"] = "unavailable"
        status = 503
    return jsonify({"status": "ok" if status == 200 else "degraded", "checks": checks}), status


@bp.get("/accessibility")
def accessibility():  # type: ignore[no-untyped-def]
    return render_template("public/accessibility.html", title="Accessibility statement")


@bp.get("/privacy")
def privacy():  # type: ignore[no-untyped-def]
    return render_template("public/privacy.html", title="Privacy notice")
