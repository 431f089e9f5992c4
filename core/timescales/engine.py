"""Derive statutory deadlines from a case's events (statutory-rules.md §2, api-v1 "Events").

``compute_deadlines`` is a pure function: the same events, child, ``today`` and policy
always give the same deadlines. It stores nothing and reads no clock, so the API's
hypothetical calculator, the case page and SEN2 reporting can all call it.

How a deadline's status is decided (against the injected ``today``):

* ``met``: the closing event happened on or before the last compliant day (for a
  ``before`` comparison, completing *on* the statutory date is a breach).
* ``missed``: not closed and ``today`` is after the last compliant day, **or** closed
  late. A late step is ``missed`` with ``met_on`` recorded, because SEN2 and the family
  need to see both that it happened and that it was late.
* ``suspended``: a recorded exception that the law allows for that key covers it and
  the step was not done in time. The due date is never moved (§1.3 item 4); ``met_on``
  is still recorded if the step has since happened.
* ``open``: otherwise.

Family windows (the 15-day representation periods) are the family's right, not a duty:
they are ``open`` while running, ``met`` (with ``met_on`` = the last day) once they have
run in full, and ``missed`` if the council finalised inside the window.

Where a deadline depends on a step that has not happened yet (a transfer not yet made,
a certificate not yet issued, an amendment notice not yet sent after an "amend"
decision) it is computed from the latest permissible date of that step, marked
``provisional`` and recomputed when the real event arrives (api-v1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from core.timescales.calendar import (
    add_days,
    add_months,
    add_weeks,
    count_working_days,
    end_of_months_starting_with,
    is_working_day,
    next_working_day,
    nth_tribunal_working_day_after,
    nth_working_day_after,
    nth_working_day_beginning_with,
    previous_working_day,
    tribunal_due_date,
)
from core.timescales.events import Event, parse_date, parse_event, validate_event
from core.timescales.rules import KEY_ALIASES, RULES, SLA_KEYS, Rule

__all__ = [
    "Deadline",
    "InvalidEventsError",
    "SlaTarget",
    "TimescalePolicy",
    "Trigger",
    "apply_corrections",
    "compute_deadlines",
]

Status = Literal["open", "met", "missed", "suspended"]
_ONE_DAY = timedelta(days=1)


# =========================================================================== public types


@dataclass(frozen=True)
class SlaTarget:
    """A council's own service target (§2.8), never statutory.

    ``key`` must be one of the reserved SLA keys. The target runs from each event of type
    ``trigger`` and is met by the first later event whose type is in ``closed_by``.
    """

    key: str
    trigger: str
    amount: int
    unit: Literal["days", "weeks", "working_days"] = "working_days"
    closed_by: tuple[str, ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        if self.key not in SLA_KEYS:
            raise ValueError(f"{self.key!r} is not a council SLA key; use one of "
                             + ", ".join(sorted(SLA_KEYS)))
        if self.amount < 1:
            raise ValueError("an SLA target must be at least one unit long")


@dataclass(frozen=True)
class TimescalePolicy:
    """Per-council options (§1.3). The defaults are the ones that protect the family."""

    #: Treat a request received on a weekend or bank holiday as received on the next
    #: working day (§1.3 item 2). Off by default: the law counts from actual receipt.
    deem_weekend_receipt_next_working_day: bool = False
    #: Days added to the date a draft plan or amendment notice was sent when no
    #: ``served_at`` is recorded (§1.3 item 3). 0 for e-mail and hand delivery.
    deemed_service_days: int = 0
    #: The council's own non-statutory targets (§2.8).
    sla_targets: tuple[SlaTarget, ...] = ()
    #: Ad-hoc closure days; they shorten nothing statutory and count only for SLAs (§1.1).
    closure_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.deemed_service_days < 0:
            raise ValueError("deemed_service_days must not be negative")


@dataclass(frozen=True)
class Trigger:
    """The event a deadline derives from and the date its arithmetic starts from.

    ``date`` is the anchor actually used: the (possibly deemed) receipt date, the
    served date, the meeting date for the backwards-counted review notice, or the
    transfer date for phase transfers.
    """

    type: str
    date: date
    event_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape ``{"type", "date"}`` (plus ``event_id`` when known)."""
        result: dict[str, Any] = {"type": self.type, "date": self.date.isoformat()}
        if self.event_id is not None:
            result["event_id"] = self.event_id
        return result


@dataclass(frozen=True)
class Deadline:
    """One computed deadline, in the api-v1 shape plus a few documented extras."""

    key: str
    #: The statutory date (for ``before`` the day *on* which acting is already late).
    due: date
    comparison: Literal["on_or_before", "before"]
    statutory: bool
    status: Status
    citation: str
    #: One plain-English sentence for families.
    label: str
    trigger: Trigger
    met_on: date | None = None
    #: ``{"code", "from", "to"}`` of the exception that suspends it.
    exception: dict[str, Any] | None = field(default=None, hash=False)
    #: The previous working day to act by, when the last compliant day is a weekend or
    #: bank holiday (council, health-body and other organisations' duties only).
    non_working_day_hint: date | None = None
    #: Computed from the latest permissible date of a step that has not happened yet.
    provisional: bool = False
    note: str | None = None
    #: Tells apart repeated keys on one case (the advice id, the school's URN).
    ref: str | None = None

    @property
    def last_compliant_day(self) -> date:
        """Return the last day on which acting is still in time."""
        return self.due if self.comparison == "on_or_before" else self.due - _ONE_DAY

    def to_dict(self) -> dict[str, Any]:
        """Return the api-v1 JSON object; extra fields are additions, never renames."""
        result: dict[str, Any] = {
            "key": self.key,
            "due": self.due.isoformat(),
            "comparison": self.comparison,
            "statutory": self.statutory,
            "status": self.status,
            "citation": self.citation,
            "label": self.label,
            "trigger": self.trigger.to_dict(),
        }
        if self.met_on is not None:
            result["met_on"] = self.met_on.isoformat()
        if self.exception is not None:
            result["exception"] = {
                "code": self.exception["code"],
                "from": self.exception["from"].isoformat(),
                "to": self.exception["to"].isoformat() if self.exception["to"] else None,
            }
        if self.comparison == "before":
            result["last_compliant_day"] = self.last_compliant_day.isoformat()
        if self.non_working_day_hint is not None:
            result["non_working_day_hint"] = self.non_working_day_hint.isoformat()
        if self.provisional:
            result["provisional"] = True
        if self.note is not None:
            result["note"] = self.note
        if self.ref is not None:
            result["ref"] = self.ref
        return result


