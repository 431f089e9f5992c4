"""Caseworker pages for disagreements (issue 6 item 3): a case's mediation, appeals,
disagreement resolution referrals and complaints; one page per dispute with its timeline and
clocks; one page per step (a check-answers page for the weighty ones: a Tribunal order, its
decision, conceding an appeal, closing); and the managers' disputes workbench.

The pages sit on core/disagreements/services.py (H3): every statutory step is recorded as its
api-v1 case event there, so the clocks are the timescale engine's. Every object comes through
``access_case`` / ``access_disagreement`` (another council's is the same 404 as a missing
one); bad input shows the GOV.UK error summary and answers 400, and the request boundary rolls
back whatever a 4xx started. Reading needs ``disagreements.read``, changing
``disagreements.write``, the workbench ``disagreements.oversee``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from core import clock, permissions
from core.cases import services as cases
from core.cases.access import access_case
from core.disagreements import services as disputes
from core.disagreements.access import access_disagreement
from core.disagreements.models import Disagreement
from core.errors import ValidationFailed
from core.ids import parse_id
from web.context import current_actor, require_staff, require_tenant
from web.ui.forms import FormErrors, date_items, date_parts, parse_date, text

bp = Blueprint("disagreements", __name__)
bp.before_request(require_staff)

# ---------------------------------------------------------------------------------------
# Words

KIND_NAMES = {"mediation": "Mediation", "appeal": "Appeal to the Tribunal",
              "dr_referral": "Disagreement resolution referral", "complaint": "Complaint"}
KIND_HINTS = {
    "mediation": "About a decision the family can appeal: the mediation adviser, certificates, mediation within "
                 "30 days and any agreement (SEND Regulations 2014 regulations 32 to 42)",
    "appeal": "To the First-tier Tribunal (SEND): registration, the council's response, hearing, decision and "
              "orders (CFA 2014 section 51; regulations 44 and 45)",
    "dr_referral": "An independent service for wider disagreements, for example with a school or health "
                   "(CFA 2014 section 57). It does not affect appeal rights",
    "complaint": "The council's complaints procedure, then the Local Government and Social Care Ombudsman",
}
DECISION_NAMES = {"refuse_assess": "Refusal to assess", "not_issue": "Refusal to issue a plan",
                  "plan_content": "Content of the plan", "refuse_reassess": "Refusal to re-assess",
                  "refuse_amend": "Refusal to amend the plan", "cease": "Decision to cease the plan",
                  "name_school": "School or placement named (section I) only"}
GROUND_NAMES = {"refuse_assess": "Refusal to assess (s51(2)(a))", "not_issue": "Refusal to issue a plan (s51(2)(b))",
                "plan_content_b": "Plan content: special educational needs, section B (s51(2)(c)(ii))",
                "plan_content_f": "Plan content: special educational provision, section F (s51(2)(c)(iii))",
                "plan_content_i": "Plan content: school or placement named, section I (s51(2)(c)(i))",
                "refuse_reassess": "Refusal to re-assess (s51(2)(d))", "refuse_amend": "Refusal to amend (s51(2)(e))",
                "cease": "Decision to cease the plan (s51(2)(f))"}
PARTY_NAMES = {"school": "A school", "college": "A college", "early_years": "An early years setting",
               "health": "Health services", "social_care": "Social care", "council": "The council", "other": "Other"}
STAGE_NAMES = {"stage_1": "Council stage 1", "stage_2": "Council stage 2",
               "lgsco": "Local Government and Social Care Ombudsman", "nhs": "NHS complaints procedure",
               "phso": "Parliamentary and Health Service Ombudsman", "school": "School complaints procedure",
               "secretary_of_state": "Secretary of State (Education Act 1996 sections 496 and 497)"}
OUTCOME_NAMES = {"dismissed": "Dismissed (the council's decision stands)", "allowed": "Allowed",
                 "allowed_in_part": "Allowed in part", "withdrawn": "Withdrawn by the family",
                 "conceded": "Conceded by the council"}
ORDER_NAMES = {"assess": "Carry out an EHC needs assessment or re-assessment",
               "issue_plan": "Make and maintain an EHC plan", "amend": "Amend the plan (sections B, F or other content)",
               "name_school": "Change only the school or placement named (section I)",
               "continue": "Continue to maintain the plan", "cease": "The plan ceases (appeal against ceasing dismissed)"}
MEDIATION_OUTCOMES = {"resolved": "Resolved", "partly_resolved": "Partly resolved", "not_resolved": "Not resolved"}
COMPLAINT_OUTCOMES = {"upheld": "Upheld", "partly_upheld": "Partly upheld", "not_upheld": "Not upheld",
                      "withdrawn": "Withdrawn", "out_of_remit": "Outside the remit"}
YES_NO = {"yes": "Yes", "no": "No"}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # date, date_optional, yes_no, choice, text, longtext, lines
    label: str
    hint: str = ""
    choices: Mapping[str, str] | None = None
    required: bool = False
    #: The message when a required field is left out.
    error: str = ""


@dataclass(frozen=True)
class Step:
    key: str
    name: str
    #: What the date of the step means.
    date_label: str
    hint: str = ""
    fields: tuple[Field, ...] = ()
    #: Weighty: shown on a check-answers page before it is recorded.
    check: bool = False


STEPS: dict[str, Step] = {s.key: s for s in (
    Step("mediation_requested", "The family want mediation", "Date the council was told",
         "Mediation must take place within 30 days of the council being told (regulations 35 and 36).",
         (Field("includes_health", "yes_no", "Does the mediation include health care?", choices=YES_NO, required=True,
                error="Select yes if the mediation includes health care",
                hint="If yes, the council must tell the health body (ICB) within 3 working days (regulation 36)"),
          Field("health_bodies", "lines", "Health bodies (ICBs) involved", "One on each line"))),
    Step("mediation_declined", "The family do not want mediation", "Date the mediation adviser was told",
         "The adviser must issue a certificate within 3 working days (regulation 34)."),
    Step("mediation_health_notified", "The health body was told of the mediation", "Date the health body was told",
         "Regulation 36: the issues and the health provision the family want.",
         (Field("health_bodies", "lines", "Health bodies (ICBs) told", "One on each line"),)),
    Step("mediation_arranged", "Mediation arranged", "Date it was arranged",
         fields=(Field("arranged_for", "date", "Date of the mediation", required=True),
                 Field("provider", "text", "Mediation provider"), Field("mediator", "text", "Mediator"))),
    Step("mediation_not_arranged_notified", "The council cannot arrange mediation within 30 days",
         "Date the council told the mediation adviser",
         "The adviser must then issue a certificate within 3 working days (regulation 37)."),
    Step("mediation_concluded", "Mediation took place", "Date of the mediation",
         "The mediation adviser must issue a certificate within 3 working days (regulation 39).",
         (Field("outcome", "choice", "Outcome", choices=MEDIATION_OUTCOMES),)),
    Step("mediation_agreement_made", "Mediation agreement", "Date of the agreement",
         "Regulation 42: a matter that cannot be appealed must be acted on within 2 weeks; an appealable one "
         "within the Tribunal order limits.",
         (Field("appealable", "yes_no", "Is the agreement about something that can be appealed?", choices=YES_NO,
                required=True, error="Select yes if the agreement is about something that can be appealed"),
          Field("requires", "choice", "If it can be appealed, what does the agreement require?", choices=ORDER_NAMES,
                hint="Regulation 42(2): it must be carried out within the time limit for the matching Tribunal order"),
          Field("la_party", "yes_no", "Was the council a party to the agreement?", choices=YES_NO),
          Field("agreed_due", "date_optional", "A different date the parties agreed in writing (optional)",
                "Regulation 42(5)"),
          Field("text", "longtext", "What was agreed"))),
    Step("mediation_agreement_actioned", "The council acted on the agreement", "Date it was done"),
    Step("mediation_agreement_la_notified", "The health body told the council of the agreement",
         "Date the council was told", "Regulation 42(4): within 1 week."),
    Step("mediation_certificate_issued", "Mediation certificate issued", "Date on the certificate",
         "The family can appeal up to 1 month after this date, if that is later than 2 months after the decision."),
    Step("appeal_registered", "Appeal registered by the Tribunal", "Date the Tribunal registered the appeal",
         fields=(Field("response_due", "date_optional", "Date the council's response is due (optional)",
                       "From the Tribunal's registration letter. If left out, 30 Tribunal working days is shown"),
                 Field("lodged_on", "date_optional", "Date the family sent the appeal (optional)",
                       "If earlier than registration"),
                 Field("late_permission_granted", "yes_no", "Did the Tribunal admit the appeal late?", choices=YES_NO),
                 Field("tribunal_reference", "text", "Tribunal reference"))),
    Step("appeal_response_submitted", "The council's response sent to the Tribunal", "Date it was sent"),
    Step("appeal_unopposed", "The council will not oppose the appeal", "Date the council told the Tribunal",
         "Regulation 45: the council must then act within fixed limits, counted from this date.",
         (Field("decision", "choice", "What the council concedes",
                "If left out, it is taken from the appeal", choices=DECISION_NAMES),), check=True),
    Step("hearing_listed", "Hearing date set", "Date the hearing was listed",
         fields=(Field("hearing_on", "date", "Date of the hearing", required=True),)),
    Step("appeal_decided", "The Tribunal's decision", "Date of the decision",
         fields=(Field("outcome", "choice", "What did the Tribunal decide?", choices=OUTCOME_NAMES, required=True,
                       error="Select what the Tribunal decided"),),
         check=True),
    Step("tribunal_order_made", "Tribunal order", "Date the order was made",
         "Regulation 44: the council must do what the order says within fixed limits, counted from this date.",
         (Field("order", "choice", "What does the order require?", choices=ORDER_NAMES, required=True,
                error="Select what the order requires"),
          Field("requires", "longtext", "Details of the order")), check=True),
    Step("dr_meeting_held", "Disagreement resolution meeting held", "Date of the meeting"),
    Step("dr_concluded", "Outcome of disagreement resolution", "Date it ended",
         fields=(Field("outcome", "longtext", "What was the outcome?", required=True, error="Enter the outcome"),)),
    Step("complaint_stage_received", "A complaint stage started", "Date it was received",
         fields=(Field("stage", "choice", "Which stage?", choices=STAGE_NAMES, required=True,
                       error="Select which stage of the complaint started"),
                 Field("reference", "text", "Reference"))),
    Step("complaint_stage_responded", "A complaint stage answered", "Date of the answer",
         fields=(Field("stage", "choice", "Which stage?", choices=STAGE_NAMES, required=True,
                       error="Select which stage was answered"),
                 Field("outcome", "choice", "Outcome", choices=COMPLAINT_OUTCOMES, required=True,
                       error="Select the outcome"),
                 Field("remedy", "longtext", "Remedy offered"))),
    Step("disagreement_closed", "Close the disagreement", "Date it closed",
         fields=(Field("reason", "longtext", "Why is it closing?"),), check=True),
)}

STATUS_TAGS = {"open": ("Open", "govuk-tag--blue"), "met": ("Done", "govuk-tag--green"),
               "missed": ("Overdue", "govuk-tag--red"), "suspended": ("Paused", "govuk-tag--grey")}


def _policy() -> disputes.DisagreementPolicy:
    return disputes.policy_from_settings(require_tenant().settings)


def _can(permission: str) -> bool:
    return current_actor().can(permission)


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def clock_view(c: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """A clock (api-v1 deadline shape) in words for the tables."""
    last = _date(c.get("last_compliant_day") or c["due"])
    assert last is not None
    status = c["status"]
    done = "met_on" in c
    if status == "open" and not done and last < today:
        status = "missed"
    tag, tag_class = STATUS_TAGS.get(status, (status, ""))
    if c.get("guidance"):
        kind = "Guidance, not statutory"
    elif c.get("statutory"):
        kind = "Statutory"
    else:
        kind = "Council target, not statutory"
    detail = ""
    if done:
        detail = f"Done on {_date(c['met_on']):%-d %B %Y}"  # type: ignore[str-format]
    elif status == "open":
        days = (last - today).days
        detail = "Due today" if days == 0 else f"{days} day{'s' if days != 1 else ''} left"
    elif status == "missed":
        days = (today - last).days
        detail = f"{days} day{'s' if days != 1 else ''} late"
    hint = _date(c.get("non_working_day_hint"))
    return {"key": c["key"], "label": c.get("label") or c["key"], "citation": c.get("citation", ""), "kind": kind,
            "statutory": bool(c.get("statutory")) and not c.get("guidance"), "last": last,
            "due_text": f"{last:%A} {last.day} {last:%B %Y}", "tag": tag, "tag_class": tag_class, "detail": detail,
            "note": c.get("note"), "provisional": bool(c.get("provisional")),
            "hint": f"Falls on a non-working day: act by {hint:%A} {hint.day} {hint:%B %Y}" if hint else None,
            "ref": c.get("ref")}


def _describe(d: Disagreement) -> str:
    name = KIND_NAMES[d.kind]
    if d.decision:
        name += f": {DECISION_NAMES.get(d.decision, d.decision).lower()}"
    return name


def suggested_steps(d: Disagreement, orders: list[Any], stages: list[Any]) -> list[Step]:
    """The steps that can come next in this dispute (the service still checks every one)."""
    if d.status != "open":
        return []
    keys: list[str] = []
    if d.kind == "mediation":
        if d.wants_mediation is None:
            keys += ["mediation_requested", "mediation_declined"]
        elif d.wants_mediation is False:
            if d.certificate_issued_on is None:
                keys.append("mediation_certificate_issued")
        else:
            if d.includes_health and d.health_notified_on is None:
                keys.append("mediation_health_notified")
            if d.held_on is None:
                if d.arranged_for is None:
                    keys.append("mediation_arranged")
                if d.not_arranged_notified_on is None:
                    keys.append("mediation_not_arranged_notified")
                keys.append("mediation_concluded")
            if d.certificate_issued_on is None and (d.held_on or d.not_arranged_notified_on):
                keys.append("mediation_certificate_issued")
            if d.held_on is not None and d.agreement_made_on is None:
                keys.append("mediation_agreement_made")
            if d.agreement_made_on is not None and d.agreement_actioned_on is None:
                keys.append("mediation_agreement_actioned")
            if d.agreement_la_party is False:
                keys.append("mediation_agreement_la_notified")
    elif d.kind == "appeal":
        if d.registered_on is None:
            keys.append("appeal_registered")
        elif d.decided_on is None:
            if d.response_submitted_on is None and d.conceded_on is None:
                keys += ["appeal_response_submitted", "appeal_unopposed"]
            keys += ["hearing_listed", "appeal_decided"]
        elif d.appeal_outcome != "withdrawn":
            keys.append("tribunal_order_made")
    elif d.kind == "dr_referral":
        if d.meeting_on is None:
            keys.append("dr_meeting_held")
        if d.outcome is None:
            keys.append("dr_concluded")
    elif d.kind == "complaint":
        keys.append("complaint_stage_received")
        if any(s.responded_on is None for s in stages):
            keys.append("complaint_stage_responded")
    keys.append("disagreement_closed")
    return [STEPS[k] for k in keys]


# ---------------------------------------------------------------------------------------
# A case's disagreements


@bp.get("/cases/<case_id>/disagreements")
def case_disagreements(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id)
    if not actor.can(permissions.DISAGREEMENTS_READ):
        abort(404)
    today = clock.today()
    policy = _policy()
    rows = disputes.disagreements_of_case(actor, case)
    deadlines = cases.deadlines_of(case, policy=policy.timescales, today=today)
    items = []
    for d in rows:
        clocks = [clock_view(c, today) for c in disputes.clocks_of(d, policy=policy, today=today, deadlines=deadlines)]
        items.append({"d": d, "name": _describe(d), "open_clocks": [c for c in clocks
                                                                    if c["tag"] in ("Open", "Overdue")]})
    letters_sent = disputes.decision_letters_of(case)
    from core.disagreements.letters import sent_letters

    return render_template(
        "disagreements/case.html", title=f"Disagreements: {case.child.full_name}", case=case, child=case.child,
        items=items, letters_sent=letters_sent, documents=sent_letters(case), decision_names=DECISION_NAMES,
        kind_names=KIND_NAMES, can_write=actor.can(permissions.DISAGREEMENTS_WRITE),
        can_send_letter=actor.can(permissions.DISAGREEMENTS_WRITE) and actor.can(permissions.CASES_WRITE), today=today,
        has_downloads="plans.download_document" in current_app.view_functions)


@bp.route("/cases/<case_id>/disagreements/new", methods=["GET", "POST"])
def choose_kind(case_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id)
    if not actor.can(permissions.DISAGREEMENTS_WRITE):
        abort(404)
    errors = FormErrors()
    if request.method == "POST":
        kind = text(request.form, "kind")
        if kind in KIND_NAMES:
            return redirect(url_for("disagreements.open_kind", case_id=case.id, kind=kind))
        errors.add("kind", "Choose what kind of disagreement to record")
    return render_template("disagreements/choose_kind.html", title="Record a disagreement", case=case,
                           child=case.child, kinds=KIND_NAMES, hints=KIND_HINTS, errors=errors,
                           error_list=errors.summary()), (400 if errors else 200)


OPEN_ORDER = ["decision_event_id", "grounds", "parties", "stage", "opened_on", "lodged_on", "referred_on", "aware_on",
              "summary", "tribunal_reference", "reference", "provider", "owner_id"]


@bp.route("/cases/<case_id>/disagreements/new/<kind>", methods=["GET", "POST"])
def open_kind(case_id: str, kind: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    case = access_case(actor, case_id)
    if not actor.can(permissions.DISAGREEMENTS_WRITE) or kind not in KIND_NAMES:
        abort(404)
    today = clock.today()
    letters_sent = disputes.decision_letters_of(case)
    staff = [u for u in cases.assignable_staff()
             if permissions.DISAGREEMENTS_WRITE in permissions.permissions_for_role(u.role)]
    errors = FormErrors()
    values: dict[str, Any] = {"decision_event_id": str(letters_sent[-1].id) if letters_sent else "",
                              "owner_id": actor.id if actor.kind == "user" else "", "grounds": [], "parties": [],
                              "stage": "stage_1"}
    dates: dict[str, dict[str, str]] = {"opened_on": {"day": str(today.day), "month": str(today.month),
                                                      "year": str(today.year)}}
    if request.method == "POST":
        values = {k: text(request.form, k) for k in ("decision_event_id", "summary", "tribunal_reference", "reference",
                                                     "provider", "owner_id", "stage")}
        values["grounds"] = request.form.getlist("grounds")
        values["parties"] = request.form.getlist("parties")
        data: dict[str, Any] = {"kind": kind}
        for name, label, required in (("opened_on", "Date it started", True), ("lodged_on", "Date the appeal was sent",
                                                                               False),
                                      ("referred_on", "Date of the referral", False),
                                      ("aware_on", "Date the complainant became aware", False)):
            dates[name] = date_parts(request.form, name)
            value, error = parse_date(dates[name], label, required=required)
            if error:
                errors.add(name, error)
            elif value is not None:
                data[name] = value
        if kind in ("mediation", "appeal"):
            if values["decision_event_id"]:
                data["decision_event_id"] = values["decision_event_id"]
        if kind == "appeal":
            data["grounds"] = values["grounds"]
            if values["tribunal_reference"]:
                data["tribunal_reference"] = values["tribunal_reference"]
        if kind == "dr_referral":
            data["parties"] = values["parties"]
            if values["provider"]:
                data["provider"] = values["provider"]
        if kind == "complaint":
            data["stage"] = values["stage"] or "stage_1"
            if values["reference"]:
                data["reference"] = values["reference"]
        if values["summary"]:
            data["summary"] = values["summary"]
        if values["owner_id"]:
            data["owner_id"] = values["owner_id"]
        for name in ("lodged_on", "referred_on", "aware_on"):
            if name in data and not ((name == "lodged_on" and kind == "appeal") or (name == "referred_on" and kind ==
                                                                                    "dr_referral")
                                     or (name == "aware_on" and kind == "complaint")):
                data.pop(name)
        if not errors:
            try:
                d = disputes.open_disagreement(actor, case, data, policy=_policy(), today=today)
            except ValidationFailed as exc:
                errors.merge(exc.errors)
            else:
                flash(f"{KIND_NAMES[kind]} recorded.", "success")
                return redirect(url_for("disagreements.view", disagreement_id=d.id))
    anchors = {n: f"{n}-day" for n in ("opened_on", "lodged_on", "referred_on", "aware_on")}
    return render_template(
        "disagreements/open.html", title=f"Record: {KIND_NAMES[kind].lower()}", case=case, child=case.child,
        kind=kind, kind_name=KIND_NAMES[kind], hint=KIND_HINTS[kind], letters_sent=letters_sent,
        decision_names=DECISION_NAMES, grounds=GROUND_NAMES, parties=PARTY_NAMES, stages=STAGE_NAMES, staff=staff,
        values=values, errors=errors, error_list=errors.summary(anchors=anchors, order=OPEN_ORDER),
        date_items={n: date_items(dates.get(n, {}), n in errors)
                    for n in ("opened_on", "lodged_on", "referred_on", "aware_on")},
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# One disagreement


@bp.get("/disagreements/<disagreement_id>")
def view(disagreement_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    d = access_disagreement(actor, disagreement_id)
    today = clock.today()
    case = disputes.case_of(d)
    steps = disputes.steps_of(d)
    orders = disputes.orders_of(d)
    stages = disputes.complaint_stages_of(d)
    clocks = [clock_view(c, today) for c in disputes.clocks_of(d, policy=_policy(), today=today)]
    owner = None
    if d.owner_id is not None:
        from core.users.services import staff_names

        owner = staff_names([str(d.owner_id)]).get(str(d.owner_id))
    can_write = actor.can(permissions.DISAGREEMENTS_WRITE) and d.status == "open"
    return render_template(
        "disagreements/view.html", title=_describe(d), d=d, case=case, child=disputes.child_of(d),
        steps=timeline(d, steps),
        step_names={k: s.name for k, s in STEPS.items()}, orders=orders, order_names=ORDER_NAMES, stages=stages,
        stage_names=STAGE_NAMES, complaint_outcomes=COMPLAINT_OUTCOMES, outcome_names=OUTCOME_NAMES,
        clocks_running=[c for c in clocks if c["tag"] in ("Open", "Overdue")],
        clocks_done=[c for c in clocks if c["tag"] not in ("Open", "Overdue")], owner=owner,
        next_steps=suggested_steps(d, orders, stages) if can_write else [], can_write=can_write,
        kind_name=KIND_NAMES[d.kind], decision_names=DECISION_NAMES, grounds=GROUND_NAMES, parties=PARTY_NAMES,
        mediation_outcomes=MEDIATION_OUTCOMES, today=today,
        grounds_text=", ".join(GROUND_NAMES.get(g, g) for g in d.grounds or []),
        parties_text=", ".join(PARTY_NAMES.get(p, p) for p in d.parties or []))


def _read_step(step: Step) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, str]], FormErrors]:
    """The posted step: (the service's step dict, what was typed, date parts, errors)."""
    errors = FormErrors()
    form = request.form
    typed: dict[str, Any] = {}
    parts = {"date": date_parts(form, "date")}
    out: dict[str, Any] = {"type": step.key}
    day, error = parse_date(parts["date"], step.date_label)
    if error:
        errors.add("date", error)
    elif day is not None:
        out["date"] = day.isoformat()
    for f in step.fields:
        if f.kind in ("date", "date_optional"):
            parts[f.name] = date_parts(form, f.name)
            value, error = parse_date(parts[f.name], f.label.replace(" (optional)", ""), required=f.kind == "date")
            if error:
                errors.add(f.name, error)
            elif value is not None:
                out[f.name] = value.isoformat()
            continue
        raw = (form.get(f.name) or "").strip()
        typed[f.name] = raw
        if not raw:
            if f.required:
                errors.add(f.name, f.error or (f"Select {f.label[0].lower() + f.label[1:].rstrip('?')}" if f.choices
                                               else f"Enter {f.label[0].lower() + f.label[1:].rstrip('?')}"))
            continue
        if f.kind == "yes_no":
            if raw not in YES_NO:
                errors.add(f.name, "Select yes or no")
            else:
                out[f.name] = raw == "yes"
        elif f.kind == "choice":
            if f.choices is not None and raw not in f.choices:
                errors.add(f.name, f"Select {f.label[0].lower() + f.label[1:].rstrip('?')}")
            else:
                out[f.name] = raw
        elif f.kind == "lines":
            out[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        else:
            out[f.name] = raw
    return out, typed, parts, errors


def _answers(step: Step, posted: Mapping[str, Any]) -> list[dict[str, str]]:
    """The check-answers rows of a step."""
    rows = [{"key": step.date_label, "value": _long(posted.get("date")), "field": "date"}]
    for f in step.fields:
        value = posted.get(f.name)
        if value is None or value == "" or value == []:
            shown = "Not given"
        elif f.kind == "yes_no":
            shown = "Yes" if value else "No"
        elif f.kind == "choice" and f.choices is not None:
            shown = f.choices.get(value, value)
        elif f.kind in ("date", "date_optional"):
            shown = _long(value)
        elif f.kind == "lines":
            shown = "; ".join(value)
        else:
            shown = str(value)
        rows.append({"key": f.label.replace(" (optional)", ""), "value": shown, "field": f.name})
    return rows


def timeline(d: Disagreement, steps: list[Any]) -> list[dict[str, Any]]:
    """The dispute's story, newest first: each step with its details in words, and the day
    it was opened (in date order with the steps, which may be dated earlier)."""
    out = []
    for s in steps:
        step = STEPS.get(s.type)
        details = []
        if step is not None:
            for f in step.fields:
                value = (s.attributes or {}).get(f.name)
                if value is None or value == "" or value == []:
                    continue
                if f.kind == "yes_no":
                    shown = "Yes" if value else "No"
                elif f.kind == "choice" and f.choices is not None:
                    shown = f.choices.get(value, value)
                elif f.kind in ("date", "date_optional"):
                    shown = _long(value)
                elif f.kind == "lines":
                    shown = "; ".join(value)
                else:
                    shown = str(value)
                details.append((f.label.replace(" (optional)", "").rstrip("?"), shown))
        out.append({"date": s.date, "what": step.name if step else s.type, "details": details, "seq": 1})
    out.append({"date": d.opened_on, "what": f"{KIND_NAMES[d.kind]} recorded", "details": [], "seq": 0})
    return sorted(out, key=lambda e: (e["date"], e["seq"]), reverse=True)


def _long(value: Any) -> str:
    day = _date(value)
    return f"{day:%A} {day.day} {day:%B %Y}" if day else "Not given"


@bp.route("/disagreements/<disagreement_id>/steps/<step_type>", methods=["GET", "POST"])
def record_step(disagreement_id: str, step_type: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    d = access_disagreement(actor, disagreement_id, for_write=True)
    if step_type not in STEPS or step_type not in disputes.step_types_for(d.kind):
        abort(404)
    step = STEPS[step_type]
    today = clock.today()
    errors = FormErrors()
    typed: dict[str, Any] = {}
    parts: dict[str, dict[str, str]] = {"date": {}}
    if request.method == "POST":
        posted, typed, parts, errors = _read_step(step)
        action = request.form.get("action", "continue")
        if not errors and step.check and action == "continue":
            return render_template(
                "disagreements/check.html", title=f"Check before recording: {step.name.lower()}", d=d,
                child=disputes.child_of(d), step=step, rows=_answers(step, posted), kind_name=KIND_NAMES[d.kind],
                hidden=[(k, v) for k, v in request.form.items(multi=True)
                        if k not in ("csrf_token", "action")])
        if not errors and action in ("continue", "confirm"):
            try:
                disputes.record_step(actor, d, posted, policy=_policy(), today=today)
            except ValidationFailed as exc:
                errors.merge(exc.errors, rename={"type": "date"})
            else:
                flash(f"Recorded: {step.name}.", "success")
                return redirect(url_for("disagreements.view", disagreement_id=d.id))
    anchors = {"date": "date-day", **{f.name: f"{f.name}-day" for f in step.fields
                                      if f.kind in ("date", "date_optional")}}
    order = ["date", *[f.name for f in step.fields]]
    return render_template(
        "disagreements/step.html", title=step.name, d=d, child=disputes.child_of(d), step=step,
        kind_name=KIND_NAMES[d.kind], typed=typed, errors=errors, error_list=errors.summary(anchors=anchors,
                                                                                            order=order),
        date_items={n: date_items(parts.get(n, {}), n in errors)
                    for n in ["date", *[f.name for f in step.fields if f.kind in ("date", "date_optional")]]},
    ), (400 if errors else 200)


# ---------------------------------------------------------------------------------------
# The managers' workbench


@bp.get("/disagreements")
def workbench():  # type: ignore[no-untyped-def]
    actor = current_actor()
    if not actor.can(permissions.DISAGREEMENTS_OVERSEE):
        abort(404)
    today = clock.today()
    errors = FormErrors()
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KIND_NAMES:
        errors.add("kind", "Choose a kind of disagreement from the list")
        kind = None
    staff = [u for u in cases.assignable_staff()
             if permissions.DISAGREEMENTS_WRITE in permissions.permissions_for_role(u.role)]
    owner_raw = request.args.get("owner") or ""
    owner_id: uuid.UUID | None = None
    if owner_raw:
        owner_id = parse_id(owner_raw)
        if owner_id is None or owner_id not in {u.id for u in staff}:
            errors.add("owner", "Choose a caseworker from the list")
            owner_id = None
    within_raw = (request.args.get("within") or "").strip()
    within: int | None = None
    if within_raw:
        if not within_raw.isdigit() or not 0 <= int(within_raw) <= 366:
            errors.add("within", "Enter a number of days from 0 to 366, like 14")
        else:
            within = int(within_raw)
    rows = disputes.workbench(actor, policy=_policy(), today=today, kind=kind, owner_id=owner_id)
    if within is not None:
        horizon = today + dt.timedelta(days=within)
        rows = [r for r in rows if r.next_due is not None and r.next_due <= horizon]
    names = {str(u.id): u.display_name for u in staff}
    shown = [{"row": r, "name": _describe(r.disagreement), "owner": names.get(str(r.disagreement.owner_id)),
              "clocks": [clock_view(c, today) for c in r.clocks]} for r in rows]
    return render_template(
        "disagreements/workbench.html", title="Disputes workbench", rows=shown, kinds=KIND_NAMES, staff=staff,
        filters={"kind": kind or "", "owner": owner_raw if owner_id else "", "within": within_raw},
        errors=errors, error_list=errors.summary(), today=today,
        overdue=sum(1 for r in rows if r.overdue), can_manage_letters=actor.can(permissions.LETTERS_MANAGE),
    ), (400 if errors else 200)


__all__ = ["bp", "STEPS", "clock_view", "suggested_steps"]
