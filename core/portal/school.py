"""The SENCO portal: a school's, college's or early years setting's SENCO and the pupils on
roll there (issue #4 item 6).

A SENCO sees only children whose placement at their institution (by URN) is current today,
in the council they are signed in to, through an explicit, audited membership
(``core.identity.scope``). Every function here first narrows the signed-in person's actor to
that SENCO part (:func:`senco_actor`), so someone who is also a parent in the same council
still sees only their pupils on these pages, then reaches each child, case and review
meeting through the ``access_*`` functions, which check the council and the scope and audit
the read.

What a SENCO does here:

* **Pupils and deadlines.** The pupils on roll with their EHC case's stage and next statutory
  deadline; and every open deadline of their pupils' cases in one list, soonest (so overdue)
  first, filtered to the overdue ones or the next four weeks.
* **Requesting an EHC needs assessment.** A person acting for a school or post-16
  institution may request one (CFA 2014 s36(1); statutory-rules.md section 3), ideally with
  the parent's or young person's knowledge and agreement (CoP 9.8), with the evidence of SEN
  support: the assess, plan, do, review cycles, the support and its outcomes, specialists
  involved and the views of the child and family (CoP 9.14). The request opens the case with
  ``request_received`` dated today, so the council's 6 weeks to decide (SEND Regs 2014
  reg 5(1)) start the day it arrives.
* **Educational advice.** Where the council has asked for educational advice (reg 6(1)(b):
  from the head teacher or principal of the school the child attends) and it has not been
  received, the SENCO returns it; ``advice_received`` stops the 6-week clock (reg 8(1)) that day.
* **Annual reviews.** For a school-led review (reg 20): the papers, sent to everyone invited
  at least 2 weeks before the meeting (reg 20(4)), and after the meeting the report, sent
  within 2 weeks (reg 20(7)-(8)) with the meeting's recommendation and any differences of
  view. The rules (step order, dates, blockers) are ``core.cases.reviews``'s, not repeated here.

Recording a statutory step needs ``cases.write``, which no portal role holds (outside people
never use the caseworker's forms). Where the SENCO's action *is* the step, the service records
it on their behalf with :func:`_acting_for`: their own actor, scope unchanged, with
``cases.write`` added for that one call, after this module has checked what they may do. The
event and its audit rows therefore name the SENCO (``identity:<id>``), never the platform.
Everything a SENCO sends is also a :class:`Submission`, with its files as documents pointing
back at it, so the council's caseworkers see what arrived and from whom.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select

from core import clock, permissions
from core.actors import Actor
from core.portal import acting_for
from core.audit import services as audit
from core.cases import reviews
from core.cases import services as cases
from core.cases.access import access_case
from core.cases.models import Case, CaseDeadline, CaseEvent, Document, ReviewMeeting
from core.cases.services import ACTIVE_STAGES
from core.children.access import access_child
from core.children.models import Child, Placement
from core.children.services import ChildFilter, find_children
from core.db import db
from core.documents.services import ACCEPTED, MAX_BYTES, sniff, store_document
from core.errors import Conflict, Forbidden, ValidationFailed
from core.identity.scope import AccessScope, cases_filter
from core.institutions.models import Institution
from core.submissions.models import Submission, SubmissionKind
from core.timescales import RULES, Deadline, TimescalePolicy, apply_corrections

SENCO = "senco"
#: The most anyone may write in one box of a form here.
MAX_TEXT = 10_000
#: How many files one request for an assessment may carry.
MAX_EVIDENCE_FILES = 10
#: The deadline filters of the deadlines list: overdue, or due in the next four weeks.
DUE_FILTERS = ("overdue", "four_weeks")
FOUR_WEEKS = dt.timedelta(days=28)

#: The four broad areas of need (CoP 6.28-6.35), for the request form.
AREAS_OF_NEED: dict[str, str] = {
    "communication_interaction": "Communication and interaction",
    "cognition_learning": "Cognition and learning",
    "semh": "Social, emotional and mental health",
    "sensory_physical": "Sensory and physical needs",
}

#: The request's boxes (CoP 9.14: the evidence of SEN support), in order:
#: field -> (what the box asks for, in an error message).
REQUEST_FIELDS: dict[str, str] = {
    "needs": "the pupil's special educational needs",
    "support": "the SEN support the school has put in place",
    "cycles": "how the support has been assessed, planned, done and reviewed",
    "outcomes": "the progress the pupil has made and the outcomes of the support",
    "specialists": "the specialists involved, or say that none have been",
    "views": "the views of the child and their parents, or of the young person",
}

#: The educational advice form's boxes (what advice should cover: needs, provision, outcomes).
ADVICE_FIELDS: dict[str, str] = {
    "needs": "the pupil's special educational needs",
    "provision": "the special educational provision they need",
    "outcomes": "the outcomes the provision should help them achieve",
}

#: What the review report records (reg 20(7); CoP 9.176): views, progress towards the
#: outcomes, the meeting's recommendation and why, and any differences of view.
REPORT_FIELDS: dict[str, str] = {
    "views": "the views of the child and their parents, or of the young person",
    "progress": "the progress made towards the outcomes in the plan",
    "reasons": "the reasons for the recommendation",
}
#: The review meeting's recommendation to the council (which decides, reg 20(10)).
RECOMMENDATIONS: dict[str, str] = {
    "maintain": "Keep the plan as it is",
    "amend": "Change (amend) the plan",
    "cease": "Stop maintaining (cease) the plan",
}


@dataclass(frozen=True)
class Upload:
    """A file as the form sent it."""

    filename: str
    data: bytes


# ---------------------------------------------------------------------------------------
# Who is acting


def senco_actor(actor: Actor) -> Actor:
    """The SENCO part of a signed-in person's actor: the SENCO's permissions, and a scope of
    the pupils on roll at their URNs and nothing else (a SENCO who is also a parent here does
    not see their own child on the school's pages). :class:`Forbidden` if not a SENCO here."""
    scope = actor.scope
    if scope is None or SENCO not in scope.roles or not scope.urns or not actor.can(permissions.SENCO_ACT):
        raise Forbidden(permissions.SENCO_ACT)
    return dataclasses.replace(actor, permissions=permissions.MEMBERSHIP_PERMISSIONS[SENCO],
                               scope=AccessScope(roles=frozenset({SENCO}), urns=scope.urns))


def _acting_for(senco: Actor) -> Actor:
    return acting_for(senco)


def _submission(senco: Actor, child_id: uuid.UUID, kind: SubmissionKind, *, case_id: uuid.UUID | None,
                body: dict[str, Any], text: str, urn: int | None, section: str | None = None,
                review_meeting_id: uuid.UUID | None = None, case_event_id: uuid.UUID | None = None) -> Submission:
    row = Submission(
        child_id=child_id, case_id=case_id, kind=kind, section=section, review_meeting_id=review_meeting_id,
        body={**body, "urn": urn}, text=text, submitted_by=f"identity:{senco.id}", submitted_as=SENCO,
        submitted_by_name=(senco.display_name or "The SENCO")[:200], case_event_id=case_event_id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(senco, "submission.created", subject_type="child", subject_ids=[child_id],
                 object_type="submission", object_id=row.id, fields=[kind.value])
    return row


def _on_roll_at(senco: Actor, child_id: uuid.UUID, today: dt.date) -> Placement | None:
    """The child's current placement at one of the SENCO's URNs (the latest, if several)."""
    assert senco.scope is not None
    return db.session.execute(
        select(Placement).where(Placement.child_id == child_id, Placement.urn.in_(senco.scope.urns),
                                Placement.started_on <= today,
                                or_(Placement.ended_on.is_(None), Placement.ended_on >= today))
        .order_by(Placement.started_on.desc()).limit(1)).scalar_one_or_none()


# ---------------------------------------------------------------------------------------
# Checking what was typed and sent (every problem at once; nothing stored while any)


def _texts(values: Mapping[str, str], fields: Mapping[str, str], errors: dict[str, list[str]], *,
           optional: Sequence[str] = ()) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, what in fields.items():
        value = str(values.get(name) or "").strip()
        if not value and name not in optional:
            errors[name] = [f"Enter {what}"]
        elif len(value) > MAX_TEXT:
            errors[name] = [f"{what[0].upper()}{what[1:]} must be {MAX_TEXT:,} characters or fewer"]
        out[name] = value
    return out


def _file_problem(upload: Upload) -> str | None:
    name = upload.filename or "The selected file"
    if not upload.data:
        return f"{name} is empty"
    if len(upload.data) > MAX_BYTES:
        return f"{name} must be smaller than {MAX_BYTES // (1024 * 1024)}MB"
    if sniff(upload.data) is None:
        return f"{name} must be a {ACCEPTED}"
    return None


def _date_problem(on: dt.date | None, today: dt.date, what: str) -> str | None:
    if on is None:
        return f"Enter the date {what}"
    if on > today:
        return "The date must be today or in the past"
    return None


def _stem(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0].strip() if "." in base else base.strip()
    return stem[:150] or "file"


# ---------------------------------------------------------------------------------------
# Pupils


@dataclass(frozen=True)
class Pupil:
    child: Child
    #: The SENCO's institution the pupil is on roll at.
    setting: str
    #: The pupil's open EHC case, else their most recent one (ended or refused), else None.
    case: Case | None

    @property
    def open_case(self) -> Case | None:
        return self.case if self.case is not None and self.case.stage in ACTIVE_STAGES else None


def _settings(senco: Actor, child_ids: Sequence[uuid.UUID], today: dt.date) -> dict[uuid.UUID, str]:
    """Which of the SENCO's institutions each (already listed) child is on roll at."""
    assert senco.scope is not None
    if not child_ids:
        return {}
    rows = db.session.execute(
        select(Placement.child_id, Institution.name).join(Institution, Institution.urn == Placement.urn)
        .where(Placement.child_id.in_(child_ids), Placement.urn.in_(senco.scope.urns), Placement.started_on <= today,
               or_(Placement.ended_on.is_(None), Placement.ended_on >= today))
        .order_by(Placement.started_on)).all()
    return {child_id: name for child_id, name in rows}


def _latest_cases(child_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Case]:
    """Each (already listed) child's open case, else their most recent one."""
    if not child_ids:
        return {}
    out: dict[uuid.UUID, Case] = {}
    rows = db.session.execute(select(Case).where(Case.child_id.in_(child_ids))
                              .order_by(Case.opened_on.desc(), Case.id.desc())).scalars()
    for case in rows:
        held = out.get(case.child_id)
        if held is None or (held.stage not in ACTIVE_STAGES and case.stage in ACTIVE_STAGES):
            out[case.child_id] = case
    return out


def pupils(actor: Actor, *, page: int = 1, per_page: int = 50,
           today: dt.date | None = None) -> tuple[list[Pupil], int]:
    """The SENCO's pupils on roll today, in name order, with their EHC case; and how many.

    Found with ``find_children`` under the SENCO's scope (every child shown is audited as
    ``child.listed``); a child whose placement has ended, or who was never placed at the
    SENCO's institution, is not there.
    """
    senco = senco_actor(actor)
    today = today or clock.today()
    children, total = find_children(senco, ChildFilter(), page=page, per_page=per_page)
    ids = [c.id for c in children]
    # These children were found and audited just now, under the SENCO's scope: their
    # placements and cases are theirs to see.
    settings = _settings(senco, ids, today)
    latest = _latest_cases(ids)
    return [Pupil(child=c, setting=settings.get(c.id, ""), case=latest.get(c.id)) for c in children], total


@dataclass(frozen=True)
class DeadlineRow:
    """One open deadline of a pupil's case, for the deadlines list."""

    child: Child
    case_id: uuid.UUID
    key: str
    #: The advice id or URN that tells repeated keys apart.
    ref: str | None
    last_day: dt.date
    statutory: bool
    citation: str
    #: Who must act (``core.timescales.rules.Rule.duty_holder``): ``la``, ``family``, ...
    duty_holder: str

    def overdue(self, today: dt.date) -> bool:
        return self.last_day < today


def pupil_deadlines(actor: Actor, *, due: str | None = None, today: dt.date | None = None) -> list[DeadlineRow]:
    """Every open deadline of the open EHC cases of the SENCO's pupils, soonest first (so the
    overdue ones come first), optionally only ``overdue`` ones or those due in the next four
    weeks (``four_weeks``).

    "Open" as the caseload lists judge it: not met and not suspended by an exception, by
    its last compliant day (statuses stored at the last event go stale as days pass). A
    family's own window that has passed (the days to comment on a draft) is left out:
    nobody missed anything. Every child listed is audited as ``child.listed``.
    """
    senco = senco_actor(actor)
    today = today or clock.today()
    if due not in (None, "", *DUE_FILTERS):
        raise ValidationFailed({"due": ["Select which deadlines to show"]})
    clause = cases_filter(senco)  # the cases of children on roll at the SENCO's URNs today
    assert clause is not None
    rows = db.session.execute(
        select(CaseDeadline, Case.child_id).join(Case, Case.id == CaseDeadline.case_id)
        .where(clause, Case.stage.in_(ACTIVE_STAGES), CaseDeadline.met_on.is_(None), CaseDeadline.exception.is_(None))
        .order_by(CaseDeadline.last_day, CaseDeadline.key)).all()
    picked: list[tuple[CaseDeadline, uuid.UUID]] = []
    for deadline, child_id in rows:
        rule = RULES.get(deadline.key)
        holder = rule.duty_holder if rule else "la"
        if holder == "family" and deadline.last_day < today:
            continue
        if due == "overdue" and not (deadline.last_day < today and holder != "family"):
            continue
        if due == "four_weeks" and not (today <= deadline.last_day <= today + FOUR_WEEKS):
            continue
        picked.append((deadline, child_id))
    ids = sorted({child_id for _, child_id in picked})
    children = {c.id: c for c in db.session.execute(select(Child).where(Child.id.in_(ids))).scalars()} if ids else {}
    audit.record(senco, "child.listed", subject_type="child", subject_ids=ids)
    out = [DeadlineRow(child=children[child_id], case_id=d.case_id, key=d.key, ref=d.ref, last_day=d.last_day,
                       statutory=d.statutory, citation=d.citation,
                       duty_holder=RULES[d.key].duty_holder if d.key in RULES else "la")
           for d, child_id in picked]
    return sorted(out, key=lambda r: (r.last_day, r.child.family_name.lower(), r.child.given_name.lower(), r.key))


# ---------------------------------------------------------------------------------------
# One pupil


@dataclass(frozen=True)
class AdviceRequest:
    """A request for educational advice on a pupil's case."""

    advice_id: str
    requested_on: dt.date
    #: The adviser's 6 weeks (reg 8(1)), as the engine computes them today.
    deadline: Deadline | None
    received_on: dt.date | None

    @property
    def open(self) -> bool:
        return self.received_on is None


@dataclass
class PupilOverview:
    child: Child
    setting: str
    #: The open EHC case, if there is one.
    case: Case | None
    #: Cases that have ended (a plan ceased, a refusal), newest first.
    past_cases: list[Case]
    #: The open case's deadlines that are not yet met, soonest first.
    deadlines: list[Deadline]
    advice_requests: list[AdviceRequest]
    meetings: list[tuple[ReviewMeeting, str]]
    #: What the school has sent about this pupil through the portal, newest first.
    sent: list[Submission] = field(default_factory=list)

    @property
    def can_request(self) -> bool:
        return self.case is None


def educational_advice_requests(case: Case, *, policy: TimescalePolicy, today: dt.date,
                                deadlines: Sequence[Deadline] | None = None) -> list[AdviceRequest]:
    """The council's requests for educational advice on ``case`` (already accessed), oldest
    first, corrections applied. Requests without an ``advice_id`` cannot be answered by
    reference and are left out (the council gives one when it asks)."""
    events = cases.events_of(case)
    current = [e for _, e in apply_corrections(events)]
    received = {str(e["advice_id"]): dt.date.fromisoformat(e["date"]) for e in current
                if e["type"] == "advice_received" and e.get("advice_id")}
    if deadlines is None:
        deadlines = cases.deadlines_of(case, policy=policy, today=today, events=events)
    clocks = {d.ref: d for d in deadlines if d.key == "advice_returned"}
    out = []
    for e in current:
        if e["type"] == "advice_requested" and e.get("advice") == "educational" and e.get("advice_id"):
            advice_id = str(e["advice_id"])
            out.append(AdviceRequest(advice_id=advice_id, requested_on=dt.date.fromisoformat(e["date"]),
                                     deadline=clocks.get(advice_id), received_on=received.get(advice_id)))
    return sorted(out, key=lambda r: (r.requested_on, r.advice_id))


def _family_window(key: str) -> bool:
    """A time limit of the family's own (to comment, to appeal): when it passes, nobody missed anything."""
    rule = RULES.get(key)
    return rule is not None and rule.duty_holder == "family"


def _meeting_status(case: Case, meeting: ReviewMeeting) -> str:
    mine = reviews.meeting_events(case, meeting)
    if "review_decision_sent" in mine:
        return "The council has sent its decision"
    if "review_report_sent" in mine:
        return "Report sent"
    if "review_meeting_held" in mine:
        return "Held: the report is due"
    if "review_papers_sent" in mine:
        return "Papers sent"
    return "Arranged"


def _sent_about(senco: Actor, child_id: uuid.UUID) -> list[Submission]:
    """What SENCOs of the SENCO's institutions sent about a child (already accessed)."""
    assert senco.scope is not None
    rows = db.session.execute(select(Submission).where(Submission.child_id == child_id, Submission.submitted_as == SENCO)
                              .order_by(Submission.submitted_at.desc())).scalars()
    return [s for s in rows if (s.body or {}).get("urn") in senco.scope.urns]


def pupil(actor: Actor, child_id: uuid.UUID | str, *, policy: TimescalePolicy,
          today: dt.date | None = None) -> PupilOverview:
    """A pupil's page: their EHC case, its open deadlines, the educational advice asked of the
    school, the review meetings, and what the school has sent. :class:`NotFound` for a child
    not on roll at the SENCO's institution today (however the id was come by)."""
    senco = senco_actor(actor)
    today = today or clock.today()
    child = access_child(senco, child_id)  # the council, then on roll here today; audited
    placement = _on_roll_at(senco, child.id, today)
    all_cases = cases.cases_of_child(senco, child)
    open_case = next((c for c in all_cases if c.stage in ACTIVE_STAGES), None)
    deadlines: list[Deadline] = []
    advice: list[AdviceRequest] = []
    meetings: list[tuple[ReviewMeeting, str]] = []
    if open_case is not None:
        open_case = access_case(senco, open_case.id)  # audited as case.viewed
        found = cases.deadlines_of(open_case, policy=policy, today=today)
        deadlines = sorted((d for d in found if d.met_on is None and d.status in ("open", "missed", "suspended")
                            and not (_family_window(d.key) and d.last_compliant_day < today)),
                           key=lambda d: (d.last_compliant_day, d.key))
        advice = educational_advice_requests(open_case, policy=policy, today=today, deadlines=found)
        meetings = [(m, _meeting_status(open_case, m)) for m in reviews.meetings_of(open_case)]
    return PupilOverview(
        child=child, setting=placement.institution.name if placement is not None else "", case=open_case,
        past_cases=[c for c in all_cases if c is not open_case and c.stage not in ACTIVE_STAGES],
        deadlines=deadlines, advice_requests=advice, meetings=meetings, sent=_sent_about(senco, child.id),
    )


# ---------------------------------------------------------------------------------------
# Requesting an EHC needs assessment (CFA 2014 s36(1); CoP 9.8, 9.14)


@dataclass(frozen=True)
class RequestForm:
    child: Child
    setting: str
    #: The pupil's open case: a new request cannot be made while there is one.
    open_case: Case | None


def request_form(actor: Actor, child_id: uuid.UUID | str, *, today: dt.date | None = None) -> RequestForm:
    """What the request page needs (the child accessed and audited)."""
    senco = senco_actor(actor)
    today = today or clock.today()
    child = access_child(senco, child_id)
    placement = _on_roll_at(senco, child.id, today)
    return RequestForm(child=child, setting=placement.institution.name if placement is not None else "",
                       open_case=cases.active_case_of(child))


def _open_case_refusal(child: Child) -> Conflict:
    return Conflict(f"{child.full_name} already has an open EHC needs assessment or plan with the council, so a new "
                    "request cannot be made. Contact the SEND team about it, or send advice or review papers "
                    "when the council asks", field="needs")


def request_assessment(actor: Actor, child_id: uuid.UUID | str, values: Mapping[str, Any],
                       evidence: Sequence[Upload], *, policy: TimescalePolicy,
                       today: dt.date | None = None) -> tuple[Case, Submission]:
    """Request an EHC needs assessment for a pupil, with the evidence of SEN support.

    ``values``: the :data:`REQUEST_FIELDS` texts, ``areas`` (a list of :data:`AREAS_OF_NEED`
    keys, at least one) and ``parent_informed`` (True: the SENCO confirms the parent, or the
    young person, knows about the request: CoP 9.8 says a school's request should ideally
    have their knowledge and agreement, and the council must then tell them it is considering
    an assessment, SEND Regs 2014 reg 4). ``evidence``: at least one file.

    All or nothing: the case opened with ``request_received`` (requester ``setting``, dated
    today: the 6 weeks of reg 5(1) start now), the submission, and each file as an
    ``evidence`` document. :class:`ValidationFailed` for bad input; :class:`Conflict` if the
    pupil already has an open case. Either way nothing is stored.
    """
    senco = senco_actor(actor)
    today = today or clock.today()
    child = access_child(senco, child_id)  # NotFound unless on roll at the SENCO's institution today
    errors: dict[str, list[str]] = {}
    areas = [a for a in (values.get("areas") or []) if isinstance(a, str)]
    if not areas:
        errors["areas"] = ["Select at least one area of need"]
    elif any(a not in AREAS_OF_NEED for a in areas):
        errors["areas"] = ["Select areas of need from the list"]
    texts = _texts(values, REQUEST_FIELDS, errors)
    if values.get("parent_informed") is not True:
        errors["parent_informed"] = ["Confirm that the child's parent, or the young person, knows the school is "
                                     "asking for this assessment"]
    files = [u for u in evidence if u.filename or u.data]
    if not files:
        errors["evidence"] = ["Upload at least one piece of evidence, such as the pupil's SEN support plan"]
    elif len(files) > MAX_EVIDENCE_FILES:
        errors["evidence"] = [f"Upload {MAX_EVIDENCE_FILES} files or fewer"]
    else:
        problem = next((p for p in map(_file_problem, files) if p), None)
        if problem:
            errors["evidence"] = [problem]
    if errors:
        raise ValidationFailed(errors)
    if cases.active_case_of(child) is not None:
        raise _open_case_refusal(child)
    placement = _on_roll_at(senco, child.id, today)
    body: dict[str, Any] = {**texts, "areas": areas, "parent_informed": True,
                            "setting": placement.institution.name if placement is not None else ""}
    with db.session.begin_nested():
        try:
            case = cases.open_case(_acting_for(senco), child,
                                   {"type": "request_received", "date": today.isoformat(), "requester": "setting"},
                                   policy=policy, today=today)
        except Conflict:
            # Another request (a parent's, a caseworker's) opened a case since the check above.
            raise _open_case_refusal(child) from None
        event_id = db.session.execute(select(CaseEvent.id).where(CaseEvent.case_id == case.id,
                                                                 CaseEvent.type == "request_received")).scalar_one()
        submission = _submission(senco, child.id, SubmissionKind.ASSESSMENT_REQUEST, case_id=case.id, body=body,
                                 text=texts["needs"], urn=placement.urn if placement is not None else None,
                                 case_event_id=event_id)
        for upload in files:
            store_document(senco, child_id=child.id, case_id=case.id, kind="evidence",
                           title=f"SEN support evidence: {_stem(upload.filename)}", filename=upload.filename or "evidence",
                           data=upload.data, submission_id=submission.id, permission=permissions.SENCO_ACT,
                           field="evidence")  # issue #5: storage down -> this field
    return case, submission


# ---------------------------------------------------------------------------------------
# Educational advice (SEND Regs 2014 regs 6(1)(b), 8(1))


@dataclass(frozen=True)
class AdvicePage:
    case: Case
    child: Child
    #: Every request for educational advice on the case, answered or not.
    requests: list[AdviceRequest]

    @property
    def open_requests(self) -> list[AdviceRequest]:
        return [r for r in self.requests if r.open]


def advice_page(actor: Actor, case_id: uuid.UUID | str, *, policy: TimescalePolicy,
                today: dt.date | None = None) -> AdvicePage:
    """The council's requests for educational advice on a pupil's case (audited read)."""
    senco = senco_actor(actor)
    today = today or clock.today()
    case = access_case(senco, case_id)
    child = db.session.get(Child, case.child_id)
    assert child is not None  # a foreign key, and in scope: access_case checked it
    return AdvicePage(case=case, child=child, requests=educational_advice_requests(case, policy=policy, today=today))


def submit_advice(actor: Actor, case_id: uuid.UUID | str, advice_id: str, values: Mapping[str, Any],
                  upload: Upload | None, *, policy: TimescalePolicy, today: dt.date | None = None) -> Submission:
    """Send the school's educational advice in answer to the council's request ``advice_id``.

    All or nothing: ``advice_received`` dated today (the adviser's 6 weeks of reg 8(1) stop
    the day it arrives), the submission with the :data:`ADVICE_FIELDS`, and the file if one is
    attached (an ``advice`` document with the advice id). ``NotFound`` for a case that is not
    a pupil's; :class:`ValidationFailed` for bad input, including a request the council did
    not make of the school (another adviser's); :class:`Conflict` if the advice has been
    received already. Nothing is stored on any refusal.
    """
    senco = senco_actor(actor)
    today = today or clock.today()
    case = access_case(senco, case_id)
    request = next((r for r in educational_advice_requests(case, policy=policy, today=today)
                    if r.advice_id == advice_id), None)
    errors: dict[str, list[str]] = {}
    if request is None:
        errors["advice_id"] = ["Select which request this advice answers"]
    texts = _texts(values, ADVICE_FIELDS, errors)
    if upload is not None and (upload.filename or upload.data):
        problem = _file_problem(upload)
        if problem:
            errors["file"] = [problem]
    else:
        upload = None
    if errors:
        raise ValidationFailed(errors)
    assert request is not None
    if not request.open:
        assert request.received_on is not None
        raise Conflict(f"This advice reached the council on {request.received_on.day} "
                       f"{request.received_on:%B %Y}: it cannot be sent again here", field="advice_id")
    placement = _on_roll_at(senco, case.child_id, today)
    with db.session.begin_nested():
        # Under the case's row lock, so a caseworker recording the same advice at the same
        # moment makes this a Conflict rather than a second "received".
        row = cases.record_event(_acting_for(senco), case, {"type": "advice_received", "date": today.isoformat(),
                                                             "advice": "educational", "advice_id": advice_id},
                                 policy=policy, today=today)
        submission = _submission(senco, case.child_id, SubmissionKind.ADVICE, case_id=case.id, section=advice_id,
                                 body={**texts, "advice": "educational"}, text="\n\n".join(texts.values()),
                                 urn=placement.urn if placement is not None else None, case_event_id=row.id)
        if upload is not None:
            store_document(senco, child_id=case.child_id, case_id=case.id, kind="advice", title="Educational advice",
                           filename=upload.filename or "advice", data=upload.data, advice_id=advice_id,
                           submission_id=submission.id, permission=permissions.SENCO_ACT)
    return submission


# ---------------------------------------------------------------------------------------
# Annual reviews (SEND Regs 2014 reg 20; statutory-rules.md section 2.2)


def review(actor: Actor, meeting_id: uuid.UUID | str, *, policy: TimescalePolicy,
           today: dt.date | None = None) -> reviews.MeetingOverview:
    """A review meeting of a pupil's case, with its steps and clocks (audited read)."""
    senco = senco_actor(actor)
    meeting = reviews.access_meeting(senco, meeting_id)
    return reviews.meeting_overview(meeting, policy=policy, today=today or clock.today())


def _held(case: Case, meeting: ReviewMeeting) -> bool:
    return "review_meeting_held" in reviews.meeting_events(case, meeting)


def add_review_paper(actor: Actor, meeting_id: uuid.UUID | str, *, title: str, upload: Upload | None,
                     today: dt.date | None = None) -> Document:
    """Add one paper (advice and information) for a review meeting: a submission and a
    ``review_paper`` document against the meeting. Papers go to everyone invited before the
    meeting (reg 20(4)): once it is held, :class:`Conflict`. Nothing is stored on any refusal."""
    senco = senco_actor(actor)
    today = today or clock.today()
    meeting = reviews.access_meeting(senco, meeting_id)
    case = reviews.case_of(meeting)
    errors: dict[str, list[str]] = {}
    title = " ".join((title or "").split())
    if not title:
        errors["title"] = ["Enter a title for the paper"]
    elif len(title) > 200:
        errors["title"] = ["The title must be 200 characters or fewer"]
    if upload is None or not (upload.filename or upload.data):
        errors["file"] = ["Select a file"]
    else:
        problem = _file_problem(upload)
        if problem:
            errors["file"] = [problem]
    if errors:
        raise ValidationFailed(errors)
    assert upload is not None
    if _held(case, meeting):
        raise Conflict("The meeting has been held: papers were for before it. Send anything new with the report",
                       field="file")
    placement = _on_roll_at(senco, case.child_id, today)
    with db.session.begin_nested():
        submission = _submission(senco, case.child_id, SubmissionKind.REVIEW_PAPER, case_id=case.id,
                                 body={"title": title}, text=title, review_meeting_id=meeting.id,
                                 urn=placement.urn if placement is not None else None)
        doc = store_document(senco, child_id=case.child_id, case_id=case.id, kind="review_paper", title=title,
                             filename=upload.filename or "paper", data=upload.data, review_meeting_id=meeting.id,
                             submission_id=submission.id, permission=permissions.SENCO_ACT)
    return doc


def _record_step(senco: Actor, meeting: ReviewMeeting, step: str, on: dt.date, *, policy: TimescalePolicy,
                 today: dt.date) -> None:
    """``reviews.record_step`` on the SENCO's behalf, its errors moved to this form's date field."""
    try:
        reviews.record_step(_acting_for(senco), meeting, step, on, policy=policy, today=today)
    except ValidationFailed as exc:
        raise ValidationFailed({"sent_on": [m for msgs in exc.errors.values() for m in msgs]}) from None
    except Conflict as exc:
        raise Conflict(exc.message, field="sent_on") from None


def record_papers_sent(actor: Actor, meeting_id: uuid.UUID | str, on: dt.date | None, *, policy: TimescalePolicy,
                       today: dt.date | None = None) -> None:
    """Record that the school sent the papers to everyone invited on ``on`` (the ``papers``
    step, reg 20(4): at least 2 weeks before the meeting; a later date is recorded, and shows
    as late). The rules are ``reviews.record_step``'s: at least one paper first, not in the
    future, not after the meeting, once. Nothing is stored on any refusal."""
    senco = senco_actor(actor)
    today = today or clock.today()
    meeting = reviews.access_meeting(senco, meeting_id)
    problem = _date_problem(on, today, "the papers were sent")
    if problem:
        raise ValidationFailed({"sent_on": [problem]})
    assert on is not None
    _record_step(senco, meeting, "papers", on, policy=policy, today=today)


def send_review_report(actor: Actor, meeting_id: uuid.UUID | str, values: Mapping[str, Any], upload: Upload | None,
                       on: dt.date | None, *, policy: TimescalePolicy, today: dt.date | None = None) -> Submission:
    """Send the review report, after the meeting: the :data:`REPORT_FIELDS`, the
    ``recommendation`` (one of :data:`RECOMMENDATIONS`: the council decides, reg 20(10)),
    ``differences`` of view (optional: none if blank), the report file, and the day it went to
    the council and everyone invited (the ``report`` step, reg 20(7)-(8): within 2 weeks of the
    meeting; a later date is recorded, and shows as late).

    All or nothing: the submission, the ``review_report`` document and the step.
    :class:`ValidationFailed` for bad input or a date the step refuses; :class:`Conflict` if
    the meeting is not recorded as held or the report was sent already. Nothing is stored on
    any refusal.
    """
    senco = senco_actor(actor)
    today = today or clock.today()
    meeting = reviews.access_meeting(senco, meeting_id)
    case = reviews.case_of(meeting)
    errors: dict[str, list[str]] = {}
    texts = _texts(values, REPORT_FIELDS, errors)
    recommendation = str(values.get("recommendation") or "")
    if recommendation not in RECOMMENDATIONS:
        errors["recommendation"] = ["Select what the meeting recommends"]
    differences = _texts(values, {"differences": "any differences of view"}, errors, optional=("differences",))
    if upload is None or not (upload.filename or upload.data):
        errors["file"] = ["Select the report file"]
    else:
        problem = _file_problem(upload)
        if problem:
            errors["file"] = [problem]
    problem = _date_problem(on, today, "the report was sent")
    if problem:
        errors["sent_on"] = [problem]
    if errors:
        raise ValidationFailed(errors)
    assert upload is not None and on is not None
    events = reviews.meeting_events(case, meeting)
    if "review_report_sent" in events:
        sent = dt.date.fromisoformat(events["review_report_sent"]["date"])
        raise Conflict(f"The report was recorded as sent on {sent.day} {sent:%B %Y}", field="sent_on")
    if "review_meeting_held" not in events:
        raise Conflict("The report follows the meeting, and the meeting is not yet recorded as held. Ask the SEND "
                       "team to record it", field="sent_on")
    placement = _on_roll_at(senco, case.child_id, today)
    body = {**texts, **differences, "recommendation": recommendation, "sent_on": on.isoformat()}
    with db.session.begin_nested():
        submission = _submission(senco, case.child_id, SubmissionKind.REVIEW_REPORT, case_id=case.id, body=body,
                                 text=texts["reasons"], review_meeting_id=meeting.id,
                                 urn=placement.urn if placement is not None else None)
        store_document(senco, child_id=case.child_id, case_id=case.id, kind="review_report",
                       title=f"Annual review report, meeting of {meeting.meeting_on.day} {meeting.meeting_on:%B %Y}",
                       filename=upload.filename or "report", data=upload.data, review_meeting_id=meeting.id,
                       submission_id=submission.id, permission=permissions.SENCO_ACT)
        # The step needs the report stored against the meeting (reviews.step_blocker): it is,
        # in this savepoint; a refusal here rolls all three back.
        _record_step(senco, meeting, "report", on, policy=policy, today=today)
        submission.case_event_id = db.session.execute(
            select(CaseEvent.id).where(CaseEvent.case_id == case.id, CaseEvent.type == "review_report_sent")
            .order_by(CaseEvent.seq.desc()).limit(1)).scalar_one()
    return submission


__all__ = [
    "ADVICE_FIELDS", "AREAS_OF_NEED", "DUE_FILTERS", "RECOMMENDATIONS", "REPORT_FIELDS", "REQUEST_FIELDS",
    "AdvicePage", "AdviceRequest", "DeadlineRow", "Pupil", "PupilOverview", "RequestForm", "Upload",
    "add_review_paper", "advice_page", "educational_advice_requests", "pupil", "pupil_deadlines",
    "pupils", "record_papers_sent", "request_assessment", "request_form", "review", "send_review_report",
    "senco_actor",
]
