"""Transfers of EHC plans between councils (SEND Regs 2014 regs 15-16; CoP 9.157-9.161).

The sending council starts a transfer when it learns of a move (``start_transfer``): that is
the case event ``move_notified`` (and ``health_body_aware_of_move`` when the health body
changes, reg 16), so the timescale engine shows ``transfer_of_plan_between_las`` and the
projected duties of the new council. When the plan moves (``complete_transfer``) it moves all
or nothing, in ONE database transaction: the sender's case is snapshotted, the receiving
council's case is materialised from it through :func:`core.tenancy.crossing_into` (the one
audited door between councils), and the sender's case records ``plan_transferred_out`` and
becomes read-only. If anything fails half-way everything is rolled back, then, in a new
transaction, both councils' rows are marked ``failed`` and both are alerted; completing again
retries. A receiving council not on the platform gets a transfer package instead.

Both councils' rows share the public id ``ref``; neither council ever reads the other's row.
Services never commit, except :func:`complete_transfer` after a failure, which must keep the
record of the failure although the work itself was undone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.exc import IntegrityError

from core import clock, permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases import services as cases
from core.cases.models import Case
from core.children.models import Child
from core.db import db, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.ids import parse_id
from core.integrations.advice import NOTIFICATION_HOOK
from core.plugins import calls as outbox
from core.tenancy import crossing_into, require_tenant_id
from core.timescales import TimescalePolicy
from core.transfers.models import ACTIVE_STATUSES, Transfer

__all__ = [
    "TransferFailed", "access_transfer", "cancel_transfer", "complete_transfer", "find_council",
    "list_transfers", "register_imported_transfer", "start_transfer", "transfer_deadlines",
]

# The tenant registry belongs to ``tenants`` (which core may not import); the few columns a
# transfer needs are read through a lightweight table clause (as core/plugins/services.py does).
_tenant = table("tenant", column("id"), column("name"), column("la_code"), column("status"), column("settings"))

_LA_CODE = re.compile(r"^\d{3}$")

#: Keys of the deadlines a transfer shows (statutory-rules.md §2.4).
TRANSFER_DEADLINE_KEYS = ("transfer_of_plan_between_las", "new_la_notification", "new_la_review",
                          "health_body_notification_on_transfer")


class TransferFailed(Conflict):
    """Completing the transfer failed half-way: nothing moved, both councils were told, and
    the transfer is ``failed`` (complete it again to retry)."""


@dataclass(frozen=True)
class Council:
    id: uuid.UUID | None
    name: str
    la_code: str
    settings: Mapping[str, Any]

    @property
    def on_platform(self) -> bool:
        return self.id is not None


def find_council(la_code: str) -> Council | None:
    """The council on the platform with ``la_code`` (active), or ``None``. A narrow read of
    the registry: name and code only, shown to the sending council as its partner."""
    row = db.session.execute(
        select(_tenant.c.id, _tenant.c.name, _tenant.c.la_code, _tenant.c.status, _tenant.c.settings)
        .where(_tenant.c.la_code == la_code)).first()
    if row is None or str(row.status).lower().rsplit(".", 1)[-1] != "active":
        return None
    return Council(row.id, row.name, row.la_code, row.settings or {})


def _this_council() -> Council:
    tid = require_tenant_id()
    row = db.session.execute(
        select(_tenant.c.id, _tenant.c.name, _tenant.c.la_code, _tenant.c.settings).where(_tenant.c.id == tid)).one()
    return Council(row.id, row.name, row.la_code, row.settings or {})


def _policy(council: Council) -> TimescalePolicy:
    return cases.policy_from_settings(council.settings)


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(permission)


def _by(actor: Actor) -> str:
    return f"{actor.kind}:{actor.id}"[:200]


def _log(transfer: Transfer, what: str, by: str) -> None:
    history = dict(transfer.history or {})
    history["log"] = [*history.get("log", []), {"at": utcnow().isoformat(), "what": what, "by": by}]
    transfer.history = history
    transfer.updated_by = by


def _recorder(actor: Actor) -> Actor:
    """``actor`` recording the case events of a transfer: holding ``transfers.write`` (the API
    scope ``transfers:write``) is the right to record the move, its cancellation and the plan
    leaving, though not any other event on the case."""
    return dataclasses.replace(actor, permissions=actor.permissions | {permissions.CASES_WRITE})


def _receiver_actor(tenant_id: uuid.UUID, from_la_code: str) -> Actor:
    """The platform acting in the receiving council for a transfer it did not start: it may
    open cases and write what arrives, nothing more. Recorded in that council's audit log."""
    return Actor(tenant_id=tenant_id, kind="system", id=f"transfer-from-{from_la_code}",
                 permissions=frozenset({permissions.CHILDREN_READ, permissions.CHILDREN_WRITE, permissions.CASES_READ,
                                        permissions.CASES_WRITE, permissions.PLANS_READ, permissions.PLANS_WRITE,
                                        permissions.TRANSFERS_READ, permissions.TRANSFERS_WRITE}))


