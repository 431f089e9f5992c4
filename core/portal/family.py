"""The parent, carer and young person portal: what a family sees of their case and what they
can do through it (issue #4 items 6 and 7).

Everything here takes the person's own scoped :class:`~core.actors.Actor` (kind ``identity``,
permission ``portal.family``) and reaches the child through
:func:`core.children.access.access_child` and the case through
:func:`core.cases.access.access_case`, so the council (ORM criterion and RLS), the person's
memberships and the audit log all apply. A child the person has no family membership for is
the same :class:`NotFound` as one that does not exist.

What a family can do, and the law each step rests on:

* see the case's stage, its timeline in plain words (:data:`EVENT_WORDS`; never staff notes or
  internal references), the dates that matter to them, and whom to contact;
* send their views, interests and aspirations for Section A of the plan, with files
  (SEND Regs 2014 reg 12(1)(a); CoP 9.61-9.62: the plan must set out the child's and parents',
  or the young person's, views);
* ask for an EHC needs assessment (CFA 2014 s36(1); the council's 6-week decision clock starts
  the day the request is received, SEND Regs 2014 reg 5(1)), or, where there is already a plan,
  a re-assessment (CFA 2014 s44(2)(a); SEND Regs 2014 regs 24-25: a decision within 15 days);
* comment on a draft plan, section by section, only inside the representations window
  ("at least 15 days beginning with the day on which the draft was served": the last day is
  served + 14, SEND Regs 2014 reg 13(1)(a), CoP 9.77), or on proposed amendments inside the
  reg 22(2)(c) window;
* name a preferred school or college (CFA 2014 s38(2)(b); the council must consult it, s39(2));
* ask for a personal budget (CFA 2014 s49; SEND (Personal Budgets) Regs 2014; CoP 9.95 onwards),
  once the council has decided to write a plan or while a plan is maintained;
* see who can see the case and who has looked at it (the audit log, newest first);
* give and withdraw consent to share beyond the statutory recipients, per recipient (SEND Regs
  2014 reg 17 and the Code's "Disclosure of an EHC plan": a plan is not disclosed without
  consent except for statutory purposes).

Where a family's step is also a step in the law (a request for an assessment or re-assessment)
it is recorded on the case in the same transaction, so the council's clock starts the day it
arrives. A family cannot record case events themselves (no ``cases.write``): for that one call
the service acts for them with a narrowly elevated actor that carries their identity, so the
event and its audit row name them. Services never commit; a refusal raises before anything is
written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select

from core import clock, permissions
from core.actors import Actor
from core.portal import acting_for
from core.api_clients.models import ApiClient
from core.audit import services as audit
from core.audit.models import AuditEvent
from core.cases.access import access_case
from core.cases.models import Case, CaseEvent, Document, PlanVersion
from core.cases.reviews import is_young_person
from core.cases.services import ACTIVE_STAGES, active_case_of, deadlines_of, event_rows, open_case, record_event
from core.cases.workflow import CaseState, derive_state
from core.children.access import access_child
from core.children.models import Child, Placement
from core.db import db, utcnow
from core.documents.services import ACCEPTED, MAX_BYTES, access_document, sniff, store_document
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.models import Consent, Identity, Membership, MembershipRole
from core.identity.services import (
    PORTAL_ACCESS, has_portal_consent, live_memberships, memberships_of_child,
)
from core.ids import parse_id
from core.institutions.models import Institution
from core.plans import services as plans
from core.plans.content import SECTION_TITLES, SECTIONS, with_defaults
from core.submissions.models import Submission, SubmissionKind
from core.timescales import RULES, Deadline, TimescalePolicy, apply_corrections
from core.users.models import User

#: The membership roles this portal serves.
FAMILY_ROLES = ("parent", "young_person")
#: The most files one submission may carry.
MAX_FILES = 5
#: The most characters in one box of the views form, a comment, or a request's reasons.
VIEWS_MAX = 3000
COMMENT_MAX = 3000
REASONS_MAX = 5000
SHORT_MAX = 500
#: How many "who has looked" rows one page shows.
LOOKS_PER_PAGE = 25

#: Document kinds a family may open (besides what they sent themselves): the plan, and the
#: advice and review papers the law says they are sent (reg 13(1): the draft with its advice;
#: reg 20(4) and (7): review papers and report).
FAMILY_DOCUMENT_KINDS = ("plan_pdf", "advice", "review_paper", "review_report")

#: Deadline keys of the representations windows (the family's own time to comment).
DRAFT_WINDOWS = ("draft_plan_representations", "dp_draft_representations")
AMENDMENT_WINDOWS = ("amendment_notice_representations",)

#: Stages at which a personal budget may be asked for: a plan is being written or is in force
#: (CoP 9.95 onwards: "once the local authority has completed the assessment and confirmed
#: that it will prepare an EHC plan", and at a review or re-assessment).
BUDGET_STAGES = ("drafting", "draft", "plan", "review", "amendment", "reassessment")
#: Stages with an EHC plan in force, where a new request is one for a re-assessment.
PLAN_STAGES = ("plan", "review", "amendment")


# ---------------------------------------------------------------------------------------
# Words for families


#: The stage of a case, as a family would put it.
STAGE_WORDS: dict[str, str] = {
    "request": "We have received the request for an assessment",
    "assessment": "We are carrying out an EHC needs assessment",
    "not_assessing": "We decided not to carry out an assessment",
    "drafting": "We are writing the draft EHC plan",
    "not_issuing": "We decided not to write an EHC plan",
    "draft": "The draft EHC plan is with you",
    "plan": "The EHC plan is in place",
    "review": "The EHC plan is being reviewed",
    "amendment": "We are changing the EHC plan",
    "reassessment": "We are deciding whether to re-assess",
    "ceased": "The EHC plan has ended",
    "transferred": "The EHC plan has moved to another council",
}

_ADVICE_WORDS = {"educational": "advice from education", "medical": "health advice",
                 "psychological": "advice from an educational psychologist", "social_care": "social care advice",
                 "other": "advice"}
_DECISION_WORDS = {"refuse_assess": "not to carry out an assessment", "not_issue": "not to write an EHC plan",
                   "plan_content": "about what the plan says", "refuse_reassess": "not to re-assess",
                   "refuse_amend": "not to change the plan", "cease": "to end the plan"}
_ORDER_WORDS = {"assess": "to carry out an assessment", "issue_plan": "to write an EHC plan",
                "amend": "to change the plan", "name_school": "to name a school or college",
                "continue": "to keep the plan", "cease": "that the plan may end"}
_EXCEPTION_WORDS = {"setting_closure": "the school or setting was closed",
                    "personal_circumstances": "of exceptional personal circumstances",
                    "absent_from_area": "of time away from the area",
                    "missed_appointment": "an appointment was missed"}


def _advice(e: Mapping[str, Any]) -> str:
    return _ADVICE_WORDS.get(str(e.get("advice") or "other"), "advice")


def _school(e: Mapping[str, Any], names: Mapping[str, str]) -> str:
    return names.get(str(e.get("urn")), "a school or college")


def _on(e: Mapping[str, Any], attr: str) -> str:
    raw = e.get(attr)
    try:
        day = dt.date.fromisoformat(str(raw))
    except ValueError:
        return ""
    return f" for {day.day} {day.strftime('%B %Y')}"


#: What each event on a case means to a family, in plain words ("we" is the council). Every
#: event type of core.timescales.events has an entry (tests check it); none shows an internal
#: reference (advice ids, council codes) or anything a caseworker wrote for colleagues.
EVENT_WORDS: dict[str, Callable[[Mapping[str, Any], Mapping[str, str]], str]] = {
    "request_received": lambda e, n: ("We were told the child or young person may need an EHC needs assessment"
                                      if e.get("brought_to_attention") else
                                      "We received the request for an EHC needs assessment"),
    "decision_to_assess_made": lambda e, n: ("We decided to carry out an EHC needs assessment"
                                             if e.get("outcome") == "assess" else
                                             "We decided not to carry out an EHC needs assessment"),
    "advice_requested": lambda e, n: f"We asked for {_advice(e)}",
    "advice_received": lambda e, n: f"We received {_advice(e)}",
    "decision_to_issue_made": lambda e, n: ("We decided to write an EHC plan" if e.get("outcome") == "issue"
                                            else "We decided not to write an EHC plan"),
    "draft_plan_served": lambda e, n: "We sent you the draft EHC plan",
    "institution_consulted": lambda e, n: f"We asked {_school(e, n)} whether it can meet the needs in the plan",
    "institution_responded": lambda e, n: f"{_school(e, n)[0].upper()}{_school(e, n)[1:]} replied to us",
    "final_plan_issued": lambda e, n: "We issued the final EHC plan",
    "review_meeting_scheduled": lambda e, n: f"We arranged an annual review meeting{_on(e, 'meeting_on')}",
    "review_invitations_sent": lambda e, n: "Invitations to the annual review meeting were sent",
    "review_papers_sent": lambda e, n: "Papers for the annual review meeting were sent out",
    "review_meeting_held": lambda e, n: "The annual review meeting took place",
    "review_report_sent": lambda e, n: "The annual review report was sent",
    "review_decision_sent": lambda e, n: {
        "maintain": "We decided to keep the EHC plan as it is",
        "amend": "We decided to change the EHC plan",
        "cease": "We decided to end the EHC plan",
    }.get(str(e.get("outcome")), "We sent our decision after the annual review"),
    "amendment_notice_sent": lambda e, n: "We sent you the changes we propose to make to the EHC plan",
    "amended_plan_issued": lambda e, n: "We issued the changed EHC plan",
    "phase_transfer_planned": lambda e, n: f"A move to a new school or college was planned{_on(e, 'transfer_on')}",
    "reassessment_request_received": lambda e, n: "We received a request for a re-assessment",
    "reassessment_decision_notified": lambda e, n: ("We decided not to carry out a re-assessment"
                                                    if e.get("outcome") == "refuse" else
                                                    "We decided to carry out a re-assessment"),
    "move_notified": lambda e, n: "We were told about a move to another council’s area",
    "plan_transferred": lambda e, n: "The EHC plan was transferred to us from another council",
    "health_body_aware_of_move": lambda e, n: "The health service was told about the move",
    "new_la_notification_sent": lambda e, n: "We wrote to you about the EHC plan moving to us",
    "health_body_notified": lambda e, n: "The old health service told the new one about the move",
    "plan_transferred_out": lambda e, n: "The EHC plan moved to your new council, which looks after it from now on",
    "transfer_cancelled": lambda e, n: "The move of the EHC plan to another council was called off",
    "detention_started": lambda e, n: "Detention in youth custody began; we keep the EHC plan during it",
    "released_from_detention": lambda e, n: "Release from youth custody; the EHC plan is maintained again",
    "decision_letter_sent": lambda e, n: (f"We sent you our decision {_DECISION_WORDS.get(str(e.get('decision')), '')}"
                                          " in writing, with your right to appeal").replace("  ", " "),
    "mediation_declined": lambda e, n: "Mediation was not wanted",
    "mediation_requested": lambda e, n: "Mediation was asked for",
    "mediation_concluded": lambda e, n: "Mediation took place",
    "mediation_certificate_issued": lambda e, n: "A mediation certificate was issued",
    "mediation_health_notified": lambda e, n: "We told the health service which health questions go to mediation",
    "mediation_not_arranged_notified": lambda e, n: "You were told mediation could not be arranged in time",
    "mediation_agreement_made": lambda e, n: "An agreement was reached in mediation",
    "mediation_agreement_actioned": lambda e, n: "We did what was agreed in mediation",
    "mediation_agreement_la_notified": lambda e, n: "The health service told us about the mediation agreement",
    "appeal_registered": lambda e, n: "An appeal was registered with the SEND Tribunal",
    "appeal_response_submitted": lambda e, n: "We sent our response to the SEND Tribunal",
    "appeal_unopposed": lambda e, n: "We told the SEND Tribunal we would not oppose the appeal",
    "appeal_decided": lambda e, n: "The SEND Tribunal decided the appeal",
    "tribunal_order_made": lambda e, n: ("The SEND Tribunal ordered us "
                                         f"{_ORDER_WORDS.get(str(e.get('order')), 'to act')}"),
    "exception_recorded": lambda e, n: (f"We recorded that some dates may change because "
                                        f"{_EXCEPTION_WORDS.get(str(e.get('code')), 'of a reason the law allows')}"),
    "plan_ceased": lambda e, n: "The EHC plan ended",
}

#: The dates a family cares about, in "we" words. Other keys use the engine's own sentence for
#: families (core.timescales.rules).
CLOCK_WORDS: dict[str, str] = {
    "decision_to_assess": "We must tell you whether we will carry out an EHC needs assessment",
    "decision_not_to_issue": "If we decide not to write an EHC plan, we must tell you",
    "final_plan_issued": "We must issue the final EHC plan",
    "draft_plan_representations": "Last day to comment on the draft plan, ask for a school or college, or ask to "
                                  "meet us",
    "dp_draft_representations": "Last day to comment on the draft plan or ask for a school or college",
    "annual_review": "We must review the EHC plan and tell you what we decided",
    "post_review_decision": "We must tell you whether we will keep, change or end the plan",
    "amendment_notice_representations": "Last day to comment on the changes we propose, or ask for a school or college",
    "amended_plan_issued": "We must issue the changed EHC plan",
    "decision_not_to_amend": "If we decide not to change the plan, we must tell you why",
    "reassessment_decision": "We must tell you whether we will carry out a re-assessment",
    "reassessment_final_plan": "We must issue the EHC plan after the re-assessment",
    "phase_transfer_school": "We must review the plan and name the next school before this date",
    "phase_transfer_post16": "We must review the plan and name the next school or college before this date",
    "appeal_deadline": "Last day to register an appeal with the SEND Tribunal",
    "mediation_adviser_contact": "Last day to contact the mediation adviser if you may want to appeal",
}

#: What each kind of audit entry means, for "who has looked at this record".
ACTION_WORDS: dict[str, str] = {
    "child.viewed": "Looked at the record",
    "child.listed": "Saw the name in a list",
    "child.created": "Created the record",
    "child.updated": "Changed the record",
    "contact.created": "Added a contact",
    "placement.created": "Added a school, college or setting",
    "case.viewed": "Looked at the case",
    "case.opened": "Opened the case",
    "case.event_recorded": "Recorded a step in the case",
    "case.assigned": "Gave the case to a caseworker",
    "document.added": "Added a document",
    "document.read": "Opened a document",
    "plan.draft_started": "Started a draft plan",
    "plan.draft_saved": "Worked on the draft plan",
    "membership.invited": "Invited someone to see the case",
    "membership.accepted": "Accepted an invitation to see the case",
    "membership.granted": "Was given access to the case",
    "membership.revoked": "Removed someone’s access to the case",
    "consent.given": "Agreed to share information",
    "consent.recorded": "Recorded an agreement to share information",
    "consent.withdrawn": "Withdrew agreement to share information",
    "membership.invitation_resent": "Sent an invitation to see the case again",
    "submission.sent": "Sent something through this service",
    "submission.created": "Sent something through this service",
    "submission.viewed": "Read something sent through this service",
    "submission.acknowledged": "Marked something sent through this service as dealt with",
    "advice.submitted": "Sent advice",
    "review_meeting.scheduled": "Arranged an annual review meeting",
}


def action_words(action: str) -> str:
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    if action.startswith("review_meeting."):
        return "Worked on the annual review"
    if action.endswith((".viewed", ".read", ".listed")):
        return "Looked at the record"
    return "Worked on the record"


# ---------------------------------------------------------------------------------------
# Who the person is for this child


@dataclass(frozen=True)
class FamilyChild:
    """A child the signed-in person may act for, and in what capacity."""

    child: Child
    #: ``parent`` or ``young_person``.
    role: str
    #: The child is over compulsory school age (CFA 2014 s83(2)): the rights are theirs.
    young_person: bool

    @property
    def is_young_person_themselves(self) -> bool:
        return self.role == "young_person"

    @property
    def name(self) -> str:
        return self.child.given_name


def _require(actor: Actor) -> None:
    if not actor.can(permissions.FAMILY_ACT) or actor.identity_id is None or actor.scope is None:
        raise Forbidden(permissions.FAMILY_ACT)


def _role_for(actor: Actor, child_id: uuid.UUID) -> str | None:
    """The person's family role for this child, from their live memberships here."""
    assert actor.identity_id is not None
    roles = {m.role.value for m in live_memberships(actor.identity_id)
             if m.child_id == child_id and m.role.value in FAMILY_ROLES}
    if "young_person" in roles:
        return "young_person"
    return "parent" if "parent" in roles else None