class InvalidEventsError(ValueError):
    """Raised by ``compute_deadlines`` when an event is malformed.

    ``errors`` maps the event's index in the input list to ``{field: [messages]}``, the
    same shape as ``validate_event`` (and api-v1's problem+json ``errors``).
    """

    def __init__(self, errors: dict[int, dict[str, list[str]]]) -> None:
        super().__init__(f"{len(errors)} invalid event(s): {errors}")
        self.errors = errors


# =========================================================================== entry point


def compute_deadlines(events: Sequence[Mapping[str, Any]], *,
                      child: Mapping[str, Any] | None = None, today: date,
                      policy: TimescalePolicy | None = None) -> list[Deadline]:
    """Return every deadline the events start, with its status as of ``today``.

    ``events`` are api-v1 event mappings in any order (sorted here by date, ties kept in
    list order). ``child`` may carry ``date_of_birth`` (needed only for the under-5
    review guidance). Raises ``InvalidEventsError`` when an event is malformed or a
    ``corrects`` reference does not point at an earlier event, and ValueError for a bad
    ``child.date_of_birth``. The result is sorted by due date, then key.
    """
    errors = {index: found for index, event in enumerate(events)
              if (found := validate_event(event))}
    if errors:
        raise InvalidEventsError(errors)
    active = apply_corrections(events)
    parsed = sorted((parse_event(event, index) for index, event in active),
                    key=lambda event: (event.date, event.index))
    dob = None
    if child is not None and child.get("date_of_birth") is not None:
        try:
            dob = parse_date(child["date_of_birth"])
        except ValueError as exc:
            raise ValueError(f"child.date_of_birth {exc}") from None
    case = _Case(parsed, policy or TimescalePolicy(), dob, today)
    drafts: list[_Draft] = []
    for family in _FAMILIES:
        drafts.extend(family(case))
    deadlines = [_finalise(draft, case) for draft in drafts]
    deadlines.extend(_sla_deadlines(case))
    return sorted(deadlines, key=lambda d: (d.due, d.key, d.ref or "", d.trigger.date))


def apply_corrections(events: Sequence[Mapping[str, Any]]) -> list[tuple[int, Mapping[str, Any]]]:
    """Resolve ``corrects`` references and return the surviving ``(index, event)`` pairs.

    An event carrying ``"corrects": X`` replaces the earlier event X, where X is that
    event's index in the list (int) or its ``id`` (str). The correcting event keeps its
    own type, date and attributes; the corrected one is dropped. Every correction of an
    event (or of one of its corrections) replaces whatever version of it is current, so
    chains and repeated corrections resolve to the last word in list order. A reference
    to a later event, to itself, or to an unknown or ambiguous id raises
    ``InvalidEventsError``.
    """
    errors: dict[int, dict[str, list[str]]] = {}
    ids: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        if isinstance(event.get("id"), str):
            ids.setdefault(event["id"], []).append(index)
    removed: set[int] = set()
    original_of = {index: index for index in range(len(events))}
    current_version = dict(original_of)
    for index, event in enumerate(events):
        if "corrects" not in event:
            continue
        target = event["corrects"]
        if isinstance(target, int):
            candidates = [target] if target < index else []
        else:
            candidates = [i for i in ids.get(target, []) if i < index]
        if len(candidates) != 1:
            reason = ("matches more than one earlier event" if len(candidates) > 1
                      else "must refer to an earlier event in the list")
            errors[index] = {"corrects": [reason]}
            continue
        original = original_of[candidates[0]]
        removed.add(current_version[original])
        current_version[original] = index
        original_of[index] = original
    if errors:
        raise InvalidEventsError(errors)
    return [(index, event) for index, event in enumerate(events) if index not in removed]


# =========================================================================== internals


@dataclass
class _Draft:
    key: str
    due: date
    trigger: Trigger
    closed_on: date | None = None
    #: For windows and standing orders: the council acted inside the window / against it.
    breached_on: date | None = None
    provisional: bool = False
    notes: list[str] = field(default_factory=list)
    ref: str | None = None


@dataclass
class _Case:
    events: list[Event]
    policy: TimescalePolicy
    dob: date | None
    today: date

    def of(self, *types: str, where: Callable[[Event], bool] | None = None) -> list[Event]:
        return [e for e in self.events if e.type in types and (where is None or where(e))]

    def first(self, *types: str, start: date | None = None, end: date | None = None,
              where: Callable[[Event], bool] | None = None) -> Event | None:
        """First event of ``types`` dated in ``[start, end)`` (either bound optional)."""
        for event in self.events:
            if event.type not in types:
                continue
            if start is not None and event.date < start:
                continue
            if end is not None and event.date >= end:
                break
            if where is None or where(event):
                return event
        return None

    def last(self, *types: str, start: date | None = None, end: date | None = None,
             where: Callable[[Event], bool] | None = None) -> Event | None:
        found = None
        for event in self.events:
            if event.type not in types:
                continue
            if (start is None or event.date >= start) and (end is None or event.date < end) \
                    and (where is None or where(event)):
                found = event
        return found

    def next_date(self, after: Event, *types: str) -> date | None:
        """Date of the next event of ``types`` after ``after`` (the end of its segment)."""
        for event in self.events:
            # Segments are whole days: an event on the same day stays in this segment.
            if event.type in types and event.date > after.date:
                return event.date
        return None


def _trigger(event: Event, anchor: date | None = None, type_: str | None = None) -> Trigger:
    return Trigger(type_ or event.type, anchor or event.date, event.id)


def _closed(event: Event | None) -> date | None:
    return event.date if event is not None else None


def _earliest(*events: Event | None) -> Event | None:
    found = [e for e in events if e is not None]
    return min(found, key=lambda e: (e.date, e.index)) if found else None


def _outcome(value: str) -> Callable[[Event], bool]:
    return lambda event: event.attrs.get("outcome") == value


def _decision(*values: str) -> Callable[[Event], bool]:
    return lambda event: event.attrs.get("decision") in values


# --------------------------------------------------------------------------- §2.1 assessment


def _received_on(case: _Case, event: Event) -> tuple[date, list[str]]:
    """Apply the council's deemed-receipt policy (§1.3 item 2) to a request."""
    if case.policy.deem_weekend_receipt_next_working_day and not is_working_day(event.date):
        # The option is named for weekends but a bank holiday is the same situation;
        # the policy is the council's own choice and is off by default.
        deemed = next_working_day(event.date)
        return deemed, [f"Received on a non-working day; deemed received on "
                        f"{deemed.isoformat()} under the council's policy."]
    return event.date, []


