"""The professionals' portal: the advice a professional has been asked for, and returning it
(issue #4 item 6).

A professional (an educational psychologist, a paediatrician, a social worker, a private
practitioner) is invited per advice request (``Membership.advice_id``) or per case. What they
see here is what they need to give advice and no more: the child's name, date of birth and
school, what was asked and when it is due, and what they themselves sent. Never the family's
contacts, and never anyone else's advice.

Returning advice is one transaction: the ``advice_received`` event (which stops the adviser's
6-week clock, SEND Regulations 2014 reg 8(1)), the :class:`Submission` with what they wrote,
and any file, as a :class:`Document` of kind ``advice``. A professional cannot record case
events themselves (they have no ``cases.write``): for that one call the service acts for them
with a narrowly elevated actor that carries their identity, so the event and its audit row
name them. Once the event is on the case, a membership for that advice request stops
granting anything (``core.identity.services.live_memberships``): their access ends when the
advice is returned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from core import clock, permissions
from core.actors import Actor
from core.portal import acting_for
from core.audit import services as audit
from core.cases.access import access_case
from core.cases.models import Case, Document
from core.cases.services import CaseFilter, deadlines_of, events_of, find_cases, record_event
from core.cases.workflow import derive_state
from core.children.models import Child
from core.db import db
from core.documents.services import ACCEPTED, MAX_BYTES, sniff, store_document
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.models import MembershipRole
from core.identity.services import live_memberships
from core.submissions.models import Submission, SubmissionKind
from core.timescales import Deadline, TimescalePolicy, apply_corrections

#: The most a professional may write in one box of the advice form.
MAX_TEXT = 20_000

#: The advice form's boxes, in order: (field, what the box asks for).
ADVICE_FIELDS = (
    ("summary", "the child's or young person's needs"),
    ("provision", "the provision you recommend"),
    ("outcomes", "the outcomes the provision should help them achieve"),
)


@dataclass(frozen=True)
class AdviceRequest:
    """One request for advice on a case, as the professional asked for it sees it."""

    case_id: uuid.UUID
    advice_id: str
    #: ``educational``, ``medical``, ``psychological``, ``social_care``, ``other`` or None.
    kind: str | None
    requested_on: dt.date
    #: The adviser's 6-week clock (reg 8(1)) as the engine computes it today.
    deadline: Deadline | None
    #: The day the council recorded the advice as received (by any route), if it has been.
    received_on: dt.date | None

    @property
    def open(self) -> bool:
        return self.received_on is None


@dataclass(frozen=True)
class AdviceCase:
    """A case the professional may give advice on, with only what they need to see."""

    case_id: uuid.UUID
    child_name: str
    date_of_birth: dt.date
    #: The child's current school, college or setting (its name), if one is recorded.
    school: str | None
    #: True when invited for the whole case (every advice request on it), not one request.
    case_wide: bool
    #: The requests they are asked to answer and have not yet answered.
    waiting: list[AdviceRequest] = field(default_factory=list)
    #: What they sent through the portal on this case (still visible while access lasts).
    sent: list[Submission] = field(default_factory=list)
    #: When their access to this case ends (the latest expiry of their memberships for it).
    access_until: dt.datetime | None = None


def _require(actor: Actor) -> None:
    if not actor.can(permissions.PROFESSIONAL_ACT) or actor.identity_id is None:
        raise Forbidden(permissions.PROFESSIONAL_ACT)


def _grants(actor: Actor) -> dict[uuid.UUID, tuple[set[str] | None, dt.datetime | None]]:
    """``{case id: (advice ids, or None for every request on the case; when access ends, or
    None if it does not)}`` from the professional's live memberships in this council."""
    assert actor.identity_id is not None
    out: dict[uuid.UUID, tuple[set[str] | None, dt.datetime | None]] = {}
    for m in live_memberships(actor.identity_id):
        if m.role != MembershipRole.PROFESSIONAL or m.case_id is None:
            continue
        if m.case_id not in out:
            out[m.case_id] = (None if m.advice_id is None else {m.advice_id}, m.expires_at)
            continue
        ids, until = out[m.case_id]
        ids = None if (ids is None or m.advice_id is None) else {*ids, m.advice_id}
        until = None if (until is None or m.expires_at is None) else max(until, m.expires_at)
        out[m.case_id] = (ids, until)
    return out


def invited_for_whole_case(actor: Actor, case_id: uuid.UUID) -> bool:
    """Whether the professional may see ``case_id`` for all its advice requests (and so keeps
    seeing it after answering one)."""
    wanted, _until = _grants(actor).get(case_id, (set(), None))
    return wanted is None


