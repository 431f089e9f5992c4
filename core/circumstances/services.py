"""A child's specific circumstances (SEND Code of Practice chapter 10): record, change, end, list.

Services validate, change the session and audit in the same transaction; they never commit.
A failed write leaves nothing behind: each runs in a savepoint, so a case event refused by
the workflow also takes the circumstance back.

Youth custody touches the EHC case: recording a detention records ``detention_started`` on
the child's active case, and its release ``released_from_detention``, through
:func:`core.cases.services.record_event` (order checked, deadlines recomputed, audited). The
events carry ``circumstance_id`` so a changed date is recorded as a correction of the event,
never as a second detention.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core import clock, permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases import services as cases
from core.cases.models import Case, CaseDeadline, CaseEvent
from core.children.models import Child
from core.circumstances.models import Circumstance, CircumstanceKind
from core.db import db
from core.errors import Forbidden, ValidationFailed
from core.institutions.models import Institution
from core.timescales import TimescalePolicy

FieldType = str  # "text" "email" "phone" "la_code" "date" "bool" "url" "urn" "choice" "long_text"


@dataclass(frozen=True)
class Field:
    """One detail a circumstance may carry; ``label`` and ``hint`` are the form's words."""

    type: FieldType
    label: str
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int = 200


PROVISION_TYPES = (
    ("ap", "Alternative provision academy or free school"),
    ("pru", "Pupil referral unit"),
    ("eotas", "Education otherwise than at a school or college (CFA 2014 s61)"),
)
SERVICE_BRANCHES = (
    ("royal_navy", "Royal Navy"), ("royal_marines", "Royal Marines"), ("army", "British Army"),
    ("raf", "Royal Air Force"), ("reserves", "Reserve forces"), ("civilian", "MOD civilian"),
)

FIELDS: dict[str, Field] = {
    "social_worker_name": Field("text", "Social worker's name"),
    "social_worker_email": Field("email", "Social worker's email address", max_length=254),
    "social_worker_phone": Field("phone", "Social worker's telephone number", max_length=40),
    "virtual_school_head_name": Field("text", "Virtual school head's name",
                                      "The virtual school head of the council that looks after the child"),
    "virtual_school_head_email": Field("email", "Virtual school head's email address", max_length=254),
    "designated_teacher_name": Field("text", "Designated teacher's name",
                                     "The school's designated teacher for looked-after children"),
    "designated_teacher_email": Field("email", "Designated teacher's email address", max_length=254),
    "care_placement": Field("text", "Care placement", "For example, foster care with a family in Westford"),
    "responsible_la_code": Field("la_code", "Council that looks after the child",
                                 "Only if another council looks after the child: its 3-digit code, like 886"),
    "placement_la_code": Field("la_code", "Council area the child is placed or at school in",
                               "The 3-digit code of that council, like 886"),
    "pep_url": Field("url", "Link to the personal education plan (PEP)",
                     "Where the PEP is kept, starting https://", max_length=500),
    "pep_reviewed_on": Field("date", "When was the PEP last reviewed?"),
    "care_plan_reviewed_on": Field("date", "When was the care plan last reviewed?"),
    "provision_type": Field("choice", "Type of provision", choices=PROVISION_TYPES),
    "urn": Field("urn", "URN of the school, unit or establishment",
                 "The 6-digit number from Get Information about Schools, like 118945"),
    "provider": Field("text", "Who provides the education, and what it is",
                      "For example, a tutoring service 3 mornings a week and a farm-based programme"),
    "parents_arrangements_suitable": Field(
        "bool", "Is the council satisfied that the parents' own arrangements meet the child's needs?",
        "If not, the council must still secure the special educational provision in the plan (CFA 2014 s42(5))"),
    "establishment": Field("text", "Youth custody establishment",
                           "The relevant youth accommodation, for example a young offender institution or "
                           "secure children's home"),
    "yot_name": Field("text", "Youth offending team contact"),
    "yot_email": Field("email", "Youth offending team email address", max_length=254),
    "yot_phone": Field("phone", "Youth offending team telephone number", max_length=40),
    "expected_release_on": Field("date", "Expected release date"),
    "service_branch": Field("choice", "Parent's service", choices=SERVICE_BRANCHES),
    "overseas": Field("bool", "Is the child at school overseas?",
                      "For example at a MOD school run by Service Children's Education"),
    "overseas_school": Field("text", "Overseas school"),
    "posting_location": Field("text", "Where is the next posting?"),
    "expected_posting_on": Field("date", "Expected date of the next posting"),
    "notes": Field("long_text", "Notes", max_length=1000),
}