#: Events that end one assessment "segment": a new request, or the Tribunal (or the
#: council conceding an appeal) taking the assessment onto its own timetable.
_ASSESSMENT_BOUNDARIES = ("request_received", "tribunal_order_made", "appeal_unopposed")


def _assessment_chain(case: _Case, event: Event, start: date, keys: Mapping[str, str],
                      weeks: Mapping[str, int], *, refusable: bool,
                      notes: list[str]) -> list[_Draft]:
    """The decide / no-plan / final-plan chain shared by requests, orders and concessions.

    Closers (first in the segment that follows the trigger):
    * decide: the decision; a later step (decision to issue, draft, final plan) also
      closes it, because the council cannot have reached that step without deciding --
      the date of that later step is the latest the decision can have been made.
    * no_plan: the decision whether to issue (either outcome -- see the report for why a
      late decision to *issue* also counts as late), or a draft/final plan.
    * final: the final plan (for orders and concessions an amended plan also counts).
    A refusal to assess (when ``refusable``) ends the 16- and 20-week duties; a decision
    not to issue ends the final-plan duty.
    """
    end = case.next_date(event, *_ASSESSMENT_BOUNDARIES)
    trigger = _trigger(event, start)

    def first(*types: str, where: Callable[[Event], bool] | None = None) -> Event | None:
        return case.first(*types, start=start, end=end, where=where)

    later_steps = ("decision_to_issue_made", "draft_plan_served", "final_plan_issued")
    final_types = ("final_plan_issued",) if refusable else ("final_plan_issued",
                                                             "amended_plan_issued")
    decide_types = ("decision_to_assess_made",) if refusable else (
        "decision_to_assess_made", "reassessment_decision_notified")
    drafts = [_Draft(keys["decide"], add_weeks(start, weeks["decide"]), trigger,
                     _closed(_earliest(first(*decide_types), first(*later_steps))),
                     notes=list(notes))]

    if refusable:
        refusal = case.last("decision_to_assess_made", start=start, end=end)
        if refusal is not None and refusal.attrs.get("outcome") == "refuse" and \
                case.first(*later_steps, start=refusal.date, end=end) is None:
            return drafts

    drafts.append(_Draft(keys["no_plan"], add_weeks(start, weeks["no_plan"]), trigger,
                         _closed(first(*later_steps)), notes=list(notes)))
    no_plan = case.last("decision_to_issue_made", start=start, end=end)
    if no_plan is not None and no_plan.attrs.get("outcome") == "not_issue" and \
            case.first(*final_types, "draft_plan_served", start=no_plan.date, end=end) is None:
        return drafts

    drafts.append(_Draft(keys["final"], add_weeks(start, weeks["final"]), trigger,
                         _closed(first(*final_types)), notes=list(notes)))
    if "draft_latest" in keys:
        # Derived planning hint: 20 weeks less the 15-day window (day 125) is the last
        # day a draft can be served and still leave a full window before week 20.
        drafts.append(_Draft(keys["draft_latest"], add_days(start, 140 - 15), trigger,
                             _closed(first("draft_plan_served")), notes=list(notes)))
    return drafts


def _is_detained(request: Event) -> bool:
    return request.attrs.get("requester") == "youth_custody"


def _assessments(case: _Case) -> list[_Draft]:
    """Regs 5(1) (6 weeks), 10(1) (16 weeks), 13(2) (20 weeks); DP regs 5, 10, 13(2)."""
    drafts: list[_Draft] = []
    for request in case.of("request_received"):
        start, notes = _received_on(case, request)
        if _is_detained(request):
            # Detained Persons Regs 2015: same 6/16/20 weeks, own keys and exceptions.
            keys = {"decide": "dp_decision_to_assess", "no_plan": "dp_decision_not_to_issue",
                    "final": "dp_final_plan_issued", "draft_latest": "draft_plan_latest"}
        else:
            keys = {"decide": "decision_to_assess", "no_plan": "decision_not_to_issue",
                    "final": "final_plan_issued", "draft_latest": "draft_plan_latest"}
        drafts += _assessment_chain(case, request, start, keys,
                                    {"decide": 6, "no_plan": 16, "final": 20},
                                    refusable=True, notes=notes)
    return drafts


def _match(left: Event, right: Event, *names: str) -> bool:
    for name in names:
        a, b = left.attrs.get(name), right.attrs.get(name)
        if a is not None and b is not None:
            return a == b
    return True


def _paired(case: _Case, opening: str, closing: str, names: tuple[str, ...]) \
        -> list[tuple[Event, Event | None]]:
    """Pair each opening event with the first unused later closing event that matches it.

    Matching compares the first attribute in ``names`` that both events carry (an
    advice id before an advice type); events that share none match anything.
    """
    used: set[int] = set()
    pairs = []
    for request in case.of(opening):
        reply = case.first(closing, start=request.date,
                           where=lambda e, r=request: e.index not in used
                           and _match(r, e, *names))
        if reply is not None:
            used.add(reply.index)
        pairs.append((request, reply))
    return pairs


def _advice(case: _Case) -> list[_Draft]:
    """Reg 8(1): advice within 6 weeks of the council's request."""
    return [_Draft("advice_returned", add_weeks(request.date, 6), _trigger(request),
                   _closed(reply),
                   ref=request.attrs.get("advice_id") or request.attrs.get("advice"))
            for request, reply in _paired(case, "advice_requested", "advice_received",
                                          ("advice_id", "advice"))]


def _institutions(case: _Case) -> list[_Draft]:
    """CoP 9.79-9.80: a consulted school or college should reply within 15 days."""
    return [_Draft("institution_consultation_response", add_days(request.date, 15),
                   _trigger(request), _closed(reply), ref=request.attrs.get("urn"))
            for request, reply in _paired(case, "institution_consulted",
                                          "institution_responded", ("urn",))]


def _served_on(case: _Case, event: Event) -> tuple[date, list[str]]:
    served = event.get_date("served_at")
    if served is not None:
        return served, []
    if case.policy.deemed_service_days:
        deemed = add_days(event.date, case.policy.deemed_service_days)
        return deemed, [f"Deemed served on {deemed.isoformat()} under the council's policy."]
    return event.date, []


