"""The event vocabulary (api-v1.md "Events") and its validation.

An event is ``{"type": ..., "date": "YYYY-MM-DD", ...attributes}``. ``validate_event``
checks one event in isolation: the type is known, the date is a real calendar date, and
each attribute the type requires is present, of the right kind and inside its enum.
Attributes that are not part of the vocabulary are ignored (api-v1 lets clients extend).

Beyond api-v1 the engine understands a few extra event types that *close* deadlines the
api-v1 table starts but has no closing event for (review invitations, papers and report,
the new council's reg 15(4) letter, ...), plus ``review_meeting_scheduled`` so the
backwards-counted review notice can be shown before the meeting happens, and
``appeal_unopposed`` for reg 45. They are listed in ``EXTENSION_EVENT_TYPES``.

Every event may also carry:

* ``id``: an opaque string naming the event;
* ``corrects``: the list index (int) or ``id`` (str) of an *earlier* event in the same
  list that this event replaces -- see ``engine.apply_corrections``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from core.timescales.rules import DEADLINE_KEYS, EXCEPTION_CODES

__all__ = [
    "API_EVENT_TYPES",
    "EVENT_TYPES",
    "EXTENSION_EVENT_TYPES",
    "Event",
    "parse_date",
    "parse_event",
    "validate_event",
]

AttrKind = Literal["enum", "date", "bool", "text", "keys"]


@dataclass(frozen=True)
class _Attr:
    kind: AttrKind
    required: bool = False
    choices: tuple[str, ...] = ()
    #: For dates: may be null (e.g. an exception still in progress).
    nullable: bool = False


def _enum(*choices: str, required: bool = False) -> _Attr:
    return _Attr("enum", required=required, choices=choices)


_DATE = _Attr("date")
_REQUIRED_DATE = _Attr("date", required=True)
_BOOL = _Attr("bool")
_TEXT = _Attr("text")
_SERVICE = {"sent_at": _DATE, "served_at": _DATE}
_DECISIONS = ("refuse_assess", "not_issue", "plan_content", "refuse_reassess", "refuse_amend",
              "cease")

API_EVENT_TYPES: dict[str, dict[str, _Attr]] = {
    "request_received": {
        "requester": _enum("parent", "young_person", "setting", "youth_custody", "other"),
        "brought_to_attention": _BOOL,
    },
    "decision_to_assess_made": {"outcome": _enum("assess", "refuse", required=True)},
    "advice_requested": {
        "advice": _enum("educational", "medical", "psychological", "social_care", "other"),
        "advice_id": _TEXT,
    },
    "advice_received": {
        "advice": _enum("educational", "medical", "psychological", "social_care", "other"),
        "advice_id": _TEXT,
    },
    "decision_to_issue_made": {"outcome": _enum("issue", "not_issue", required=True)},
    "draft_plan_served": dict(_SERVICE),
    "institution_consulted": {"urn": _TEXT},
    "institution_responded": {"urn": _TEXT},
    "final_plan_issued": {},
    "review_meeting_held": {},
    "review_decision_sent": {"outcome": _enum("maintain", "amend", "cease", required=True)},
    "amendment_notice_sent": dict(_SERVICE),
    "amended_plan_issued": {},
    "phase_transfer_planned": {
        "transfer_on": _REQUIRED_DATE,
        "kind": _enum("school", "post16", "post16_institution", required=True),
    },
    "reassessment_request_received": {},
    # api-v1 names the attribute but not its values; "assess" is accepted as a synonym
    # of "reassess" so the enum reads like decision_to_assess_made's. Absent = reassess.
    "reassessment_decision_notified": {"outcome": _enum("reassess", "assess", "refuse")},
    "move_notified": {"move_on": _REQUIRED_DATE, "to_la_code": _TEXT},
    "plan_transferred": {
        "from_la_code": _TEXT,
        "to_la_code": _TEXT,
        "plan_made_on": _DATE,
        "last_reviewed_on": _DATE,
    },
    "health_body_aware_of_move": {"move_on": _REQUIRED_DATE},
    "decision_letter_sent": {"decision": _enum(*_DECISIONS, required=True)},
    "mediation_declined": {},
    "mediation_requested": {"includes_health": _BOOL},
    "mediation_concluded": {},
    "mediation_certificate_issued": {},
    # response_due: the date in the Tribunal's registration letter (overrides the default);
    # lodged_on: the day the family sent the appeal, when earlier than registration (§8.5).
    "appeal_registered": {"response_due": _DATE, "lodged_on": _DATE,
                          "late_permission_granted": _BOOL},
    "appeal_decided": {"outcome": _TEXT},
    "tribunal_order_made": {
        "order": _enum("assess", "issue_plan", "amend", "name_school", "continue", "cease",
                       required=True),
    },
    "exception_recorded": {
        "code": _enum(*EXCEPTION_CODES, required=True),
        "from": _REQUIRED_DATE,
        "to": _Attr("date", nullable=True),
        "affects": _Attr("keys", required=True),
    },
}

EXTENSION_EVENT_TYPES: dict[str, dict[str, _Attr]] = {
    "review_meeting_scheduled": {"meeting_on": _REQUIRED_DATE},
    "review_invitations_sent": {},
    "review_papers_sent": {},
    "review_report_sent": {},
    "new_la_notification_sent": {},
    "health_body_notified": {},
    "mediation_health_notified": {},
    "mediation_not_arranged_notified": {},
    # agreed_due: a different timescale the parties agreed in writing (reg 42(5)).
    # requires: for an appealable matter, the Tribunal order it amounts to (reg 42(2)).
    "mediation_agreement_made": {"appealable": _BOOL, "la_party": _BOOL, "agreed_due": _DATE,
                                 "requires": _enum("assess", "issue_plan", "amend", "name_school", "continue",
                                                   "cease")},
    "mediation_agreement_actioned": {},
    "mediation_agreement_la_notified": {},
    # date = the day the council told the Tribunal it would not oppose (reg 45).
    "appeal_unopposed": {"decision": _enum(*_DECISIONS, "name_school", required=True)},
    "appeal_response_submitted": {},
    "plan_ceased": {},
    # The sending council's side of a transfer (issue 6, core/transfers): the plan left for
    # ``to_la_code`` on this date, which meets reg 15(2) and ends this council's case (15(3):
    # from the transfer the new council maintains the plan).
    "plan_transferred_out": {"to_la_code": _TEXT},
    # The move the council was told of will not happen (the transfer was called off): the
    # reg 15(2) and reg 16 clocks started by the last move_notified no longer run.
    "transfer_cancelled": {},
    # Youth custody (issue 6, core/circumstances): CFA 2014 ss70-75 and the SEND (Detained
    # Persons) Regs 2015. While detained the home council *keeps* the plan (s74) and must
    # arrange provision in custody (s70); on release it maintains it again and should review
    # it promptly (CoP ch.10). The annual review clock is deliberately NOT stopped by
    # detention: no provision lifts the review, and a kept plan left unreviewed for the length
    # of a sentence would meet a released young person out of date (statutory-rules §9; the
    # reading that protects the young person). Release starts the council's own, non-statutory
    # ``release_review`` target (§9: timing UNVERIFIED; rules.SLA_KEYS).
    # (The circumstances service also stores ``circumstance_id``, outside the vocabulary, to
    # link each event to its youth custody record.)
    # began_on: when the detention itself began, if before the case opened (a request made
    # in custody); the event is dated from the case's opening.
    "detention_started": {"establishment": _TEXT, "began_on": _DATE},
    "released_from_detention": {},
}

EVENT_TYPES: dict[str, dict[str, _Attr]] = {**API_EVENT_TYPES, **EXTENSION_EVENT_TYPES}

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Event:
    """A validated event with its dates parsed; ``index`` is its place in the input list."""

    index: int
    type: str
    date: date
    attrs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    id: str | None = None

    def get_date(self, name: str) -> date | None:
        """Return the parsed date attribute ``name`` (None when absent or null)."""
        value = self.attrs.get(name)
        return value if isinstance(value, date) else None


def parse_date(value: object) -> date:
    """Turn a ``date`` or a strict ``YYYY-MM-DD`` string into a ``date``.

    Raises ValueError with a user-facing message. Timestamps are refused: a deadline
    counted from a ``datetime`` would carry a time of day into every comparison.
    """
    if isinstance(value, datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a timestamp")
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a real calendar date") from None


def _check_attr(name: str, spec: _Attr, value: object) -> str | None:
    if value is None:
        if spec.nullable:
            return None
        return "must not be null"
    if spec.kind == "enum":
        if not isinstance(value, str) or value not in spec.choices:
            return "must be one of: " + ", ".join(spec.choices)
    elif spec.kind == "date":
        try:
            parse_date(value)
        except ValueError as exc:
            return str(exc)
    elif spec.kind == "bool":
        if not isinstance(value, bool):
            return "must be true or false"
    elif spec.kind == "text":
        # URNs, LA codes and advice ids arrive as numbers from some systems.
        if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
            return "must be a non-empty string"
    elif spec.kind == "keys":
        if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
            return "must be a non-empty list of deadline keys"
        unknown = [key for key in value if not isinstance(key, str) or key not in DEADLINE_KEYS]
        if unknown:
            return "unknown deadline keys: " + ", ".join(sorted(map(str, unknown)))
    return None


def validate_event(event: Mapping[str, Any]) -> dict[str, list[str]]:
    """Check one event in isolation and return ``{field: [messages]}`` ({} when well formed).

    Checks: ``type`` is known; ``date`` is a real date; each required attribute of that
    type is present; every vocabulary attribute that is present has the right kind and
    is inside its enum; ``exception_recorded.to`` is not before ``from``; dates that must
    follow the event (``response_due``, ``agreed_due``, ``served_at``) do not precede it;
    ``id`` and ``corrects`` are well formed. Whether ``corrects`` points at a real earlier
    event can only be checked against the whole list (``compute_deadlines`` does).
    """
    if not isinstance(event, Mapping):
        return {"event": ["must be an object"]}
    errors: dict[str, list[str]] = {}

    def add(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    event_type = event.get("type")
    spec: dict[str, _Attr] | None = None
    if event_type is None:
        add("type", "is required")
    elif not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        add("type", f"unknown event type {event_type!r}")
    else:
        spec = EVENT_TYPES[event_type]

    event_date: date | None = None
    if "date" not in event or event["date"] is None:
        add("date", "is required")
    else:
        try:
            event_date = parse_date(event["date"])
        except ValueError as exc:
            add("date", str(exc))

    for name, attr in (spec or {}).items():
        if name not in event:
            if attr.required:
                add(name, "is required")
            continue
        message = _check_attr(name, attr, event[name])
        if message:
            add(name, message)

    if spec is not None and not errors:
        _check_date_order(event, event_date, add)

    if "id" in event and (not isinstance(event["id"], str) or not event["id"]):
        add("id", "must be a non-empty string")
    if "corrects" in event:
        target = event["corrects"]
        if isinstance(target, bool) or not isinstance(target, int | str):
            add("corrects", "must be the index (integer) or id (string) of an earlier event")
        elif isinstance(target, int) and target < 0:
            add("corrects", "must not be negative")
        elif isinstance(target, str) and not target:
            add("corrects", "must not be empty")
    return errors


def _check_date_order(event: Mapping[str, Any], event_date: date | None,
                      add: Callable[[str, str], None]) -> None:
    if event.get("type") == "exception_recorded" and event.get("to") is not None:
        if parse_date(event["to"]) < parse_date(event["from"]):
            add("to", "must not be before 'from'")
    if event_date is None:
        return
    for name in ("response_due", "agreed_due", "served_at"):
        if event.get(name) is not None and parse_date(event[name]) < event_date:
            add(name, "must not be before the event's date")
    if event.get("lodged_on") is not None and parse_date(event["lodged_on"]) > event_date:
        add("lodged_on", "must not be after the date the appeal was registered")


def parse_event(event: Mapping[str, Any], index: int) -> Event:
    """Return the ``Event`` for a mapping that ``validate_event`` accepted."""
    spec = EVENT_TYPES[event["type"]]
    attrs: dict[str, Any] = {}
    for name, value in event.items():
        if name in ("type", "date"):
            continue
        attr = spec.get(name)
        if attr is not None and attr.kind == "date" and value is not None:
            attrs[name] = parse_date(value)
        elif attr is not None and attr.kind == "text":
            attrs[name] = str(value)
        else:
            attrs[name] = value
    return Event(index=index, type=event["type"], date=parse_date(event["date"]), attrs=attrs,
                 id=event.get("id"))