_SOCIAL_WORKER = ("social_worker_name", "social_worker_email", "social_worker_phone")

#: The details of each kind, and which of them are required.
KIND_FIELDS: dict[CircumstanceKind, tuple[tuple[str, bool], ...]] = {
    CircumstanceKind.LOOKED_AFTER: (
        *((f, False) for f in _SOCIAL_WORKER),
        ("virtual_school_head_name", False), ("virtual_school_head_email", False),
        ("designated_teacher_name", False), ("designated_teacher_email", False),
        ("care_placement", False), ("responsible_la_code", False), ("placement_la_code", False),
        ("pep_url", False), ("pep_reviewed_on", False), ("care_plan_reviewed_on", False), ("notes", False),
    ),
    CircumstanceKind.CHILD_IN_NEED: (*((f, False) for f in _SOCIAL_WORKER), ("notes", False)),
    CircumstanceKind.CHILD_PROTECTION: (*((f, False) for f in _SOCIAL_WORKER), ("notes", False)),
    CircumstanceKind.ELECTIVE_HOME_EDUCATION: (("parents_arrangements_suitable", True), ("notes", False)),
    CircumstanceKind.ALTERNATIVE_PROVISION: (("provision_type", True), ("urn", False), ("provider", False),
                                             ("notes", False)),
    CircumstanceKind.YOUTH_CUSTODY: (("establishment", True), ("urn", False), ("yot_name", False),
                                     ("yot_email", False), ("yot_phone", False), ("expected_release_on", False),
                                     ("notes", False)),
    CircumstanceKind.SERVICE_CHILD: (("service_branch", True), ("overseas", False), ("overseas_school", False),
                                     ("posting_location", False), ("expected_posting_on", False), ("notes", False)),
    CircumstanceKind.OUT_OF_AREA: (("placement_la_code", True), ("urn", False), ("notes", False)),
}

#: Every column a client may set, whatever the kind.
DETAIL_FIELDS = tuple(FIELDS)
DATE_FIELDS = ("started_on", "ended_on")
#: A start more than this far ahead is refused as a typing mistake (a planned AP place may start
#: next term; nothing in chapter 10 is planned further ahead than a year).
MAX_AHEAD = dt.timedelta(days=366)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
_LA_CODE = re.compile(r"^[0-9]{3}$")


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(permission)


def fields_of(kind: CircumstanceKind) -> list[tuple[str, Field, bool]]:
    """``(name, field, required)`` for each detail of ``kind``, in form order."""
    return [(name, FIELDS[name], required) for name, required in KIND_FIELDS[kind]]


