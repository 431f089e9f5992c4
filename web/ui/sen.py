"""SEN register pages (issue #5 item 5): upload a school's Common Transfer File for import,
follow an import and read its per-record error report, and download a child's SEN data as
a CTF for a receiving school.

Importing needs ``children.write`` (it creates and changes children's records); exporting
needs ``children.read`` and is audited (``child.exported``) by the service.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from core import permissions
from core.children.access import access_child
from core.errors import Forbidden, ValidationFailed
from core.sen import services
from core.sen.models import NEED_TYPES, PROVISIONS, ImportStatus
from core.storage import attachment_disposition
from web.context import current_actor, require_staff
from web.ui.forms import FormErrors, text

bp = Blueprint("sen", __name__, url_prefix="/sen-register")
bp.before_request(require_staff)

STATUS_WORDS = {
    ImportStatus.QUEUED: ("Waiting to start", "govuk-tag--grey"),
    ImportStatus.RUNNING: ("Importing", "govuk-tag--blue"),
    ImportStatus.SUCCEEDED: ("Imported", "govuk-tag--green"),
    ImportStatus.FAILED: ("Not imported", "govuk-tag--red"),
}


def _require(permission: str) -> None:
    if not current_actor().can(permission):
        raise Forbidden(permission)


@bp.route("/imports", methods=["GET", "POST"])
def imports():  # type: ignore[no-untyped-def]
    _require(permissions.CHILDREN_WRITE)
    actor = current_actor()
    errors = FormErrors()
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors.add("file", "Select a Common Transfer File")
        else:
            try:
                row = services.start_import(actor, filename=upload.filename, data=upload.read())
            except ValidationFailed as exc:
                errors.merge(exc.errors)
            else:
                flash(f"‘{row.filename}’ has been uploaded and will be imported", "success")
                return redirect(url_for("sen.import_status", import_id=row.id), 303)
    return render_template("sen/imports.html", title="Import a Common Transfer File", errors=errors,
                           error_list=errors.summary(order=["file"]), recent=services.recent_imports(actor),
                           status_words=STATUS_WORDS, enabled=services.import_formats_enabled(),
                           max_mb=services.MAX_BYTES // (1024 * 1024)), (400 if errors else 200)


@bp.get("/imports/<import_id>")
def import_status(import_id: str):  # type: ignore[no-untyped-def]
    row = services.access_import(current_actor(), import_id)
    return render_template("sen/import.html", title=f"Import of {row.filename}", row=row,
                           status_words=STATUS_WORDS, can_retry=services.can_retry(row))


@bp.post("/imports/<import_id>/retry")
def retry(import_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    row = services.access_import(actor, import_id)
    try:
        services.retry_import(actor, row)
    except ValidationFailed as exc:
        flash(" ".join(m for ms in exc.errors.values() for m in ms), "error")
    else:
        flash("The import will carry on from where it stopped", "success")
    return redirect(url_for("sen.import_status", import_id=row.id), 303)


@bp.route("/children/<child_id>/ctf", methods=["GET", "POST"])
def export(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = access_child(actor, child_id)
    errors = FormErrors()
    urn = ""
    if request.method == "POST":
        urn = text(request.form, "destination_urn")
        try:
            filename, body = services.export_child(actor, child.id, destination_urn=urn)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        else:
            return Response(body, mimetype="application/xml",
                            headers={"Content-Disposition": attachment_disposition(filename),
                                     "Cache-Control": "no-store"})
    return render_template("sen/export.html", title=f"Download a Common Transfer File for {child.full_name}",
                           child=child, entry=services.sen_entry_for(child.id), urn=urn, errors=errors,
                           error_list=errors.summary(anchors={"upn": "destination_urn"},
                                                     order=["destination_urn", "upn"]),
                           provisions=PROVISIONS, need_types=NEED_TYPES), (400 if errors else 200)
