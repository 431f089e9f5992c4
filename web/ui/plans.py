"""Caseworker pages for EHC plans (issue #3 items 5 and 7): the plan section by section, the
editor, the versions with their PDFs, what changed between two versions, and downloading a
document.

The editor follows the GOV.UK "add to a list" pattern: section A, I and J are one form each;
the lists of needs (B, C, D), outcomes (E) and provision (F, G, H1, H2) have a page listing
their items, and one item is added, changed or removed per page, with the needs an outcome
answers (and the outcomes provision delivers) chosen with checkboxes. Every save goes
through ``core.plans.services.edit_draft``, which checks the whole draft (400 here and
nothing saved on any problem); the first save starts a working draft if there is none.
Section K is filled from the case's advice, so it is only shown.

Every object comes through an ``access_*`` function: another council's case, version or
document is the same 404 as a made-up one. Reading needs ``plans.read``; changing needs
``plans.write``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from core import permissions
from core.cases.models import Case, PlanVersion
from core.documents.services import access_document, documents_of_case, download_headers, download_link, read_document
from core.errors import ValidationFailed
from core.plans import services as plans
from core.plans.access import access_plan_case, access_version
from core.plans.content import (
    ADVICE_KINDS, AREAS, LIST_KEY, LIST_SECTIONS, NEED_SECTIONS, PFA_AREAS, PLACEMENT_KINDS, PRIMARY_NEEDS,
    PROVISION_SECTIONS, SECTION_DESCRIPTIONS, SECTION_TITLES, TEXT_MAX, all_needs, describe_errors, find_item,
    has_content, item_label, item_refs, items, linked_to, new_item_id, placement_text, remove_item, with_defaults,
)
from core.plans.diff import diff_content
from core.plans.pdf import STATE_WORDS
from web.context import current_actor, require_staff
from web.ui.forms import FormErrors, text

bp = Blueprint("plans", __name__)

#: What one item of each list section is called.
ITEM_NOUN = {"B": "special educational need", "C": "health care need", "D": "social care need", "E": "outcome",
             **{s: "item of provision" for s in PROVISION_SECTIONS}}
STATE_TAGS = {"draft": ("Working draft", "govuk-tag--yellow"), "served": ("Draft served", "govuk-tag--blue"),
              "issued": ("Issued", "govuk-tag--green")}
_AMOUNT = re.compile(r"^\d{1,8}(\.\d{1,2})?$")


bp.before_request(require_staff)


def _can_write() -> bool:
    return current_actor().can(permissions.PLANS_WRITE)


def case_url(case: Case) -> str:
    """The case page (another engineer's ``cases.view``), or the child's page until it exists."""
    if "cases.view" in current_app.view_functions:
        return url_for("cases.view", case_id=case.id)
    return url_for("children.view", child_id=case.child_id)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"plan_case_url": case_url, "SECTION_TITLES": SECTION_TITLES, "SECTION_DESCRIPTIONS": SECTION_DESCRIPTIONS,
            "AREAS": AREAS, "PRIMARY_NEEDS": PRIMARY_NEEDS, "PFA_AREAS": PFA_AREAS, "ADVICE_KINDS": ADVICE_KINDS,
            "STATE_TAGS": STATE_TAGS, "STATE_WORDS": STATE_WORDS, "ITEM_NOUN": ITEM_NOUN, "LIST_KEY": LIST_KEY,
            "NEED_SECTIONS": NEED_SECTIONS, "PROVISION_SECTIONS": PROVISION_SECTIONS, "placement_text": placement_text,
            "item_label": item_label, "has_content": has_content}


@bp.app_template_filter("plan_paragraphs")
def plan_paragraphs(value: Any) -> Markup:
    """Free text as GOV.UK paragraphs: a blank line starts a new one, a line break is kept."""
    paragraphs = [p.strip() for p in str(value or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
    return Markup("".join(f'<p class="govuk-body">{Markup("<br>").join(escape(p).split(chr(10)))}</p>'
                          for p in paragraphs))


@bp.app_template_filter("plan_date")
def plan_date(value: Any) -> str:
    """A date (or an ISO date string, as plan content holds them) as "20 May 2026"."""
    if not value:
        return ""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day.strftime('%B %Y')}"


def _section_or_404(section: str, allowed: tuple[str, ...] = LIST_SECTIONS) -> str:
    if section not in allowed:
        abort(404)
    return section


def _version_label(v: PlanVersion) -> str:
    when = f", {v.issued_on.day} {v.issued_on.strftime('%B %Y')}" if v.issued_on else ""
    return f"Version {v.number}: {STATE_TAGS[v.state][0].lower()}{when}"


# ---------------------------------------------------------------------------------------
# The plan


@bp.get("/cases/<case_id>/plan")
def plan(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_plan_case(actor, case_id)
    draft = plans.current_draft(case)
    issued = plans.latest_issued(case)
    frozen = plans.latest_frozen(case)
    shown = draft or frozen
    content = plans.working_content(case) if shown else None
    if draft is not None and content is not None:
        # The draft shows today's advice list; it is fixed in a version when that is frozen.
        content["K"] = {"advice": plans.advice_list(case)}
    problems = describe_errors(plans.problems_if_issued(content), content) if draft is not None and content else []
    return render_template(
        "plans/plan.html", title=f"{case.child.full_name}: EHC plan", case=case, child=case.child, draft=draft,
        issued=issued, frozen=frozen, shown=shown, content=content, refs=item_refs(content or {}),
        problems=problems, can_write=_can_write(), version_count=len(plans.versions(case)),
        documents={str(d.id): d for d in documents_of_case(case.id)},
    )


@bp.route("/cases/<case_id>/plan/start", methods=["GET", "POST"])
def start(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_plan_case(actor, case_id, for_write=True)
    draft = plans.current_draft(case)
    base = plans.latest_frozen(case)
    if request.method == "POST" and draft is None:
        draft = plans.start_draft(actor, case)
        flash(f"Version {draft.number} has been started as a working draft", "success")
        return redirect(url_for("plans.plan", case_id=case.id))
    if request.method == "POST":
        return redirect(url_for("plans.plan", case_id=case.id))
    title = "Start an amendment draft" if base is not None and base.state == "issued" else "Start a draft plan"
    return render_template("plans/start.html", title=title, case=case, child=case.child, draft=draft, base=base)


# ---------------------------------------------------------------------------------------
# Section A


@bp.route("/cases/<case_id>/plan/draft/A", methods=["GET", "POST"])
def edit_a(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_plan_case(actor, case_id, for_write=True)
    content = plans.working_content(case)
    values = dict(content["A"])
    errors = FormErrors()
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in values}

        def change(c: dict[str, Any]) -> dict[str, Any]:
            c["A"] = values
            return c

        if _save(actor, case, change, errors, prefix="A."):
            flash("Section A has been saved", "success")
            return redirect(url_for("plans.plan", case_id=case.id, _anchor="section-A"))
    return render_template(
        "plans/edit_a.html", title="Views, interests and aspirations", case=case, child=case.child, values=values,
        errors=errors, error_list=errors.summary(anchors={"plan": "views"}, order=["views", "interests", "aspirations"]),
        new_draft=plans.current_draft(case) is None, base=plans.latest_frozen(case), limit=TEXT_MAX,
    ), (400 if errors else 200)


def _save(actor: Any, case: Case, change: Callable[[dict[str, Any]], dict[str, Any]], errors: FormErrors, *,
          prefix: str | None) -> bool:
    """Save a change to the working draft; on a validation error, put the messages on the
    form's fields (the error paths under ``prefix``) and save nothing. A problem elsewhere in
    the draft (a school since removed from the register) is reported as ``plan``, saying where."""
    try:
        plans.edit_draft(actor, case, change)
    except ValidationFailed as exc:
        for path, messages in exc.errors.items():
            if prefix is not None and path.startswith(prefix) and "." not in path[len(prefix):]:
                errors.add(path[len(prefix):], messages[0])
            else:
                errors.add("plan", describe_errors({path: messages}, {})[0])
        return False
    return True


# ---------------------------------------------------------------------------------------
# Lists: B, C, D, E, F, G, H1, H2


@bp.get("/cases/<case_id>/plan/draft/<section>")
def section(case_id: str, section: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_plan_case(actor, case_id, for_write=True)
    section = _section_or_404(section)
    content = plans.working_content(case)
    return render_template(
        "plans/section.html", title=f"Section {section}: {SECTION_TITLES[section]}", case=case, child=case.child,
        section=section, content=content, entries=items(content, section), refs=item_refs(content),
        new_draft=plans.current_draft(case) is None, base=plans.latest_frozen(case),
    )


def _item_form(section: str) -> dict[str, Any]:
    form = request.form
    values: dict[str, Any] = {"description": form.get("description", "")}
    if section == "B":
        values["area"] = text(form, "area") or None
        values["primary_need"] = text(form, "primary_need") or None
    elif section == "E":
        values["timeframe"] = form.get("timeframe", "")
        values["need_ids"] = form.getlist("need_ids")
        values["pfa_area"] = text(form, "pfa_area") or None
    elif section in PROVISION_SECTIONS:
        for key in ("provider", "frequency", "duration"):
            values[key] = form.get(key, "")
        values["outcome_ids"] = form.getlist("outcome_ids")
    return values


@bp.route("/cases/<case_id>/plan/draft/<section>/item", methods=["GET", "POST"])
def item(case_id: str, section: str):  # type: ignore[no-untyped-def]
    """Add an item (no ``id``) or change one (``?id=``)."""
    actor = current_actor()
    case = access_plan_case(actor, case_id, for_write=True)
    section = _section_or_404(section)
    content = plans.working_content(case)
    item_id = request.args.get("id")
    existing = find_item(content, section, item_id) if item_id else None
    if item_id and existing is None:
        abort(404)
    values: dict[str, Any] = dict(existing) if existing else {}
    errors = FormErrors()
    if request.method == "POST":
        values = _item_form(section)
        if not values["description"].strip():
            errors.add("description", f"Enter the {_what(section)}")
        if section == "B" and not values["area"]:
            errors.add("area", "Select the area of need")
        if not errors:
            new_id = item_id or new_item_id(content, section)
            key = LIST_KEY[section]
            entries = items(content, section)
            index = next((n for n, i in enumerate(entries) if i.get("id") == item_id), len(entries))

            def change(c: dict[str, Any]) -> dict[str, Any]:
                current = c[section][key]
                at = next((n for n, i in enumerate(current) if i.get("id") == new_id), None)
                if at is None:
                    current.append({"id": new_id, **values})
                else:
                    current[at] = {"id": new_id, **values}
                return c

            if _save(actor, case, change, errors, prefix=f"{section}.{key}.{index}."):
                noun = ITEM_NOUN[section]
                flash(f"The {noun} has been {'changed' if existing else 'added'}", "success")
                return redirect(url_for("plans.section", case_id=case.id, section=section))
    noun = ITEM_NOUN[section]
    title = f"{'Change' if existing else 'Add'} {'the' if existing else 'a' if noun[0] not in 'aeiou' else 'an'} {noun}"
    order = ["area", "primary_need", "description", "timeframe", "need_ids", "pfa_area", "provider", "frequency",
             "duration", "outcome_ids"]
    return render_template(
        "plans/item.html", title=title, case=case, child=case.child, section=section, values=values,
        item_id=item_id, errors=errors, error_list=errors.summary(anchors=_ANCHORS, order=order),
        needs=all_needs(content), outcomes=items(content, "E"), refs=item_refs(content),
        new_draft=plans.current_draft(case) is None, base=plans.latest_frozen(case),
    ), (400 if errors else 200)


_ANCHORS = {"area": "area", "need_ids": "need_ids", "outcome_ids": "outcome_ids", "pfa_area": "pfa_area",
            "plan": "description"}


def _what(section: str) -> str:
    if section in NEED_SECTIONS:
        return "description of the need"
    if section == "E":
        return "outcome"
    return "provision: what will be provided"


@bp.route("/cases/<case_id>/plan/draft/<section>/remove", methods=["GET", "POST"])
def remove(case_id: str, section: str):  # type: ignore[no-untyped-def]
    """Remove an item of a list section: choose it (or confirm the one linked with ``?id=``)."""
    actor = current_actor()
    case = access_plan_case(actor, case_id, for_write=True)
    section = _section_or_404(section)
    content = plans.working_content(case)
    chosen = request.args.get("id") or ""
    if chosen and find_item(content, section, chosen) is None:
        abort(404)
    errors = FormErrors()
    if request.method == "POST":
        chosen = text(request.form, "id")
        found = find_item(content, section, chosen) if chosen else None
        if found is None:
            errors.add("id", f"Select the {ITEM_NOUN[section]} to remove")
        elif _save(actor, case, lambda c: remove_item(c, section, chosen), errors, prefix=None):
            flash(f"‘{item_label(found)}’ has been removed", "success")
            return redirect(url_for("plans.section", case_id=case.id, section=section))
    entries = items(content, section)
    refs = item_refs(content)
    hints = {}
    for entry in entries:
        linked = [refs.get(i["id"], i["id"]) for _, i in linked_to(content, section, entry["id"])]
        if linked:
            hints[entry["id"]] = f"Also unlinks it from {', '.join(linked)}"
    return render_template(
        "plans/remove.html", title=f"Which {ITEM_NOUN[section]} do you want to remove?",
        case=case, child=case.child, section=section, entries=entries, chosen=chosen, hints=hints,
        refs=refs, errors=errors, error_list=errors.summary(anchors={"id": "id", "plan": "id"}),
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# Section I and J


@bp.route("/cases/<case_id>/plan/draft/I", methods=["GET", "POST"])
def edit_i(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_plan_case(actor, case_id, for_write=True)
    content = plans.working_content(case)
    placement = content["I"]["placement"]
    values = {"kind": placement.get("kind") or "", "urn": str(placement.get("urn") or ""),
              "type_description": placement.get("type_description") or ""}
    errors = FormErrors()
    if request.method == "POST":
        values = {"kind": text(request.form, "kind"), "urn": text(request.form, "urn"),
                  "type_description": request.form.get("type_description", "")}
        new: dict[str, Any] = {"kind": values["kind"] or None, "urn": None, "type_description": None}
        if values["kind"] not in PLACEMENT_KINDS:
            errors.add("kind", f"Select where {case.child.given_name} will be educated")
        elif values["kind"] == "named":
            if not values["urn"]:
                errors.add("urn", "Enter the URN of the school, college or other institution")
            elif not (values["urn"].isdigit() and len(values["urn"]) == 6):
                errors.add("urn", "Enter a URN of 6 digits, like 118945")
            else:
                new["urn"] = int(values["urn"])
        elif values["kind"] == "type":
            if not values["type_description"].strip():
                errors.add("type_description", "Describe the type of school or institution")
            new["type_description"] = values["type_description"]

        def change(c: dict[str, Any]) -> dict[str, Any]:
            c["I"] = {"placement": new}
            return c

        if not errors and _save(actor, case, change, errors, prefix="I.placement."):
            flash("Section I has been saved", "success")
            return redirect(url_for("plans.plan", case_id=case.id, _anchor="section-I"))
    return render_template(
        "plans/edit_i.html", title=f"Where will {case.child.given_name} be educated?", case=case, child=case.child,
        values=values, placement=placement, errors=errors,
        error_list=errors.summary(anchors={"kind": "kind", "plan": "kind"}, order=["kind", "urn", "type_description"]),
        new_draft=plans.current_draft(case) is None, base=plans.latest_frozen(case),
    ), (400 if errors else 200)


@bp.route("/cases/<case_id>/plan/draft/J", methods=["GET", "POST"])
def edit_j(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_plan_case(actor, case_id, for_write=True)
    budget = plans.working_content(case)["J"]["personal_budget"]
    amount = budget.get("amount")
    values = {"requested": "yes" if budget.get("requested") else "no",
              "amount": "" if amount is None else f"{amount:.2f}",
              "direct_payment": "yes" if budget.get("direct_payment") else "no",
              "arrangements": budget.get("arrangements") or ""}
    errors = FormErrors()
    if request.method == "POST":
        values = {"requested": text(request.form, "requested"),
                  "amount": text(request.form, "amount").replace(",", "").lstrip("£").strip(),
                  "direct_payment": text(request.form, "direct_payment"),
                  "arrangements": request.form.get("arrangements", "")}
        new: dict[str, Any] = {"requested": False, "amount": None, "direct_payment": False, "arrangements": ""}
        if values["requested"] not in ("yes", "no"):
            errors.add("requested", "Select yes if a personal budget has been requested")
        elif values["requested"] == "yes":
            new["requested"] = True
            if values["amount"]:
                if _AMOUNT.match(values["amount"]):
                    new["amount"] = float(values["amount"])
                else:
                    errors.add("amount", "Enter the amount in pounds, like 1200 or 1200.50")
            if values["direct_payment"] not in ("yes", "no"):
                errors.add("direct_payment", "Select yes if any of it is paid as a direct payment")
            new["direct_payment"] = values["direct_payment"] == "yes"
            new["arrangements"] = values["arrangements"]

        def change(c: dict[str, Any]) -> dict[str, Any]:
            c["J"] = {"personal_budget": new}
            return c

        if not errors and _save(actor, case, change, errors, prefix="J.personal_budget."):
            flash("Section J has been saved", "success")
            return redirect(url_for("plans.plan", case_id=case.id, _anchor="section-J"))
    return render_template(
        "plans/edit_j.html", title="Personal budget", case=case, child=case.child, values=values, errors=errors,
        error_list=errors.summary(anchors={"requested": "requested", "direct_payment": "direct_payment",
                                           "plan": "requested"},
                                  order=["requested", "amount", "direct_payment", "arrangements"]),
        new_draft=plans.current_draft(case) is None, base=plans.latest_frozen(case),
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# Versions and what changed


@bp.get("/cases/<case_id>/plan/versions")
def versions(case_id: str):  # type: ignore[no-untyped-def]
    case = access_plan_case(current_actor(), case_id)
    all_versions = list(reversed(plans.versions(case)))
    return render_template(
        "plans/versions.html", title=f"{case.child.full_name}: versions of the EHC plan", case=case, child=case.child,
        versions=all_versions, pdfs=plans.pdf_documents(case), numbers={v.id: v.number for v in all_versions},
    )


@bp.get("/cases/<case_id>/plan/versions/<version_id>")
def version(case_id: str, version_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_plan_case(actor, case_id)
    v = access_version(actor, case, version_id)
    previous = max((o for o in plans.versions(case) if o.number < v.number), key=lambda o: o.number, default=None)
    return render_template(
        "plans/version.html", title=f"{case.child.full_name}: EHC plan version {v.number}", case=case, child=case.child,
        version=v, content=with_defaults(v.content), refs=item_refs(v.content or {}), previous=previous,
        pdf=plans.pdf_documents(case).get(v.id), documents={str(d.id): d for d in documents_of_case(case.id)},
        label=_version_label(v),
    )


@bp.get("/cases/<case_id>/plan/diff")
def diff(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_plan_case(actor, case_id)
    all_versions = plans.versions(case)
    by_id = {str(v.id): v for v in all_versions}
    errors = FormErrors()
    chosen = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    if not chosen["from"] and not chosen["to"] and len(all_versions) >= 2:
        chosen = {"from": str(all_versions[-2].id), "to": str(all_versions[-1].id)}
    changes = None
    if chosen["from"] or chosen["to"]:
        for key, label in (("from", "earlier"), ("to", "later")):
            if chosen[key] not in by_id:
                errors.add(key, f"Select the {label} version")
        if not errors and chosen["from"] == chosen["to"]:
            errors.add("to", "Select a different version to compare with")
        if not errors:
            older, newer = by_id[chosen["from"]], by_id[chosen["to"]]
            changes = diff_content(older.content, newer.content)
    return render_template(
        "plans/diff.html", title=f"{case.child.full_name}: compare versions of the EHC plan", case=case,
        child=case.child, versions=all_versions, chosen=chosen, changes=changes, by_id=by_id,
        labels={str(v.id): _version_label(v) for v in all_versions}, errors=errors,
        error_list=errors.summary(order=["from", "to"]),
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# Documents


@bp.get("/documents/<document_id>")
def download_document(document_id: str) -> Response:
    """Any document of the council the user may read (advice, review papers, plan PDFs),
    as an attachment in its stored type, never rendered inline. Audited as ``document.read``."""
    actor = current_actor()
    doc = access_document(actor, document_id)
    # Issue #5: with S3, a 5-minute presigned link made only now, after the access check.
    link = download_link(actor, doc)
    if link is not None:
        response = redirect(link, code=303)
        response.headers["Cache-Control"] = "no-store"
        return response
    # Personal data: never kept by a browser or proxy cache (download_headers).
    return Response(read_document(actor, doc), mimetype=doc.content_type, headers=download_headers(doc))