def parse_kind(value: Any) -> CircumstanceKind | None:
    try:
        return CircumstanceKind(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------
# Validation


def _clean(name: str, spec: Field, value: Any, errors: dict[str, list[str]], today: dt.date) -> Any:
    """One detail to its stored value (None when blank); adds to ``errors`` when wrong."""
    def fail(message: str) -> None:
        errors.setdefault(name, []).append(message)

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if spec.type == "bool":
        if not isinstance(value, bool):
            fail("Select yes or no")
            return None
        return value
    if spec.type == "date":
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            fail(f"{spec.label.rstrip('?')} must be a real date")
            return None
        return value
    if spec.type == "urn":
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit() \
                or len(str(value).strip()) != 6:
            fail("Enter a URN of 6 digits, like 118945")
            return None
        urn = int(str(value).strip())
        if db.session.get(Institution, urn) is None:
            fail("Enter the URN of a school, college, unit or establishment we know")
            return None
        return urn
    if not isinstance(value, str):
        fail("Enter text")
        return None
    value = value.strip() if spec.type == "long_text" else " ".join(value.split())
    if len(value) > spec.max_length:
        fail(f"{spec.label} must be {spec.max_length} characters or fewer")
        return None
    if spec.type == "email" and not _EMAIL.match(value):
        fail("Enter an email address in the correct format, like name@example.com")
        return None
    if spec.type == "phone" and not _PHONE.match(value):
        fail("Enter a telephone number, like 01632 960 001 or +44 808 157 0192")
        return None
    if spec.type == "la_code" and not _LA_CODE.match(value):
        fail("Enter the council's 3-digit code, like 886")
        return None
    if spec.type == "url" and not value.lower().startswith("https://"):
        fail("Enter a link that starts with https://")
        return None
    if spec.type == "choice" and value not in dict(spec.choices):
        fail(f"Select the {spec.label.lower()}")
        return None
    return value


def validate_circumstance(kind: CircumstanceKind, data: Mapping[str, Any], *, partial: bool = False,
                          current: Circumstance | None = None, home_la_code: str | None = None,
                          today: dt.date | None = None) -> dict[str, Any]:
    """Check and normalise the fields of a circumstance of ``kind``; raise
    :class:`ValidationFailed` with every problem at once.

    ``partial`` (a change): only the given keys are checked and returned, but the rules that
    join fields (dates in order, what the provision type needs) are checked against the
    result of the change (``current`` merged with ``data``). Unknown keys, and details that
    do not belong to ``kind``, are refused rather than ignored.
    """
    today = today or clock.today()
    errors: dict[str, list[str]] = {}
    allowed = {name for name, _ in KIND_FIELDS[kind]} | set(DATE_FIELDS)
    for key in data:
        if key not in allowed:
            errors.setdefault(key, []).append(
                "Unknown field" if key not in FIELDS else f"Not a detail of a {kind.label.lower()} record")
    out: dict[str, Any] = {}
    for name in DATE_FIELDS:
        if name in data:
            value = data[name]
            if value is None or value == "":
                out[name] = None
            elif not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                errors.setdefault(name, []).append("Enter a real date")
            else:
                out[name] = value
    for name, required in KIND_FIELDS[kind]:
        if name in data:
            out[name] = _clean(name, FIELDS[name], data[name], errors, today)
    # The record as it will be once this change is made.
    merged: dict[str, Any] = {n: getattr(current, n) for n in (*DATE_FIELDS, *DETAIL_FIELDS)} if current else {}
    merged.update({k: v for k, v in out.items()})
    if not partial or "started_on" in data:
        if merged.get("started_on") is None and "started_on" not in errors:
            errors.setdefault("started_on", []).append(
                "Enter the date the detention began" if kind == CircumstanceKind.YOUTH_CUSTODY else "Enter the start date")
    for name, required in KIND_FIELDS[kind]:
        if required and merged.get(name) in (None, "") and name not in errors and (not partial or name in data):
            spec = FIELDS[name]
            message = "Select yes or no" if spec.type == "bool" else (
                f"Select the {spec.label.lower()}" if spec.type == "choice" else f"Enter the {spec.label.lower()}")
            errors.setdefault(name, []).append(message)
    started, ended = merged.get("started_on"), merged.get("ended_on")
    if isinstance(started, dt.date) and "started_on" not in errors:
        if kind == CircumstanceKind.YOUTH_CUSTODY and started > today:
            # The detention is recorded on the EHC case, whose events record what has happened.
            errors.setdefault("started_on", []).append("The detention start date must be today or in the past")
        elif started > today + MAX_AHEAD:
            errors.setdefault("started_on", []).append("The start date must be within the next year")
        if isinstance(ended, dt.date) and ended < started and "ended_on" not in errors:
            errors.setdefault("ended_on", []).append("The end date must be the same as or after the start date")
        expected = merged.get("expected_release_on")
        if isinstance(expected, dt.date) and expected < started and "expected_release_on" not in errors:
            errors.setdefault("expected_release_on", []).append(
                "The expected release date must be the same as or after the detention start date")
    if kind == CircumstanceKind.YOUTH_CUSTODY and isinstance(ended, dt.date) and ended > today \
            and "ended_on" not in errors:
        errors.setdefault("ended_on", []).append(
            "The release date must be today or in the past: record the expected release date instead")
    for name in ("pep_reviewed_on", "care_plan_reviewed_on"):
        value = merged.get(name)
        if isinstance(value, dt.date) and value > today and name not in errors and name in out:
            errors.setdefault(name, []).append(f"{FIELDS[name].label.rstrip('?')} must be today or in the past")
    if kind == CircumstanceKind.ALTERNATIVE_PROVISION and "provision_type" not in errors:
        ptype = merged.get("provision_type")
        if ptype in ("ap", "pru") and merged.get("urn") is None and "urn" not in errors:
            errors.setdefault("urn", []).append("Enter the URN of the alternative provision or pupil referral unit")
        if ptype == "eotas" and not merged.get("provider") and "provider" not in errors:
            errors.setdefault("provider", []).append("Say who provides the education and what it is")
    if kind == CircumstanceKind.OUT_OF_AREA and home_la_code and merged.get("placement_la_code") == home_la_code \
            and "placement_la_code" not in errors:
        errors.setdefault("placement_la_code", []).append(
            "This is this council's own code: enter the code of the council where the child is placed")
    if kind == CircumstanceKind.SERVICE_CHILD and merged.get("overseas_school") and merged.get("overseas") is False:
        errors.setdefault("overseas", []).append("Select yes if the child is at the overseas school named")
    if errors:
        raise ValidationFailed(errors)
    return out


def _check_no_overlap(child: Child, kind: CircumstanceKind, started: dt.date, ended: dt.date | None,
                      exclude: uuid.UUID | None = None) -> None:
    """Two records of one kind may not cover the same day: which social worker, which
    detention, would be the current one? (A new period is a new record once the old ends.)"""
    rows = db.session.execute(select(Circumstance).where(
        Circumstance.child_id == child.id, Circumstance.kind == kind)).scalars()
    for row in rows:
        if exclude is not None and row.id == exclude:
            continue
        row_end = row.ended_on or dt.date.max
        if started <= row_end and (ended or dt.date.max) >= row.started_on:
            until = f" to {row.ended_on.isoformat()}" if row.ended_on else " with no end date"
            raise ValidationFailed({"started_on": [
                f"A {kind.label.lower()} record from {row.started_on.isoformat()}{until} covers some of these dates: "
                "end it or change it instead"]})


# ---------------------------------------------------------------------------------------
# Youth custody on the EHC case


def _custody_events(case: Case, circumstance_id: uuid.UUID) -> dict[str, CaseEvent]:
    """The latest version of this detention's events on ``case``, by type."""
    rows = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).scalars()
    found: dict[str, CaseEvent] = {}
    for row in rows:
        if (row.attributes or {}).get("circumstance_id") == str(circumstance_id) and \
                row.type in ("detention_started", "released_from_detention"):
            found[row.type] = row
    return found


