"""Council staff pages for the portals (issue #4 items 3, 4, 6 and 7): who has access to a
child's records, inviting parents and carers, young people, professionals and SENCOs,
sending an invitation again, withdrawing access, consent given another way, and what has
been sent in through the portals on a case.

Staff only, like the other casework pages: anyone else is sent to the staff sign-in. Every
child and case comes through ``access_child`` / ``access_case`` first (another council's id
is the same 404 as a made-up one), every membership, consent and submission through the
``access_*`` functions of ``core.portal.access``, and every change through its services.
Giving access (every invitation), sending an invitation again, taking access away, and consent
are sensitive: they need a sign-in from the last 15 minutes (``fresh_sign_in_required``),
asked for before the form is shown, so nothing typed is lost.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from core import clock, permissions
from core.cases.access import access_case
from core.cases.models import Case
from core.cases.reviews import is_young_person
from core.cases.services import active_case_of, policy_from_settings
from core.children.access import access_child
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.models import Membership
from core.portal import access as service
from core.submissions.models import Submission, SubmissionKind
from core.timescales import TimescalePolicy
from web.context import current_actor, require_staff, require_tenant
from web.ui import event_forms as words
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text
from web.ui.sessions import fresh_sign_in_required

bp = Blueprint("access", __name__)

STATUS_TAGS = {
    "invited": ("Invited", "govuk-tag--blue"),
    "active": ("Has access", "govuk-tag--green"),
    "expired": ("Expired", "govuk-tag--grey"),
    "revoked": ("Withdrawn", "govuk-tag--red"),
    "ended": ("Advice returned", "govuk-tag--grey"),
}
ADVICE_WORDS = {"educational": "Educational advice", "medical": "Medical advice", "psychological": "Psychological advice",
                "social_care": "Social care advice", "other": "Advice"}
ROLE_WORDS = {"parent": "Parent or carer", "young_person": "Young person", "senco": "SENCO",
              "professional": "Professional"}


bp.before_request(require_staff)


def _require(permission: str) -> None:
    if not current_actor().can(permission):
        raise Forbidden(permission)


def _policy() -> TimescalePolicy:
    return policy_from_settings(require_tenant().settings)


def _send(membership: Membership, token: str) -> None:
    service.send_invitation(membership, council=require_tenant().name,
                            url=url_for("portal.invitation", token=token, _external=True))


def _child_for_write(child_id: str) -> Any:
    """The child (read: the record itself is not changed), for someone who may give access."""
    actor = current_actor()
    child = access_child(actor, child_id)
    _require(permissions.CASES_WRITE)
    return child


# ---------------------------------------------------------------------------------------
# People with access


@bp.get("/children/<child_id>/access")
def people(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = access_child(actor, child_id)
    today = clock.today()
    entries = service.people_with_access(actor, child, today=today)
    consents = service.consents_of(actor, child)
    case = active_case_of(child) if actor.can(permissions.CASES_READ) else None
    return render_template(
        "access/people.html", title=f"People with access to {child.full_name}'s records", child=child,
        entries=entries, consents=[(c, service.consent_given_by(c)) for c in consents], case=case,
        can_write=actor.can(permissions.CASES_WRITE), tags=STATUS_TAGS, roles=ROLE_WORDS,
        young_person=is_young_person(child.date_of_birth, today), young_person_from=service.young_person_from(child),
        candidates=service.parent_candidates(child), has_school=bool(service.current_urns(child, today)),
    )


# ---------------------------------------------------------------------------------------
# Inviting


def _invited(membership: Membership, token: str, child_id: Any) -> Any:
    _send(membership, token)
    flash(f"Invitation sent to {membership.invited_email}", "success")
    return redirect(url_for("access.people", child_id=child_id))


@bp.route("/children/<child_id>/access/parent", methods=["GET", "POST"])
@fresh_sign_in_required
def invite_parent(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _child_for_write(child_id)
    candidates = service.parent_candidates(child)
    others = [c for c in child.contacts if c not in candidates]
    errors = FormErrors()
    chosen = request.args.get("contact", "")
    status = 200
    if request.method == "POST":
        chosen = text(request.form, "contact")
        try:
            membership, token = service.invite_parent(actor, child, chosen)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
            status = 400
        except Conflict as exc:
            errors.add("contact", exc.message)
            status = 409
        else:
            return _invited(membership, token, child.id)
    first = f"contact-{candidates[0].id}" if candidates else "contact"
    return render_template(
        "access/invite_parent.html", title="Which parent or carer do you want to invite?", child=child,
        candidates=candidates, others=others, chosen=chosen, errors=errors,
        error_list=errors.summary(anchors={"contact": first}),
    ), status


@bp.route("/children/<child_id>/access/young-person", methods=["GET", "POST"])
@fresh_sign_in_required
def invite_young_person(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _child_for_write(child_id)
    today = clock.today()
    errors = FormErrors()
    email = ""
    status = 200
    if request.method == "POST":
        email = text(request.form, "email")
        try:
            membership, token = service.invite_young_person(actor, child, email, today=today)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
            status = 400
        except Conflict as exc:
            errors.add("email", exc.message)
            status = 409
        else:
            return _invited(membership, token, child.id)
    return render_template(
        "access/invite_young_person.html", title=f"Invite {child.full_name}", child=child, email=email,
        eligible=is_young_person(child.date_of_birth, today), eligible_from=service.young_person_from(child),
        errors=errors, error_list=errors.summary(),
    ), status


@bp.route("/children/<child_id>/access/senco", methods=["GET", "POST"])
@fresh_sign_in_required
def invite_senco(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _child_for_write(child_id)
    today = clock.today()
    schools = sorted({p.urn: p.institution.name for p in child.placements if p.is_current(today)}.items())
    errors = FormErrors()
    values = {"urn": str(schools[0][0]) if len(schools) == 1 else "", "email": ""}
    status = 200
    if request.method == "POST":
        values = {"urn": text(request.form, "urn"), "email": text(request.form, "email")}
        try:
            membership, token = service.invite_senco(actor, child, values["urn"], values["email"], today=today)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
            status = 400
        except Conflict as exc:
            errors.add("email", exc.message)
            status = 409
        else:
            return _invited(membership, token, child.id)
    return render_template(
        "access/invite_senco.html", title="Invite a SENCO", child=child, schools=schools, values=values,
        errors=errors, error_list=errors.summary(anchors={"urn": f"urn-{schools[0][0]}" if schools else "urn"},
                                                 order=["urn", "email"]),
    ), status


@bp.route("/cases/<case_id>/access/professional", methods=["GET", "POST"])
@fresh_sign_in_required
def invite_professional(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id)
    _require(permissions.CASES_WRITE)
    today = clock.today()
    policy = _policy()
    waiting = service.outstanding_advice(case, policy=policy, today=today)
    defaults = {a.advice_id: service.default_professional_end(case, a.advice_id, policy=policy, today=today)
                for a in waiting}
    case_default = service.default_professional_end(case, None, policy=policy, today=today)
    errors = FormErrors()
    values: dict[str, Any] = {"advice_id": request.args.get("advice_id", ""), "email": "", "ends": {}}
    status = 200
    if request.method == "POST":
        values = {"advice_id": text(request.form, "advice_id"), "email": text(request.form, "email"),
                  "ends": date_parts(request.form, "ends")}
        ends_on, date_error = parse_date(values["ends"], "Date access ends", required=False)
        if date_error:
            errors.add("ends", date_error)
        if values["advice_id"] not in {"case", *defaults}:
            errors.add("advice_id", "Select what they are asked to advise on")
        try:
            service.check_email(values["email"])
        except ValidationFailed as exc:
            errors.merge(exc.errors)
        if errors:
            status = 400
        else:
            try:
                membership, token = service.invite_professional(
                    actor, case, values["email"], advice_id=None if values["advice_id"] == "case" else values["advice_id"],
                    policy=policy, ends_on=ends_on, today=today)
            except ValidationFailed as exc:
                errors.merge(exc.errors, rename={"ends_on": "ends"})
                status = 400
            except Conflict as exc:
                errors.add("email", exc.message)
                status = 409
            else:
                return _invited(membership, token, case.child_id)
    first = f"advice_id-{waiting[0].advice_id}" if waiting else "advice_id-case"
    return render_template(
        "access/invite_professional.html", title="Invite a professional", case=case, child=case.child,
        waiting=waiting, defaults=defaults, case_default=case_default, values=values, advice_words=ADVICE_WORDS,
        errors=errors, ends_items=date_items(values["ends"], "ends" in errors),
        error_list=errors.summary(anchors={"advice_id": first, "ends": "ends-day"}, order=["advice_id", "email", "ends"]),
    ), status


# ---------------------------------------------------------------------------------------
# Sending again, withdrawing


def _choose_membership(child_id: str, *, action: str, eligible, act, done, pick_error: str,  # type: ignore[no-untyped-def]
                       **page):
    """One page for "choose a person, then act on their access": resend and revoke differ only
    in which memberships qualify, what is done and the words around it."""
    actor = current_actor()
    child = _child_for_write(child_id)
    entries = [e for e in service.people_with_access(actor, child) if eligible(e)]
    errors = FormErrors()
    chosen = request.values.get("membership", "")
    status = 200
    if request.method == "POST":
        chosen = text(request.form, "membership")
        try:
            membership = service.access_membership(actor, child, chosen)
            outcome = act(actor, membership)
        except NotFound:
            errors.add("membership", pick_error)
            status = 400
        except Conflict as exc:
            errors.add("membership", exc.message)
            status = 409
        else:
            flash(done(membership, outcome), "success")
            return redirect(url_for("access.people", child_id=child.id))
    return render_template(
        "access/choose.html", child=child, action=action, entries=entries, chosen=chosen, errors=errors,
        roles=ROLE_WORDS,
        error_list=errors.summary(anchors={"membership": f"membership-{entries[0].membership.id}" if entries
                                           else "membership"}),
        **page,
    ), status


def _resend_and_send(actor, membership):  # type: ignore[no-untyped-def]
    token = service.resend_invitation(actor, membership)
    _send(membership, token)


@bp.route("/children/<child_id>/access/resend", methods=["GET", "POST"])
@fresh_sign_in_required
def resend(child_id: str):  # type: ignore[no-untyped-def]
    return _choose_membership(
        child_id, action="resend", eligible=lambda e: e.can_resend, act=_resend_and_send,
        done=lambda m, _: f"Invitation sent again to {m.invited_email}. The link in the earlier email no longer works.",
        pick_error="Select the invitation to send again",
        title="Which invitation do you want to send again?", button="Send the invitation again",
        empty="There are no invitations waiting to be accepted.",
        warning="A new link is sent. The link in the earlier email stops working.",
    )


@bp.route("/children/<child_id>/access/revoke", methods=["GET", "POST"])
@fresh_sign_in_required
def revoke(child_id: str):  # type: ignore[no-untyped-def]
    return _choose_membership(
        child_id, action="revoke", eligible=lambda e: e.live, act=service.revoke_access,
        done=lambda m, _: f"Access withdrawn for {m.invited_email}. They can no longer see anything it gave them.",
        pick_error="Select whose access to withdraw",
        title="Whose access do you want to withdraw?", button="Withdraw access",
        empty="Nobody has access, or an invitation waiting, to withdraw.",
        warning="They lose access straight away. An invitation not yet accepted stops working.",
    )


# ---------------------------------------------------------------------------------------
# Consent


@bp.route("/children/<child_id>/consents/new", methods=["GET", "POST"])
@fresh_sign_in_required
def record_consent(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _child_for_write(child_id)
    errors = FormErrors()
    values = {"recipient": "", "purpose": ""}
    status = 200
    if request.method == "POST":
        values = {"recipient": text(request.form, "recipient"), "purpose": text(request.form, "purpose")}
        try:
            consent = service.record_consent(actor, child, **values)
        except ValidationFailed as exc:
            errors.merge(exc.errors)
            status = 400
        else:
            flash(f"Consent to share with {consent.recipient} recorded", "success")
            return redirect(url_for("access.people", child_id=child.id, _anchor="consent"))
    return render_template(
        "access/consent_form.html", title="Record consent to share information", child=child, values=values,
        errors=errors, error_list=errors.summary(order=["recipient", "purpose"]),
    ), status


@bp.route("/children/<child_id>/consents/withdraw", methods=["GET", "POST"])
@fresh_sign_in_required
def withdraw_consent(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    child = _child_for_write(child_id)
    live = [c for c in service.consents_of(actor, child) if c.revoked_at is None]
    errors = FormErrors()
    chosen = request.values.get("consent", "")
    status = 200
    if request.method == "POST":
        chosen = text(request.form, "consent")
        try:
            consent = service.access_consent(actor, child, chosen)
            service.withdraw_consent(actor, consent)
        except NotFound:
            errors.add("consent", "Select the consent that has been withdrawn")
            status = 400
        except Conflict as exc:
            errors.add("consent", exc.message)
            status = 409
        else:
            flash(f"Consent to share with {consent.recipient} withdrawn", "success")
            return redirect(url_for("access.people", child_id=child.id, _anchor="consent"))
    return render_template(
        "access/withdraw_consent.html", title="Which consent has been withdrawn?", child=child, consents=live,
        chosen=chosen, errors=errors,
        error_list=errors.summary(anchors={"consent": f"consent-{live[0].id}" if live else "consent"}),
    ), status


# ---------------------------------------------------------------------------------------
# Sent in through the portals


def _kind_text(s: Submission) -> str:
    label = s.kind.label if isinstance(s.kind, SubmissionKind) else str(s.kind)
    if s.kind == SubmissionKind.DRAFT_COMMENT and s.section:
        return f"{label}: section {s.section}"
    if s.kind == SubmissionKind.ADVICE:
        return f"{ADVICE_WORDS.get(str((s.body or {}).get('advice')), 'Advice')} (reference {s.section})" \
            if s.section else label
    return label


@bp.get("/cases/<case_id>/submissions")
def submissions(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id)
    rows = service.case_submissions(actor, case)
    return render_template(
        "access/submissions.html", title="Sent in through the portal", case=case, child=case.child,
        rows=[(s, _kind_text(s)) for s in rows], roles=ROLE_WORDS,
    )


@bp.route("/cases/<case_id>/submissions/<submission_id>", methods=["GET", "POST"])
def submission(case_id: str, submission_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id)
    found = service.access_submission(actor, case, submission_id)
    if request.method == "POST":
        _require(permissions.CASES_WRITE)
        if service.acknowledge(actor, found):
            flash(f"‘{_kind_text(found)}’ from {found.submitted_by_name} marked as dealt with", "success")
        return redirect(url_for("access.submissions", case_id=case.id))
    event = service.submission_event(found)
    return render_template(
        "access/submission.html", title=_kind_text(found), case=case, child=case.child, s=found,
        fields=service.describe_body(found), documents=service.submission_documents(found), roles=ROLE_WORDS,
        event_title=words.event_title(event.type) if event else None, event=event,
        acknowledged_by=service.acknowledged_by_name(found), can_write=actor.can(permissions.CASES_WRITE),
        has_downloads="plans.download_document" in current_app.view_functions,
    )


# ---------------------------------------------------------------------------------------
# For other pages' templates


@bp.app_template_global("portal_waiting_count")
def portal_waiting_count(case: Case) -> int:
    """How many things sent in through the portals on ``case`` nobody has dealt with yet
    (the case page's link). The case has been accessed by the page that shows it."""
    return service.waiting_count(current_actor(), case)


@bp.app_template_filter("text_lines")
def text_lines(value: str | None) -> Markup:
    """Text someone typed, escaped, with its line breaks kept (for summary list values)."""
    return Markup("<br>").join(escape(line) for line in str(value or "").splitlines())


@bp.app_template_filter("access_last_day")
def access_last_day(value: dt.datetime) -> dt.date:
    return service.last_day(value)