def access_left(actor: Actor) -> tuple[set[uuid.UUID], bool]:
    """After sending advice: the cases the professional can still see here, and whether they
    have access to anything at all in this council (if not, their session ends on their next
    request)."""
    assert actor.identity_id is not None
    return set(_grants(actor)), bool(live_memberships(actor.identity_id))


def requests_on_case(case: Case, *, policy: TimescalePolicy, today: dt.date,
                     events: Sequence[dict[str, Any]] | None = None) -> list[AdviceRequest]:
    """Every advice request on ``case`` (already accessed), corrections applied, oldest first."""
    events = list(events if events is not None else events_of(case))
    current = [e for _, e in apply_corrections(events)]
    state = derive_state(events)
    received = {str(e["advice_id"]): dt.date.fromisoformat(e["date"]) for e in current
                if e["type"] == "advice_received" and e.get("advice_id")}
    kinds = {str(e["advice_id"]): e.get("advice") for e in current
             if e["type"] == "advice_requested" and e.get("advice_id")}
    deadlines = [d for d in deadlines_of(case, policy=policy, today=today, events=events) if d.key == "advice_returned"]
    out = []
    for advice_id, on in sorted(state.advice_requested.items(), key=lambda kv: (kv[1], kv[0])):
        clock_ = next((d for d in deadlines if d.ref == advice_id and d.trigger.date == on), None)
        out.append(AdviceRequest(case_id=case.id, advice_id=advice_id, kind=kinds.get(advice_id), requested_on=on,
                                 deadline=clock_, received_on=received.get(advice_id)))
    return out


def current_school(child: Child, today: dt.date) -> str | None:
    """The name of the child's current school, college or setting (the latest current one)."""
    current = [p for p in child.placements if p.is_current(today)]
    if not current:
        return None
    latest = max(current, key=lambda p: p.started_on)
    return latest.institution.name if latest.institution is not None else None


def sent_by(actor: Actor, case_id: uuid.UUID, advice_id: str | None = None) -> list[Submission]:
    """Advice this professional sent through the portal on a case (or for one request)."""
    stmt = select(Submission).where(Submission.case_id == case_id, Submission.kind == SubmissionKind.ADVICE,
                                    Submission.submitted_by == f"identity:{actor.id}")
    if advice_id is not None:
        stmt = stmt.where(Submission.section == advice_id)
    return list(db.session.execute(stmt.order_by(Submission.submitted_at)).scalars())


def documents_sent_with(submission: Submission) -> list[Document]:
    return list(db.session.execute(select(Document).where(Document.submission_id == submission.id)
                                   .order_by(Document.created_at)).scalars())


def inbox(actor: Actor, *, policy: TimescalePolicy, today: dt.date | None = None) -> list[AdviceCase]:
    """The professional's advice requests, by case, the most urgent first.

    Invited for one request: that request, until it is answered. Invited for a case: every
    request on it not yet answered, and the case itself while the invitation lasts. Cases come
    through ``find_cases`` (scoped to the actor, every child listed is audited).
    """
    _require(actor)
    today = today or clock.today()
    grants = _grants(actor)
    if not grants:
        return []
    cases, _total = find_cases(actor, CaseFilter(), page=1, per_page=200, today=today)
    out: list[AdviceCase] = []
    for case in cases:
        if case.id not in grants:
            continue
        wanted, until = grants[case.id]
        requests = requests_on_case(case, policy=policy, today=today)
        waiting = [r for r in requests if r.open and (wanted is None or r.advice_id in wanted)]
        if wanted is not None and not waiting:
            continue  # invited only for requests that are answered: nothing to show
        child = case.child
        out.append(AdviceCase(case_id=case.id, child_name=child.full_name, date_of_birth=child.date_of_birth,
                              school=current_school(child, today), case_wide=wanted is None, waiting=waiting,
                              sent=sent_by(actor, case.id), access_until=until))

    def urgency(c: AdviceCase) -> tuple[int, dt.date, str]:
        days = [r.deadline.last_compliant_day for r in c.waiting if r.deadline is not None]
        return (0 if c.waiting else 1, min(days) if days else dt.date.max, c.child_name)

    return sorted(out, key=urgency)