def _detained_on_case(case: Case, row: Circumstance) -> dt.date:
    """The case's events start with the request that opened it, so a detention that began
    earlier is recorded on the case from its opening day."""
    return max(row.started_on, case.opened_on)


def _before_case(case: Case, row: Circumstance) -> bool:
    return row.ended_on is not None and row.ended_on < case.opened_on


def custody_case(child: Child) -> Case | None:
    """The EHC case a detention matters to: the child's active case, if any."""
    return cases.active_case_of(child)


def _sync_custody(actor: Actor, child: Child, row: Circumstance, *, policy: TimescalePolicy,
                  today: dt.date) -> bool:
    """Record on the active EHC case what changed about this detention. Returns whether the
    case is up to date (False: no case, or the actor may not record case events)."""
    case = custody_case(child)
    if case is None or not actor.can(permissions.CASES_WRITE):
        return False
    if _before_case(case, row):
        return True  # detained and released before the case began: nothing for the case to know
    known = _custody_events(case, row.id)
    started = known.get("detention_started")
    detention: dict[str, Any] = {"type": "detention_started", "date": _detained_on_case(case, row),
                                 "circumstance_id": str(row.id)}
    if row.started_on < case.opened_on:
        # A request made in custody (DP Regs 2015): the case opens during the detention, whose
        # real start is kept beside the date the case can know it from.
        detention["began_on"] = row.started_on.isoformat()
    if row.establishment:
        detention["establishment"] = row.establishment
    if started is None:
        cases.record_event(actor, case, detention, policy=policy, today=today)
    elif started.date != detention["date"] or \
            (started.attributes or {}).get("establishment") != row.establishment:
        cases.record_event(actor, case, {**detention, "corrects": str(started.id)}, policy=policy, today=today)
    released = known.get("released_from_detention")
    if row.ended_on is not None and released is None:
        cases.record_event(actor, case, {"type": "released_from_detention", "date": row.ended_on,
                                         "circumstance_id": str(row.id)}, policy=policy, today=today)
    elif row.ended_on is not None and released is not None and released.date != row.ended_on:
        cases.record_event(actor, case, {"type": "released_from_detention", "date": row.ended_on,
                                         "circumstance_id": str(row.id), "corrects": str(released.id)},
                           policy=policy, today=today)
    elif row.ended_on is None and released is not None:
        raise ValidationFailed({"ended_on": [
            "The release is recorded on the EHC case: correct its date rather than removing it"]})
    return True


