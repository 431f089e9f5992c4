"""Disagreements (issue 6 item 3): mediation, appeals and Tribunal orders, referrals to
disagreement resolution services, complaints (statutory-rules.md §2.6, §8).

Every step the law puts a clock on is recorded as the api-v1 case event it is, through
:func:`core.cases.services.record_event`, in the same transaction as the change to the
dispute: the timescale engine derives the clocks on the case (reg 33 adviser contact, the
certificates of regs 34/37/39, mediation within 30 days, the health notification of reg 36,
the agreement follow-up of reg 42, the appeal deadline of HESC r.20 with the r.12 roll rules,
the council's response, the reg 44 order limits and the reg 45 unopposed-appeal limits), and
the case workflow refuses steps that cannot happen. Each such event carries
``disagreement_id`` (outside the api-v1 vocabulary; the engine ignores it) so a dispute knows
its own events. Steps the law does not time (a hearing listed, a mediation arranged, a
complaint stage) are kept on the dispute only.

Readings of the law chosen here (where the text allows more than one, the one that protects
the child, young person or family):

1. **Referrals to disagreement resolution services (s57; CoP 11.7ff)** have no statutory
   clock, and using one does not affect appeal rights: no deadline is shown for them, and
   opening one never closes or pauses a mediation or appeal clock.
2. **Complaint response targets** are the council's own service standards (tenant settings
   ``complaint_stage_1_working_days`` / ``complaint_stage_2_working_days``, defaults 10 and
   20 working days, counted from the day after receipt), never statutory. The LGSCO's
   12 months from becoming aware (Local Government Act 1974 s26B) is UNVERIFIED and shown as
   guidance only: the Ombudsman may accept a later complaint, so it never blocks anything.
3. **A dispute cannot be closed while a Tribunal order is not complied with** (reg 44): the
   order is enforceable (ss496/497 Education Act 1996), so the workbench must keep showing it.
4. **Placement-only appeals** (section I only) need no mediation certificate (CFA s55(3));
   an appeal is never refused here for want of a certificate: registering it is the
   Tribunal's decision, and the Tribunal may admit late appeals (§8.5).
5. **Unopposed appeals (reg 45)**: when the caseworker does not say which decision is
   conceded, it is taken from the appeal (section I only -> ``name_school``; else the
   decision appealed against), so the limits always start.
6. **An appeal dismissed against cessation** opens ``tribunal_order_cease`` only through an
   order the caseworker records (``tribunal_order_made`` ``cease``); a dismissal alone starts
   no duty, and a withdrawn appeal takes no orders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from core import clock, permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases import services as cases
from core.cases.models import Case, CaseEvent
from core.children.models import Child
from core.db import db
from core.disagreements.access import access_disagreement
from core.disagreements.models import (
    APPEAL_GROUNDS, APPEAL_OUTCOMES, CERTIFICATE_KINDS, COMPLAINT_OUTCOMES, COMPLAINT_STAGES, DR_PARTIES, KINDS,
    MEDIATION_OUTCOMES, ORDER_KINDS, ComplaintStage, Disagreement, DisagreementStep, TribunalOrder,
)
from core.errors import Conflict, Forbidden, ValidationFailed
from core.ids import parse_id
from core.timescales import Deadline, TimescalePolicy, apply_corrections
from core.timescales.calendar import add_months, nth_working_day_after
from core.timescales.events import parse_date
from core.users.models import User

__all__ = [
    "CASE_EVENT_STEPS", "DISPUTE_STEPS", "STEP_KINDS", "DisagreementPolicy", "WorkbenchRow", "access_disagreement",
    "case_of", "child_of", "clocks_of", "complaint_stages_of", "decision_letters_of", "disagreements_of_case",
    "is_open_clock",
    "list_disagreements_page", "open_disagreement", "orders_of", "policy_from_settings", "record_step", "steps_of",
    "step_types_for", "update_disagreement", "workbench",
]

# ---------------------------------------------------------------------------------------
# Policy


@dataclass(frozen=True)
class DisagreementPolicy:
    """What a council chose (tenant settings): its timescale options and complaint targets."""

    timescales: TimescalePolicy = field(default_factory=TimescalePolicy)
    #: Working days for the council's response at each of its own complaint stages (not statutory).
    complaint_stage_1_working_days: int = 10
    complaint_stage_2_working_days: int = 20


def policy_from_settings(settings: Mapping[str, Any]) -> DisagreementPolicy:
    """The council's options from its tenant settings, with the defaults of reading 2."""

    def days(name: str, default: int) -> int:
        try:
            value = int(settings.get(name) or default)
        except (TypeError, ValueError):
            return default
        return value if 1 <= value <= 200 else default

    return DisagreementPolicy(
        timescales=cases.policy_from_settings(settings),
        complaint_stage_1_working_days=days("complaint_stage_1_working_days", 10),
        complaint_stage_2_working_days=days("complaint_stage_2_working_days", 20),
    )


# ---------------------------------------------------------------------------------------
# The step vocabulary

#: Steps recorded as the api-v1 case event of the same name (the engine times them).
CASE_EVENT_STEPS: dict[str, str] = {
    "mediation_requested": "mediation",
    "mediation_declined": "mediation",
    "mediation_health_notified": "mediation",
    "mediation_not_arranged_notified": "mediation",
    "mediation_concluded": "mediation",
    "mediation_agreement_made": "mediation",
    "mediation_agreement_actioned": "mediation",
    "mediation_agreement_la_notified": "mediation",
    "mediation_certificate_issued": "mediation",
    "appeal_registered": "appeal",
    "appeal_response_submitted": "appeal",
    "appeal_unopposed": "appeal",
    "appeal_decided": "appeal",
    "tribunal_order_made": "appeal",
}
#: Steps of the dispute only: the law sets no clock on them.
DISPUTE_STEPS: dict[str, str | None] = {
    "mediation_arranged": "mediation",
    "hearing_listed": "appeal",
    "dr_meeting_held": "dr_referral",
    "dr_concluded": "dr_referral",
    "complaint_stage_received": "complaint",
    "complaint_stage_responded": "complaint",
    "disagreement_closed": None,  # any kind
}
STEP_KINDS: dict[str, str | None] = {**CASE_EVENT_STEPS, **DISPUTE_STEPS}