def access_advice_request(actor: Actor, case_id: uuid.UUID | str, advice_id: str, *, policy: TimescalePolicy,
                          today: dt.date | None = None) -> tuple[Case, AdviceRequest]:
    """A request for advice the professional may see (answered or not) and the case it is on.

    The same :class:`NotFound` for another council's case, a case they are not invited to, a
    request they were not asked to answer, and one that does not exist.
    """
    if not actor.can(permissions.PROFESSIONAL_ACT) or actor.identity_id is None:
        raise NotFound("advice request")
    case = access_case(actor, case_id)  # the council, then the person's scope (audited)
    wanted, _until = _grants(actor).get(case.id, (set(), None))
    if wanted is not None and advice_id not in wanted:
        raise NotFound("advice request")
    found = next((r for r in requests_on_case(case, policy=policy, today=today or clock.today())
                  if r.advice_id == advice_id), None)
    if found is None:
        raise NotFound("advice request")
    return case, found


@dataclass(frozen=True)
class AdviceFile:
    filename: str
    data: bytes


def check_advice(values: dict[str, str], upload: AdviceFile | None) -> dict[str, list[str]]:
    """Every problem with the advice form at once (nothing is stored while there are any)."""
    errors: dict[str, list[str]] = {}
    for name, what in ADVICE_FIELDS:
        value = values.get(name, "").strip()
        if not value:
            errors[name] = [f"Enter {what}"]
        elif len(value) > MAX_TEXT:
            errors[name] = [f"{what[0].upper()}{what[1:]} must be {MAX_TEXT:,} characters or fewer"]
    if upload is not None:
        if not upload.data:
            errors["advice_file"] = ["The selected file is empty"]
        elif len(upload.data) > MAX_BYTES:
            errors["advice_file"] = [f"The selected file must be smaller than {MAX_BYTES // (1024 * 1024)}MB"]
        elif sniff(upload.data) is None:
            errors["advice_file"] = [f"The selected file must be a {ACCEPTED}"]
    return errors


def _acting_for(actor: Actor) -> Actor:
    return acting_for(actor)


def submit_advice(actor: Actor, case: Case, request: AdviceRequest, values: dict[str, str],
                  upload: AdviceFile | None, *, policy: TimescalePolicy, today: dt.date | None = None) -> Submission:
    """Return advice for ``request`` on ``case`` (both from :func:`access_advice_request`).

    All or nothing: the ``advice_received`` event dated today (it stops the 6-week clock of
    SEND Regulations 2014 reg 8(1)), the submission and the file. Raises
    :class:`ValidationFailed` for bad input and :class:`Conflict` if the advice has been
    received already (by another route, or a second click); nothing is stored either way.
    """
    _require(actor)
    today = today or clock.today()
    errors = check_advice(values, upload)
    if errors:
        raise ValidationFailed(errors)
    if not request.open:
        raise Conflict("This advice has already been received by the council", field="summary")
    body = {name: values[name].strip() for name, _ in ADVICE_FIELDS}
    event: dict[str, Any] = {"type": "advice_received", "date": today.isoformat(), "advice_id": request.advice_id}
    if request.kind:
        event["advice"] = request.kind
    with db.session.begin_nested():
        # The workflow check, under the case's row lock: a second submission (or the
        # caseworker recording the same advice meanwhile) is a Conflict here.
        row = record_event(_acting_for(actor), case, event, policy=policy, today=today)
        submission = Submission(
            child_id=case.child_id, case_id=case.id, kind=SubmissionKind.ADVICE, section=request.advice_id,
            body={**body, "advice": request.kind}, text="\n\n".join(body.values()),
            submitted_by=f"identity:{actor.id}", submitted_as=MembershipRole.PROFESSIONAL.value,
            submitted_by_name=(actor.display_name or "A professional")[:200], case_event_id=row.id,
        )
        db.session.add(submission)
        db.session.flush()
        if upload is not None:
            store_document(actor, child_id=case.child_id, case_id=case.id, kind="advice",
                           title=_title(request.kind), filename=upload.filename or "advice", data=upload.data,
                           advice_id=request.advice_id, submission_id=submission.id,
                           permission=permissions.PROFESSIONAL_ACT, field="advice_file")  # issue #5: storage down
    audit.record(actor, "advice.submitted", subject_type="child", subject_ids=[case.child_id],
                 object_type="submission", object_id=submission.id)
    return submission


_KIND_TITLES = {"educational": "Educational advice", "medical": "Medical advice",
                "psychological": "Psychological advice", "social_care": "Social care advice"}


def _title(kind: str | None) -> str:
    return _KIND_TITLES.get(kind or "", "Advice")
