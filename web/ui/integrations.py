"""The council's integrations, for its tenant admin (issue #5 item 3): which plugins are on,
their settings (secrets only as "set"), and partner calls that failed or are being retried,
each with a retry button. Settings are changed with ``flask --app wsgi plugins configure``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from core import permissions
from core.errors import Conflict, Forbidden, NotFound
from core.plugins import calls, services
from web.context import current_actor, require_staff
from web.ui.sessions import fresh_sign_in_required

bp = Blueprint("integrations", __name__)
bp.before_request(require_staff)

STATUS_WORDS = {"retrying": ("Being retried", "govuk-tag--yellow"), "failed": ("Failed", "govuk-tag--red")}


def _require_admin() -> None:
    if not current_actor().can(permissions.PLUGINS_MANAGE):
        raise Forbidden(permissions.PLUGINS_MANAGE)


@bp.get("/integrations")
def index():  # type: ignore[no-untyped-def]
    _require_admin()
    return render_template("integrations/index.html", title="Integrations", plugins=services.describe(),
                           calls=calls.calls_needing_attention(), status_words=STATUS_WORDS)


@bp.post("/integrations/plugins/<name>/<any(enable, disable):action>")
@fresh_sign_in_required
def switch(name: str, action: str):  # type: ignore[no-untyped-def]
    _require_admin()
    try:
        services.set_enabled(name, action == "enable")
    except NotFound:
        abort(404)
    title = next(p.title for p in services.describe() if p.name == name)
    flash(f"{title} is now {'on' if action == 'enable' else 'off'} for this council", "success")
    return redirect(url_for("integrations.index"))


@bp.post("/integrations/calls/<call_id>/retry")
def retry(call_id: str):  # type: ignore[no-untyped-def]
    _require_admin()
    try:
        call = calls.retry_call(call_id)
    except NotFound:
        abort(404)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("integrations.index")), 303
    flash(f"The {call.plugin} call will be tried again now", "success")
    return redirect(url_for("integrations.index")), 303