# ---------------------------------------------------------------------------------------
# Writes


def create_circumstance(actor: Actor, child: Child, kind: CircumstanceKind | str, data: Mapping[str, Any], *,
                        policy: TimescalePolicy, home_la_code: str | None = None,
                        today: dt.date | None = None) -> Circumstance:
    """Record a circumstance of ``child`` (already accessed for write). Audited as
    ``circumstance.created``; a detention is also recorded on the active EHC case."""
    _require(actor, permissions.CHILDREN_WRITE)
    today = today or clock.today()
    parsed = parse_kind(kind)
    if parsed is None:
        raise ValidationFailed({"kind": ["Select the kind of circumstance"]})
    values = validate_circumstance(parsed, data, home_la_code=home_la_code, today=today)
    _check_no_overlap(child, parsed, values["started_on"], values.get("ended_on"))
    with db.session.begin_nested():
        row = Circumstance(child_id=child.id, kind=parsed, **values)
        db.session.add(row)
        db.session.flush()
        if parsed == CircumstanceKind.YOUTH_CUSTODY:
            _sync_custody(actor, child, row, policy=policy, today=today)
    audit.record(actor, "circumstance.created", subject_type="child", subject_ids=[child.id],
                 object_type="circumstance", object_id=row.id, fields=[parsed.value, *values.keys()])
    return row


def update_circumstance(actor: Actor, child: Child, row: Circumstance, changes: Mapping[str, Any], *,
                        policy: TimescalePolicy, home_la_code: str | None = None,
                        today: dt.date | None = None) -> list[str]:
    """Change some details of ``row`` (accessed for write); returns the fields that changed.
    The kind cannot change (a different circumstance is a new record). Audited as
    ``circumstance.updated`` with field names, never values."""
    _require(actor, permissions.CHILDREN_WRITE)
    today = today or clock.today()
    if "kind" in changes and changes["kind"] != row.kind.value:
        raise ValidationFailed({"kind": ["The kind cannot change: end this record and add a new one"]})
    changes = {k: v for k, v in changes.items() if k != "kind"}
    values = validate_circumstance(row.kind, changes, partial=True, current=row, home_la_code=home_la_code,
                                   today=today)
    changed = [k for k, v in values.items() if getattr(row, k) != v]
    if not changed:
        return []
    started = values.get("started_on", row.started_on)
    ended = values["ended_on"] if "ended_on" in values else row.ended_on
    _check_no_overlap(child, row.kind, started, ended, exclude=row.id)
    with db.session.begin_nested():
        for key in changed:
            setattr(row, key, values[key])
        db.session.flush()
        if row.kind == CircumstanceKind.YOUTH_CUSTODY and {"started_on", "ended_on", "establishment"} & set(changed):
            _sync_custody(actor, child, row, policy=policy, today=today)
    audit.record(actor, "circumstance.updated", subject_type="child", subject_ids=[child.id],
                 object_type="circumstance", object_id=row.id, fields=changed)
    return changed


def end_circumstance(actor: Actor, child: Child, row: Circumstance, ended_on: dt.date | None, *,
                     policy: TimescalePolicy, today: dt.date | None = None) -> None:
    """Record the last day ``row`` applied (for youth custody: the day of release)."""
    if ended_on is None:
        raise ValidationFailed({"ended_on": ["Enter the date it ended"]})
    if row.ended_on is not None:
        raise ValidationFailed({"ended_on": [f"This record already ended on {row.ended_on.isoformat()}"]})
    update_circumstance(actor, child, row, {"ended_on": ended_on}, policy=policy, today=today)


# ---------------------------------------------------------------------------------------
# Reads


def circumstances_of(actor: Actor, child: Child) -> list[Circumstance]:
    """Every circumstance of ``child`` (already accessed), current first, then newest.
    Audited as ``circumstance.listed`` (a read of the child's record)."""
    _require(actor, permissions.CHILDREN_READ)
    if actor.scope is not None:  # council staff's records only (see access_circumstance)
        raise Forbidden(permissions.CHILDREN_READ)
    rows = list(db.session.execute(select(Circumstance).where(Circumstance.child_id == child.id)).scalars())
    today = clock.today()
    rows.sort(key=lambda r: (not r.is_current(today), -r.started_on.toordinal(), r.kind.value))
    audit.record(actor, "circumstance.listed", subject_type="child", subject_ids=[child.id],
                 object_type="circumstance", fields=[r.kind.value for r in rows])
    return rows