def _draft_windows(case: _Case) -> list[_Draft]:
    """Reg 13(1)(a) / DP reg 13(1): at least 15 days *beginning with* service.

    The service day is day 1, so the last day for representations is served + 14 and
    the council may not finalise before served + 15. Finalising inside the window is
    recorded as a breach of the family's window.
    """
    drafts = []
    for draft in case.of("draft_plan_served"):
        served, notes = _served_on(case, draft)
        last_day = add_days(served, 14)
        request = case.last("request_received", end=draft.date + _ONE_DAY)
        key = "dp_draft_representations" if request is not None and _is_detained(request) \
            else "draft_plan_representations"
        finalised = case.first("final_plan_issued", start=draft.date, end=last_day + _ONE_DAY)
        notes.append(f"The council must not finalise the plan before "
                     f"{(last_day + _ONE_DAY).isoformat()}.")
        drafts.append(_Draft(key, last_day, _trigger(draft, served), breached_on=_closed(finalised),
                             notes=notes))
    return drafts


# --------------------------------------------------------------------------- §2.2 reviews


def _review_anchors(case: _Case) -> list[Event]:
    """The plan's first making and every concluded review, in date order.

    CFA s44(1): a review is due in each 12-month period starting with the date the plan
    was first made or last reviewed. A review is concluded when the council sends its
    reg 20(10) decision (IPSEA), so only ``review_decision_sent`` restarts the clock --
    not the meeting, not an amended plan, not a re-issued plan (the earlier reading).
    """
    first_plan = case.first("final_plan_issued")
    anchors = [first_plan] if first_plan is not None else []
    anchors += case.of("review_decision_sent")
    return sorted(anchors, key=lambda e: (e.date, e.index))


def _fifth_birthday(dob: date) -> date:
    try:
        return dob.replace(year=dob.year + 5)
    except ValueError:
        # Born 29 February: the birthday is taken as 1 March in a common year, so the
        # under-5 guidance applies for the longest reading.
        return date(dob.year + 5, 3, 1)


def _annual_reviews(case: _Case) -> list[_Draft]:
    """CFA s44(1) annual review, the CoP 9.178 under-5 guidance and reg 15(5) new LA review."""
    anchors = _review_anchors(case)
    transfers = case.of("plan_transferred")
    drafts: list[_Draft] = []
    for position, anchor in enumerate(anchors):
        due = end_of_months_starting_with(anchor.date, 12)
        closer = anchors[position + 1] if position + 1 < len(anchors) else None
        # The sending council's case (plan_transferred_out, issue 6) hands the review over too.
        superseded = any(
            anchor.date <= moved.date <= due and (closer is None or closer.date > moved.date)
            for moved in [*transfers, *case.of("plan_transferred_out")])
        if not superseded:
            # A transfer inside the running period hands the review to the new council
            # under reg 15(5) (new_la_review below), so the old cycle is not shown twice.
            drafts.append(_Draft("annual_review", due, _trigger(anchor), _closed(closer)))
        if case.dob is not None and anchor.date < _fifth_birthday(case.dob):
            reviewed = case.first("review_meeting_held", "review_decision_sent",
                                  start=anchor.date + _ONE_DAY)
            drafts.append(_Draft("under5_review_earliest", add_months(anchor.date, 3),
                                 _trigger(anchor), _closed(reviewed)))
            drafts.append(_Draft("under5_review", add_months(anchor.date, 6),
                                 _trigger(anchor), _closed(reviewed)))
    for moved in transfers:
        drafts.append(_new_la_review(case, moved, moved.date, anchors, provisional=False))
    return drafts


def _new_la_review(case: _Case, source: Event, transferred_on: date, anchors: list[Event], *,
                   provisional: bool) -> _Draft:
    """Reg 15(5): review before the later of (a) 12 months from made/last reviewed and
    (b) 3 months starting with the transfer.

    The basis for (a) is the most recent of the transfer's ``plan_made_on`` /
    ``last_reviewed_on`` and the case's own plan and review events up to the transfer.
    With no basis at all only (b) can be shown; it is the earliest the true date can
    be, so the council is never told it has longer than it may have.
    """
    known = [anchor.date for anchor in anchors if anchor.date <= transferred_on]
    known += [d for d in (source.get_date("plan_made_on"), source.get_date("last_reviewed_on"))
              if d is not None]
    three_months = end_of_months_starting_with(transferred_on, 3)
    due = max(end_of_months_starting_with(max(known), 12), three_months) if known \
        else three_months
    notes = [] if known else ["The date the plan was made or last reviewed is not recorded; "
                              "shown from the transfer date alone."]
    closer = case.first("review_decision_sent", start=transferred_on)
    return _Draft("new_la_review", due, _trigger(source, transferred_on), _closed(closer),
                  provisional=provisional, notes=notes)


def _meetings(case: _Case) -> list[_Draft]:
    """Regs 20-21: notice and papers >= 2 weeks before, report 2 weeks and decision 4 weeks
    after the meeting; the Devon 12-week backstop when the decision is to amend."""
    drafts: list[_Draft] = []
    held = case.of("review_meeting_held")
    for position, meeting in enumerate(held):
        m = meeting.date
        after_previous = held[position - 1].date + _ONE_DAY if position else None
        end = held[position + 1].date if position + 1 < len(held) else None
        trigger = _trigger(meeting)
        # "At least 2 weeks before the meeting": counted backwards, latest send M - 14.
        drafts.append(_Draft("review_meeting_notice", add_days(m, -14), trigger, _closed(
            case.first("review_invitations_sent", start=after_previous, end=m + _ONE_DAY))))
        drafts.append(_Draft("review_papers_circulated", add_days(m, -14), trigger, _closed(
            case.first("review_papers_sent", start=after_previous, end=m + _ONE_DAY))))
        drafts.append(_Draft("review_report_circulation", add_weeks(m, 2), trigger, _closed(
            case.first("review_report_sent", start=m, end=end))))
        drafts.append(_Draft("post_review_decision", add_weeks(m, 4), trigger, _closed(
            case.first("review_decision_sent", start=m, end=end))))
        amend = case.first("review_decision_sent", "amendment_notice_sent", start=m, end=end,
                           where=lambda e: e.type == "amendment_notice_sent"
                           or e.attrs.get("outcome") == "amend")
        if amend is not None:
            # R (L) v Devon CC [2022]: the amendment proposals go with the 4-week decision
            # and the 8 weeks of reg 22 follow, so 12 weeks from the meeting at the latest.
            drafts.append(_Draft("amended_plan_after_review_latest", add_weeks(m, 12), trigger,
                                 _closed(case.first("amended_plan_issued", start=m, end=end))))

    last_held = held[-1].date if held else None
    pending = case.last("review_meeting_scheduled", start=last_held,
                        where=lambda e: last_held is None or e.get_date("meeting_on") > last_held)
    if pending is not None:
        m = pending.get_date("meeting_on")
        assert m is not None  # required by the vocabulary
        start = last_held + _ONE_DAY if last_held else None
        trigger = _trigger(pending, m)
        drafts.append(_Draft("review_meeting_notice", add_days(m, -14), trigger, _closed(
            case.first("review_invitations_sent", start=start, end=m + _ONE_DAY))))
        drafts.append(_Draft("review_papers_circulated", add_days(m, -14), trigger, _closed(
            case.first("review_papers_sent", start=start, end=m + _ONE_DAY))))
    return drafts