def access_family_child(actor: Actor, child_id: uuid.UUID | str, *, today: dt.date | None = None) -> FamilyChild:
    """The child with ``child_id`` if the person is their parent (or is the young person).

    Through :func:`access_child` (the council, then the person's scope; the read is audited).
    Someone who sees the child another way (a SENCO whose school the child attends) is not
    their family: the same :class:`NotFound` as for a child who does not exist.
    """
    if not actor.can(permissions.FAMILY_ACT) or actor.identity_id is None or actor.scope is None:
        raise NotFound("child")
    cid = parse_id(child_id)
    if cid is None or cid not in actor.scope.child_ids:
        raise NotFound("child")
    child = access_child(actor, cid)
    role = _role_for(actor, child.id)
    if role is None:
        raise NotFound("child")
    return FamilyChild(child=child, role=role, young_person=is_young_person(child.date_of_birth,
                                                                            today or clock.today()))


def family_children(actor: Actor) -> list[tuple[Child, str, str | None]]:
    """The children this person is family for, with their role and the stage of the current
    case in words (None: no case). Every child listed is audited as ``child.listed``."""
    _require(actor)
    assert actor.scope is not None
    ids = sorted(actor.scope.child_ids)
    if not ids:
        return []
    kids = list(db.session.execute(select(Child).where(Child.id.in_(ids))
                                   .order_by(Child.given_name, Child.family_name)).scalars())
    audit.record(actor, "child.listed", subject_type="child", subject_ids=[k.id for k in kids])
    out = []
    for kid in kids:
        role = _role_for(actor, kid.id)
        if role is None:
            continue
        case = _current_case(kid)
        out.append((kid, role, STAGE_WORDS.get(case.stage) if case else None))
    return out


