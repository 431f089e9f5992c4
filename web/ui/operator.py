"""Platform operators in a council: no child data, except through an audited break-glass
(issue #4 item 5).

An operator signs in to a council through the platform's operator identity provider
(web/ui/sso.py) and lands here. Their actor has no permissions until they open a
break-glass: a stated reason, a time limit (at most 4 hours), a fresh sign-in; it is recorded
in the council (its managers see the list at /break-glass) and in its audit log, and every
record they then open is audited under their identity like anyone else's reads. It gives
read-only access; nothing an operator does under it can change a child's record.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from core import permissions
from core.errors import Forbidden, ValidationFailed
from core.identity import services as identities
from web.context import current_actor, require_tenant, staff_signed_in
from web.ui.forms import FormErrors, text
from web.ui.sessions import fresh_sign_in_required

bp = Blueprint("operator", __name__)

DURATIONS = [("30", "30 minutes"), ("60", "1 hour"), ("120", "2 hours"), ("240", "4 hours")]


def _operator():  # type: ignore[no-untyped-def]
    require_tenant()
    actor = g.get("actor")
    identity = g.get("identity")
    if actor is None or identity is None or actor.kind != "operator":
        abort(404)
    return actor, identity


@bp.get("/operator/")
def home():  # type: ignore[no-untyped-def]
    _actor, identity = _operator()
    return _page(identity)


def _page(identity, errors: FormErrors | None = None, values: dict[str, str] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("operator/home.html", title="Operator access", glass=identities.live_break_glass(identity.id),
                           errors=errors, error_list=errors.summary() if errors else None, values=values or {},
                           durations=DURATIONS), status


@bp.post("/operator/break-glass")
@fresh_sign_in_required
def open_glass():  # type: ignore[no-untyped-def]
    _actor, identity = _operator()
    values = {"reason": text(request.form, "reason"), "minutes": text(request.form, "minutes")}
    errors = FormErrors()
    if not 10 <= len(values["reason"]) <= 1000:
        errors.add("reason", identities.BREAK_GLASS_REASON_ERROR)
    if values["minutes"] not in dict(DURATIONS):
        errors.add("minutes", "Select how long you need access for")
    if not errors:
        try:
            identities.break_glass(identity, reason=values["reason"], minutes=int(values["minutes"]))
        except ValidationFailed as exc:
            errors.merge(exc.errors)
    if errors:
        return _page(identity, errors, values, 400)
    flash("Break-glass access is open. Everything you look at is recorded.", "success")
    return redirect(url_for("children.index"))


@bp.post("/operator/break-glass/end")
def end_glass():  # type: ignore[no-untyped-def]
    _actor, identity = _operator()
    identities.end_break_glass(identity)
    flash("Break-glass access has ended", "success")
    return redirect(url_for("operator.home"))


@bp.get("/break-glass")
def history():  # type: ignore[no-untyped-def]
    """For the council's managers: every operator break-glass here, newest first."""
    require_tenant()
    if not staff_signed_in():
        return redirect(url_for("auth.sign_in", next=request.path))
    actor = current_actor()
    if not actor.can(permissions.AUDIT_READ):
        raise Forbidden(permissions.AUDIT_READ)
    rows = identities.break_glass_history()
    names = identities.display_names({r.identity_id for r in rows})
    return render_template("operator/history.html", title="Operator break-glass access", rows=rows, names=names)