def _amendments(case: _Case) -> list[_Draft]:
    """Reg 22: 15-day representations window and the 8-week amended plan / refusal."""
    drafts: list[_Draft] = []
    notices = case.of("amendment_notice_sent")
    refusal = _decision("refuse_amend")
    for position, notice in enumerate(notices):
        end = notices[position + 1].date if position + 1 < len(notices) else None
        served, notes = _served_on(case, notice)
        last_day = add_days(served, 14)
        finalised = _earliest(
            case.first("amended_plan_issued", start=notice.date, end=last_day + _ONE_DAY),
            case.first("decision_letter_sent", start=notice.date, end=last_day + _ONE_DAY,
                       where=refusal))
        notes.append(f"The council must not finalise the amendments before "
                     f"{(last_day + _ONE_DAY).isoformat()}.")
        drafts.append(_Draft("amendment_notice_representations", last_day,
                             _trigger(notice, served), breached_on=_closed(finalised),
                             notes=notes))

        issued = case.first("amended_plan_issued", start=notice.date, end=end)
        refused = case.first("decision_letter_sent", start=notice.date, end=end, where=refusal)
        key, closer = "amended_plan_issued", issued
        if refused is not None and (issued is None or refused.date < issued.date):
            key, closer = "decision_not_to_amend", refused
        notes = []
        meeting = case.last("review_meeting_held", end=notice.date + _ONE_DAY)
        if meeting is not None and notice.date > add_weeks(meeting.date, 4) and \
                case.first("amendment_notice_sent", start=meeting.date, end=notice.date) is None:
            notes.append(
                f"The amendment notice went out after the 4-week review decision deadline "
                f"({add_weeks(meeting.date, 4).isoformat()}), so this date rests on a breach; "
                f"see amended_plan_after_review_latest "
                f"({add_weeks(meeting.date, 12).isoformat()}).")
        # Reg 22(3): within 8 weeks of the amendment notice (the sending, not service).
        drafts.append(_Draft(key, add_weeks(notice.date, 8), _trigger(notice), _closed(closer),
                             notes=notes))

    for decided in case.of("review_decision_sent", where=_outcome("amend")):
        end = case.next_date(decided, "review_meeting_held", "review_decision_sent")
        if case.first("amendment_notice_sent", start=decided.date, end=end) is not None:
            continue
        # No notice yet: its latest permissible date is the decision itself (IPSEA; Devon:
        # the proposals go with the decision), so the 8 weeks are projected from there.
        drafts.append(_Draft(
            "amended_plan_issued", add_weeks(decided.date, 8), _trigger(decided),
            _closed(case.first("amended_plan_issued", start=decided.date, end=end)),
            provisional=True,
            notes=["Projected from the review decision, which the amendment notice should "
                   "accompany; recomputed when the notice is recorded."]))
    return drafts


def _phase_transfers(case: _Case) -> list[_Draft]:
    """Reg 18(1)-(2): review and amend before 15 Feb / 31 Mar, or >= 5 months before.

    Only the latest plan of each kind counts (a re-planned move replaces the old one).
    The plan must be *amended* (to name the next setting), so only an issued amended or
    final plan dated within 12 months before the move closes it.
    """
    drafts: list[_Draft] = []
    for kind in ("school", "post16", "post16_institution"):
        planned = case.last("phase_transfer_planned", where=lambda e, k=kind: e.attrs["kind"] == k)
        if planned is None:
            continue
        moving_on = planned.get_date("transfer_on")
        assert moving_on is not None  # required by the vocabulary
        notes: list[str] = []
        if kind == "post16_institution":
            # "At least five months before the transfer": T - 5 months by the
            # corresponding-date rule, clamped. Stored as a strict "before" comparison
            # (the earlier reading; the brief asks for it and it protects the family).
            key, due = "post16_institution_transfer", add_months(moving_on, -5)
        else:
            key, month, day = (("phase_transfer_school", 2, 15) if kind == "school"
                               else ("phase_transfer_post16", 3, 31))
            due = date(moving_on.year, month, day)
            if moving_on <= due:
                # A move early in the calendar year would put the statutory date after
                # the move itself; the plan must name the setting before the child
                # arrives, so the move date is used (the earlier date).
                notes.append(f"The move ({moving_on.isoformat()}) is before "
                             f"{due.isoformat()}; the plan must be amended before the move.")
                due = moving_on
        closer = case.first("amended_plan_issued", "final_plan_issued",
                            start=add_months(moving_on, -12))
        drafts.append(_Draft(key, due, _trigger(planned, moving_on), _closed(closer),
                             notes=notes))
    return drafts


# --------------------------------------------------------------------------- §2.3 re-assessment


def _reassessments(case: _Case) -> list[_Draft]:
    """Reg 25(1): decide within 15 (calendar) days; reg 27(2): plan within 14 weeks."""
    drafts: list[_Draft] = []
    for request in case.of("reassessment_request_received"):
        start, notes = _received_on(case, request)
        end = case.next_date(request, "reassessment_request_received")
        decided = _earliest(
            case.first("reassessment_decision_notified", start=start, end=end),
            case.first("decision_letter_sent", start=start, end=end,
                       where=_decision("refuse_reassess")))
        drafts.append(_Draft("reassessment_decision", add_days(start, 15),
                             _trigger(request, start), _closed(decided), notes=notes))
    for notified in case.of("reassessment_decision_notified",
                            where=lambda e: e.attrs.get("outcome", "reassess") != "refuse"):
        end = case.next_date(notified, "reassessment_decision_notified")
        # A plan (new or amended) closes it; so does a decision that no change is needed,
        # for which reg 27 sets no separate limit we could enforce (§14 item 3).
        closer = case.first("final_plan_issued", "amended_plan_issued", "decision_letter_sent",
                            start=notified.date, end=end,
                            where=lambda e: e.type != "decision_letter_sent"
                            or e.attrs.get("decision") == "refuse_amend")
        drafts.append(_Draft("reassessment_final_plan", add_weeks(notified.date, 14),
                             _trigger(notified), _closed(closer)))
    return drafts


