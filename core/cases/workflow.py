"""Which event may happen next on an EHC case: the statutory order of steps.

Pure functions over a case's events (api-v1 vocabulary, after ``corrects`` is applied). The
services call :func:`check_next_event` before recording anything, so an impossible event
(a final plan before any decision to assess, a final plan inside the 15-day window for
representations) is refused with a reason and nothing is stored.

Each rule cites the provision that makes the order matter. Where the law allows more than
one reading, the rule takes the one that protects the family and says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.timescales import apply_corrections
from core.timescales.events import parse_date

#: Events that may open a case. A request (or a child brought to the council's attention,
#: s24) starts the EHC needs assessment clocks (regs 5, 10, 13). ``plan_transferred`` opens
#: the *receiving* council's case: from the transfer the plan is treated as made by the new
#: council on its original date (reg 15(3)), and the new council's clocks start (15(4)-(5)).
#: The sending council's side of a transfer is the transfers resource (issue #6).
OPENING_EVENTS = frozenset({"request_received", "plan_transferred"})


class WorkflowRefusal(Exception):
    """The event is well formed but cannot happen now; ``reason`` says why, in plain English."""

    def __init__(self, reason: str, *, field: str = "type"):
        self.reason = reason
        self.field = field
        super().__init__(reason)


@dataclass
class CaseState:
    """What has happened on a case so far, distilled for the rules and for listings."""

    opened_on: dt.date | None = None
    assess_decision: str | None = None
    issue_decision: str | None = None
    draft_served_on: dt.date | None = None
    plan_issued_on: dt.date | None = None
    ceased_on: dt.date | None = None
    #: Set when the plan leaves for another council (the transfers service, issue #6).
    transferred_out_on: dt.date | None = None
    meetings_held: list[dt.date] = field(default_factory=list)
    last_review_decision: str | None = None
    last_review_decision_on: dt.date | None = None
    amendment_served_on: dt.date | None = None
    amendment_open: bool = False
    reassessment_requested: bool = False
    reassessment_decision: str | None = None
    advice_requested: dict[str, dt.date] = field(default_factory=dict)
    advice_received: set[str] = field(default_factory=set)
    institutions_consulted: dict[str, dt.date] = field(default_factory=dict)
    decision_letters: list[tuple[str, dt.date]] = field(default_factory=list)
    appeals_registered: int = 0
    mediation_requested: bool = False
    mediation_agreements: int = 0
    health_body_aware: bool = False
    transferred_in: bool = False
    move_notified: bool = False
    #: Youth custody (CFA 2014 ss70-75; issue 6): detained since this day, None when not detained.
    detained_since: dt.date | None = None
    last_event_on: dt.date | None = None

    @property
    def has_plan(self) -> bool:
        """A plan is maintained: issued, not ceased, not transferred away."""
        return self.plan_issued_on is not None and self.ceased_on is None and self.transferred_out_on is None

    @property
    def stage(self) -> str:
        """One word for caseload filters. Order matters: the latest phase wins."""
        if self.transferred_out_on:
            return "transferred"
        if self.ceased_on:
            return "ceased"
        if self.plan_issued_on:
            if self.amendment_open:
                return "amendment"
            if self.reassessment_requested and self.reassessment_decision is None:
                return "reassessment"
            if self.meetings_held and (self.last_review_decision_on is None
                                       or self.meetings_held[-1] > self.last_review_decision_on):
                return "review"
            return "plan"
        if self.draft_served_on:
            return "draft"
        if self.issue_decision == "not_issue":
            return "not_issuing"
        if self.issue_decision == "issue":
            return "drafting"
        if self.assess_decision == "refuse":
            return "not_assessing"
        if self.assess_decision == "assess":
            return "assessment"
        return "request" if self.opened_on else "empty"


STAGES = ("request", "assessment", "not_assessing", "drafting", "not_issuing", "draft", "plan", "review",
          "amendment", "reassessment", "ceased", "transferred")


def _served(event: Mapping[str, Any]) -> dt.date:
    """The day a draft or notice was served: ``served_at`` when recorded, else the event date."""
    return parse_date(event.get("served_at") or event["date"])


def derive_state(events: Sequence[Mapping[str, Any]]) -> CaseState:
    """The state after ``events`` (in recorded order, corrections applied)."""
    state = CaseState()
    for _, event in apply_corrections(events):
        _apply(state, event)
    return state


def _apply(state: CaseState, event: Mapping[str, Any]) -> None:
    kind = event["type"]
    day = parse_date(event["date"])
    state.last_event_on = max(state.last_event_on or day, day)
    if kind == "request_received" and state.opened_on is None:
        state.opened_on = day
    elif kind == "plan_transferred" and state.opened_on is None:
        state.opened_on = day
        state.transferred_in = True
        made = event.get("plan_made_on")
        state.plan_issued_on = parse_date(made) if made else day
    elif kind == "decision_to_assess_made":
        state.assess_decision = event.get("outcome")
    elif kind == "decision_to_issue_made":
        state.issue_decision = event.get("outcome")
    elif kind == "advice_requested" and event.get("advice_id"):
        state.advice_requested[str(event["advice_id"])] = day
    elif kind == "advice_received" and event.get("advice_id"):
        state.advice_received.add(str(event["advice_id"]))
    elif kind == "draft_plan_served":
        state.draft_served_on = _served(event)
    elif kind == "institution_consulted" and event.get("urn"):
        state.institutions_consulted[str(event["urn"])] = day
    elif kind == "final_plan_issued":
        state.plan_issued_on = state.plan_issued_on or day
    elif kind == "review_meeting_held":
        state.meetings_held.append(day)
    elif kind == "review_decision_sent":
        state.last_review_decision = event.get("outcome")
        state.last_review_decision_on = day
    elif kind == "amendment_notice_sent":
        state.amendment_served_on = _served(event)
        state.amendment_open = True
    elif kind == "amended_plan_issued":
        state.amendment_open = False
    elif kind == "reassessment_request_received":
        state.reassessment_requested = True
        state.reassessment_decision = None
    elif kind == "reassessment_decision_notified":
        state.reassessment_requested = True
        state.reassessment_decision = event.get("outcome") or "reassess"
    elif kind == "decision_letter_sent":
        state.decision_letters.append((str(event.get("decision")), day))
    elif kind == "mediation_requested":
        state.mediation_requested = True
    elif kind == "appeal_registered":
        state.appeals_registered += 1
    elif kind == "move_notified":
        state.move_notified = True
    elif kind == "mediation_agreement_made":
        state.mediation_agreements += 1
    elif kind == "health_body_aware_of_move":
        state.health_body_aware = True
    elif kind == "plan_ceased":
        state.ceased_on = day
    elif kind == "plan_transferred_out":
        state.transferred_out_on = day
    elif kind == "transfer_cancelled":
        state.move_notified = False
        state.health_body_aware = False
    elif kind == "detention_started":
        state.detained_since = day
    elif kind == "released_from_detention":
        state.detained_since = None


# ---------------------------------------------------------------------------------------
# The rules


def _need(condition: bool, reason: str) -> None:
    if not condition:
        raise WorkflowRefusal(reason)


_LETTER_NEEDS = {
    # decision -> (test on state, what is missing). CFA 2014 s51(2) lists what can be appealed;
    # the letter must follow the decision it announces.
    "refuse_assess": (lambda s: s.assess_decision == "refuse", "a decision not to assess"),
    "not_issue": (lambda s: s.issue_decision == "not_issue", "a decision not to issue a plan"),
    "plan_content": (lambda s: s.plan_issued_on is not None, "an issued plan"),
    "refuse_reassess": (lambda s: s.reassessment_decision == "refuse", "a decision not to re-assess"),
    "refuse_amend": (lambda s: s.last_review_decision == "maintain", "a review decision to maintain the plan unchanged"),
    "cease": (lambda s: s.last_review_decision == "cease", "a decision to cease the plan"),
}


def check_next_event(events: Sequence[Mapping[str, Any]], new: Mapping[str, Any], *, today: dt.date) -> CaseState:
    """Refuse ``new`` (already well formed) if it cannot follow ``events``; else return the
    state it leads to. A correcting event is checked by replaying the corrected history."""
    if "corrects" in new:
        history = [*events, new]
        replay: list[Mapping[str, Any]] = []
        for _, event in apply_corrections(history):
            _check_one(replay, event, today=today)
            replay.append(event)
        return derive_state(history)
    _check_one(events, new, today=today)
    return derive_state([*events, new])


def _check_one(events: Sequence[Mapping[str, Any]], new: Mapping[str, Any], *, today: dt.date) -> None:
    state = derive_state(events)
    kind = new["type"]
    day = parse_date(new["date"])
    # Events record what has happened: none is dated in the future.
    if day > today:
        raise WorkflowRefusal("The date cannot be in the future: record steps once they have happened", field="date")
    if state.opened_on is None:
        _need(kind in OPENING_EVENTS, "A case starts with the request for an assessment (request_received)")
        return
    if kind in OPENING_EVENTS:
        raise WorkflowRefusal("This case already has its request; a new request starts a new case")
    if day < state.opened_on:
        raise WorkflowRefusal("The date cannot be before the request that opened the case", field="date")
    if state.transferred_out_on is not None:
        # Reg 15(3): from the transfer the new council maintains the plan as its own; this
        # council's record is read-only. Only the old health body's reg 16 notice, a duty that
        # outlives the transfer, may still be recorded here.
        _need(kind == "health_body_notified" and state.health_body_aware,
              "The plan has moved to another council: this council's record can no longer be changed")
        return
    if state.ceased_on is not None or state.transferred_out_on is not None:
        _need(kind in ("appeal_registered", "appeal_decided", "tribunal_order_made", "appeal_unopposed",
                       "appeal_response_submitted", "exception_recorded"),
              "The plan has ceased or moved to another council; only an appeal can follow")
    rule = _RULES.get(kind)
    if rule is not None:
        rule(state, new, day)


def _decision_to_assess(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    # Reg 5: one decision on the request. A second decision is a correction, not a new event.
    _need(state.assess_decision is None,
          "The decision whether to assess has been recorded already; correct it instead of adding another")


def _advice_requested(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    # Reg 6: advice is sought for an EHC needs assessment or a re-assessment.
    _need(state.assess_decision == "assess" or state.reassessment_decision in ("reassess", "assess"),
          "Advice is requested for an assessment: record the decision to assess first")
    advice_id = new.get("advice_id")
    if advice_id:
        _need(str(advice_id) not in state.advice_requested, "Advice with this advice_id has been requested already")


def _advice_received(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    advice_id = new.get("advice_id")
    _need(bool(advice_id), "Say which request this advice answers (advice_id)")
    requested = state.advice_requested.get(str(advice_id))
    _need(requested is not None, "No advice with this advice_id was requested on this case")
    _need(day >= requested, "Advice cannot be received before it was requested")  # type: ignore[operator]
    _need(str(advice_id) not in state.advice_received, "This advice has been received already")


def _decision_to_issue(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    # Reg 10 follows an assessment: there is nothing to decide without one.
    _need(state.assess_decision == "assess", "A decision whether to issue a plan follows an EHC needs assessment: "
                                             "record the decision to assess first")
    _need(state.issue_decision is None, "The decision whether to issue has been recorded already; correct it instead")


def _draft_served(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    # Reg 12-13: a draft plan follows a decision to issue one.
    _need(state.issue_decision == "issue" or state.reassessment_decision in ("reassess", "assess"),
          "A draft plan follows a decision to issue a plan")
    _need(state.plan_issued_on is None or state.reassessment_decision is not None,
          "The plan has been issued; changes go through an amendment notice")


def _institution_consulted(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    # s39: the council consults a school or college the family asks for, on the draft plan.
    _need(state.draft_served_on is not None or state.amendment_open,
          "Schools and colleges are consulted on a draft plan or an amendment: serve it first")


def _institution_responded(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    urn = new.get("urn")
    consulted = state.institutions_consulted.get(str(urn)) if urn else None
    _need(consulted is not None, "No school or college with this URN was consulted on this case")
    _need(day >= consulted, "A response cannot come before the consultation")  # type: ignore[operator]


def _final_plan(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    _need(state.assess_decision == "assess", "A final plan needs an EHC needs assessment: record the decision to assess first")
    _need(state.issue_decision == "issue", "A final plan needs a decision to issue one")
    _need(state.draft_served_on is not None, "A final plan follows a draft plan: serve the draft first")
    _need(state.plan_issued_on is None or state.reassessment_decision is not None,
          "The final plan has been issued already; changes go through an amendment notice")
    # Reg 13(1): the family has at least 15 days, beginning with the day the draft was
    # served, to make representations and ask for a school. Finalising on day 15 itself
    # would cut the window short, so the earliest day is served + 15.
    earliest = state.draft_served_on + dt.timedelta(days=15)  # type: ignore[operator]
    _need(day >= earliest, f"The family has until {(earliest - dt.timedelta(days=1)).isoformat()} to comment on the "
                           f"draft plan (SEND Regs 2014 reg 13(1)); the final plan can be issued from {earliest.isoformat()}")


def _needs_plan(what: str) -> Any:
    def rule(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
        _need(state.has_plan, f"{what} needs an issued EHC plan on this case")
    return rule


def _review_decision(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    _need(state.has_plan, "A review decision needs an issued EHC plan on this case")
    # Reg 20(10): the decision follows the review meeting.
    _need(bool(state.meetings_held) and state.meetings_held[-1] <= day,
          "A review decision follows a review meeting: record the meeting first")


def _amendment_notice(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    _need(state.has_plan, "An amendment notice needs an issued EHC plan on this case")
    _need(not state.amendment_open, "An amendment is already in progress: issue the amended plan (or correct the notice) first")


def _amended_plan(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    _need(state.amendment_open, "An amended plan follows an amendment notice")
    # Reg 22(2)(c): at least 15 days beginning with service for representations.
    earliest = state.amendment_served_on + dt.timedelta(days=15)  # type: ignore[operator]
    _need(day >= earliest, f"The family has until {(earliest - dt.timedelta(days=1)).isoformat()} to comment on the "
                           f"proposed amendments (SEND Regs 2014 reg 22(2)); the amended plan can be issued from "
                           f"{earliest.isoformat()}")


def _reassessment_decision(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    # Reg 25: the decision answers a request; the council may also decide on its own (s44(3)).
    _need(state.has_plan, "A re-assessment needs an issued EHC plan on this case")


def _decision_letter(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    decision = str(new.get("decision"))
    test, missing = _LETTER_NEEDS[decision]
    _need(test(state), f"A decision letter of this kind announces {missing}: record that first")


def _after_letter(what: str) -> Any:
    def rule(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
        # Regs 32-33: mediation and appeal rights run from an appealable decision's letter.
        _need(bool(state.decision_letters), f"{what} follows a decision letter with appeal rights: record the letter first")
    return rule


def _after_appeal(what: str) -> Any:
    def rule(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
        _need(state.appeals_registered > 0, f"{what} needs a registered appeal")
    return rule


def _mediation_step(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    _need(state.mediation_requested, "Record that the family asked for mediation first")


def _plan_ceased(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    # Reg 31 and CFA s45: ceasing is decided, then notified with appeal rights. The plan (and
    # its provision) continues until any appeal is over; the timescale engine shows when the
    # appeal window ends, and the service checks it before accepting this event.
    _need(state.has_plan, "Only an issued plan can cease")
    _need(any(d == "cease" for d, _ in state.decision_letters),
          "Send the decision letter to cease, with its appeal rights, before the plan ceases")


def _move_step(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    _need(state.has_plan, "Only an issued plan transfers between councils")


def _detention_started(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    _need(state.detained_since is None,
          f"A detention from {state.detained_since} is already recorded: record the release first")


def _released(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
    _need(state.detained_since is not None, "A release follows a detention: record the detention first")
    _need(day >= state.detained_since,  # type: ignore[operator]
          "The release cannot be before the detention began")


def _after(flag: str, what: str, missing: str) -> Any:
    """A step that answers an earlier one (a notification after the move, an action after an
    agreement): it cannot come first."""
    def rule(state: CaseState, new: Mapping[str, Any], day: dt.date) -> None:
        _need(bool(getattr(state, flag)), f"{what} follows {missing}: record that first")
    return rule


_RULES: dict[str, Any] = {
    "decision_to_assess_made": _decision_to_assess,
    "advice_requested": _advice_requested,
    "advice_received": _advice_received,
    "decision_to_issue_made": _decision_to_issue,
    "draft_plan_served": _draft_served,
    "institution_consulted": _institution_consulted,
    "institution_responded": _institution_responded,
    "final_plan_issued": _final_plan,
    "review_meeting_scheduled": _needs_plan("A review meeting"),
    "review_meeting_held": _needs_plan("A review meeting"),
    "review_invitations_sent": _needs_plan("A review"),
    "review_papers_sent": _needs_plan("A review"),
    "review_report_sent": _needs_plan("A review report"),
    "review_decision_sent": _review_decision,
    "amendment_notice_sent": _amendment_notice,
    "amended_plan_issued": _amended_plan,
    "phase_transfer_planned": _needs_plan("A phase transfer"),
    "reassessment_request_received": _needs_plan("A request for re-assessment"),
    "reassessment_decision_notified": _reassessment_decision,
    "decision_letter_sent": _decision_letter,
    "mediation_declined": _after_letter("Mediation"),
    "mediation_requested": _after_letter("Mediation"),
    "mediation_concluded": _mediation_step,
    "mediation_health_notified": _mediation_step,
    "mediation_not_arranged_notified": _mediation_step,
    "mediation_agreement_made": _mediation_step,
    "mediation_certificate_issued": _after_letter("A mediation certificate"),
    "appeal_registered": _after_letter("An appeal"),
    "appeal_decided": _after_appeal("An appeal decision"),
    "appeal_response_submitted": _after_appeal("The council's response"),
    "appeal_unopposed": _after_appeal("Conceding an appeal"),
    "tribunal_order_made": _after_appeal("A Tribunal order"),
    "plan_ceased": _plan_ceased,
    "move_notified": _move_step,
    "health_body_aware_of_move": _move_step,
    # Reg 15(2): the plan leaves for the council the move was notified to (issue 6).
    "plan_transferred_out": _after("move_notified", "Transferring the plan", "the notice of the move"),
    "transfer_cancelled": _after("move_notified", "Calling off a transfer", "the notice of the move"),
    # CFA 2014 ss70-75 (issue 6): one detention at a time, and a release follows a detention.
    "detention_started": _detention_started,
    "released_from_detention": _released,
    # Reg 15(4): the new council's letter follows the transfer that put the plan in its hands.
    "new_la_notification_sent": _after("transferred_in", "The new council's letter to the family",
                                       "the plan's transfer to this council"),
    # Reg 16: the old health body's notice follows its becoming aware of the move.
    "health_body_notified": _after("health_body_aware", "Telling the new health body",
                                   "the old health body becoming aware of the move"),
    # Reg 42: what an agreement requires follows the agreement.
    "mediation_agreement_actioned": _after("mediation_agreements", "Acting on a mediation agreement",
                                           "the mediation agreement"),
    "mediation_agreement_la_notified": _after("mediation_agreements", "Telling the council of a mediation agreement",
                                              "the mediation agreement"),
}