def _current_case(child: Child) -> Case | None:
    """The case being worked on now, or the latest one."""
    active = active_case_of(child)
    if active is not None:
        return active
    return db.session.execute(select(Case).where(Case.child_id == child.id)
                              .order_by(Case.opened_on.desc(), Case.id.desc()).limit(1)).scalar_one_or_none()


def _acting_for(actor: Actor) -> Actor:
    return acting_for(actor)  # only request_assessment records an event for the family


# ---------------------------------------------------------------------------------------
# The case: stage, timeline, next dates, contact


@dataclass(frozen=True)
class TimelineItem:
    date: dt.date
    text: str


@dataclass(frozen=True)
class NextStep:
    """One date that matters to the family."""

    key: str
    text: str
    last_day: dt.date
    #: ``open``, ``missed`` (a council duty now late) or ``suspended``.
    status: str
    #: The family's own time (to comment, to appeal), rather than a council duty.
    yours: bool
    citation: str


@dataclass(frozen=True)
class NamedContact:
    caseworker: str | None
    team_email: str | None
    team_phone: str | None


@dataclass(frozen=True)
class Window:
    """A time to comment: on a draft plan (reg 13(1)(a)) or on proposed amendments (reg 22(2)(c))."""

    key: str
    #: ``draft`` or ``amendment``.
    kind: str
    opened_on: dt.date
    last_day: dt.date
    case: Case
    #: The version being commented on: the served draft, or the plan in force being amended.
    version: PlanVersion | None
    #: Whether today falls inside it.
    open: bool

    @property
    def citation(self) -> str:
        return RULES[self.key].citation


@dataclass
class Overview:
    family: FamilyChild
    case: Case | None
    stage: str | None
    timeline: list[TimelineItem] = field(default_factory=list)
    next_steps: list[NextStep] = field(default_factory=list)
    contact: NamedContact = field(default_factory=lambda: NamedContact(None, None, None))
    #: The representations window open now, if any; and the latest one, open or not.
    window: Window | None = None
    last_window: Window | None = None
    #: What a request from the family would be now: ``assessment``, ``reassessment`` or None.
    request_kind: str | None = None
    #: A personal budget may be asked for now.
    budget_open: bool = False
    #: The plan in force as a PDF, when one has been rendered.
    plan_pdf: Document | None = None
    #: Earlier cases of this child (ended requests, plans that ceased).
    earlier_cases: int = 0
    #: How many of each kind of submission the family has sent about this child.
    sent: dict[str, int] = field(default_factory=dict)


def _state(case: Case) -> CaseState:
    return derive_state([row.as_event() for row in event_rows(case)])