def current_kinds(child_ids: list[uuid.UUID], on: dt.date | None = None) -> dict[uuid.UUID, list[CircumstanceKind]]:
    """The kinds current for each child (for pages that have accessed and audited the children)."""
    if not child_ids:
        return {}
    on = on or clock.today()
    rows = db.session.execute(select(Circumstance.child_id, Circumstance.kind).where(
        Circumstance.child_id.in_(child_ids), Circumstance.started_on <= on,
        (Circumstance.ended_on.is_(None)) | (Circumstance.ended_on >= on))).all()
    out: dict[uuid.UUID, list[CircumstanceKind]] = {}
    for child_id, kind in rows:
        out.setdefault(child_id, []).append(kind)
    return out


def out_of_area_child_ids(on: dt.date | None = None) -> Any:
    """``SELECT child_id`` of children currently placed out of area (a caseload filter)."""
    on = on or clock.today()
    return select(Circumstance.child_id).where(
        Circumstance.kind == CircumstanceKind.OUT_OF_AREA, Circumstance.started_on <= on,
        (Circumstance.ended_on.is_(None)) | (Circumstance.ended_on >= on))


@dataclass(frozen=True)
class CustodyPicture:
    """What youth custody means for the child's EHC case, for the detention's page."""

    case: Case | None
    #: The detention (and release) are recorded on that case.
    recorded: bool
    #: The case's clocks that matter in custody: the annual review, the DP regs clocks, the
    #: council's review-on-release target.
    deadlines: list[CaseDeadline]


def custody_picture(actor: Actor, child: Child, row: Circumstance) -> CustodyPicture:
    """The EHC case a detention belongs to and the clocks that matter (no extra audit: the
    caller has accessed the circumstance, a read of the child's record)."""
    case = custody_case(child)
    if case is None or not actor.can(permissions.CASES_READ):
        return CustodyPicture(None, False, [])
    known = _custody_events(case, row.id)
    recorded = _before_case(case, row) or (
        "detention_started" in known and known["detention_started"].date == _detained_on_case(case, row)
        and (row.ended_on is None or "released_from_detention" in known))
    deadlines = list(db.session.execute(select(CaseDeadline).where(
        CaseDeadline.case_id == case.id,
        CaseDeadline.key.in_(("annual_review", "release_review", "dp_decision_to_assess", "dp_decision_not_to_issue",
                              "dp_draft_representations", "dp_final_plan_issued")),
    ).order_by(CaseDeadline.due)).scalars())
    return CustodyPicture(case, recorded, deadlines)


def next_annual_review(case: Case) -> CaseDeadline | None:
    """The case's running annual review clock (CFA 2014 s44), to set beside a looked-after
    child's PEP and care plan reviews: CoP 10.x asks for the reviews to be joined up."""
    return db.session.execute(select(CaseDeadline).where(
        CaseDeadline.case_id == case.id, CaseDeadline.key == "annual_review", CaseDeadline.met_on.is_(None),
    ).order_by(CaseDeadline.due).limit(1)).scalar_one_or_none()


def record_custody_on_case(actor: Actor, child: Child, row: Circumstance, *, policy: TimescalePolicy,
                           today: dt.date | None = None) -> bool:
    """Bring the active EHC case up to date with this detention (for a record made before the
    case was opened, or by someone who could not record case events). Audited by the events."""
    _require(actor, permissions.CASES_WRITE)
    if row.kind != CircumstanceKind.YOUTH_CUSTODY:
        raise ValidationFailed({"kind": ["Only a youth custody record is recorded on the EHC case"]})
    with db.session.begin_nested():
        return _sync_custody(actor, child, row, policy=policy, today=today or clock.today())


__all__ = [
    "DETAIL_FIELDS", "FIELDS", "KIND_FIELDS", "CustodyPicture", "Field", "circumstances_of", "create_circumstance",
    "current_kinds", "custody_picture", "end_circumstance", "fields_of", "out_of_area_child_ids", "parse_kind",
    "record_custody_on_case", "update_circumstance", "validate_circumstance",
]