def _audit(actor: Actor, action: str, transfer: Transfer, child_id: uuid.UUID | None = None,
           fields: tuple[str, ...] = ()) -> None:
    audit.record(actor, action, subject_type="child" if child_id else "transfer",
                 subject_ids=[child_id] if child_id else [transfer.ref], object_type="transfer",
                 object_id=transfer.ref, fields=fields)


# ---------------------------------------------------------------------------------------
# Finding


def access_transfer(actor: Actor, transfer_id: uuid.UUID | str, *, for_write: bool = False) -> Transfer:
    """This council's side of the transfer with public id ``transfer_id``. The same
    :class:`NotFound` for a malformed id, a missing one, another council's (RLS and the ORM
    filter hide it) and one the actor may not read or write."""
    tid = parse_id(transfer_id)
    if tid is None or not actor.can(permissions.TRANSFERS_READ) or actor.scope is not None:
        raise NotFound("transfer")
    if for_write and not actor.can(permissions.TRANSFERS_WRITE):
        raise NotFound("transfer")
    transfer = db.session.execute(select(Transfer).where(Transfer.ref == tid)).scalar_one_or_none()
    if transfer is None:
        raise NotFound("transfer")
    if transfer.tenant_id != actor.tenant_id:  # unreachable while the ORM filter and RLS hold
        raise AssertionError("tenant mismatch")
    if not for_write:
        _audit(actor, "transfer.viewed", transfer, _child_of(transfer))
    return transfer


def _child_of(transfer: Transfer) -> uuid.UUID | None:
    case_id = transfer.case_id or transfer.received_case_id
    if case_id is None:
        return None
    case = db.session.get(Case, case_id)
    return case.child_id if case else None