def _institution_names(events: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    urns = {int(e["urn"]) for e in events if str(e.get("urn") or "").isdigit()}
    if not urns:
        return {}
    rows = db.session.execute(select(Institution.urn, Institution.name).where(Institution.urn.in_(urns))).all()
    return {str(urn): name for urn, name in rows}


def timeline_of(case: Case) -> list[TimelineItem]:
    """The case's history for the family, newest first: corrections applied (a corrected step
    shows as it now stands), in plain words, nothing internal."""
    current = [e for _, e in apply_corrections([row.as_event() for row in event_rows(case)])]
    names = _institution_names(current)
    items = [TimelineItem(date=dt.date.fromisoformat(e["date"]), text=EVENT_WORDS[e["type"]](e, names))
             for e in current if e["type"] in EVENT_WORDS]
    # Newest first; steps on the same day, the latest recorded first.
    return [item for _, item in sorted(enumerate(items), key=lambda p: (p[1].date, p[0]), reverse=True)]


def next_steps_of(deadlines: Sequence[Deadline]) -> list[NextStep]:
    """The dates that matter to a family: the council's statutory duties still to do (late
    ones too: the family should know), and the family's own windows while they are open."""
    out = []
    for d in deadlines:
        rule = RULES.get(d.key)
        if rule is None or not d.statutory or rule.kind not in ("duty", "window"):
            continue
        yours = rule.duty_holder == "family"
        if rule.duty_holder not in ("la", "family"):
            continue
        if d.status not in ("open", "missed", "suspended") or (yours and d.status != "open"):
            continue
        if d.met_on is not None:
            continue
        out.append(NextStep(key=d.key, text=CLOCK_WORDS.get(d.key, rule.label), last_day=d.last_compliant_day,
                            status=d.status, yours=yours, citation=d.citation))
    return sorted(out, key=lambda s: (s.last_day, s.key))


def _versions_by_event(case: Case) -> dict[str, PlanVersion]:
    return {str(v.event_id): v for v in plans.versions(case) if v.event_id is not None}


def windows_of(case: Case, deadlines: Sequence[Deadline], *, today: dt.date) -> list[Window]:
    """Every representations window of the case, oldest first."""
    by_event = _versions_by_event(case)
    served = [v for v in plans.versions(case) if v.state == "served"]
    out = []
    for d in deadlines:
        if d.key in DRAFT_WINDOWS:
            version = by_event.get(d.trigger.event_id or "") or (served[-1] if served else None)
            kind = "draft"
        elif d.key in AMENDMENT_WINDOWS:
            # The notice proposes changes to the plan in force (reg 22(2)): that is what is
            # shown, and what the comments are about.
            version, kind = plans.latest_issued(case), "amendment"
        else:
            continue
        is_open = d.status == "open" and d.trigger.date <= today <= d.last_compliant_day and case.stage not in (
            "ceased", "transferred")
        out.append(Window(key=d.key, kind=kind, opened_on=d.trigger.date, last_day=d.last_compliant_day, case=case,
                          version=version, open=is_open))
    return sorted(out, key=lambda w: (w.opened_on, w.last_day))


def _request_kind(case: Case | None) -> str | None:
    """``assessment`` with no case under way (a refused or ended one does not count: the
    family may ask again at any time, s36), ``reassessment`` with a plan in force, None while
    a request, an assessment or a re-assessment request is being dealt with."""
    if case is None or case.stage not in ACTIVE_STAGES:
        return "assessment"
    if case.stage in PLAN_STAGES:
        return "reassessment"
    return None


def overview(actor: Actor, child_id: uuid.UUID | str, *, policy: TimescalePolicy, team_email: str | None = None,
             team_phone: str | None = None, today: dt.date | None = None) -> Overview:
    """Everything the child's page shows: the current case's stage, its timeline, the dates
    that matter, the named contact and what the family can do now."""
    today = today or clock.today()
    family = access_family_child(actor, child_id, today=today)
    current = _current_case(family.child)
    contact = NamedContact(None, team_email or None, team_phone or None)
    sent = {kind.value: n for kind, n in db.session.execute(
        select(Submission.kind, func.count()).where(Submission.child_id == family.child.id,
                                                    Submission.submitted_as.in_(FAMILY_ROLES))
        .group_by(Submission.kind)).all()}
    if current is None:
        return Overview(family=family, case=None, stage=None, contact=contact, request_kind="assessment", sent=sent)
    case = access_case(actor, current.id)  # audited as case.viewed
    deadlines = deadlines_of(case, policy=policy, today=today)
    caseworker = db.session.get(User, case.caseworker_id) if case.caseworker_id else None
    windows = windows_of(case, deadlines, today=today)
    issued = plans.latest_issued(case)
    earlier = db.session.execute(select(func.count()).select_from(Case).where(
        Case.child_id == family.child.id, Case.id != case.id)).scalar_one()
    return Overview(
        family=family, case=case, stage=STAGE_WORDS.get(case.stage, case.stage), timeline=timeline_of(case),
        next_steps=next_steps_of(deadlines),
        contact=NamedContact(caseworker.display_name if caseworker and caseworker.active else None,
                             team_email or None, team_phone or None),
        window=next((w for w in windows if w.open), None), request_kind=_request_kind(case),
        budget_open=case.stage in BUDGET_STAGES,
        plan_pdf=plans.pdf_documents(case).get(issued.id) if issued is not None else None, earlier_cases=earlier,
        sent=sent, last_window=windows[-1] if windows else None,
    )


def contact_words(contact: NamedContact) -> str:
    """Whom to contact, in one sentence (used in refusals)."""
    ways = " or ".join(x for x in (f"email {contact.team_email}" if contact.team_email else "",
                                   f"phone {contact.team_phone}" if contact.team_phone else "") if x)
    who = f"your caseworker, {contact.caseworker}, or the SEND team" if contact.caseworker else "the SEND team"
    return f"Contact {who}" + (f": {ways}" if ways else "") + "."


# ---------------------------------------------------------------------------------------
# Files sent with a submission


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def check_files(files: Sequence[Upload], field_name: str = "files") -> dict[str, list[str]]:
    """Problems with the files, before anything is stored (the same rules as the documents
    service: a real PDF, Word, OpenDocument, PNG or JPEG, under 20MB)."""
    if len(files) > MAX_FILES:
        return {field_name: [f"Select up to {MAX_FILES} files"]}
    for f in files:
        if not f.data:
            return {field_name: [f"The selected file {f.filename} is empty"]}
        if len(f.data) > MAX_BYTES:
            return {field_name: [f"The selected file {f.filename} must be smaller than {MAX_BYTES // (1024 * 1024)}MB"]}
        if sniff(f.data) is None:
            return {field_name: [f"The selected file {f.filename} must be a {ACCEPTED}"]}
    return {}


def _store_files(actor: Actor, submission: Submission, files: Sequence[Upload], *, kind: str, title: str) -> None:
    for f in files:
        store_document(actor, child_id=submission.child_id, case_id=submission.case_id, kind=kind, title=title,
                       filename=f.filename or "document", data=f.data, submission_id=submission.id,
                       permission=permissions.FAMILY_ACT, field="files")  # issue #5: storage down -> this field


def _submission(actor: Actor, family: FamilyChild, kind: SubmissionKind, *, case: Case | None, body: dict[str, Any],
                text: str, section: str | None = None, plan_version_id: uuid.UUID | None = None,
                case_event_id: uuid.UUID | None = None) -> Submission:
    row = Submission(child_id=family.child.id, case_id=case.id if case else None, kind=kind, section=section,
                     plan_version_id=plan_version_id, body=body, text=text, submitted_by=f"identity:{actor.id}",
                     submitted_as=family.role, submitted_by_name=(actor.display_name or "A family member")[:200],
                     case_event_id=case_event_id)
    db.session.add(row)
    db.session.flush()
    return row


def _audit_sent(actor: Actor, submission: Submission) -> None:
    audit.record(actor, "submission.sent", subject_type="child", subject_ids=[submission.child_id],
                 object_type="submission", object_id=submission.id, fields=[submission.kind.value])


def _text_errors(values: Mapping[str, str], limits: Mapping[str, tuple[int, str]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, (limit, what) in limits.items():
        if len(values.get(name, "").strip()) > limit:
            errors[name] = [f"{what} must be {limit:,} characters or fewer"]
    return errors


# ---------------------------------------------------------------------------------------
# Views for Section A (reg 12(1)(a); CoP 9.61-9.62)

#: The boxes of the views form: (field, heading for a parent, heading for a young person).
VIEWS_FIELDS = (
    ("about", "About {name}", "About me"),
    ("important", "What is important to {name}", "What is important to me"),
    ("hopes", "{name}’s hopes and dreams for the future", "My hopes and dreams for the future"),
    ("support", "How best to support {name}", "How best to support me"),
    ("communication", "How {name} communicates", "How I communicate"),
    ("parent_views", "Your own views as {name}’s parent or carer", None),
)


def views_fields(family: FamilyChild) -> list[tuple[str, str]]:
    """The views form's boxes for this person: (field, heading)."""
    out = []
    for name, for_parent, for_yp in VIEWS_FIELDS:
        heading = for_yp if family.is_young_person_themselves else for_parent
        if heading is not None:
            out.append((name, heading.format(name=family.name)))
    return out


def submit_views(actor: Actor, child_id: uuid.UUID | str, values: Mapping[str, str], files: Sequence[Upload],
                 *, today: dt.date | None = None) -> Submission:
    """Send views, interests and aspirations for Section A, with any files (drawings, a
    one-page profile, a letter). Several may be sent over time; each is kept.

    Raises :class:`ValidationFailed` (nothing written) when every box is empty, a box is too
    long, or a file is refused.
    """
    _require(actor)
    family = access_family_child(actor, child_id, today=today)
    fields = views_fields(family)
    answers = {name: values.get(name, "").strip() for name, _ in fields}
    errors = _text_errors(answers, {name: (VIEWS_MAX, heading) for name, heading in fields})
    if not any(answers.values()) and not files:
        errors[fields[0][0]] = ["Write something in at least one box, or add a file"]
    errors.update(check_files(files))
    if errors:
        raise ValidationFailed(errors)
    case = active_case_of(family.child)
    headings = dict(fields)
    text = "\n\n".join(f"{headings[k]}\n{v}" for k, v in answers.items() if v)
    submission = _submission(actor, family, SubmissionKind.VIEWS, case=case, section="A",
                             body={k: v for k, v in answers.items() if v}, text=text)
    _store_files(actor, submission, files, kind="views", title=f"Views sent by {submission.submitted_by_name}")
    _audit_sent(actor, submission)
    return submission


# ---------------------------------------------------------------------------------------
# Asking for an EHC needs assessment (s36) or a re-assessment


def request_options(actor: Actor, child_id: uuid.UUID | str, *, today: dt.date | None = None
                    ) -> tuple[FamilyChild, Case | None, str | None]:
    """What a request would be now: (the child, the current case, ``assessment``,
    ``reassessment`` or None when there is a request or assessment already under way)."""
    family = access_family_child(actor, child_id, today=today)
    case = _current_case(family.child)
    return family, case, _request_kind(case)


def request_assessment(actor: Actor, child_id: uuid.UUID | str, values: Mapping[str, str], files: Sequence[Upload],
                       *, policy: TimescalePolicy, today: dt.date | None = None) -> Submission:
    """Ask the council for an EHC needs assessment, or for a re-assessment of a plan in force.

    * No case under way: a new case opens with ``request_received`` dated today (requester
      ``parent`` or ``young_person``); the council's 6-week decision clock starts today
      (SEND Regs 2014 reg 5(1); CFA 2014 s36(1): a parent or young person may ask).
    * A plan in force: ``reassessment_request_received`` on that case, dated today (the
      council has 15 days to decide, reg 25(1); CFA 2014 s44(2)).
    * A request, assessment or re-assessment request already under way: :class:`Conflict`
      (nothing written): there is nothing new to ask for.

    The :class:`Submission` (kind ``assessment_request``) keeps the reasons and files and
    points at the event it recorded.
    """
    _require(actor)
    today = today or clock.today()
    family = access_family_child(actor, child_id, today=today)
    reasons = values.get("reasons", "").strip()
    support = values.get("support_so_far", "").strip()
    errors = _text_errors({"reasons": reasons, "support_so_far": support}, {
        "reasons": (REASONS_MAX, "Why you are asking"), "support_so_far": (REASONS_MAX, "The support so far")})
    if not reasons:
        errors["reasons"] = ["Say why you are asking for an assessment"]
    errors.update(check_files(files))
    if errors:
        raise ValidationFailed(errors)
    current = _current_case(family.child)
    kind = _request_kind(current)
    if kind is None:
        assert current is not None
        raise Conflict(already_asked(family, current), field="reasons")
    elevated = _acting_for(actor)
    body = {"reasons": reasons, "support_so_far": support, "reassessment": kind == "reassessment"}
    with db.session.begin_nested():
        if kind == "assessment":
            # The child is in the person's scope (their membership is for the child), so the
            # elevated actor may open a case for them and for nobody else.
            case = open_case(elevated, family.child, {"type": "request_received", "date": today.isoformat(),
                                                       "requester": family.role}, policy=policy, today=today)
            event = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                       .order_by(CaseEvent.seq).limit(1)).scalar_one()
        else:
            assert current is not None
            case = access_case(actor, current.id)
            event = record_event(elevated, case, {"type": "reassessment_request_received", "date": today.isoformat()},
                                 policy=policy, today=today)
        submission = _submission(actor, family, SubmissionKind.ASSESSMENT_REQUEST, case=case, body=body,
                                 text="\n\n".join(x for x in (reasons, support) if x), case_event_id=event.id)
        _store_files(actor, submission, files, kind="evidence", title=f"Sent with the request by "
                                                                       f"{submission.submitted_by_name}")
    _audit_sent(actor, submission)
    return submission


def already_asked(family: FamilyChild, case: Case) -> str:
    whose = "your" if family.is_young_person_themselves else f"{family.name}’s"
    if case.stage == "reassessment":
        return (f"We already have a request to re-assess {whose} EHC plan and will tell you our decision. "
                "You do not need to ask again.")
    return (f"We already have a request for {whose} EHC needs assessment, received on "
            f"{case.opened_on.day} {case.opened_on.strftime('%B %Y')}. You do not need to ask again: "
            "you can send us your views or more information instead.")


def decision_due(case: Case, *, policy: TimescalePolicy, today: dt.date | None = None) -> NextStep | None:
    """The council's next decision date after a request (reg 5(1) or reg 25(1))."""
    for step in next_steps_of(deadlines_of(case, policy=policy, today=today or clock.today())):
        if step.key in ("decision_to_assess", "reassessment_decision"):
            return step
    return None


# ---------------------------------------------------------------------------------------
# Comments on the draft plan (reg 13(1)(a); CoP 9.77) or proposed amendments (reg 22(2)(c))


@dataclass
class DraftForComment:
    family: FamilyChild
    case: Case | None
    #: The window open now; None when there is none.
    window: Window | None
    #: The most recent window, open or not (to say when it was).
    last_window: Window | None
    contact: NamedContact
    #: The person's family's comments on this version, by section.
    comments: dict[str, list[Submission]] = field(default_factory=dict)

    @property
    def content(self) -> dict[str, Any]:
        version = (self.window or self.last_window).version if (self.window or self.last_window) else None
        return with_defaults(version.content if version is not None else {})


def draft_for_comment(actor: Actor, child_id: uuid.UUID | str, *, policy: TimescalePolicy,
                      team_email: str | None = None, team_phone: str | None = None,
                      today: dt.date | None = None) -> DraftForComment:
    """The draft plan (or the plan with proposed amendments) the family may comment on now,
    with what they have said so far; or, outside a window, when the last one was."""
    today = today or clock.today()
    family = access_family_child(actor, child_id, today=today)
    current = _current_case(family.child)
    if current is None:
        return DraftForComment(family, None, None, None, NamedContact(None, team_email, team_phone))
    case = access_case(actor, current.id)
    windows = windows_of(case, deadlines_of(case, policy=policy, today=today), today=today)
    caseworker = db.session.get(User, case.caseworker_id) if case.caseworker_id else None
    contact = NamedContact(caseworker.display_name if caseworker and caseworker.active else None, team_email,
                           team_phone)
    window = next((w for w in reversed(windows) if w.open), None)
    last = windows[-1] if windows else None
    result = DraftForComment(family, case, window, last, contact)
    shown = window or last
    if shown is not None and shown.version is not None:
        rows = db.session.execute(select(Submission).where(
            Submission.case_id == case.id, Submission.kind == SubmissionKind.DRAFT_COMMENT,
            Submission.plan_version_id == shown.version.id, Submission.withdrawn_at.is_(None),
            Submission.submitted_as.in_(FAMILY_ROLES)).order_by(Submission.submitted_at)).scalars()
        for row in rows:
            result.comments.setdefault(row.section or "", []).append(row)
    return result


def closed_window_words(draft: DraftForComment, *, today: dt.date | None = None) -> str:
    """Why the family cannot comment now, with the dates and whom to contact."""
    last = draft.last_window
    contact = contact_words(draft.contact)
    if last is None:
        return ("There is no draft plan to comment on at the moment. When we send you a draft plan, you will have "
                "15 days to comment on it here. " + contact)
    what = "the draft plan" if last.kind == "draft" else "the changes we proposed to the plan"
    start, end = _long(last.opened_on), _long(last.last_day)
    if last.opened_on > (today or clock.today()):
        return f"You can comment on {what} from {start} until {end}. " + contact
    return (f"The time to comment on {what} was from {start} to {end} ({last.citation}). If you still want to "
            f"tell us something about it, or it did not reach you in time, {contact[0].lower()}{contact[1:]}")


def _long(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def comment_on_draft(actor: Actor, child_id: uuid.UUID | str, section: str, values: Mapping[str, str], *,
                     policy: TimescalePolicy, team_email: str | None = None, team_phone: str | None = None,
                     today: dt.date | None = None) -> Submission:
    """A comment on one section (A-K) of the draft plan, inside the representations window.

    Refused with :class:`Conflict` outside the window (saying when it was and whom to
    contact), with :class:`NotFound` for a section that does not exist, and with
    :class:`ValidationFailed` for an empty or too long comment. Nothing is written then.
    """
    _require(actor)
    if section not in SECTIONS:
        raise NotFound("section")
    today = today or clock.today()
    draft = draft_for_comment(actor, child_id, policy=policy, team_email=team_email, team_phone=team_phone,
                              today=today)
    comment = values.get("comment", "").strip()
    errors = _text_errors({"comment": comment}, {"comment": (COMMENT_MAX, "Your comment")})
    if not comment:
        errors["comment"] = [f"Enter your comment on section {section}"]
    if errors:
        raise ValidationFailed(errors)
    window = draft.window
    if window is None or draft.case is None:
        raise Conflict(closed_window_words(draft, today=today), field="comment")
    meeting = values.get("meeting") in ("yes", "true", "on")
    submission = _submission(
        actor, draft.family, SubmissionKind.DRAFT_COMMENT, case=draft.case, section=section,
        plan_version_id=window.version.id if window.version is not None else None,
        body={"comment": comment, "section_title": SECTION_TITLES[section], "window": window.key,
              "last_day": window.last_day.isoformat(), "meeting_requested": meeting},
        text=comment)
    _audit_sent(actor, submission)
    return submission


# ---------------------------------------------------------------------------------------
# A preferred school or college (s38(2)(b), s39)


def preferred_school(actor: Actor, child_id: uuid.UUID | str, values: Mapping[str, str], *,
                     policy: TimescalePolicy, today: dt.date | None = None) -> Submission:
    """Name the school or college the family would like named in the plan, by its name or
    its URN (checked against the register of schools and colleges when given).

    Inside a representations window this is the request s38(2)(b) provides for, and the
    council must consult the school (s39(2)); outside it the preference is still recorded
    for the caseworker, and the confirmation says when the law gives them the right to ask.
    Needs a case under way (:class:`Conflict` otherwise); :class:`ValidationFailed` for a
    missing name and URN, a malformed or unknown URN, or too long text.
    """
    _require(actor)
    today = today or clock.today()
    family = access_family_child(actor, child_id, today=today)
    raw_urn = values.get("urn", "").strip()
    name = values.get("name", "").strip()
    reason = values.get("reason", "").strip()
    errors = _text_errors({"name": name, "reason": reason}, {"name": (200, "The name"),
                                                            "reason": (REASONS_MAX, "Why you prefer it")})
    institution = None
    if raw_urn:
        if not (raw_urn.isdigit() and len(raw_urn) == 6):
            errors["urn"] = ["The URN must be 6 digits, like 123456"]
        else:
            institution = db.session.get(Institution, int(raw_urn))
            if institution is None:
                errors["urn"] = ["We cannot find a school or college with this URN. Check it, or give its name instead"]
    elif not name:
        errors["name"] = ["Enter the name of the school or college, or its URN"]
    if errors:
        raise ValidationFailed(errors)
    current = active_case_of(family.child)
    if current is None:
        raise Conflict("There is no EHC needs assessment or plan under way to name a school in. "
                       "You can ask for an assessment first.", field="name")
    case = access_case(actor, current.id)
    window = next((w for w in windows_of(case, deadlines_of(case, policy=policy, today=today), today=today)
                   if w.open), None)
    body = {"urn": institution.urn if institution else None, "name": institution.name if institution else name,
            "name_given": name, "reason": reason, "in_window": window is not None,
            "window_last_day": window.last_day.isoformat() if window else None}
    submission = _submission(actor, family, SubmissionKind.PREFERRED_SCHOOL, case=case, body=body,
                             text=f"{body['name']}" + (f"\n\n{reason}" if reason else ""), section="I")
    _audit_sent(actor, submission)
    return submission


# ---------------------------------------------------------------------------------------
# A personal budget (CFA 2014 s49)

BUDGET_AREAS = {"education": "Special educational provision (section F)",
                "health": "Health care provision (section G)",
                "social_care": "Social care provision (sections H1 and H2)"}
BUDGET_WAYS = {"direct_payment": "A direct payment to me, to arrange the support myself",
               "council": "The council arranges the support (a notional budget)",
               "third_party": "Someone else holds and manages the money for me",
               "not_sure": "I am not sure yet"}


def request_personal_budget(actor: Actor, child_id: uuid.UUID | str, values: Mapping[str, Any], *,
                            today: dt.date | None = None) -> Submission:
    """Ask the council to prepare a personal budget (CFA 2014 s49; SEND (Personal Budgets)
    Regs 2014; CoP 9.95 onwards): possible once the council has decided to write an EHC plan,
    and while a plan is in force (at a review or re-assessment).

    No event is recorded: the events catalogue has no step for it (the council answers in
    section J of the plan, and by letter if it refuses). :class:`Conflict` before a plan is
    being written; :class:`ValidationFailed` for a bad form. Nothing written either way.
    """
    _require(actor)
    family = access_family_child(actor, child_id, today=today)
    areas = [a for a in values.get("areas", []) if a in BUDGET_AREAS]
    unknown = [a for a in values.get("areas", []) if a not in BUDGET_AREAS]
    way = values.get("way", "")
    details = str(values.get("details", "")).strip()
    errors = _text_errors({"details": details}, {"details": (REASONS_MAX, "What you would use it for")})
    if not areas or unknown:
        errors["areas"] = ["Select what the personal budget would pay for"]
    if way not in BUDGET_WAYS:
        errors["way"] = ["Select how you would like the money to be managed"]
    if not details:
        errors["details"] = ["Say what you would use the personal budget for"]
    if errors:
        raise ValidationFailed(errors)
    current = active_case_of(family.child)
    if current is None or current.stage not in BUDGET_STAGES:
        raise Conflict(budget_refusal(family), field="areas")
    case = access_case(actor, current.id)
    submission = _submission(actor, family, SubmissionKind.PERSONAL_BUDGET, case=case, section="J",
                             body={"areas": areas, "way": way, "details": details},
                             text=details)
    _audit_sent(actor, submission)
    return submission


def personal_budget_open(family: FamilyChild) -> bool:
    """Whether a personal budget may be asked for now (see :func:`request_personal_budget`)."""
    case = active_case_of(family.child)
    return case is not None and case.stage in BUDGET_STAGES


def has_active_case(family: FamilyChild) -> bool:
    """Whether an assessment or plan is under way (needed to name a school)."""
    return active_case_of(family.child) is not None


def budget_refusal(family: FamilyChild) -> str:
    whose = "your" if family.is_young_person_themselves else f"{family.name}’s"
    return (f"You can ask for a personal budget once we have decided to write {whose} EHC plan, or while the plan "
            "is in place (Children and Families Act 2014 section 49).")


# ---------------------------------------------------------------------------------------
# What the family has sent


def sent_submissions(actor: Actor, child_id: uuid.UUID | str, *, today: dt.date | None = None
                     ) -> tuple[FamilyChild, list[tuple[Submission, list[Document]]]]:
    """Everything the child's family (parents, the young person) sent through the portal,
    newest first, with the files sent with each. Never what a school or professional sent."""
    family = access_family_child(actor, child_id, today=today)
    rows = list(db.session.execute(select(Submission).where(
        Submission.child_id == family.child.id, Submission.submitted_as.in_(FAMILY_ROLES))
        .order_by(Submission.submitted_at.desc())).scalars())
    docs: dict[uuid.UUID, list[Document]] = {}
    if rows:
        for doc in db.session.execute(select(Document).where(Document.submission_id.in_([r.id for r in rows]))
                                      .order_by(Document.created_at)).scalars():
            docs.setdefault(doc.submission_id, []).append(doc)  # type: ignore[arg-type]
    return family, [(r, docs.get(r.id, [])) for r in rows]


def access_family_document(actor: Actor, child_id: uuid.UUID | str, document_id: uuid.UUID | str) -> Document:
    """A document of the child the family may open: the plan, its advice and review papers,
    and what the family sent. The same :class:`NotFound` for anything else."""
    family = access_family_child(actor, child_id)
    doc = access_document(actor, document_id)
    if doc.child_id != family.child.id:
        raise NotFound("document")
    if doc.kind in FAMILY_DOCUMENT_KINDS:
        return doc
    if doc.submission_id is not None:
        sub = db.session.get(Submission, doc.submission_id)
        if sub is not None and sub.child_id == family.child.id and sub.submitted_as in FAMILY_ROLES:
            return doc
    raise NotFound("document")


# ---------------------------------------------------------------------------------------
# Who can see the case, and who has looked


@dataclass(frozen=True)
class PersonWithAccess:
    name: str
    role: str
    #: ``access`` (can see it now), ``invited`` (not yet accepted) or ``needs_agreement`` (a
    #: parent of a young person, waiting for the young person to agree).
    status: str
    since: dt.datetime | None
    is_you: bool = False
    #: For ``needs_agreement`` and consented parents: their identity, so the young person can agree or withdraw.
    identity_id: uuid.UUID | None = None


@dataclass
class AccessList:
    family: FamilyChild
    people: list[PersonWithAccess]
    #: Council staff named on the child's cases: (name, what they do).
    staff: list[tuple[str, str]]


def _advice_returned(m: Membership) -> bool:
    rows = db.session.execute(select(CaseEvent.attributes).where(CaseEvent.case_id == m.case_id,
                                                                 CaseEvent.type == "advice_received")).scalars()
    return any((attrs or {}).get("advice_id") == m.advice_id for attrs in rows)


def _current_urns(child: Child, today: dt.date) -> dict[int, str]:
    rows = db.session.execute(select(Placement).where(
        Placement.child_id == child.id, Placement.started_on <= today,
        or_(Placement.ended_on.is_(None), Placement.ended_on >= today))).scalars()
    return {p.urn: (p.institution.name if p.institution is not None else f"URN {p.urn}") for p in rows}


def who_has_access(actor: Actor, child_id: uuid.UUID | str, *, today: dt.date | None = None) -> AccessList:
    """Everyone outside the council who can see the child's case, or has been invited to
    (names and roles only, never contact details), the SENCOs of the child's current school,
    and the council staff named on the case."""
    today = today or clock.today()
    family = access_family_child(actor, child_id, today=today)
    now = utcnow()
    rows = [m for m in memberships_of_child(family.child.id)
            if m.revoked_at is None and (m.expires_at is None or m.expires_at > now)]
    urns = _current_urns(family.child, today)
    if urns:
        rows += list(db.session.execute(select(Membership).where(
            Membership.role == MembershipRole.SENCO, Membership.urn.in_(list(urns)),
            Membership.revoked_at.is_(None), Membership.accepted_at.is_not(None),
            or_(Membership.expires_at.is_(None), Membership.expires_at > now))).scalars())
    identity_ids = {m.identity_id for m in rows if m.identity_id is not None}
    names = {i.id: i.display_name for i in db.session.execute(
        select(Identity).where(Identity.id.in_(identity_ids))).scalars()} if identity_ids else {}
    people: list[PersonWithAccess] = []
    for m in rows:
        if m.role == MembershipRole.PROFESSIONAL and m.advice_id and m.accepted_at and _advice_returned(m):
            continue
        role = m.role.label
        if m.role == MembershipRole.SENCO and m.urn in urns:
            role = f"SENCO at {urns[m.urn]}"
        elif m.role == MembershipRole.PROFESSIONAL:
            role = "Professional giving advice"
        if m.accepted_at is None or m.identity_id is None:
            people.append(PersonWithAccess(name="Not yet accepted", role=role, status="invited", since=m.created_at))
            continue
        status = "access"
        if m.role == MembershipRole.PARENT and family.young_person and not has_portal_consent(
                family.child.id, m.identity_id):
            status = "needs_agreement"
        people.append(PersonWithAccess(name=names.get(m.identity_id, "Someone"), role=role, status=status,
                                       since=m.accepted_at, is_you=str(m.identity_id) == actor.id,
                                       identity_id=m.identity_id))
    staff: list[tuple[str, str]] = []
    seen: set[uuid.UUID] = set()
    cases = db.session.execute(select(Case).where(Case.child_id == family.child.id)
                               .order_by(Case.opened_on.desc())).scalars()
    for case in cases:
        if case.caseworker_id and case.caseworker_id not in seen:
            user = db.session.get(User, case.caseworker_id)
            if user is not None and user.active:
                seen.add(user.id)
                staff.append((user.display_name,
                              "Caseworker" if case.stage in ACTIVE_STAGES else "Caseworker (earlier case)"))
    order = {"access": 0, "needs_agreement": 1, "invited": 2}
    people.sort(key=lambda p: (order[p.status], not p.is_you, p.since or now))
    return AccessList(family=family, people=people, staff=staff)


@dataclass(frozen=True)
class Look:
    at: dt.datetime
    who: str
    role: str
    what: str
    is_you: bool = False


def who_has_looked(actor: Actor, child_id: uuid.UUID | str, *, page: int = 1, per_page: int = LOOKS_PER_PAGE,
                   include_own: bool = False, today: dt.date | None = None) -> tuple[FamilyChild, list[Look], int]:
    """The audit log of the child's record, newest first, a page at a time, as the family may
    see it: who (staff by name and role, outside people by name and role, connected systems by
    name), when and what they did, in plain words. The person's own visits are left out
    unless ``include_own``. Returns the child, the page and the total."""
    family = access_family_child(actor, child_id, today=today)
    stmt = select(AuditEvent).where(AuditEvent.subject_type == "child", AuditEvent.subject_id == family.child.id)
    if not include_own:
        stmt = stmt.where(or_(AuditEvent.actor_type != "identity", AuditEvent.actor_id != actor.id))
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = max(1, page)
    rows = list(db.session.execute(stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page)).scalars())
    return family, _describe_looks(actor, family, rows), total


def _uuids(raw: Sequence[str]) -> set[uuid.UUID]:
    out = set()
    for r in raw:
        parsed = parse_id(r)
        if parsed is not None:
            out.add(parsed)
    return out


def _describe_looks(actor: Actor, family: FamilyChild, rows: Sequence[AuditEvent]) -> list[Look]:
    by_type: dict[str, set[uuid.UUID]] = {}
    for r in rows:
        by_type.setdefault(r.actor_type, set()).update(_uuids([r.actor_id]))
    # An API client acts under its public ``client_id`` (web.api.oauth), not its row id.
    client_ids = {r.actor_id for r in rows if r.actor_type == "api_client"}
    users = {str(u.id): u for u in db.session.execute(select(User).where(
        User.id.in_(by_type.get("user", set())))).scalars()} if by_type.get("user") else {}
    identities = {str(i.id): i.display_name for i in db.session.execute(select(Identity).where(
        Identity.id.in_(by_type.get("identity", set())))).scalars()} if by_type.get("identity") else {}
    clients = {c.client_id: c.name for c in db.session.execute(select(ApiClient).where(
        ApiClient.client_id.in_(client_ids))).scalars()} if client_ids else {}
    roles: dict[str, str] = {}
    if identities:
        for m in db.session.execute(select(Membership).where(Membership.identity_id.in_(
                [uuid.UUID(i) for i in identities]))).scalars():
            if m.child_id == family.child.id or m.role in (MembershipRole.SENCO, MembershipRole.PROFESSIONAL):
                roles.setdefault(str(m.identity_id), m.role.label)
    out = []
    for r in rows:
        is_you = r.actor_type == "identity" and r.actor_id == actor.id
        if is_you:
            who, role = "You", roles.get(r.actor_id, "Family")
        elif r.actor_type == "user":
            user = users.get(r.actor_id)
            who = user.display_name if user else "A member of council staff"
            role = f"Council staff ({user.role.label.lower()})" if user else "Council staff"
        elif r.actor_type == "identity":
            who = identities.get(r.actor_id, "Someone outside the council")
            role = roles.get(r.actor_id, "Outside the council")
        elif r.actor_type == "api_client":
            who, role = f"A connected system ({clients.get(r.actor_id, 'name not known')})", "Council computer system"
        elif r.actor_type == "operator":
            who, role = "Platform support", "The team that runs this service"
        else:
            who, role = "This service", "Automatic (for example, reminders and checks)"
        out.append(Look(at=r.occurred_at, who=who, role=role, what=action_words(r.action), is_you=is_you))
    return out


# ---------------------------------------------------------------------------------------
# Consent to share beyond the statutory recipients (SEND Regs 2014 reg 17), per recipient, revocable


@dataclass(frozen=True)
class ConsentView:
    consent: Consent
    recipient: str
    purpose: str
    #: A young person's agreement that a parent may keep seeing the case here.
    portal_access: bool


def _consent_rights(family: FamilyChild) -> bool:
    """Who decides about sharing: the parent for a child, the young person once over
    compulsory school age (CFA 2014 s27 onwards; CoP 8.13-8.15)."""
    return family.is_young_person_themselves or not family.young_person


def consents_of(actor: Actor, child_id: uuid.UUID | str, *, include_ended: bool = False,
                today: dt.date | None = None) -> tuple[FamilyChild, list[ConsentView], bool]:
    """The child's consents to share, newest first, and whether this person may give and
    withdraw them (the parent of a child, or the young person)."""
    family = access_family_child(actor, child_id, today=today)
    stmt = select(Consent).where(Consent.child_id == family.child.id)
    if not include_ended:
        stmt = stmt.where(Consent.revoked_at.is_(None))
    rows = list(db.session.execute(stmt.order_by(Consent.given_at.desc())).scalars())
    portal_ids = _uuids([r.recipient.removeprefix("identity:") for r in rows if r.purpose == PORTAL_ACCESS])
    names = {str(i.id): i.display_name for i in db.session.execute(
        select(Identity).where(Identity.id.in_(portal_ids))).scalars()} if portal_ids else {}
    views = []
    for r in rows:
        if r.purpose == PORTAL_ACCESS:
            name = names.get(r.recipient.removeprefix("identity:"), "A parent or carer")
            views.append(ConsentView(r, name, "To see the case in this service", True))
        else:
            views.append(ConsentView(r, r.recipient, r.purpose, False))
    return family, views, _consent_rights(family)


def give_consent(actor: Actor, child_id: uuid.UUID | str, values: Mapping[str, str], *,
                 today: dt.date | None = None) -> Consent:
    """Agree to share the child's information with one recipient, for a stated purpose.

    Only the person whose decision it is (the parent of a child, or the young person) may;
    a parent of a young person gets :class:`Forbidden`. :class:`ValidationFailed` for a
    missing or too long recipient or purpose, or one already agreed and not withdrawn.
    Audited as ``consent.given`` against the child.
    """
    _require(actor)
    family = access_family_child(actor, child_id, today=today)
    if not _consent_rights(family):
        raise Forbidden(permissions.FAMILY_ACT)
    recipient = values.get("recipient", "").strip()
    purpose = values.get("purpose", "").strip()
    errors = _text_errors({"recipient": recipient, "purpose": purpose},
                          {"recipient": (200, "Who it is shared with"), "purpose": (SHORT_MAX, "What it is for")})
    if not recipient:
        errors["recipient"] = ["Enter who you agree to share information with"]
    elif recipient.lower().startswith("identity:"):
        # The form of the recipient the council uses for portal access: never typed in.
        errors["recipient"] = ["Enter the name of a person or organisation"]
    if not purpose:
        errors["purpose"] = ["Enter what they may use the information for"]
    elif purpose == PORTAL_ACCESS:
        errors["purpose"] = ["Describe what they may use the information for, in words"]
    if not errors:
        same = db.session.execute(select(Consent.id).where(
            Consent.child_id == family.child.id, Consent.revoked_at.is_(None),
            func.lower(Consent.recipient) == recipient.lower(), func.lower(Consent.purpose) == purpose.lower())
        ).first()
        if same is not None:
            errors["recipient"] = [f"You have already agreed to share with {recipient} for this"]
    if errors:
        raise ValidationFailed(errors)
    row = Consent(child_id=family.child.id, recipient=recipient, purpose=purpose, given_by=f"identity:{actor.id}")
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "consent.given", subject_type="child", subject_ids=[family.child.id], object_type="consent",
                 object_id=row.id)
    return row


def agree_parent_access(actor: Actor, child_id: uuid.UUID | str, parent_identity_id: uuid.UUID | str, *,
                        today: dt.date | None = None) -> Consent:
    """The young person lets a parent who was invited keep seeing the case here (through the
    council's own record of that consent, ``core.identity.services.give_portal_consent``)."""
    from core.identity.services import give_portal_consent

    _require(actor)
    family = access_family_child(actor, child_id, today=today)
    if not family.is_young_person_themselves:
        raise Forbidden(permissions.FAMILY_ACT)
    pid = parse_id(parent_identity_id)
    parent = None
    if pid is not None:
        parent = db.session.execute(select(Membership).where(
            Membership.child_id == family.child.id, Membership.identity_id == pid,
            Membership.role == MembershipRole.PARENT, Membership.revoked_at.is_(None),
            Membership.accepted_at.is_not(None))).scalars().first()
    if parent is None:
        raise NotFound("membership")
    return give_portal_consent(actor, family.child.id, pid)  # type: ignore[arg-type]


def revoke_consent(actor: Actor, child_id: uuid.UUID | str, consent_id: uuid.UUID | str, *,
                   today: dt.date | None = None) -> Consent:
    """Withdraw one consent of the child's (a young person withdrawing a parent's portal
    access ends it at once). The same :class:`NotFound` for another child's consent or one
    that does not exist; :class:`Forbidden` for a parent of a young person. Audited as
    ``consent.withdrawn`` (as when staff record it); withdrawing twice changes nothing."""
    _require(actor)
    family = access_family_child(actor, child_id, today=today)
    cid = parse_id(consent_id)
    row = db.session.get(Consent, cid) if cid is not None else None
    if row is None or row.child_id != family.child.id:
        raise NotFound("consent")
    if not _consent_rights(family):
        raise Forbidden(permissions.FAMILY_ACT)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_by = f"identity:{actor.id}"
        db.session.flush()
        audit.record(actor, "consent.withdrawn", subject_type="child", subject_ids=[family.child.id],
                     object_type="consent", object_id=row.id)
    return row


__all__ = [
    "ACTION_WORDS", "AccessList", "BUDGET_AREAS", "BUDGET_WAYS", "CLOCK_WORDS", "ConsentView", "DraftForComment",
    "EVENT_WORDS", "FAMILY_ROLES", "FamilyChild", "Look", "NextStep", "Overview", "PersonWithAccess", "STAGE_WORDS",
    "TimelineItem", "Upload", "Window", "access_family_child", "access_family_document", "agree_parent_access",
    "already_asked", "budget_refusal", "check_files", "closed_window_words", "comment_on_draft", "consents_of",
    "contact_words", "decision_due", "draft_for_comment", "family_children", "give_consent", "has_active_case",
    "next_steps_of", "overview", "personal_budget_open", "preferred_school", "request_assessment",
    "request_options", "request_personal_budget", "revoke_consent", "sent_submissions", "submit_views",
    "timeline_of", "views_fields", "who_has_access", "who_has_looked", "windows_of",
]
