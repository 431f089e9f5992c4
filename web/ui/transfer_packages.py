"""Transfer packages (issue 6 item 2): plans that move to or from a council not on Sendbridge.

* ``/transfers/import``: the receiving council uploads the package the old council sent
  (a ZIP: manifest, case.json, the plan as an accessible PDF, the documents) and says when
  the plan transferred. Every problem with the file is listed in the error summary and
  nothing is saved; otherwise the child's case opens here with the plan, its versions, the
  advice and the documents, and the new council's clocks running (regs 15(3)-(5)).
* ``/cases/<case_id>/transfer-packages``: a case's packages: the plan that arrived in one
  (from whom, when, what came with it, the previous council's history), and the packages
  made for a receiving council not on the platform, to download and send (reg 15(2)).

Importing needs ``transfers.write`` (the case it opens is written by the council's system actor
for the transfer, as on the platform); viewing needs
``transfers.read``. Another council's case is the same 404 as a missing one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from core import clock, permissions
from core.cases.access import access_case
from core.cases.models import Document
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.transfers import package as packages
from core.transfers import services as transfers
from core.transfers.snapshot import HISTORY_FILENAME
from web.context import current_actor, require_staff
from web.extensions import csrf
from web.ui.forms import FormErrors, date_items, date_parts, parse_date

bp = Blueprint("transfer_packages", __name__)
bp.before_request(require_staff)

#: The form's fields in page order, for the error summary.
_ORDER = ["package", "transferred_on"]


def _endpoint(name: str) -> bool:
    return name in current_app.view_functions


@bp.route("/transfers/import", methods=["GET", "POST"])
@csrf.exempt  # checked below, once the larger upload limit for packages is in force
def import_package():  # type: ignore[no-untyped-def]
    actor = current_actor()
    if not actor.can(permissions.TRANSFERS_WRITE):
        raise Forbidden(permissions.TRANSFERS_WRITE)
    errors = FormErrors()
    problems: list[str] = []
    parts: dict[str, str] = {}
    if request.method == "POST":
        # A package carries every document of the case, so it may be larger than other uploads.
        request.max_content_length = packages.MAX_PACKAGE_BYTES + 1024 * 1024
        csrf.protect()
        parts = date_parts(request.form, "transferred_on")
        transferred_on, date_error = parse_date(parts, "Date the plan transferred")
        if date_error:
            errors.add("transferred_on", date_error)
        elif transferred_on is not None and transferred_on > clock.today():
            errors.add("transferred_on", "Date the plan transferred must be today or in the past")
        upload = request.files.get("package")
        data = upload.read() if upload is not None and upload.filename else b""
        if upload is None or not upload.filename:
            errors.add("package", "Select the transfer package the other council sent")
        if not errors:
            assert transferred_on is not None
            try:
                case = packages.import_package(actor, data, transferred_on=transferred_on)
            except ValidationFailed as exc:
                problems = list(exc.errors.get(packages.FIELD, []))
                if problems:
                    errors.add("package", "The transfer package cannot be imported: "
                               + ("see the problem above" if len(problems) == 1 else
                                  f"see the {len(problems)} problems above"))
                errors.merge({k: v for k, v in exc.errors.items() if k != packages.FIELD},
                             rename={"from_la_code": "package", "date": "transferred_on"})
            except Conflict as exc:
                errors.add("transferred_on" if exc.field in ("date", "transferred_on") else "package", exc.message)
            else:
                flash("The plan has been received. The new council's clocks have started.", "success")
                return redirect(url_for("transfer_packages.case_packages", case_id=case.id, received=1), 303)
    # Every problem with the file is listed in the summary, each linking to the upload.
    error_list = [{"text": p, "href": "#package"} for p in problems] or \
        errors.summary(anchors={"transferred_on": "transferred_on-day"}, order=_ORDER)
    if problems:
        error_list += [e for e in errors.summary(anchors={"transferred_on": "transferred_on-day"}, order=_ORDER)
                       if e["href"] != "#package"]
    return render_template(
        "transfers/package_import.html", title="Receive a plan from a council not on Sendbridge", errors=errors,
        error_list=error_list, date_items=date_items(parts, "transferred_on" in errors),
        max_mb=packages.MAX_PACKAGE_BYTES // (1024 * 1024),
    ), (400 if errors else 200)


def _documents(case_id: Any) -> dict[Any, Document]:
    from sqlalchemy import select

    return {d.id: d for d in db.session.execute(select(Document).where(Document.case_id == case_id)).scalars()}


@bp.get("/cases/<case_id>/transfer-packages")
def case_packages(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    if not actor.can(permissions.TRANSFERS_READ):
        raise NotFound("case")  # the same answer as for a case that does not exist
    case = access_case(actor, case_id)
    child = case.child
    docs = _documents(case.id)
    rows = transfers.transfers_of_case(case)
    incoming = [t for t in rows if t.direction == "incoming" and t.received_case_id == case.id]
    outgoing = [t for t in rows if t.direction == "outgoing" and not t.receiver_on_platform]
    history = next((d for d in docs.values() if d.kind == "transfer_record" and d.filename == HISTORY_FILENAME), None)
    return render_template(
        "transfers/package_case.html", title=f"Transfer packages: {child.full_name}", case=case, child=child,
        incoming=incoming, outgoing=outgoing, docs=docs, history=history,
        received=request.args.get("received") == "1" and bool(incoming),
        can_import=actor.can(permissions.TRANSFERS_WRITE),
        has_downloads=_endpoint("plans.download_document"), has_case_page=_endpoint("cases.view"),
        moved_words=MOVED_WORDS, today=clock.today(),
    )


#: How the counts of what moved read on the page.
MOVED_WORDS = {"plan_versions": "Plan versions", "issued_versions": "Issued plans", "advice": "Pieces of advice",
               "documents": "Documents", "contacts": "Contacts with parental responsibility",
               "events": "Steps in the previous council's record"}