def list_transfers(actor: Actor, *, direction: str | None = None, status: str | None = None,
                   after: uuid.UUID | None = None, limit: int = 50) -> tuple[list[Transfer], uuid.UUID | None]:
    """This council's transfers (``incoming``/``outgoing``), newest first by public id order
    (keyset by ``ref``). Every child shown is recorded as ``child.listed``."""
    _require(actor, permissions.TRANSFERS_READ)
    if direction not in (None, "incoming", "outgoing"):
        raise ValidationFailed({"direction": ["Choose incoming or outgoing"]})
    stmt = select(Transfer).order_by(Transfer.ref).limit(limit + 1)
    if direction:
        stmt = stmt.where(Transfer.direction == direction)
    if status == "active":
        stmt = stmt.where(Transfer.status.in_(ACTIVE_STATUSES))
    elif status:
        stmt = stmt.where(Transfer.status == status)
    if after is not None:
        stmt = stmt.where(Transfer.ref > after)
    rows = list(db.session.execute(stmt).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    children = sorted({c for c in (_child_of(t) for t in rows) if c is not None})
    audit.record(actor, "child.listed", subject_type="child", subject_ids=children)
    # Incoming rows not yet completed name a child this council does not hold yet: the read
    # of those names is recorded against the transfers themselves.
    pending = [t.ref for t in rows if _child_of(t) is None]
    if pending:
        audit.record(actor, "transfer.listed", subject_type="transfer", subject_ids=pending)
    return rows, (rows[-1].ref if more and rows else None)


def active_transfer_of(case: Case) -> Transfer | None:
    return db.session.execute(select(Transfer).where(
        Transfer.case_id == case.id, Transfer.direction == "outgoing",
        Transfer.status.in_(ACTIVE_STATUSES))).scalar_one_or_none()


def transfers_of_case(case: Case) -> list[Transfer]:
    """Every transfer of ``case`` (outgoing, or the one that brought it here), newest first."""
    return list(db.session.execute(select(Transfer).where(
        (Transfer.case_id == case.id) | (Transfer.received_case_id == case.id))
        .order_by(Transfer.created_at.desc())).scalars())


def transfer_deadlines(transfer: Transfer, *, today: dt.date | None = None) -> list[Any]:
    """The transfer's clocks as this council sees them: the sender's case deadlines
    (reg 15(2), reg 16, and the projected duties of the new council); the receiver's new case
    once completed; before completion the receiver sees only the reg 15(2) date."""
    case_id = transfer.case_id if transfer.direction == "outgoing" else transfer.received_case_id
    if case_id is None:
        return []
    case = db.session.get(Case, case_id)
    if case is None:
        return []
    found = cases.deadlines_of(case, policy=_policy(_this_council()), today=today or clock.today())
    return [d for d in found if d.key in TRANSFER_DEADLINE_KEYS]


# ---------------------------------------------------------------------------------------
# Starting


def start_transfer(actor: Actor, case: Case, *, to_la_code: str, move_on: dt.date, became_aware_on: dt.date,
                   health_body_changes: bool = True, to_la_name: str | None = None,
                   today: dt.date | None = None) -> Transfer:
    """Start moving ``case`` (already accessed for write) to the council ``to_la_code``.

    ``became_aware_on``: the day this council learnt of the move (the date of ``move_notified``,
    api-v1), from which reg 15(2) counts. Raises :class:`ValidationFailed` (bad input, 422) or
    :class:`Conflict` (no issued plan, already transferring; 409); either way nothing is stored.
    """
    _require(actor, permissions.TRANSFERS_WRITE)
    today = today or clock.today()
    here = _this_council()
    errors: dict[str, list[str]] = {}
    code = (to_la_code or "").strip()
    receiver: Council | None = None
    if not _LA_CODE.match(code):
        errors["to_la_code"] = ["Enter the receiving council's 3-digit local authority code, like 886"]
    elif code == here.la_code:
        errors["to_la_code"] = ["The plan is already with this council: enter the code of the council the child "
                                "is moving to"]
    else:
        receiver = find_council(code)
    if not isinstance(became_aware_on, dt.date):
        errors["became_aware_on"] = ["Enter the date the council learnt of the move"]
    elif became_aware_on > today:
        errors["became_aware_on"] = ["The date the council learnt of the move cannot be in the future"]
    elif became_aware_on < case.opened_on:
        errors["became_aware_on"] = ["The date the council learnt of the move cannot be before the case was opened"]
    if not isinstance(move_on, dt.date):
        errors["move_on"] = ["Enter the date of the move"]
    elif move_on < case.opened_on:
        errors["move_on"] = ["The date of the move cannot be before the case was opened"]
    elif move_on > today + dt.timedelta(days=366):
        errors["move_on"] = ["The move must be within a year from today: start the transfer nearer the time"]
    name = (to_la_name or "").strip()[:200]
    if receiver is None and not errors.get("to_la_code") and not name:
        # Not on the platform: the package is addressed by name, so one is needed.
        name = f"Local authority {code}"
    if errors:
        raise ValidationFailed(errors)
    cases._lock(case)  # one transfer at a time per case: a second start waits, then sees the first
    if active_transfer_of(case) is not None:
        raise Conflict("This case is already being transferred: complete or cancel that transfer first",
                       field="case_id")
    child = db.session.get(Child, case.child_id)
    assert child is not None
    policy = _policy(here)
    # Records move_notified: reg 15(2) starts; the workflow refuses a case without an issued plan.
    cases.record_event(_recorder(actor), case, {"type": "move_notified", "date": became_aware_on.isoformat(),
                                     "move_on": move_on.isoformat(), "to_la_code": code},
                       policy=policy, today=today)
    if health_body_changes:
        # Reg 16: the old health body must tell the new one. The platform does not know the day
        # the old ICB learnt of the move; it is taken to be the day the council did, the reading
        # that starts the clock earliest and so protects the family (statutory-rules §2.4).
        cases.record_event(_recorder(actor), case, {"type": "health_body_aware_of_move", "date": became_aware_on.isoformat(),
                                         "move_on": move_on.isoformat()}, policy=policy, today=today)
    due = next((d.last_compliant_day for d in cases.deadlines_of(case, policy=policy, today=today)
                if d.key == "transfer_of_plan_between_las" and d.met_on is None), None)
    by = _by(actor)
    transfer = Transfer(
        direction="outgoing", status="planned", case_id=case.id, from_la_code=here.la_code, from_la_name=here.name,
        to_la_code=code, to_la_name=receiver.name if receiver else name, receiver_on_platform=receiver is not None,
        health_body_changes=health_body_changes, move_on=move_on, became_aware_on=became_aware_on, due_on=due,
        child_given_name=child.given_name, child_family_name=child.family_name,
        child_date_of_birth=child.date_of_birth, created_by=by, updated_by=by, history={"log": []})
    _log(transfer, "started", by)
    db.session.add(transfer)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # The partial unique index: another start for this case won the race.
        raise Conflict("This case is already being transferred: complete or cancel that transfer first",
                       field="case_id") from None
    _audit(actor, "transfer.started", transfer, case.child_id, ("to_la_code", "move_on"))
    if health_body_changes:
        # The health body's notice leaves through the plugin that implements it, when the
        # council has one (durable, after commit; idempotent per case and transfer).
        outbox.schedule_call(NOTIFICATION_HOOK, f"notify:{case.id}:health_body_notification_on_transfer:{transfer.ref}",
                             {"case_id": str(case.id), "reason": "health_body_notification_on_transfer"})
    if receiver is not None:
        with crossing_into(db.session(), receiver.id):  # type: ignore[arg-type]
            incoming = _mirror(transfer, receiver.id, "incoming")  # type: ignore[arg-type]
            db.session.add(incoming)
            db.session.flush()
            _audit(_receiver_actor(receiver.id, here.la_code), "transfer.announced", incoming,  # type: ignore[arg-type]
                   fields=("child_name", "child_date_of_birth", "move_on"))
    return transfer


def _mirror(transfer: Transfer, tenant_id: uuid.UUID, direction: str) -> Transfer:
    """The other council's row of ``transfer``: the same public facts, none of the plan."""
    return Transfer(
        tenant_id=tenant_id, ref=transfer.ref, direction=direction, status=transfer.status,
        from_la_code=transfer.from_la_code, from_la_name=transfer.from_la_name, to_la_code=transfer.to_la_code,
        to_la_name=transfer.to_la_name, receiver_on_platform=transfer.receiver_on_platform,
        health_body_changes=transfer.health_body_changes, move_on=transfer.move_on,
        became_aware_on=transfer.became_aware_on, due_on=transfer.due_on,
        child_given_name=transfer.child_given_name, child_family_name=transfer.child_family_name,
        child_date_of_birth=transfer.child_date_of_birth, created_by=transfer.created_by,
        updated_by=transfer.updated_by, history={"log": list((transfer.history or {}).get("log", []))})


def _other_side(transfer: Transfer) -> Transfer | None:
    """Inside :func:`crossing_into` the other council: its row of the same transfer."""
    return db.session.execute(select(Transfer).where(Transfer.ref == transfer.ref)).scalar_one_or_none()


def _other_council_id(transfer: Transfer) -> uuid.UUID | None:
    council = find_council(transfer.to_la_code if transfer.direction == "outgoing" else transfer.from_la_code)
    return council.id if council else None


# ---------------------------------------------------------------------------------------
# Completing


def _require_sender(transfer: Transfer) -> Case:
    if transfer.direction != "outgoing" or transfer.case_id is None:
        # Only the council holding the plan can send it (reg 15(2)).
        raise Conflict("Only the council the child is moving from can complete or cancel this transfer")
    case = db.session.get(Case, transfer.case_id)
    assert case is not None
    return case


def complete_transfer(actor: Actor, transfer: Transfer, *, transferred_on: dt.date,
                      today: dt.date | None = None) -> Transfer:
    """Move the plan (``transfer`` is the sender's row, accessed for write), all or nothing.

    On success both councils' rows are ``completed`` and the sender's case is read-only. On a
    failure half-way the session is rolled back, both rows are marked ``failed`` and alerted
    in a new, committed transaction, and :class:`TransferFailed` is raised.
    """
    _require(actor, permissions.TRANSFERS_WRITE)
    today = today or clock.today()
    case = _require_sender(transfer)
    if transfer.status not in ACTIVE_STATUSES:
        raise Conflict(f"This transfer is {transfer.status}: only a planned or failed transfer can be completed")
    if not isinstance(transferred_on, dt.date):
        raise ValidationFailed({"transferred_on": ["Enter the date the plan transfers"]})
    if transferred_on > today:
        raise ValidationFailed({"transferred_on": ["The plan can only be transferred on or before today: record "
                                                   "the transfer when it happens"]})
    if transferred_on < transfer.move_on:
        # Reg 15(2): the plan transfers on (or after) the day of the move; until then the
        # child lives here and this council keeps the plan.
        raise ValidationFailed({"transferred_on": [
            f"The plan transfers on or after the day of the move ({transfer.move_on.strftime('%-d %B %Y')})"]})
    ref, case_id, by = transfer.ref, case.id, _by(actor)
    try:
        with db.session.begin_nested():
            _complete(actor, transfer, case, transferred_on=transferred_on, today=today)
    except (ValidationFailed, NotFound, Forbidden, Conflict):
        # A refusal a person can act on (the receiving council already holds an open case
        # for the child, ...): nothing moved and nothing is marked; the message says why.
        raise
    except Exception as exc:  # noqa: BLE001 - any failure half-way: undo all, then say so
        reason = _plain_reason(exc)
        db.session.rollback()
        _record_failure(actor, ref, case_id, reason, by)
        db.session.commit()
        raise TransferFailed(f"The plan could not be transferred, so nothing has moved: {reason}. Both councils "
                             "have been told. Try again; if it fails again, contact support.") from exc
    return transfer


def _plain_reason(exc: BaseException) -> str:
    """What went wrong, in plain words and without personal data (the message of an arbitrary
    exception could quote a child's details, so only its kind is kept)."""
    if isinstance(exc, IntegrityError):
        return "the receiving council's records refused the plan"
    name = type(exc).__name__
    if "Storage" in name:
        return "document storage was unavailable"
    if "Timeout" in name or "Operational" in name:
        return "the database did not answer in time"
    return f"an unexpected error ({name})"


def _complete(actor: Actor, transfer: Transfer, case: Case, *, transferred_on: dt.date, today: dt.date) -> None:
    # Imported late: H2's snapshot and package modules import this package's models.
    from core.transfers import snapshot as snapshots

    here = _this_council()
    cases._lock(case)
    snap = snapshots.snapshot_case(actor, case)
    by = _by(actor)
    transfer.attempts += 1
    receiver_id = _other_council_id(transfer) if transfer.receiver_on_platform else None
    if transfer.receiver_on_platform and receiver_id is None:
        raise Conflict(f"{transfer.to_la_name} is no longer taking transfers on the platform: cancel this transfer "
                       "and start it again to send a transfer package instead")
    if receiver_id is not None:
        with crossing_into(db.session(), receiver_id):
            received = snapshots.materialise(snap, transferred_on=transferred_on, transfer_id=transfer.ref,
                                             from_la_code=transfer.from_la_code,
                                             actor_label=f"{here.name} ({here.la_code})")
            incoming = _other_side(transfer)
            if incoming is None:  # the announced row went missing: recreate it
                incoming = _mirror(transfer, receiver_id, "incoming")
                db.session.add(incoming)
            incoming.status, incoming.transferred_on = "completed", transferred_on
            incoming.received_case_id, incoming.received_case_ref = received.id, received.id
            incoming.alert, incoming.alert_raised_on, incoming.last_error = None, None, None
            incoming.attempts = transfer.attempts
            incoming.history = {**(incoming.history or {}), "moved": _moved_summary(snap)}
            _log(incoming, "completed", by)
            db.session.flush()
            _audit(_receiver_actor(receiver_id, here.la_code), "transfer.received", incoming, received.child_id,
                   ("plan", "plan_versions", "advice", "documents", "contacts"))
        transfer.received_case_ref = received.id
    else:
        from core.documents.services import FileType, store_document
        from core.transfers import package as packages

        data = packages.build_package(snap)
        doc = store_document(actor, child_id=case.child_id, case_id=case.id, kind="transfer_package",
                             title=f"Transfer package for {transfer.to_la_name}"[:200],
                             filename=f"transfer-{transfer.to_la_code}-{transferred_on.isoformat()}.zip", data=data,
                             trusted_type=FileType("application/zip", "zip", "ZIP archive"),
                             permission=permissions.TRANSFERS_WRITE)
        transfer.package_document_id = doc.id
    # The sender's side: reg 15(2) met, and from now on the case is read-only (reg 15(3)).
    cases.record_event(_recorder(actor), case, {"type": "plan_transferred_out", "date": transferred_on.isoformat(),
                                     "to_la_code": transfer.to_la_code}, policy=_policy(here), today=today)
    transfer.status, transfer.transferred_on = "completed", transferred_on
    transfer.alert, transfer.alert_raised_on, transfer.last_error = None, None, None
    transfer.history = {**(transfer.history or {}), "moved": _moved_summary(snap)}
    _log(transfer, "completed", by)
    db.session.flush()
    _audit(actor, "transfer.completed", transfer, case.child_id, ("plan", "plan_versions", "advice", "documents"))


def _moved_summary(snap: Any) -> dict[str, Any]:
    """Counts of what moved, for both councils' history (no personal data)."""
    summary = getattr(snap, "summary", None)
    if callable(summary):
        summary = summary()
    if isinstance(summary, Mapping):
        return {str(k): v for k, v in summary.items() if isinstance(v, (int, str, bool))}
    data = snap if isinstance(snap, Mapping) else getattr(snap, "__dict__", {})
    return {str(k): len(v) for k, v in data.items() if isinstance(v, (list, tuple))}


def _record_failure(actor: Actor, ref: uuid.UUID, case_id: uuid.UUID, reason: str, by: str) -> None:
    """After a rollback: mark both councils' rows failed and alert both (a new transaction)."""
    today = clock.today()
    transfer = db.session.execute(select(Transfer).where(Transfer.ref == ref)).scalar_one()
    transfer.status, transfer.last_error = "failed", reason
    transfer.attempts += 1
    transfer.alert, transfer.alert_raised_on = "failed", today
    _log(transfer, f"failed: {reason}", by)
    child_id = _child_of(transfer)
    _audit(actor, "transfer.failed", transfer, child_id)
    _notify(transfer)
    receiver_id = _other_council_id(transfer) if transfer.receiver_on_platform else None
    if receiver_id is not None:
        with crossing_into(db.session(), receiver_id):
            incoming = _other_side(transfer)
            if incoming is not None:
                incoming.status, incoming.last_error, incoming.attempts = "failed", reason, transfer.attempts
                incoming.alert, incoming.alert_raised_on = "failed", today
                _log(incoming, f"failed: {reason}", by)
                db.session.flush()
                _audit(_receiver_actor(receiver_id, transfer.from_la_code), "transfer.failed", incoming)
                _notify(incoming)


def _notify(transfer: Transfer) -> None:
    """Tell the council's connected systems (its notifications plugin, through the outbox)
    that a transfer needs attention. Ids only; nothing is written when nobody listens."""
    outbox.emit("transfer.alert", {"transfer_id": str(transfer.ref), "direction": transfer.direction,
                                   "alert": transfer.alert, "status": transfer.status})


# ---------------------------------------------------------------------------------------
# Cancelling


def cancel_transfer(actor: Actor, transfer: Transfer, *, today: dt.date | None = None) -> Transfer:
    """Call off a planned or failed transfer (the sender only): the move will not happen, so
    its clocks stop (``transfer_cancelled``) and the receiving council sees it cancelled."""
    _require(actor, permissions.TRANSFERS_WRITE)
    today = today or clock.today()
    case = _require_sender(transfer)
    if transfer.status not in ACTIVE_STATUSES:
        raise Conflict(f"This transfer is {transfer.status}: only a planned or failed transfer can be cancelled")
    here = _this_council()
    cases.record_event(_recorder(actor), case, {"type": "transfer_cancelled", "date": max(today, transfer.became_aware_on).isoformat()},
                       policy=_policy(here), today=max(today, transfer.became_aware_on))
    by = _by(actor)
    transfer.status, transfer.alert, transfer.alert_raised_on = "cancelled", None, None
    _log(transfer, "cancelled", by)
    db.session.flush()
    _audit(actor, "transfer.cancelled", transfer, case.child_id)
    receiver_id = _other_council_id(transfer) if transfer.receiver_on_platform else None
    if receiver_id is not None:
        with crossing_into(db.session(), receiver_id):
            incoming = _other_side(transfer)
            if incoming is not None:
                incoming.status, incoming.alert, incoming.alert_raised_on = "cancelled", None, None
                _log(incoming, "cancelled", by)
                db.session.flush()
                _audit(_receiver_actor(receiver_id, here.la_code), "transfer.cancelled", incoming)
    return transfer


# ---------------------------------------------------------------------------------------
# Packages imported from a council not on the platform (H2: core/transfers/package.py)


def register_imported_transfer(actor: Actor, *, snapshot: Any, case: Case, from_la_code: str,
                               transferred_on: dt.date) -> Transfer:
    """Record the incoming, completed transfer of a plan imported from a package sent by a
    council not on the platform (``case``: the case the import opened here)."""
    _require(actor, permissions.TRANSFERS_WRITE)
    here = _this_council()
    code = (from_la_code or "").strip()
    if not _LA_CODE.match(code) or code == here.la_code:
        raise ValidationFailed({"from_la_code": ["Give the 3-digit code of the council the plan came from"]})
    child = db.session.get(Child, case.child_id)
    assert child is not None
    by = _by(actor)
    sender = find_council(code)
    transfer = Transfer(
        direction="incoming", status="completed", received_case_id=case.id, received_case_ref=case.id,
        from_la_code=code, from_la_name=(sender.name if sender else
                      (getattr(snapshot, "from_council", None) or f"Local authority {code}")[:200]),
        to_la_code=here.la_code, to_la_name=here.name, receiver_on_platform=True, health_body_changes=False,
        move_on=transferred_on, became_aware_on=transferred_on, transferred_on=transferred_on,
        child_given_name=child.given_name, child_family_name=child.family_name,
        child_date_of_birth=child.date_of_birth, created_by=by, updated_by=by,
        history={"moved": _moved_summary(snapshot), "log": []})
    _log(transfer, "imported from a transfer package", by)
    db.session.add(transfer)
    db.session.flush()
    _audit(actor, "transfer.imported", transfer, case.child_id)
    return transfer