# --------------------------------------------------------------------------- §2.4 transfers


def _move_due(aware: date, move_on: date) -> tuple[date, str]:
    """Regs 15(2) and 16: on the move date with >= 15 working days' notice, otherwise the
    15th working day beginning with the day the body became aware."""
    # "15 working days before": working days from awareness (inclusive) to the day
    # before the move (inclusive).
    notice = count_working_days(aware, move_on - _ONE_DAY)
    if notice >= 15:
        return move_on, f"{notice} working days' notice of the move: due on the day of the move."
    return (nth_working_day_beginning_with(aware, 15),
            f"Only {notice} working days' notice of the move: due on the 15th working day "
            f"beginning with the day the move became known.")


def _called_off(case: _Case, move: Event) -> bool:
    """A ``transfer_cancelled`` dated on or after ``move`` (and before the next move of its
    kind): the move will not happen, so its clocks do not run (issue 6, core/transfers).
    Judged by dates, like every other rule here, so the order events are listed in does not
    change the result."""
    end = case.next_date(move, move.type)
    return case.first("transfer_cancelled", start=move.date, end=end) is not None


def _transfers(case: _Case) -> list[_Draft]:
    """Reg 15(2)-(4) transfer between councils; reg 16 change of health body."""
    drafts: list[_Draft] = []
    anchors = _review_anchors(case)
    for move in case.of("move_notified"):
        if _called_off(case, move):
            continue
        move_on = move.get_date("move_on")
        assert move_on is not None  # required by the vocabulary
        due, note = _move_due(move.date, move_on)
        # The sending council meets reg 15(2) when the plan leaves (plan_transferred_out, its
        # side of the transfer); a receiving case records the arrival (plan_transferred).
        transferred = case.first("plan_transferred", "plan_transferred_out", start=move.date)
        drafts.append(_Draft("transfer_of_plan_between_las", due, _trigger(move),
                             _closed(transferred), notes=[note]))
        if transferred is None:
            # The transfer has not happened: project the new council's duties from the
            # latest date the plan may lawfully be transferred (api-v1).
            projected = ["Projected from the latest lawful transfer date "
                         f"({due.isoformat()}); recomputed when the transfer is recorded."]
            drafts.append(_Draft("new_la_notification", add_weeks(due, 6),
                                 _trigger(move, due), provisional=True, notes=list(projected)))
            review = _new_la_review(case, move, due, anchors, provisional=True)
            review.notes = projected + review.notes
            drafts.append(review)
    for aware in case.of("health_body_aware_of_move"):
        if _called_off(case, aware):
            continue
        move_on = aware.get_date("move_on")
        assert move_on is not None  # required by the vocabulary
        due, note = _move_due(aware.date, move_on)
        drafts.append(_Draft("health_body_notification_on_transfer", due, _trigger(aware),
                             _closed(case.first("health_body_notified", start=aware.date)),
                             notes=[note]))
    for moved in case.of("plan_transferred"):
        end = case.next_date(moved, "plan_transferred")
        # Reg 15(4): within 6 weeks of the transfer. (new_la_review: see _annual_reviews.)
        drafts.append(_Draft("new_la_notification", add_weeks(moved.date, 6), _trigger(moved),
                             _closed(case.first("new_la_notification_sent", start=moved.date,
                                                end=end))))
    return drafts


# --------------------------------------------------------------------------- §2.6 mediation


def _mediation(case: _Case) -> list[_Draft]:
    """Regs 34-42: certificates in 3 working days, mediation within 30 days, agreements."""
    drafts: list[_Draft] = []
    certificate = "mediation_certificate_issued"
    for declined in case.of("mediation_declined"):
        # Reg 34: 3 working days *of* the adviser being told (that day excluded).
        drafts.append(_Draft("mediation_certificate", nth_working_day_after(declined.date, 3),
                             _trigger(declined),
                             _closed(case.first(certificate, start=declined.date))))
    for requested in case.of("mediation_requested"):
        # Regs 35-36: mediation within 30 calendar days of the council being told.
        drafts.append(_Draft("mediation_arranged", add_days(requested.date, 30),
                             _trigger(requested),
                             _closed(case.first("mediation_concluded", start=requested.date))))
        if requested.attrs.get("includes_health"):
            drafts.append(_Draft(
                "mediation_health_notification", nth_working_day_after(requested.date, 3),
                _trigger(requested),
                _closed(case.first("mediation_health_notified", start=requested.date))))
    for told in case.of("mediation_not_arranged_notified"):
        drafts.append(_Draft("mediation_certificate_not_arranged",
                             nth_working_day_after(told.date, 3), _trigger(told),
                             _closed(case.first(certificate, start=told.date))))
    for concluded in case.of("mediation_concluded"):
        drafts.append(_Draft("mediation_certificate_after_mediation",
                             nth_working_day_after(concluded.date, 3), _trigger(concluded),
                             _closed(case.first(certificate, start=concluded.date))))
    for agreed in case.of("mediation_agreement_made"):
        if not agreed.attrs.get("appealable", False):
            # Reg 42(3): 2 weeks for a non-appealable matter, unless the parties agreed
            # other timescales in writing (42(5)). Appealable matters follow the reg 44
            # order limits (42(2)): see _tribunal_orders, from the ``requires`` attribute.
            due = agreed.get_date("agreed_due") or add_weeks(agreed.date, 2)
            drafts.append(_Draft("mediation_agreement_action", due, _trigger(agreed), _closed(
                case.first("mediation_agreement_actioned", start=agreed.date))))
        elif not agreed.attrs.get("requires"):
            # Appealable, but what the agreement amounts to is not recorded: the reg 44 limit
            # cannot be chosen, so the shortest of them (2 weeks) is shown until it is -- the
            # reading that never lets the family's agreement wait longer than the law allows.
            due = agreed.get_date("agreed_due") or add_weeks(agreed.date, 2)
            drafts.append(_Draft("mediation_agreement_action", due, _trigger(agreed), _closed(
                case.first("mediation_agreement_actioned", start=agreed.date)), notes=[
                    "An appealable matter (reg 42(2)): record what the agreement requires to "
                    "apply the Tribunal order time limit; until then the shortest limit, 2 weeks, is shown."]))
        if agreed.attrs.get("la_party", True) is False:
            # Reg 42(4): the health body tells the council within 1 week.
            drafts.append(_Draft("mediation_agreement_notify_la", add_weeks(agreed.date, 1),
                                 _trigger(agreed), _closed(
                                     case.first("mediation_agreement_la_notified",
                                                start=agreed.date))))
    return drafts


