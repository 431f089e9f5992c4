"""The parent, carer and young person portal (issue #4 items 6 and 7).

One page per child (``/portal/family/children/<child_id>``) shows where the EHC case is up to:
its stage, what happens next and by when (with the law in small print), the named contact and
the timeline. From it the family can send their views for Section A, ask for an assessment (or
a re-assessment), comment on a draft plan section by section while the window is open, name a
preferred school or college, ask for a personal budget, see who can see the case and who has
looked at it, and give or withdraw consent to share.

Every page goes through ``core.portal.family`` with the person's own scoped actor: another
council's child, another family's child and a made-up id are the same 404. Forms follow the
GOV.UK patterns (error summary, nothing changed on bad input: any response of 400 or more is
rolled back by the app); giving or withdrawing consent needs a recent sign-in
(``fresh_sign_in_required``).
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for

from core import clock
from core.cases.access import access_case
from core.cases.services import policy_from_settings
from core.documents.services import ACCEPTED, MAX_BYTES, documents_of_case, download_headers, download_link, read_document
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.plans.content import (
    ADVICE_KINDS, AREAS, LIST_KEY, NEED_SECTIONS, PFA_AREAS, PRIMARY_NEEDS, PROVISION_SECTIONS, SECTION_DESCRIPTIONS,
    SECTION_TITLES, SECTIONS, has_content, item_label, item_refs, placement_text,
)
from core.portal import family as portal
from core.submissions.models import SubmissionKind
from core.timescales import TimescalePolicy
from web.context import require_tenant
from web.ui.forms import FormErrors
from web.ui.portal import identity_actor, require_identity, require_role
from web.ui.sessions import fresh_sign_in_required

bp = Blueprint("portal_family", __name__, url_prefix="/portal/family")
bp.before_request(require_identity)

#: The session key holding the id of what was just sent (for the confirmation panel).
JUST_SENT = "family_just_sent"
FAMILY = ("parent", "young_person")
FILES_HINT = f"Optional. Up to {portal.MAX_FILES} files: {ACCEPTED}, each smaller than {MAX_BYTES // (1024 * 1024)}MB."


def _actor():  # type: ignore[no-untyped-def]
    actor = identity_actor()
    assert actor is not None
    return actor


def _policy() -> TimescalePolicy:
    return policy_from_settings(require_tenant().settings)


def _team() -> dict[str, Any]:
    settings = require_tenant().settings
    return {"team_email": settings.get("send_team_email") or None,
            "team_phone": settings.get("send_team_phone") or None}


def _uploads(name: str = "files") -> list[portal.Upload]:
    return [portal.Upload(filename=f.filename or "document", data=f.read())
            for f in request.files.getlist(name) if f is not None and f.filename]


def _form(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _sent(submission_id: Any, child_id: Any) -> Any:
    session[JUST_SENT] = str(submission_id)
    return redirect(url_for("portal_family.sent", child_id=child_id))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    # The plan pages' section macros (plans/_macros.html) read these names.
    return {"SECTION_TITLES": SECTION_TITLES, "SECTION_DESCRIPTIONS": SECTION_DESCRIPTIONS, "AREAS": AREAS,
            "PRIMARY_NEEDS": PRIMARY_NEEDS, "PFA_AREAS": PFA_AREAS, "ADVICE_KINDS": ADVICE_KINDS, "LIST_KEY": LIST_KEY,
            "NEED_SECTIONS": NEED_SECTIONS, "PROVISION_SECTIONS": PROVISION_SECTIONS, "placement_text": placement_text,
            "item_label": item_label, "has_content": has_content, "FILES_HINT": FILES_HINT}


def _whose(family: portal.FamilyChild) -> str:
    """"your" for the young person themselves, "Ella's" for a parent."""
    return "your" if family.is_young_person_themselves else f"{family.name}’s"


# ---------------------------------------------------------------------------------------
# The children, and one child's case


@bp.get("/")
@require_role(*FAMILY)
def index():  # type: ignore[no-untyped-def]
    children = portal.family_children(_actor())
    return render_template("portal/family/index.html", title="Your EHC needs assessments and plans", children=children)


@bp.get("/children/<child_id>")
@require_role(*FAMILY)
def child(child_id: str):  # type: ignore[no-untyped-def]
    o = portal.overview(_actor(), child_id, policy=_policy(), **_team())
    title = ("Your EHC needs assessment and plan" if o.family.is_young_person_themselves
             else f"{o.family.child.full_name}: EHC needs assessment and plan")
    return render_template("portal/family/child.html", title=title, o=o, family=o.family, whose=_whose(o.family),
                           contact_words=portal.contact_words(o.contact), today=clock.today())


# ---------------------------------------------------------------------------------------
# Views for Section A


@bp.route("/children/<child_id>/views", methods=["GET", "POST"])
@require_role(*FAMILY)
def views(child_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    family = portal.access_family_child(actor, child_id)
    fields = portal.views_fields(family)
    errors = FormErrors()
    values = {name: "" for name, _ in fields}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name, _ in fields}
        try:
            submission = portal.submit_views(actor, family.child.id, values, _uploads())
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        else:
            return _sent(submission.id, family.child.id)
    return render_template(
        "portal/family/views.html", title="Your views" if family.is_young_person_themselves
        else f"{family.name}’s views, and yours", family=family, fields=fields, values=values, errors=errors,
        error_list=errors.summary(order=[*(n for n, _ in fields), "files"]), whose=_whose(family),
        max_chars=portal.VIEWS_MAX,
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# Asking for an assessment or a re-assessment


@bp.route("/children/<child_id>/request-assessment", methods=["GET", "POST"])
@require_role(*FAMILY)
def request_assessment(child_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    family, case, kind = portal.request_options(actor, child_id)
    errors = FormErrors()
    values = {"reasons": "", "support_so_far": ""}
    status = 200
    if request.method == "POST" and kind is None:
        status = 409  # the page says why: a request is already under way; nothing is sent
    elif request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            submission = portal.request_assessment(actor, family.child.id, values, _uploads(), policy=_policy())
        except ValidationFailed as exc:
            errors.merge(exc.errors)
            status = 400
        except Conflict as exc:
            errors.add(exc.field or "reasons", exc.message)
            status = 409
        else:
            return _sent(submission.id, family.child.id)
    title = ("Ask for a re-assessment" if kind == "reassessment" else "Ask for an EHC needs assessment")
    return render_template(
        "portal/family/request_assessment.html", title=title, family=family, case=case, kind=kind, values=values,
        errors=errors, error_list=errors.summary(order=["reasons", "support_so_far", "files"]), whose=_whose(family),
        already=portal.already_asked(family, case) if kind is None and case is not None else None,
        max_chars=portal.REASONS_MAX, contact_words=portal.contact_words(portal.NamedContact(None, **_team())),
    ), status


# ---------------------------------------------------------------------------------------
# The draft plan and comments on it


@bp.get("/children/<child_id>/draft-plan")
@require_role(*FAMILY)
def draft_plan(child_id: str):  # type: ignore[no-untyped-def]
    draft = portal.draft_for_comment(_actor(), child_id, policy=_policy(), **_team())
    content = draft.content
    return render_template(
        "portal/family/draft_plan.html", title=_draft_title(draft), draft=draft, family=draft.family,
        content=content, refs=item_refs(content), sections=SECTIONS, whose=_whose(draft.family),
        closed=None if draft.window else portal.closed_window_words(draft), documents=_documents(draft.case),
    )


def _documents(case: Any) -> dict[str, Any]:
    """The case's documents a family may open, by id (for section K's advice links)."""
    if case is None:
        return {}
    return {str(d.id): d for d in documents_of_case(case.id) if d.kind in portal.FAMILY_DOCUMENT_KINDS}


def _draft_title(draft: portal.DraftForComment) -> str:
    shown = draft.window or draft.last_window
    if shown is not None and shown.kind == "amendment":
        return "Comment on the changes to the plan"
    return "Comment on the draft plan"


@bp.route("/children/<child_id>/draft-plan/<section>", methods=["GET", "POST"])
@require_role(*FAMILY)
def comment(child_id: str, section: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    draft = portal.draft_for_comment(actor, child_id, policy=_policy(), **_team())
    if section not in SECTIONS:
        raise NotFound("section")
    errors = FormErrors()
    value, meeting = "", False
    status = 200
    if request.method == "POST" and draft.window is None:
        status = 409  # the page says when the window was and whom to contact; nothing is sent
    elif request.method == "POST":
        value, meeting = request.form.get("comment", ""), request.form.get("meeting") == "yes"
        try:
            portal.comment_on_draft(actor, draft.family.child.id, section, request.form, policy=_policy(), **_team())
        except ValidationFailed as exc:
            errors.merge(exc.errors)
            status = 400
        except Conflict as exc:
            errors.add("comment", exc.message)
            status = 409
        else:
            flash(f"Your comment on section {section}, {SECTION_TITLES[section].lower()}, has been sent", "success")
            return redirect(url_for("portal_family.draft_plan", child_id=draft.family.child.id) + f"#section-{section}")
    content = draft.content
    return render_template(
        "portal/family/comment.html", title=f"Section {section}: {SECTION_TITLES[section]}", draft=draft,
        family=draft.family, section=section, content=content, refs=item_refs(content), value=value, meeting=meeting,
        errors=errors, error_list=errors.summary(), whose=_whose(draft.family), max_chars=portal.COMMENT_MAX,
        closed=None if draft.window else portal.closed_window_words(draft),
        mine=draft.comments.get(section, []), documents=_documents(draft.case),
    ), status


# ---------------------------------------------------------------------------------------
# A preferred school or college; a personal budget


@bp.route("/children/<child_id>/preferred-school", methods=["GET", "POST"])
@require_role(*FAMILY)
def preferred_school(child_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    family = portal.access_family_child(actor, child_id)
    errors = FormErrors()
    values = {"name": "", "urn": "", "reason": ""}
    status = 200
    open_now = portal.has_active_case(family)
    if request.method == "POST" and not open_now:
        status = 409  # the page says an assessment comes first; nothing is sent
    elif request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            submission = portal.preferred_school(actor, family.child.id, values, policy=_policy())
        except ValidationFailed as exc:
            errors.merge(exc.errors)
            status = 400
        except Conflict as exc:
            errors.add(exc.field or "name", exc.message)
            status = 409
        else:
            return _sent(submission.id, family.child.id)
    return render_template(
        "portal/family/preferred_school.html", title="Ask for a school or college", family=family, values=values,
        errors=errors, error_list=errors.summary(order=["name", "urn", "reason"]), whose=_whose(family),
        max_chars=portal.REASONS_MAX, open_now=open_now,
    ), status


@bp.route("/children/<child_id>/personal-budget", methods=["GET", "POST"])
@require_role(*FAMILY)
def personal_budget(child_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    family = portal.access_family_child(actor, child_id)
    errors = FormErrors()
    values: dict[str, Any] = {"areas": [], "way": "", "details": ""}
    status = 200
    open_now = portal.personal_budget_open(family)
    if request.method == "POST" and not open_now:
        status = 409  # the page says when a personal budget can be asked for; nothing is sent
    elif request.method == "POST":
        values = {"areas": request.form.getlist("areas"), "way": _form("way"),
                  "details": request.form.get("details", "")}
        try:
            submission = portal.request_personal_budget(actor, family.child.id, values)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
            status = 400
        except Conflict as exc:
            errors.add(exc.field or "areas", exc.message)
            status = 409
        else:
            return _sent(submission.id, family.child.id)
    return render_template(
        "portal/family/personal_budget.html", title="Ask for a personal budget", family=family, values=values,
        errors=errors, error_list=errors.summary(order=["areas", "way", "details"], anchors={"areas": "areas",
                                                                                             "way": "way"}),
        areas=portal.BUDGET_AREAS, ways=portal.BUDGET_WAYS, whose=_whose(family), max_chars=portal.REASONS_MAX,
        open_now=open_now, refusal=portal.budget_refusal(family),
    ), status


# ---------------------------------------------------------------------------------------
# What the family has sent (and the confirmation of what they just sent)


@bp.get("/children/<child_id>/sent")
@require_role(*FAMILY)
def sent(child_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    family, rows = portal.sent_submissions(actor, child_id)
    just = session.pop(JUST_SENT, None)
    latest = next(((s, d) for s, d in rows if str(s.id) == just), None)
    due = None
    if latest is not None and latest[0].kind == SubmissionKind.ASSESSMENT_REQUEST and latest[0].case_id is not None:
        due = portal.decision_due(access_case(actor, latest[0].case_id), policy=_policy())
    return render_template("portal/family/sent.html", title="What you have sent", family=family, rows=rows,
                           latest=latest, due=due, whose=_whose(family), kinds=SubmissionKind,
                           budget_areas=portal.BUDGET_AREAS, budget_ways=portal.BUDGET_WAYS)


@bp.get("/children/<child_id>/documents/<document_id>")
@require_role(*FAMILY)
def document(child_id: str, document_id: str) -> Response:
    """A document the family may open, as an attachment, never rendered inline. Audited."""
    actor = _actor()
    doc = portal.access_family_document(actor, child_id, document_id)
    # Issue #5: with S3, a 5-minute presigned link made only now, after the access check.
    link = download_link(actor, doc)
    if link is not None:
        response = redirect(link, code=303)
        response.headers["Cache-Control"] = "no-store"
        return response
    return Response(read_document(actor, doc), mimetype=doc.content_type, headers=download_headers(doc))


# ---------------------------------------------------------------------------------------
# Who can see the case, and who has looked


@bp.get("/children/<child_id>/who-can-see")
@require_role(*FAMILY)
def who_can_see(child_id: str):  # type: ignore[no-untyped-def]
    listing = portal.who_has_access(_actor(), child_id)
    return render_template("portal/family/who_can_see.html", title="Who can see the case", listing=listing,
                           family=listing.family, whose=_whose(listing.family))


@bp.get("/children/<child_id>/who-has-looked")
@require_role(*FAMILY)
def who_has_looked(child_id: str):  # type: ignore[no-untyped-def]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    mine = request.args.get("mine") == "1"
    family, looks, total = portal.who_has_looked(_actor(), child_id, page=page, include_own=mine)
    pages = max(1, math.ceil(total / portal.LOOKS_PER_PAGE))
    if page > pages:  # past the end (an old link): the last page instead
        return redirect(url_for("portal_family.who_has_looked", child_id=family.child.id, page=pages,
                                **({"mine": 1} if mine else {})))
    return render_template("portal/family/who_has_looked.html", title="Who has looked at the record", family=family,
                           looks=looks, total=total, page=page, pages=pages, mine=mine, whose=_whose(family),
                           per_page=portal.LOOKS_PER_PAGE)


# ---------------------------------------------------------------------------------------
# Consent to share (item 7): per recipient, revocable; giving or withdrawing needs a recent sign-in


@bp.get("/children/<child_id>/sharing")
@require_role(*FAMILY)
def sharing(child_id: str):  # type: ignore[no-untyped-def]
    family, consents, may_decide = portal.consents_of(_actor(), child_id)
    return render_template("portal/family/sharing.html", title="Sharing information", family=family,
                           consents=consents, may_decide=may_decide, whose=_whose(family))


def _give_page(family: portal.FamilyChild, values: dict[str, str], errors: FormErrors,
               status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("portal/family/give_consent.html", title="Agree to share information", family=family,
                           values=values, errors=errors, error_list=errors.summary(order=["recipient", "purpose"]),
                           whose=_whose(family)), status


@bp.get("/children/<child_id>/sharing/new")
@require_role(*FAMILY)
def give_consent(child_id: str):  # type: ignore[no-untyped-def]
    family, _consents, may_decide = portal.consents_of(_actor(), child_id)
    if not may_decide:
        return redirect(url_for("portal_family.sharing", child_id=family.child.id))
    return _give_page(family, {"recipient": "", "purpose": ""}, FormErrors())


@bp.post("/children/<child_id>/sharing/new")
@require_role(*FAMILY)
@fresh_sign_in_required
def give_consent_post(child_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    family = portal.access_family_child(actor, child_id)
    values = {"recipient": request.form.get("recipient", ""), "purpose": request.form.get("purpose", "")}
    try:
        portal.give_consent(actor, family.child.id, values)
    except ValidationFailed as exc:
        errors = FormErrors()
        errors.merge(exc.errors)
        return _give_page(family, values, errors, 400)
    flash(f"You have agreed to share information with {values['recipient'].strip()}", "success")
    return redirect(url_for("portal_family.sharing", child_id=family.child.id))


def _stop_page(family: portal.FamilyChild, consents: list[portal.ConsentView], chosen: str, errors: FormErrors,
               status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("portal/family/stop_sharing.html", title="Stop sharing information", family=family,
                           consents=consents, chosen=chosen, errors=errors,
                           error_list=errors.summary(anchors={"consent_id": "consent_id"}),
                           whose=_whose(family)), status


@bp.get("/children/<child_id>/sharing/stop")
@require_role(*FAMILY)
def stop_sharing(child_id: str):  # type: ignore[no-untyped-def]
    family, consents, may_decide = portal.consents_of(_actor(), child_id)
    if not may_decide:
        return redirect(url_for("portal_family.sharing", child_id=family.child.id))
    return _stop_page(family, consents, request.args.get("consent", ""), FormErrors())


@bp.post("/children/<child_id>/sharing/stop")
@require_role(*FAMILY)
@fresh_sign_in_required
def stop_sharing_post(child_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    family, consents, _may = portal.consents_of(actor, child_id)
    chosen = _form("consent_id")
    match = next((c for c in consents if str(c.consent.id) == chosen), None)
    if match is None:
        errors = FormErrors()
        errors.add("consent_id", "Select who you want to stop sharing with")
        return _stop_page(family, consents, chosen, errors, 400)
    portal.revoke_consent(actor, family.child.id, match.consent.id)
    flash(f"You have stopped sharing information with {match.recipient}", "success")
    return redirect(url_for("portal_family.sharing", child_id=family.child.id))


def _parents_page(listing: portal.AccessList, chosen: str, errors: FormErrors,
                  status: int = 200):  # type: ignore[no-untyped-def]
    waiting = [p for p in listing.people if p.status == "needs_agreement"]
    title = ("Let a parent or carer see your case" if listing.family.is_young_person_themselves
             else f"Seeing {listing.family.name}’s case")
    return render_template("portal/family/parent_access.html", title=title,
                           family=listing.family, waiting=waiting, chosen=chosen, errors=errors,
                           error_list=errors.summary(anchors={"identity_id": "identity_id"}),
                           whose=_whose(listing.family)), status


@bp.get("/children/<child_id>/sharing/parents")
@require_role(*FAMILY)
def parent_access(child_id: str):  # type: ignore[no-untyped-def]
    listing = portal.who_has_access(_actor(), child_id)
    return _parents_page(listing, request.args.get("identity", ""), FormErrors())


@bp.post("/children/<child_id>/sharing/parents")
@require_role(*FAMILY)
@fresh_sign_in_required
def parent_access_post(child_id: str):  # type: ignore[no-untyped-def]
    actor = _actor()
    listing = portal.who_has_access(actor, child_id)
    chosen = _form("identity_id")
    if not listing.family.is_young_person_themselves:
        raise Forbidden("portal:young_person")  # the decision is the young person's (CFA 2014 s27 onwards)
    match = next((p for p in listing.people if p.status == "needs_agreement" and str(p.identity_id) == chosen), None)
    if match is None:
        errors = FormErrors()
        errors.add("identity_id", "Select the parent or carer you agree can see your case")
        return _parents_page(listing, chosen, errors, 400)
    portal.agree_parent_access(actor, listing.family.child.id, match.identity_id)  # type: ignore[arg-type]
    flash(f"{match.name} can now see your case", "success")
    return redirect(url_for("portal_family.who_can_see", child_id=listing.family.child.id))