#: Attributes of each step beyond the engine's own: name -> (kind, required, choices).
_STEP_ATTRS: dict[str, dict[str, tuple[str, bool, tuple[str, ...]]]] = {
    "mediation_requested": {"includes_health": ("bool", False, ()), "health_bodies": ("texts", False, ())},
    "mediation_health_notified": {"health_bodies": ("texts", False, ())},
    "mediation_arranged": {"arranged_for": ("date_any", True, ()), "provider": ("text", False, ()),
                           "mediator": ("text", False, ())},
    "mediation_concluded": {"outcome": ("enum", False, MEDIATION_OUTCOMES)},
    "mediation_agreement_made": {"appealable": ("bool", True, ()), "la_party": ("bool", False, ()),
                                 "agreed_due": ("date_any", False, ()), "text": ("longtext", False, ()),
                                 # Reg 42(2): for an appealable matter, the Tribunal order it amounts to.
                                 "requires": ("enum", False, ("assess", "issue_plan", "amend", "name_school",
                                                              "continue", "cease"))},
    "mediation_certificate_issued": {"certificate_kind": ("enum", False, CERTIFICATE_KINDS)},
    "appeal_registered": {"response_due": ("date_any", False, ()), "lodged_on": ("date", False, ()),
                          "late_permission_granted": ("bool", False, ()), "tribunal_reference": ("text", False, ())},
    "appeal_unopposed": {"decision": ("enum", False, ("refuse_assess", "not_issue", "plan_content", "refuse_reassess",
                                                      "refuse_amend", "cease", "name_school"))},
    "hearing_listed": {"hearing_on": ("date_any", True, ())},
    "appeal_decided": {"outcome": ("enum", True, APPEAL_OUTCOMES)},
    "tribunal_order_made": {"order": ("enum", True, ORDER_KINDS), "requires": ("longtext", False, ())},
    "dr_concluded": {"outcome": ("longtext", True, ())},
    "complaint_stage_received": {"stage": ("enum", True, COMPLAINT_STAGES), "reference": ("text", False, ())},
    "complaint_stage_responded": {"stage": ("enum", True, COMPLAINT_STAGES),
                                  "outcome": ("enum", True, COMPLAINT_OUTCOMES), "remedy": ("longtext", False, ())},
    "disagreement_closed": {"reason": ("longtext", False, ())},
}


def step_types_for(kind: str) -> list[str]:
    """The step types a dispute of ``kind`` accepts, in the order they usually happen."""
    return [t for t, k in STEP_KINDS.items() if k in (kind, None)]


#: Deadline keys (statutory-rules §2.6, §8.6, §8.7) that belong to each kind of dispute.
_MEDIATION_KEYS = frozenset({
    "mediation_adviser_contact", "mediation_certificate", "mediation_arranged", "mediation_health_notification",
    "mediation_certificate_not_arranged", "mediation_certificate_after_mediation", "mediation_agreement_action",
    "mediation_agreement_notify_la", "appeal_deadline",
})


def _appeal_key(key: str) -> bool:
    return key in ("appeal_deadline", "appeal_la_response") or key.startswith(("tribunal_order_", "unopposed_appeal_"))


def _kind_has_key(kind: str, key: str) -> bool:
    if kind == "mediation":
        # Reg 42(2): an agreement on an appealable matter runs on the Tribunal order limits.
        return key in _MEDIATION_KEYS or key.startswith("tribunal_order_")
    if kind == "appeal":
        return _appeal_key(key)
    return False


# ---------------------------------------------------------------------------------------
# Small helpers


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(permission)