def _projected_certificate(case: _Case, start: date, end: date | None) -> date | None:
    """Latest permissible certificate date from the latest mediation step in a segment."""
    step = case.last("mediation_declined", "mediation_not_arranged_notified",
                     "mediation_concluded", "mediation_requested", start=start, end=end)
    if step is None:
        return None
    if step.type == "mediation_requested":
        # Mediation must take place within 30 days; the certificate follows in 3 days.
        return nth_working_day_after(add_days(step.date, 30), 3)
    return nth_working_day_after(step.date, 3)


def _appeals(case: _Case) -> list[_Draft]:
    """Reg 33 adviser contact; HESC r.20(1)(c) appeal deadline; the council's response."""
    drafts: list[_Draft] = []
    for letter in case.of("decision_letter_sent"):
        end = case.next_date(letter, "decision_letter_sent")
        two_months = add_months(letter.date, 2)
        drafts.append(_Draft("mediation_adviser_contact", two_months, _trigger(letter), _closed(
            case.first("mediation_declined", "mediation_requested",
                       "mediation_certificate_issued", start=letter.date, end=end))))

        # HESC r.20(1)(c): the later of 2 months after the decision was sent and 1 month
        # after the certificate was issued, then the Tribunal's roll rules (r.12).
        issued = case.first("mediation_certificate_issued", start=letter.date, end=end)
        certified_on = issued.date if issued is not None else None
        provisional = False
        notes: list[str] = []
        if certified_on is None:
            certified_on = _projected_certificate(case, letter.date, end)
            if certified_on is not None:
                provisional = True
                notes.append("Projected from the latest date the mediation certificate may be "
                             f"issued ({certified_on.isoformat()}); recomputed when it is.")
            # With no mediation step at all no certificate is assumed: the deadline shown
            # is 2 months from the decision, the earliest the right to appeal can lapse.
        trigger = _trigger(letter)
        raw = two_months
        if certified_on is not None and add_months(certified_on, 1) > raw:
            raw = add_months(certified_on, 1)
            trigger = (_trigger(issued) if issued is not None
                       else Trigger("mediation_certificate_issued", certified_on))
        due = tribunal_due_date(raw)
        if due != raw:
            notes.append(f"The time limit ends on {raw.isoformat()}; the Tribunal's rules move "
                         f"it to {due.isoformat()}.")
        appealed = case.first("appeal_registered", start=letter.date, end=end)
        appealed_on = None
        if appealed is not None:
            # The family is in time if they *sent* the appeal in time (§8.5: store
            # appeal_lodged_at); registration by the Tribunal can come later.
            appealed_on = appealed.get_date("lodged_on") or appealed.date
            if appealed.attrs.get("late_permission_granted"):
                notes.append("The Tribunal admitted the appeal late.")
        drafts.append(_Draft("appeal_deadline", due, trigger, appealed_on,
                             provisional=provisional, notes=notes))

    for appeal in case.of("appeal_registered"):
        end = case.next_date(appeal, "appeal_registered")
        given = appeal.get_date("response_due")
        due = given or nth_tribunal_working_day_after(appeal.date, 30)
        notes = [] if given else ["Default of 30 Tribunal working days; replace it with the "
                                  "date in the Tribunal's registration letter."]
        drafts.append(_Draft("appeal_la_response", due, _trigger(appeal), _closed(
            case.first("appeal_response_submitted", "appeal_unopposed", start=appeal.date,
                       end=end)), notes=notes))
    return drafts


# --------------------------------------------------------------------------- §8.6, §8.7


def _tribunal_orders(case: _Case) -> list[_Draft]:
    """Reg 44(2) limits, counted from the order (HMCTS: the day it is sent; we count from
    the recorded order date, which is never later)."""
    drafts: list[_Draft] = []
    # Reg 42(2): a written mediation agreement on an appealable matter must be carried out
    # within the reg 44 limits "as if it were an order of the Tribunal"; ``requires`` says
    # which kind of order it amounts to.
    agreements = [a for a in case.of("mediation_agreement_made")
                  if a.attrs.get("appealable") and a.attrs.get("requires")]
    for order in case.of("tribunal_order_made") + agreements:
        kind = order.attrs.get("order") or order.attrs["requires"]
        first_draft = len(drafts)
        end = case.next_date(order, *_ASSESSMENT_BOUNDARIES)
        trigger = _trigger(order)

        def closed(*types: str, start: date = order.date, stop: date | None = end) -> date | None:
            return _closed(case.first(*types, start=start, end=stop))

        if kind == "assess":
            drafts += _assessment_chain(
                case, order, order.date,
                {"decide": "tribunal_order_assess_notify",
                 "no_plan": "tribunal_order_assess_no_plan",
                 "final": "tribunal_order_assess_final_plan"},
                {"decide": 2, "no_plan": 10, "final": 14}, refusable=False, notes=[])
        elif kind == "issue_plan":
            drafts.append(_Draft("tribunal_order_issue_draft", add_weeks(order.date, 5), trigger,
                                 closed("draft_plan_served")))
            drafts.append(_Draft("tribunal_order_issue_final", add_weeks(order.date, 11),
                                 trigger, closed("final_plan_issued")))
        elif kind == "amend":
            drafts.append(_Draft("tribunal_order_amend", add_weeks(order.date, 5), trigger,
                                 closed("amended_plan_issued", "final_plan_issued")))
        elif kind == "name_school":
            drafts.append(_Draft("tribunal_order_name_school", add_weeks(order.date, 2), trigger,
                                 closed("amended_plan_issued", "final_plan_issued")))
        elif kind == "cease":
            # "Cease immediately": due the day of the order.
            drafts.append(_Draft("tribunal_order_cease", order.date, trigger,
                                 closed("plan_ceased", stop=None)))
        else:  # continue
            drafts.append(_Draft("tribunal_order_continue_maintain", order.date, trigger,
                                 breached_on=closed("plan_ceased", stop=None)))
        if order.type == "mediation_agreement_made":
            for draft in drafts[first_draft:]:
                draft.notes.append("A mediation agreement on an appealable matter: the Tribunal order "
                                   "time limits apply as if it were an order (SEND Regs 2014 reg 42(2)).")
    return drafts