def _fmt(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def _date(value: Any, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        errors.setdefault(name, []).append("Give a date (YYYY-MM-DD), not a timestamp")
        return None
    try:
        return parse_date(value)  # strict YYYY-MM-DD, as the event vocabulary
    except ValueError:
        errors.setdefault(name, []).append("Give a real date in the form YYYY-MM-DD")
        return None


def _text(value: Any, name: str, errors: dict[str, list[str]], *, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.setdefault(name, []).append("Give text")
        return None
    value = value.strip()
    if len(value) > limit:
        errors.setdefault(name, []).append(f"Use at most {limit} characters")
        return None
    return value or None


def _list(value: Any, name: str, errors: dict[str, list[str]], choices: Sequence[str] | None = None,
          limit: int = 200) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        errors.setdefault(name, []).append("Give a list of text values")
        return None
    items = [v.strip() for v in value if v.strip()]
    if choices is not None:
        unknown = [v for v in items if v not in choices]
        if unknown:
            errors.setdefault(name, []).append("Choose from: " + ", ".join(choices))
            return None
    if any(len(v) > limit for v in items) or len(items) > 20:
        errors.setdefault(name, []).append(f"Give at most 20 values of at most {limit} characters")
        return None
    return list(dict.fromkeys(items))


def _bool(value: Any, name: str, errors: dict[str, list[str]]) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        errors.setdefault(name, []).append("Give true or false")
        return None
    return value


def case_of(disagreement: Disagreement) -> Case:
    """The dispute's case (the dispute already accessed)."""
    case = db.session.get(Case, disagreement.case_id)
    assert case is not None  # a foreign key
    return case


def child_of(disagreement: Disagreement) -> Child:
    """The dispute's child (the dispute already accessed)."""
    child = db.session.get(Child, disagreement.child_id)
    assert child is not None  # a foreign key
    return child


def _check_owner(user_id: Any) -> uuid.UUID:
    uid = parse_id(user_id) if not isinstance(user_id, uuid.UUID) else user_id
    user = db.session.get(User, uid) if uid is not None else None
    if user is None or not user.active or \
            permissions.DISAGREEMENTS_WRITE not in permissions.permissions_for_role(user.role):
        raise ValidationFailed({"owner_id": ["Choose an active member of staff who can work on disagreements"]})
    return user.id


def _audit(actor: Actor, d: Disagreement, action: str, fields: Iterable[str] = ()) -> None:
    audit.record(actor, action, subject_type="child", subject_ids=[d.child_id], object_type="disagreement",
                 object_id=d.id, fields=fields)


def decision_letters_of(case: Case) -> list[CaseEvent]:
    """The case's current ``decision_letter_sent`` events (corrected ones left out), oldest first."""
    rows = cases.event_rows(case)
    current = {e["id"] for _, e in apply_corrections([r.as_event() for r in rows])}
    return sorted((r for r in rows if r.type == "decision_letter_sent" and str(r.id) in current),
                  key=lambda r: (r.date, r.seq))


# ---------------------------------------------------------------------------------------
# Opening and changing a dispute

#: Fields of a dispute a caseworker may set when opening it or change afterwards, per kind.
_COMMON_FIELDS = ("summary", "owner_id")
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "mediation": ("decision_event_id", "provider", "mediator", "health_bodies", "agreement_text"),
    "appeal": ("decision_event_id", "tribunal_reference", "grounds", "lodged_on"),
    "dr_referral": ("parties", "provider", "referred_on"),
    "complaint": ("stage", "reference", "aware_on"),
}
#: Fields that can only be given when opening (they are the dispute's identity or first step).
_OPENING_ONLY = ("decision_event_id", "stage", "reference", "kind", "opened_on")


def _grounds_fit(decision: str, grounds: Sequence[str]) -> bool:
    if decision == "plan_content":
        return all(g.startswith("plan_content_") for g in grounds)
    return list(grounds) == [decision]


def _clean_fields(kind: str, data: Mapping[str, Any], errors: dict[str, list[str]], *, opening: bool) -> dict[str, Any]:
    allowed = set(_COMMON_FIELDS) | set(_KIND_FIELDS[kind])
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name in ("kind", "opened_on", "case_id"):
            continue
        if name not in allowed or (not opening and name in _OPENING_ONLY):
            errors.setdefault(name, []).append(
                f"A {kind.replace('_', ' ')} does not take this field" if name not in allowed
                else "This is set when the disagreement is opened and cannot be changed")
            continue
        if name == "owner_id":
            out[name] = value  # checked by _check_owner
        elif name in ("summary", "agreement_text"):
            out[name] = _text(value, name, errors, limit=5000)
        elif name in ("provider", "mediator"):
            out[name] = _text(value, name, errors, limit=200)
        elif name in ("tribunal_reference",):
            out[name] = _text(value, name, errors, limit=40)
        elif name == "reference":
            out[name] = _text(value, name, errors, limit=60)
        elif name in ("lodged_on", "referred_on", "aware_on"):
            out[name] = _date(value, name, errors)
        elif name == "health_bodies":
            out[name] = _list(value, name, errors)
        elif name == "grounds":
            out[name] = _list(value, name, errors, APPEAL_GROUNDS)
        elif name == "parties":
            out[name] = _list(value, name, errors, DR_PARTIES)
        elif name == "stage":
            if value not in COMPLAINT_STAGES:
                errors.setdefault(name, []).append("Choose from: " + ", ".join(COMPLAINT_STAGES))
            out[name] = value
        else:  # decision_event_id
            out[name] = value
    return out


def open_disagreement(actor: Actor, case: Case, data: Mapping[str, Any], *, policy: DisagreementPolicy,
                      today: dt.date | None = None) -> Disagreement:
    """Open a dispute about ``case`` (already accessed) and return it.

    ``data`` holds ``kind`` (``mediation``, ``appeal``, ``dr_referral`` or ``complaint``),
    ``opened_on`` (default today) and the fields of that kind: ``summary``, ``owner_id``;
    mediation and appeal: ``decision_event_id`` (a ``decision_letter_sent`` event of the case;
    default the latest); appeal: ``grounds`` (s51(2), required), ``tribunal_reference``,
    ``lodged_on``; dr_referral: ``parties`` (required), ``summary`` (required), ``provider``,
    ``referred_on``; complaint: ``summary`` (required), ``stage`` (default ``stage_1``),
    ``reference``, ``aware_on``. Dates may be ``date`` objects or ``YYYY-MM-DD`` strings.

    Raises :class:`ValidationFailed` (nothing stored) for anything that cannot be right.
    Audited against the child as ``disagreement.opened``.
    """
    _require(actor, permissions.DISAGREEMENTS_WRITE)
    today = today or clock.today()
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValidationFailed({"kind": ["Choose mediation, appeal, dr_referral (disagreement resolution) or "
                                         "complaint"]})
    opened_on = _date(data.get("opened_on"), "opened_on", errors) or today
    if opened_on > today:
        errors.setdefault("opened_on", []).append("The date cannot be in the future")
    fields = _clean_fields(kind, data, errors, opening=True)
    d = Disagreement(case_id=case.id, child_id=case.child_id, kind=kind, status="open", opened_on=opened_on,
                     created_by=actor.id, health_bodies=[], grounds=[], parties=[])
    if kind in ("mediation", "appeal"):
        # Two people opening "the" appeal about one decision at once: hold the case's row so the
        # duplicate check below sees the other's (PostgreSQL; SQLite has one writer anyway).
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
        letters = decision_letters_of(case)
        wanted = fields.get("decision_event_id")
        letter = None
        if wanted is not None:
            wid = parse_id(wanted)
            letter = next((row for row in letters if row.id == wid), None)
            if letter is None:
                errors.setdefault("decision_event_id", []).append(
                    "Choose a decision letter of this case (a decision_letter_sent event)")
        elif letters:
            letter = letters[-1]
        else:
            errors.setdefault("decision_event_id", []).append(
                "Mediation and appeals are about an appealable decision (SEND Regs 2014 regs 32-33): record the "
                "decision letter on the case first")
        if letter is not None:
            d.decision_event_id = letter.id
            d.decision = str(letter.attributes.get("decision"))
            d.decision_sent_on = letter.date
            same = db.session.execute(select(Disagreement.id).where(
                Disagreement.case_id == case.id, Disagreement.kind == kind, Disagreement.status == "open",
                Disagreement.decision_event_id == letter.id)).first()
            if same is not None:
                errors.setdefault("decision_event_id", []).append(
                    f"There is already an open {kind} about this decision: record its steps there")
    if kind == "appeal":
        grounds = fields.get("grounds") or []
        if not grounds and "grounds" not in errors:
            errors.setdefault("grounds", []).append("Say what is appealed (CFA 2014 s51(2))")
        elif d.decision and grounds and not _grounds_fit(d.decision, grounds):
            errors.setdefault("grounds", []).append(
                f"The decision letter was about {d.decision.replace('_', ' ')}: the appeal can only be against it"
                + (" (plan content: sections B, F or I)" if d.decision == "plan_content" else ""))
        lodged = fields.get("lodged_on")
        if lodged is not None and (lodged > today or (d.decision_sent_on and lodged < d.decision_sent_on)):
            errors.setdefault("lodged_on", []).append("The appeal is sent after the decision letter and not in the "
                                                      "future")
    if kind in ("dr_referral", "complaint") and not fields.get("summary") and "summary" not in errors:
        errors.setdefault("summary", []).append("Say what the disagreement is about")
    if kind == "dr_referral" and not fields.get("parties") and "parties" not in errors:
        errors.setdefault("parties", []).append("Say who the disagreement is between")
    for name in ("referred_on", "aware_on"):
        if fields.get(name) is not None and fields[name] > today:
            errors.setdefault(name, []).append("The date cannot be in the future")
    if errors:
        raise ValidationFailed(errors)
    if fields.get("owner_id") is not None:
        d.owner_id = _check_owner(fields["owner_id"])
    for name in ("summary", "provider", "mediator", "agreement_text", "tribunal_reference", "lodged_on",
                 "health_bodies", "grounds", "parties", "aware_on"):
        if fields.get(name) is not None:
            setattr(d, name, fields[name])
    if kind == "dr_referral":
        d.referred_on = fields.get("referred_on") or opened_on
    if kind == "complaint":
        d.aware_on = fields.get("aware_on") or opened_on
    with db.session.begin_nested():
        db.session.add(d)
        db.session.flush()
        if kind == "complaint":
            stage = fields.get("stage") or "stage_1"
            db.session.add(ComplaintStage(disagreement_id=d.id, stage=stage, received_on=opened_on,
                                          reference=fields.get("reference"),
                                          target_due=_stage_target(stage, opened_on, policy)))
            db.session.add(DisagreementStep(disagreement_id=d.id, type="complaint_stage_received", date=opened_on,
                                            attributes={"stage": stage, **({"reference": fields["reference"]}
                                                                           if fields.get("reference") else {})},
                                            recorded_by=actor.id))
            db.session.flush()
    _audit(actor, d, "disagreement.opened", [kind])
    return d


def update_disagreement(actor: Actor, d: Disagreement, data: Mapping[str, Any]) -> list[str]:
    """Change the particulars of a dispute (accessed for write): owner, summary and the
    fields of its kind that are not steps (provider, mediator, tribunal reference, grounds,
    parties, ...). Returns the names of the fields changed. Audited as ``disagreement.updated``.
    Raises :class:`ValidationFailed` (nothing changed)."""
    _require(actor, permissions.DISAGREEMENTS_WRITE)
    errors: dict[str, list[str]] = {}
    fields = _clean_fields(d.kind, data, errors, opening=False)
    if d.kind == "appeal" and "grounds" in fields and "grounds" not in errors:
        if not fields["grounds"]:
            errors.setdefault("grounds", []).append("Say what is appealed (CFA 2014 s51(2))")
        elif d.decision and not _grounds_fit(d.decision, fields["grounds"]):
            errors.setdefault("grounds", []).append("The appeal can only be against the decision in the letter")
    if d.kind == "dr_referral" and "parties" in fields and not fields["parties"] and "parties" not in errors:
        errors.setdefault("parties", []).append("Say who the disagreement is between")
    if errors:
        raise ValidationFailed(errors)
    changed: list[str] = []
    for name, value in fields.items():
        if name == "owner_id":
            value = _check_owner(value) if value not in (None, "") else None
        if name in ("health_bodies", "grounds", "parties") and value is None:
            value = []
        if getattr(d, name) != value:
            setattr(d, name, value)
            changed.append(name)
    if changed:
        _audit(actor, d, "disagreement.updated", changed)
    return changed


# ---------------------------------------------------------------------------------------
# Recording steps


def _clean_step(d: Disagreement, step: Mapping[str, Any], today: dt.date) -> tuple[str, dt.date, dict[str, Any]]:
    if not isinstance(step, Mapping):
        raise ValidationFailed({"type": ["Send a step: {\"type\": ..., \"date\": \"YYYY-MM-DD\", ...}"]})
    errors: dict[str, list[str]] = {}
    kind_of = STEP_KINDS.get(step.get("type"))  # type: ignore[arg-type]
    step_type = str(step.get("type"))
    if step_type not in STEP_KINDS:
        raise ValidationFailed({"type": ["Choose one of: " + ", ".join(step_types_for(d.kind))]})
    if kind_of not in (d.kind, None):
        raise ValidationFailed({"type": [f"A {d.kind.replace('_', ' ')} does not take this step; choose one of: "
                                         + ", ".join(step_types_for(d.kind))]})
    day = _date(step.get("date"), "date", errors)
    if day is None and "date" not in errors:
        errors["date"] = ["Give the date it happened"]
    elif day is not None and day > today:
        errors.setdefault("date", []).append("The date cannot be in the future: record steps once they have happened")
    elif day is not None and d.decision_sent_on is not None and day < d.decision_sent_on:
        errors.setdefault("date", []).append(
            f"The date cannot be before the decision letter ({_fmt(d.decision_sent_on)})")
    attrs: dict[str, Any] = {}
    for name, (kind, required, choices) in _STEP_ATTRS.get(step_type, {}).items():
        value = step.get(name)
        if value is None:
            if required:
                errors.setdefault(name, []).append("This is required")
            continue
        if kind == "bool":
            attrs[name] = _bool(value, name, errors)
        elif kind in ("date", "date_any"):
            parsed = _date(value, name, errors)
            if parsed is not None:
                attrs[name] = parsed.isoformat()
        elif kind == "enum":
            if value not in choices:
                errors.setdefault(name, []).append("Choose from: " + ", ".join(choices))
            else:
                attrs[name] = value
        elif kind == "texts":
            attrs[name] = _list(value, name, errors)
        else:
            attrs[name] = _text(value, name, errors, limit=5000 if kind == "longtext" else 200)
            if required and not attrs[name] and name not in errors:
                errors.setdefault(name, []).append("This is required")
    unknown = set(step) - {"type", "date"} - set(_STEP_ATTRS.get(step_type, {}))
    for name in sorted(unknown):
        errors.setdefault(name, []).append("This step does not take this field")
    if errors:
        raise ValidationFailed(errors)
    assert day is not None
    return step_type, day, {k: v for k, v in attrs.items() if v is not None}


def _steps(d: Disagreement) -> list[DisagreementStep]:
    return list(db.session.execute(select(DisagreementStep).where(DisagreementStep.disagreement_id == d.id)
                                   .order_by(DisagreementStep.date, DisagreementStep.recorded_at)).scalars())


def _refuse(field_name: str, message: str) -> None:
    raise ValidationFailed({field_name: [message]})


def _check_order(d: Disagreement, step_type: str, day: dt.date, attrs: Mapping[str, Any],
                 orders: list[TribunalOrder], stages: list[ComplaintStage]) -> None:
    """Refuse a step that cannot happen in this dispute now (ValidationFailed, nothing stored)."""
    if d.status == "closed":
        _refuse("type", f"This disagreement was closed on {_fmt(d.closed_on)}: open a new one"  # type: ignore[arg-type]
                if d.closed_on else "This disagreement is closed")
    if d.kind == "mediation":
        if step_type in ("mediation_requested", "mediation_declined") and d.wants_mediation is not None:
            _refuse("type", "The family's choice about mediation is recorded already (mediation "
                            + ("requested" if d.wants_mediation else "declined") + ")")
        needs_request = ("mediation_health_notified", "mediation_arranged", "mediation_not_arranged_notified",
                         "mediation_concluded", "mediation_agreement_made")
        if step_type in needs_request and d.wants_mediation is not True:
            _refuse("type", "Record that the family asked for mediation first (mediation_requested)")
        if step_type == "mediation_health_notified" and not d.includes_health:
            _refuse("type", "The mediation does not include health issues, so no health body is told (reg 36)")
        if step_type == "mediation_concluded" and d.held_on is not None:
            _refuse("type", f"The mediation concluded on {_fmt(d.held_on)} already")
        if step_type == "mediation_agreement_made" and d.held_on is None:
            _refuse("type", "A mediation agreement follows the mediation: record mediation_concluded first")
        if step_type == "mediation_agreement_made" and d.agreement_made_on is not None:
            _refuse("type", "The mediation agreement is recorded already")
        if step_type in ("mediation_agreement_actioned", "mediation_agreement_la_notified") \
                and d.agreement_made_on is None:
            _refuse("type", "Record the mediation agreement first (mediation_agreement_made)")
        if step_type == "mediation_agreement_actioned" and d.agreement_actioned_on is not None:
            _refuse("type", "The agreement is recorded as acted on already")
        if step_type == "mediation_agreement_la_notified" and d.agreement_la_party is not False:
            _refuse("type", "The council was a party to the agreement: there is nobody to tell it (reg 42(4))")
        if step_type == "mediation_certificate_issued":
            if d.certificate_issued_on is not None:
                _refuse("type", f"The certificate was issued on {_fmt(d.certificate_issued_on)} already")
            if d.wants_mediation is None:
                _refuse("type", "A certificate follows the family's choice: record mediation_declined or "
                                "mediation_requested first (regs 34, 37, 39)")
            if d.wants_mediation and d.held_on is None and d.not_arranged_notified_on is None:
                _refuse("type", "The family asked for mediation: the certificate follows the mediation "
                                "(mediation_concluded) or the council saying it cannot be arranged within 30 days "
                                "(mediation_not_arranged_notified)")
            wanted = attrs.get("certificate_kind")
            if wanted is not None and wanted != _certificate_kind(d):
                _refuse("certificate_kind", f"From the steps recorded this is a '{_certificate_kind(d)}' certificate")
    elif d.kind == "appeal":
        if step_type == "appeal_registered" and d.registered_on is not None:
            _refuse("type", f"The appeal was registered on {_fmt(d.registered_on)} already")
        if step_type != "appeal_registered" and step_type != "disagreement_closed" and d.registered_on is None:
            _refuse("type", "Record the appeal's registration by the Tribunal first (appeal_registered)")
        if d.registered_on is not None and step_type != "disagreement_closed" and day < d.registered_on:
            _refuse("date", f"The date cannot be before the appeal was registered ({_fmt(d.registered_on)})")
        if step_type == "appeal_response_submitted":
            if d.response_submitted_on is not None:
                _refuse("type", "The council's response is recorded already")
            if d.conceded_on is not None:
                _refuse("type", "The council conceded the appeal: there is no response to send (reg 45)")
        if step_type == "appeal_unopposed":
            if d.conceded_on is not None:
                _refuse("type", "The council's decision not to oppose is recorded already")
            if d.response_submitted_on is not None:
                # Reg 45 applies when the council does not oppose *before* its response is due.
                _refuse("type", "The council has already responded to the appeal; conceding now is a matter for "
                                "the Tribunal's decision (record appeal_decided with outcome conceded)")
        if step_type in ("appeal_unopposed", "appeal_response_submitted", "hearing_listed") \
                and d.decided_on is not None:
            _refuse("type", f"The appeal was decided on {_fmt(d.decided_on)}")
        if step_type == "appeal_decided" and d.decided_on is not None:
            _refuse("type", f"The appeal was decided on {_fmt(d.decided_on)} already")
        if step_type == "tribunal_order_made":
            if d.appeal_outcome == "withdrawn":
                _refuse("order", "The appeal was withdrawn: the Tribunal makes no order")
            if d.appeal_outcome == "dismissed" and attrs.get("order") != "cease":
                _refuse("order", "The appeal was dismissed: the only order that follows is to cease the plan (an "
                                 "appeal against cessation)")
            if d.decided_on is not None and day < d.decided_on:
                _refuse("date", f"An order cannot be made before the decision ({_fmt(d.decided_on)})")
    elif d.kind == "dr_referral":
        if d.referred_on is not None and day < d.referred_on and step_type != "disagreement_closed":
            _refuse("date", f"The date cannot be before the referral ({_fmt(d.referred_on)})")
        if step_type == "dr_concluded" and d.outcome is not None:
            _refuse("type", "The outcome is recorded already")
    elif d.kind == "complaint":
        stage_name = attrs.get("stage")
        by_stage = {s.stage: s for s in stages}
        if step_type == "complaint_stage_received":
            if stage_name in by_stage:
                _refuse("stage", "This stage of the complaint is recorded already")
            if stage_name == "stage_2" and "stage_1" not in by_stage:
                _refuse("stage", "Stage 2 follows stage 1 of the council's procedure")
            earliest = max((s.received_on for s in stages), default=None)
            if earliest is not None and day < earliest:
                _refuse("date", f"A later stage cannot start before the earlier one ({_fmt(earliest)})")
        if step_type == "complaint_stage_responded":
            found = by_stage.get(stage_name)  # type: ignore[arg-type]
            if found is None:
                _refuse("stage", "Record that this stage was received first (complaint_stage_received)")
            elif found.responded_on is not None:
                _refuse("stage", f"This stage was answered on {_fmt(found.responded_on)} already")
            elif day < found.received_on:
                _refuse("date", f"The answer cannot be before the stage was received ({_fmt(found.received_on)})")
    if step_type == "disagreement_closed":
        if day < d.opened_on:
            _refuse("date", f"The date cannot be before the disagreement was opened ({_fmt(d.opened_on)})")
        open_orders = [o for o in orders if o.complied_on is None]
        if open_orders:
            # Reading 3: an order not complied with stays on the workbench.
            _refuse("type", "A Tribunal order is not yet complied with (SEND Regs 2014 reg 44): record what it "
                            "requires on the case first")


def _certificate_kind(d: Disagreement) -> str:
    if d.wants_mediation is False:
        return "declined"
    if d.held_on is not None:
        return "after_mediation"
    return "not_arranged"


def _conceded_decision(d: Disagreement) -> str:
    # Reading 5: section I alone -> name_school (reg 45 limits of 2 weeks).
    if d.grounds and all(g == "plan_content_i" for g in d.grounds):
        return "name_school"
    return d.decision or "plan_content"


def _engine_event(d: Disagreement, step_type: str, day: dt.date, attrs: Mapping[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {"type": step_type, "date": day.isoformat(), "disagreement_id": str(d.id)}
    engine_attrs = {
        "mediation_requested": ("includes_health",),
        "mediation_agreement_made": ("appealable", "la_party", "agreed_due", "requires"),
        "appeal_registered": ("response_due", "lodged_on", "late_permission_granted"),
        "appeal_unopposed": ("decision",),
        "appeal_decided": ("outcome",),
        "tribunal_order_made": ("order",),
    }.get(step_type, ())
    for name in engine_attrs:
        if name in attrs:
            event[name] = attrs[name]
    if step_type == "mediation_requested":
        event["includes_health"] = bool(attrs.get("includes_health", False))
    if step_type == "appeal_unopposed" and "decision" not in event:
        event["decision"] = _conceded_decision(d)
    if step_type == "appeal_registered" and "lodged_on" not in event and d.lodged_on is not None:
        event["lodged_on"] = d.lodged_on.isoformat()
    if step_type == "mediation_agreement_made" and "la_party" not in event:
        event["la_party"] = True
    return event


def _apply(d: Disagreement, step_type: str, day: dt.date, attrs: Mapping[str, Any], case_event_id: uuid.UUID | None,
           policy: DisagreementPolicy, stages: list[ComplaintStage]) -> None:
    """Update the dispute's picture from a step that has been accepted."""
    date_of = lambda name: dt.date.fromisoformat(attrs[name]) if attrs.get(name) else None  # noqa: E731
    if step_type in ("mediation_requested", "mediation_declined"):
        d.wants_mediation = step_type == "mediation_requested"
        d.adviser_contacted_on = d.adviser_contacted_on or day
        if step_type == "mediation_requested":
            d.includes_health = bool(attrs.get("includes_health", False))
            if attrs.get("health_bodies"):
                d.health_bodies = list(attrs["health_bodies"])
    elif step_type == "mediation_health_notified":
        d.health_notified_on = day
        if attrs.get("health_bodies"):
            d.health_bodies = list(attrs["health_bodies"])
    elif step_type == "mediation_arranged":
        d.arranged_for = date_of("arranged_for")
        d.provider = attrs.get("provider") or d.provider
        d.mediator = attrs.get("mediator") or d.mediator
    elif step_type == "mediation_not_arranged_notified":
        d.not_arranged_notified_on = day
    elif step_type == "mediation_concluded":
        d.held_on = day
        d.mediation_outcome = attrs.get("outcome")
    elif step_type == "mediation_agreement_made":
        d.agreement_made_on = day
        d.agreement_appealable = attrs["appealable"]
        d.agreement_la_party = attrs.get("la_party", True)
        d.agreement_due = date_of("agreed_due")
        d.agreement_text = attrs.get("text") or d.agreement_text
    elif step_type == "mediation_agreement_actioned":
        d.agreement_actioned_on = day
    elif step_type == "mediation_certificate_issued":
        d.certificate_issued_on = day
        d.certificate_kind = _certificate_kind(d)
    elif step_type == "appeal_registered":
        d.registered_on = day
        d.response_due = date_of("response_due")
        d.lodged_on = date_of("lodged_on") or d.lodged_on or day
        d.late_permission = attrs.get("late_permission_granted")
        d.tribunal_reference = attrs.get("tribunal_reference") or d.tribunal_reference
    elif step_type == "appeal_response_submitted":
        d.response_submitted_on = day
    elif step_type == "appeal_unopposed":
        d.conceded_on = day
    elif step_type == "hearing_listed":
        d.hearing_on = date_of("hearing_on")
    elif step_type == "appeal_decided":
        d.decided_on = day
        d.appeal_outcome = attrs["outcome"]
    elif step_type == "tribunal_order_made":
        assert case_event_id is not None
        db.session.add(TribunalOrder(disagreement_id=d.id, order=attrs["order"], made_on=day,
                                     requires=attrs.get("requires"), case_event_id=case_event_id))
    elif step_type == "dr_meeting_held":
        d.meeting_on = day
    elif step_type == "dr_concluded":
        d.outcome = attrs["outcome"]
    elif step_type == "complaint_stage_received":
        stage = attrs["stage"]
        db.session.add(ComplaintStage(disagreement_id=d.id, stage=stage, received_on=day,
                                      reference=attrs.get("reference"), target_due=_stage_target(stage, day, policy)))
    elif step_type == "complaint_stage_responded":
        found = next(s for s in stages if s.stage == attrs["stage"])
        found.responded_on = day
        found.outcome = attrs["outcome"]
        found.remedy = attrs.get("remedy")
    elif step_type == "disagreement_closed":
        d.status = "closed"
        d.closed_on = day
        d.closed_reason = attrs.get("reason")


def _lock(d: Disagreement) -> None:
    """Serialise steps per dispute: two people deciding one appeal at once must not both pass
    the checks. On PostgreSQL the row lock waits; then the dispute is read afresh."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Disagreement.id).where(Disagreement.id == d.id).with_for_update())
    db.session.refresh(d)


def record_step(actor: Actor, d: Disagreement, step: Mapping[str, Any], *, policy: DisagreementPolicy,
                today: dt.date | None = None) -> DisagreementStep:
    """Record a step of the dispute ``d`` (accessed for write) and return it.

    ``step`` is ``{"type": ..., "date": "YYYY-MM-DD", ...attributes}`` with a type of
    :data:`STEP_KINDS` that fits the dispute's kind (see :func:`step_types_for`). Steps in
    :data:`CASE_EVENT_STEPS` are recorded as that api-v1 case event (carrying
    ``disagreement_id``) through ``core.cases.services.record_event`` in this same
    transaction, so the case's clocks follow; the dispute is updated from the step.

    Raises :class:`ValidationFailed` for a malformed step and for one that cannot happen now
    (the dispute's own order, or the case workflow's); either way nothing is stored.
    """
    _require(actor, permissions.DISAGREEMENTS_WRITE)
    today = today or clock.today()
    _lock(d)
    step_type, day, attrs = _clean_step(d, step, today)
    orders = orders_of(d)
    stages = complaint_stages_of(d)
    if step_type == "disagreement_closed":
        _refresh_orders(d, _case_deadlines(d, policy, today), orders)
    _check_order(d, step_type, day, attrs, orders, stages)
    case = case_of(d)
    with db.session.begin_nested():
        case_event_id = None
        if step_type in CASE_EVENT_STEPS:
            # Recording a dispute's step is recording that case event and nothing else: the
            # disagreements.write permission (and scope) is the authority for exactly these
            # events, so the case service is called with it standing in for cases.write.
            as_caseworker = dataclasses.replace(actor, permissions=actor.permissions | {permissions.CASES_WRITE})
            try:
                row = cases.record_event(as_caseworker, case, _engine_event(d, step_type, day, attrs),
                                         policy=policy.timescales, today=today)
            except Conflict as exc:
                raise ValidationFailed({exc.field or "type": [exc.message]}) from None
            case_event_id = row.id
        _apply(d, step_type, day, attrs, case_event_id, policy, stages)
        recorded = DisagreementStep(disagreement_id=d.id, type=step_type, date=day, attributes=dict(attrs),
                                    case_event_id=case_event_id, recorded_by=actor.id)
        db.session.add(recorded)
        db.session.flush()
        if step_type in CASE_EVENT_STEPS:
            _refresh_orders(d, _case_deadlines(d, policy, today), orders_of(d))
    _audit(actor, d, "disagreement.step_recorded", [step_type])
    return recorded


# ---------------------------------------------------------------------------------------
# Reading a dispute


def steps_of(d: Disagreement) -> list[DisagreementStep]:
    """The dispute's steps (already accessed) in date order, then recording order."""
    return _steps(d)


def orders_of(d: Disagreement) -> list[TribunalOrder]:
    """The Tribunal's orders in an appeal, oldest first."""
    return list(db.session.execute(select(TribunalOrder).where(TribunalOrder.disagreement_id == d.id)
                                   .order_by(TribunalOrder.made_on, TribunalOrder.id)).scalars())


def complaint_stages_of(d: Disagreement) -> list[ComplaintStage]:
    """A complaint's stages in the order they started."""
    order = {s: i for i, s in enumerate(COMPLAINT_STAGES)}
    rows = db.session.execute(select(ComplaintStage).where(ComplaintStage.disagreement_id == d.id)).scalars()
    return sorted(rows, key=lambda s: (s.received_on, order.get(s.stage, 99)))


def disagreements_of_case(actor: Actor, case: Case) -> list[Disagreement]:
    """A case's disputes (the case already accessed), open ones first, newest first. Audited."""
    _require(actor, permissions.DISAGREEMENTS_READ)
    rows = list(db.session.execute(select(Disagreement).where(Disagreement.case_id == case.id)
                                   .order_by(Disagreement.opened_on.desc(), Disagreement.id.desc())).scalars())
    rows.sort(key=lambda d: d.status != "open")
    if rows:
        audit.record(actor, "disagreement.listed", subject_type="child", subject_ids=[case.child_id],
                     object_type="case", object_id=case.id)
    return rows


def _stage_target(stage: str, received: dt.date, policy: DisagreementPolicy) -> dt.date | None:
    # Reading 2: council targets only; routes outside the council set their own.
    if stage == "stage_1":
        return nth_working_day_after(received, policy.complaint_stage_1_working_days)
    if stage == "stage_2":
        return nth_working_day_after(received, policy.complaint_stage_2_working_days)
    return None


def _case_deadlines(d: Disagreement, policy: DisagreementPolicy, today: dt.date) -> list[Deadline]:
    return cases.deadlines_of(case_of(d), policy=policy.timescales, today=today)


def _owned_event_ids(d: Disagreement) -> set[str]:
    ids = {str(s.case_event_id) for s in _steps(d) if s.case_event_id is not None}
    if d.decision_event_id is not None:
        ids.add(str(d.decision_event_id))
    return ids


def _belongs(d: Disagreement, deadline: Deadline, own: set[str], others: set[str],
             segment: tuple[dt.date | None, dt.date | None]) -> bool:
    if not _kind_has_key(d.kind, deadline.key):
        return False
    event_id = deadline.trigger.event_id
    if event_id is not None and event_id in own:
        return True
    # The appeal deadline counts from the certificate when that is later (HESC r.20(1)(c)),
    # and the certificate is the mediation's step: an appeal about the same letter shows it too.
    if event_id is not None and event_id in others and deadline.key != "appeal_deadline":
        return False
    start, end = segment
    return start is not None and start <= deadline.trigger.date and (end is None or deadline.trigger.date < end)


def _segment(d: Disagreement) -> tuple[dt.date | None, dt.date | None]:
    """The days from the dispute's decision letter to the case's next decision letter."""
    if d.decision_sent_on is None:
        return None, None
    later = [row.date for row in decision_letters_of(case_of(d))
             if row.date > d.decision_sent_on and row.id != d.decision_event_id]
    return d.decision_sent_on, min(later, default=None)


def _statutory_clocks(d: Disagreement, deadlines: Sequence[Deadline]) -> list[Deadline]:
    if d.kind not in ("mediation", "appeal"):
        return []  # Reading 1: a referral has no statutory clock; complaints have council targets.
    own = _owned_event_ids(d)
    # The case events other disputes of the case recorded: one query, not one per dispute.
    others = {str(event_id) for event_id in db.session.execute(
        select(DisagreementStep.case_event_id)
        .join(Disagreement, Disagreement.id == DisagreementStep.disagreement_id)
        .where(Disagreement.case_id == d.case_id, Disagreement.id != d.id,
               DisagreementStep.case_event_id.is_not(None))).scalars()}
    segment = _segment(d)
    return [x for x in deadlines if _belongs(d, x, own, others, segment)]


def _refresh_orders(d: Disagreement, deadlines: Sequence[Deadline], orders: Sequence[TribunalOrder]) -> None:
    """An order is complied with when the engine finds every clock it opened done (reg 44):
    met, or done late (``missed`` with ``met_on``; the clock itself still shows it was late)."""
    for order in orders:
        mine = [x for x in deadlines if x.trigger.event_id == str(order.case_event_id)]
        if mine and all(x.status == "met" or x.met_on is not None for x in mine):
            order.complied_on = max(x.met_on or x.due for x in mine)
        else:
            order.complied_on = None


def _complaint_clocks(d: Disagreement, today: dt.date) -> list[dict[str, Any]]:
    clocks: list[dict[str, Any]] = []
    stages = complaint_stages_of(d)
    for stage in stages:
        if stage.target_due is None:
            continue
        if stage.responded_on is not None:
            status = "met" if stage.responded_on <= stage.target_due else "missed"
        else:
            status = "missed" if today > stage.target_due else "open"
        clock_ = {
            "key": "complaint_response", "ref": stage.stage, "due": stage.target_due.isoformat(),
            "comparison": "on_or_before", "statutory": False, "status": status,
            "citation": "The council's complaints procedure (a council target, not statutory)",
            "label": f"The council's target for answering the {stage.stage.replace('_', ' ')} complaint",
            "trigger": {"type": "complaint_stage_received", "date": stage.received_on.isoformat()},
        }
        if stage.responded_on is not None:
            clock_["met_on"] = stage.responded_on.isoformat()
        clocks.append(clock_)
    council = [s for s in stages if s.stage in ("stage_1", "stage_2")]
    lgsco = next((s for s in stages if s.stage == "lgsco"), None)
    if council and d.aware_on is not None:
        # Reading 2: LGSCO guidance (Local Government Act 1974 s26B, UNVERIFIED), never a bar.
        due = add_months(d.aware_on, 12)
        if lgsco is not None:
            status = "met" if lgsco.received_on <= due else "missed"
        else:
            status = "missed" if today > due else "open"
        guidance: dict[str, Any] = {
            "key": "lgsco_complaint_guidance", "due": due.isoformat(), "comparison": "on_or_before",
            "statutory": False, "status": status, "guidance": True,
            "citation": "Local Government Act 1974 s26B (guidance; UNVERIFIED)",
            "label": "The Ombudsman normally expects a complaint within 12 months of becoming aware of the matter",
            "note": "Guidance only: the Ombudsman may accept a complaint later.",
            "trigger": {"type": "complainant_aware", "date": d.aware_on.isoformat()},
        }
        if lgsco is not None:
            guidance["met_on"] = lgsco.received_on.isoformat()
        clocks.append(guidance)
    return clocks


def clocks_of(d: Disagreement, *, policy: DisagreementPolicy, today: dt.date | None = None,
              deadlines: Sequence[Deadline] | None = None) -> list[dict[str, Any]]:
    """The dispute's clocks in the api-v1 deadline shape, soonest first: the case's statutory
    deadlines that belong to it (§2.6, §8.6, §8.7; computed now from the case's events, or
    from ``deadlines`` when the caller has them) and, for complaints, the council's response
    targets (``statutory: false``) and the LGSCO guidance (``guidance: true``)."""
    today = today or clock.today()
    if d.kind in ("mediation", "appeal"):
        found = deadlines if deadlines is not None else _case_deadlines(d, policy, today)
        if d.kind == "appeal":
            _refresh_orders(d, found, orders_of(d))
        out = [x.to_dict() for x in _statutory_clocks(d, found)]
    elif d.kind == "complaint":
        out = _complaint_clocks(d, today)
    else:
        out = []
    return sorted(out, key=lambda c: (c["due"], c["key"], c.get("ref") or ""))


def _last_day(c: Mapping[str, Any]) -> dt.date:
    return dt.date.fromisoformat(c.get("last_compliant_day") or c["due"])


def is_open_clock(c: Mapping[str, Any]) -> bool:
    """Still to act on: open or missed without having happened (guidance is never "to act on")."""
    return c["status"] in ("open", "missed") and "met_on" not in c and not c.get("guidance")


# ---------------------------------------------------------------------------------------
# Lists


def list_disagreements_page(actor: Actor, *, case_id: uuid.UUID | None = None, kind: str | None = None,
                            status: str | None = None, after: uuid.UUID | None = None,
                            limit: int = 50) -> tuple[list[Disagreement], uuid.UUID | None]:
    """A page of the council's disputes, oldest first (keyset on id), filtered; returns the
    page and the id to continue after (None on the last page). Every child listed is audited."""
    _require(actor, permissions.DISAGREEMENTS_READ)
    stmt = select(Disagreement).order_by(Disagreement.id).limit(limit + 1)
    if case_id is not None:
        stmt = stmt.where(Disagreement.case_id == case_id)
    if kind is not None:
        stmt = stmt.where(Disagreement.kind == kind)
    if status is not None:
        stmt = stmt.where(Disagreement.status == status)
    if after is not None:
        stmt = stmt.where(Disagreement.id > after)
    rows = list(db.session.execute(stmt).scalars())
    page = rows[:limit]
    if page:
        audit.record(actor, "disagreement.listed", subject_type="child",
                     subject_ids=list(dict.fromkeys(d.child_id for d in page)))
    return page, (page[-1].id if len(rows) > limit else None)


@dataclass(frozen=True)
class WorkbenchRow:
    """An open dispute on the managers' workbench with its clocks still to act on."""

    disagreement: Disagreement
    child: Child
    #: Clocks still to act on (api-v1 deadline shape), soonest first.
    clocks: list[dict[str, Any]]
    #: Every clock of the dispute (met ones and guidance included).
    all_clocks: list[dict[str, Any]]
    next_due: dt.date | None
    overdue: bool


def workbench(actor: Actor, *, policy: DisagreementPolicy, today: dt.date | None = None, kind: str | None = None,
              owner_id: uuid.UUID | None = None, case_id: uuid.UUID | None = None) -> list[WorkbenchRow]:
    """Every open dispute in the council with its open clocks, overdue first, then by the
    soonest last day (disputes with no clock last). Needs ``disagreements.oversee``. Every
    child shown is audited as ``disagreement.listed``."""
    _require(actor, permissions.DISAGREEMENTS_OVERSEE)
    today = today or clock.today()
    stmt = select(Disagreement).where(Disagreement.status == "open")
    if kind is not None:
        stmt = stmt.where(Disagreement.kind == kind)
    if owner_id is not None:
        stmt = stmt.where(Disagreement.owner_id == owner_id)
    if case_id is not None:
        stmt = stmt.where(Disagreement.case_id == case_id)
    disputes = list(db.session.execute(stmt.order_by(Disagreement.opened_on, Disagreement.id)).scalars())
    by_case: dict[uuid.UUID, list[Deadline]] = {}
    rows: list[WorkbenchRow] = []
    for d in disputes:
        deadlines = None
        if d.kind in ("mediation", "appeal"):
            if d.case_id not in by_case:
                by_case[d.case_id] = _case_deadlines(d, policy, today)
            deadlines = by_case[d.case_id]
        every = clocks_of(d, policy=policy, today=today, deadlines=deadlines)
        todo = [c for c in every if is_open_clock(c)]
        next_due = min((_last_day(c) for c in todo), default=None)
        rows.append(WorkbenchRow(d, child_of(d), todo, every, next_due, next_due is not None and next_due < today))
    rows.sort(key=lambda r: (not r.overdue, r.next_due is None, r.next_due or dt.date.max, r.disagreement.opened_on))
    if rows:
        audit.record(actor, "disagreement.listed", subject_type="child",
                     subject_ids=list(dict.fromkeys(r.disagreement.child_id for r in rows)))
    return rows