def _unopposed(case: _Case) -> list[_Draft]:
    """Reg 45 (as substituted 2015): limits from the day the council told the Tribunal."""
    drafts: list[_Draft] = []
    for conceded in case.of("appeal_unopposed"):
        decision = conceded.attrs["decision"]
        end = case.next_date(conceded, *_ASSESSMENT_BOUNDARIES)
        trigger = _trigger(conceded)

        def closed(*types: str, start: date = conceded.date,
                   stop: date | None = end) -> date | None:
            return _closed(case.first(*types, start=start, end=stop))

        if decision in ("refuse_assess", "refuse_reassess"):
            drafts += _assessment_chain(
                case, conceded, conceded.date,
                {"decide": "unopposed_appeal_notify", "no_plan": "unopposed_appeal_no_plan",
                 "final": "unopposed_appeal_final_plan"},
                {"decide": 2, "no_plan": 10, "final": 14}, refusable=False, notes=[])
        elif decision in ("plan_content", "refuse_amend"):
            drafts.append(_Draft("unopposed_appeal_amended_plan", add_weeks(conceded.date, 5),
                                 trigger, closed("amended_plan_issued", "final_plan_issued")))
        elif decision == "name_school":
            drafts.append(_Draft("unopposed_appeal_name_school", add_weeks(conceded.date, 2),
                                 trigger, closed("amended_plan_issued", "final_plan_issued")))
        elif decision == "not_issue":
            drafts.append(_Draft("unopposed_appeal_issue_draft", add_weeks(conceded.date, 5),
                                 trigger, closed("draft_plan_served")))
            drafts.append(_Draft("unopposed_appeal_issue_final", add_weeks(conceded.date, 11),
                                 trigger, closed("final_plan_issued")))
        # cease: the council simply continues to maintain; there is no date to show.
    return drafts


_FAMILIES: tuple[Callable[[_Case], Iterable[_Draft]], ...] = (
    _assessments, _advice, _institutions, _draft_windows, _annual_reviews, _meetings,
    _amendments, _phase_transfers, _reassessments, _transfers, _mediation, _appeals,
    _tribunal_orders, _unopposed,
)


# --------------------------------------------------------------------------- §2.8 SLAs


def _sla_due(case: _Case, start: date, target: SlaTarget) -> date:
    if target.unit == "days":
        return add_days(start, target.amount)
    if target.unit == "weeks":
        return add_weeks(start, target.amount)
    # Council closure days count here and only here (§1.1).
    day, remaining = start, target.amount
    while remaining:
        day = next_working_day(day)
        if day not in case.policy.closure_days:
            remaining -= 1
    return day


def _sla_deadlines(case: _Case) -> list[Deadline]:
    deadlines = []
    for target in case.policy.sla_targets:
        rule = Rule(target.key, "Council service standard (not statutory)",
                    target.label or "The council's own target: " + target.key.replace("_", " "),
                    statutory=False)
        for event in case.of(target.trigger):
            closer = case.first(*target.closed_by, start=event.date) if target.closed_by else None
            draft = _Draft(target.key, _sla_due(case, event.date, target), _trigger(event),
                           _closed(closer))
            deadlines.append(_finalise(draft, case, rule))
    return deadlines


# --------------------------------------------------------------------------- status


def _exception_for(draft: _Draft, rule: Rule, last_day: date, case: _Case) -> Event | None:
    """The first recorded exception that the law lets suspend this deadline.

    It must name the key (or an alias) in ``affects``, use a code allowed for the key,
    be long enough for the regulation (e.g. absence of at least 4 weeks), and overlap
    the period in which the duty runs. An exception that ended before the clock started,
    or began after the last compliant day, cannot excuse anything.
    """
    if not rule.exception_codes:
        return None
    running_from = min(draft.trigger.date, draft.due)
    running_to = max(draft.trigger.date, last_day)
    for event in case.of("exception_recorded"):
        affects = {KEY_ALIASES.get(key, key) for key in event.attrs["affects"]}
        code = event.attrs["code"]
        if draft.key not in affects or code not in rule.exception_codes:
            continue
        began = event.get_date("from")
        assert began is not None  # required by the vocabulary
        ended = event.get_date("to")
        covered_to = ended or max(case.today, began)
        if (covered_to - began).days + 1 < rule.minimum_days(code):
            continue
        if began <= running_to and covered_to >= running_from:
            return event
    return None


def _finalise(draft: _Draft, case: _Case, rule: Rule | None = None) -> Deadline:
    rule = rule or RULES[draft.key]
    last_day = draft.due if rule.comparison == "on_or_before" else draft.due - _ONE_DAY
    hint = None
    if rule.duty_holder != "family" and rule.kind != "ongoing" and not is_working_day(last_day):
        # No roll-forward for council or health-body duties (§1.3 item 1): the date
        # stands, with a practical "act by" day.
        hint = previous_working_day(last_day)

    exception = _exception_for(draft, rule, last_day, case)
    status: Status
    met_on = None
    if rule.kind == "window":
        if draft.breached_on is not None:
            status = "missed"
        elif case.today > draft.due:
            status, met_on = "met", draft.due
        else:
            status = "open"
    elif rule.kind == "ongoing":
        status, met_on = ("missed", None) if draft.breached_on else ("met", draft.due)
    elif rule.kind == "reminder":
        status, met_on = ("met", draft.closed_on) if draft.closed_on else ("open", None)
    else:
        met_on = draft.closed_on
        if met_on is not None and met_on <= last_day:
            status = "met"
        elif exception is not None:
            status = "suspended"
        elif met_on is not None or case.today > last_day:
            status = "missed"
        else:
            status = "open"

    exception_info = None
    if status == "suspended" and exception is not None:
        exception_info = {"code": exception.attrs["code"], "from": exception.get_date("from"),
                          "to": exception.get_date("to")}
    notes = list(draft.notes)
    if rule.note:
        notes.append(rule.note)
    return Deadline(
        key=draft.key, due=draft.due, comparison=rule.comparison, statutory=rule.statutory,
        status=status, citation=rule.citation, label=rule.label, trigger=draft.trigger,
        met_on=met_on, exception=exception_info, non_working_day_hint=hint,
        provisional=draft.provisional, note=" ".join(notes) or None,
        ref=str(draft.ref) if draft.ref is not None else None)
