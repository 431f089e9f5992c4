"""Jobs of the cases area: deadline reminders for caseworkers (issue #3 item 9).

``send_deadline_reminders(tenant_id, days_before)`` runs once a day per council (fanned out by
``tenants.maintenance.fan_out_reminders``, triggered by ``core.scheduler``). It finds the
council's open statutory deadlines -- not met, no exception, last compliant day from today to
``days_before`` days ahead, and any already missed that nobody was reminded of -- on cases that
have an active caseworker, records one :class:`Notification` per (caseworker, case, deadline
key, ref, due date) and delivers it.

* Idempotent: each notification's ``dedupe_key`` is unique per council and the insert skips
  keys that exist, so a second run (a retry, two operators, a scheduler restart) tells nobody
  twice. A deadline reminded while it was due soon is not reminded again when it is missed;
  one that moves (a new due date after an event) is a new deadline and is reminded again.
* Delivery (issue #5): when a plugin enabled for the council implements
  ``delivery_for_notification`` (GOV.UK Notify), each pending reminder becomes one durable
  plugin call (``core.plugins.calls``, key ``notification:<id>``) that e-mails the
  caseworker; the call is retried with backoff while the partner is down and ``delivered_at``
  is set in the same transaction that marks the call succeeded. Without such a plugin the
  reminder is a log line carrying ids and the deadline key only -- never names, dates of
  birth or anything typed by a person (core/logs.py) -- and ``delivered_at`` is set at once.
  Notifications whose delivery did not complete (a crash between recording and delivering)
  are delivered by the next run; one already handed to a plugin is never handed over again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update

from core import clock, permissions, plugin_api
from core.actors import Actor
from core.audit import services as audit
from core.cases.models import Case, CaseDeadline, Notification
from core.children.models import Child
from core.db import db, default_id, utcnow
from core.errors import NotFound
from core.ids import parse_id
from core.jobs import job
from core.plugins import calls as plugin_calls
from core.plugins.manager import implementers
from core.plugins.models import CallStatus, PluginCall
from core.plugins.services import enabled_plugins
from core.tenancy import require_tenant_id
from core.timescales.rules import RULES
from core.users.models import User

log = logging.getLogger(__name__)

KIND_DUE = "deadline_due"
KIND_MISSED = "deadline_missed"


def dedupe_key(user_id: uuid.UUID, case_id: uuid.UUID, key: str, ref: str | None, due: dt.date) -> str:
    """One reminder per (caseworker, case, deadline key, ref, due date). Hashed so that a long
    ``ref`` (an advice id, a URN) can never push it past the column's 200 characters."""
    raw = "|".join((str(user_id), str(case_id), key, ref or "", due.isoformat()))
    return "deadline:" + hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class ReminderRun:
    """What one run did (returned by the job, so rq keeps it as the job's result)."""

    recorded: int
    delivered: int

    def as_dict(self) -> dict[str, int]:
        return {"recorded": self.recorded, "delivered": self.delivered}


def _insert_new(rows: list[dict[str, Any]]) -> int:
    """Insert the notifications whose dedupe_key is new; returns how many were."""
    if not rows:
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    # ON CONFLICT DO NOTHING, not "select then insert": two runs at once (a retry overlapping
    # a manual run) must not fail on the unique key, nor tell anyone twice.
    stmt = insert(Notification).values(rows).on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
    result = db.session.execute(stmt.returning(Notification.id))
    return len(result.all())


def remind_deadlines(days_before: int, *, today: dt.date | None = None) -> ReminderRun:
    """Record and deliver the current council's deadline reminders (see the module docstring)."""
    if days_before < 0:
        raise ValueError("days_before must not be negative")
    tenant_id = require_tenant_id()
    today = today or clock.today()
    horizon = today + dt.timedelta(days=days_before)
    candidates = db.session.execute(
        select(CaseDeadline.case_id, CaseDeadline.key, CaseDeadline.ref, CaseDeadline.due, CaseDeadline.last_day,
               Case.caseworker_id)
        .join(Case, and_(Case.tenant_id == CaseDeadline.tenant_id, Case.id == CaseDeadline.case_id))
        .join(User, and_(User.tenant_id == Case.tenant_id, User.id == Case.caseworker_id))
        .where(CaseDeadline.statutory.is_(True), CaseDeadline.met_on.is_(None), CaseDeadline.exception.is_(None),
               CaseDeadline.last_day <= horizon, User.active.is_(True))
        .order_by(CaseDeadline.last_day, CaseDeadline.case_id, CaseDeadline.key)
    ).all()
    now = utcnow()
    rows = [{
        "id": default_id(), "created_at": now, "tenant_id": tenant_id, "user_id": r.caseworker_id,
        "case_id": r.case_id, "deadline_key": r.key, "due": r.last_day,
        "kind": KIND_MISSED if r.last_day < today else KIND_DUE, "channel": "log",
        "dedupe_key": dedupe_key(r.caseworker_id, r.case_id, r.key, r.ref, r.due),
    } for r in candidates]
    recorded = _insert_new(rows)
    return ReminderRun(recorded=recorded, delivered=deliver_pending())


#: The hook that sends a message, and the council template a deadline reminder uses.
DELIVERY_HOOK = "delivery_for_notification"
REMINDER_TEMPLATE = "deadline_reminder"


def call_key(notification_id: uuid.UUID) -> str:
    """The plugin call's idempotency key: one call per notification, ever."""
    return f"notification:{notification_id}"


def delivery_plugin() -> str | None:
    """The enabled plugin that delivers this council's notifications, if any.

    ``delivery_for_notification`` is firstresult: one plugin sends a message, never two (a
    council with two such plugins enabled gets the first by name, as pluggy would ask).
    """
    names = implementers(DELIVERY_HOOK, enabled_plugins())
    return names[0] if names else None


def _log_delivery(n: Any) -> None:
    # Ids and the deadline key only: core/logs.py forbids names, dates of birth and free text.
    log.info("reminder delivered notification=%s user=%s case=%s kind=%s deadline=%s",
             n.id, n.user_id, n.case_id, n.kind, n.deadline_key)


def deliver_pending() -> int:
    """Deliver every undelivered notification of the current council: hand each to the
    delivery plugin once (a durable call, see the module docstring), or write it to the log
    when the council has none. Returns how many were delivered or handed over now."""
    pending = db.session.execute(
        select(Notification.id, Notification.user_id, Notification.case_id, Notification.kind, Notification.deadline_key)
        .where(Notification.delivered_at.is_(None))
        .order_by(Notification.created_at, Notification.id)
    ).all()
    if not pending:
        return 0
    plugin = delivery_plugin()
    if plugin is None:
        for n in pending:
            _log_delivery(n)
        db.session.execute(update(Notification).where(Notification.id.in_([n.id for n in pending]))
                           .values(delivered_at=utcnow()))
        return len(pending)
    calls = dict(db.session.execute(
        select(PluginCall.key, PluginCall.status).where(PluginCall.key.in_([call_key(n.id) for n in pending]))).all())
    handed, repaired = [], []
    for n in pending:
        status = calls.get(call_key(n.id))
        if status is None:
            plugin_calls.schedule_call(DELIVERY_HOOK, call_key(n.id), {"notification_id": str(n.id)},
                                       plugins=[plugin])
            handed.append(n.id)
        elif status == CallStatus.SUCCEEDED:
            repaired.append(n.id)  # sent, but delivered_at was lost: never send it again
        # Otherwise the call is queued, running, waiting for its retry (core.plugins.calls.sweep
        # runs it when due) or failed (the tenant admin retries it): running the job again must
        # neither skip its backoff nor send it twice.
    if handed:
        db.session.execute(update(Notification).where(Notification.id.in_(handed)).values(channel="email"))
    if repaired:
        db.session.execute(update(Notification).where(Notification.id.in_(repaired)).values(delivered_at=utcnow()))
    return len(handed) + len(repaired)


_DELIVERY_ACTOR = "deliver_notification"


@plugin_calls.register_arguments(DELIVERY_HOOK)
def notification_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Rebuild the reminder e-mail from the ids a call stores (never personal data in jobs).

    What leaves for the delivery partner is only what the message needs: the caseworker's
    address and name, the child's initials (the e-mail goes to the council's own caseworker,
    and the case link identifies the case to someone signed in), the deadline, its citation
    and date. Reading the child's name for that is audited as ``child.viewed``.
    """
    nid = parse_id(str(arguments.get("notification_id", "")))
    row = None if nid is None else db.session.execute(
        select(Notification, User.email, User.display_name, User.active, Child.id, Child.given_name, Child.family_name)
        .join(User, and_(User.tenant_id == Notification.tenant_id, User.id == Notification.user_id))
        .join(Case, and_(Case.tenant_id == Notification.tenant_id, Case.id == Notification.case_id))
        .join(Child, and_(Child.tenant_id == Case.tenant_id, Child.id == Case.child_id))
        .where(Notification.id == nid)
    ).one_or_none()
    if row is None:
        raise plugin_api.PermanentFailure("the notification no longer exists")
    n, address, name, active, child_id, given, family = row
    if not active:
        raise plugin_api.PermanentFailure("the caseworker's account is no longer active")
    actor = Actor(tenant_id=require_tenant_id(), kind="system", id=_DELIVERY_ACTOR,
                  permissions=frozenset({permissions.CASES_READ}))
    audit.record(actor, "child.viewed", subject_type="child", subject_ids=[child_id], object_type="notification",
                 object_id=n.id, fields=("initials",))
    rule = RULES.get(n.deadline_key or "")
    missed = n.kind == KIND_MISSED
    personalisation = {
        "caseworker_name": name,
        "child_initials": "".join(part[:1].upper() for part in (given, family) if part),
        "deadline": rule.label if rule else (n.deadline_key or ""),
        "citation": rule.citation if rule else "",
        "due_date": f"{n.due.day} {n.due.strftime('%B %Y')}" if n.due else "",
        "status": "was missed" if missed else "is due",
        # A path: the plugin makes it a link with the council's own address.
        "case_path": f"/cases/{n.case_id}",
    }
    return {"notification": plugin_api.Notification(id=n.id, channel="email", template=REMINDER_TEMPLATE, to=address,
                                                     personalisation=personalisation)}


@plugin_calls.on_success(DELIVERY_HOOK)
def notification_delivered(call: PluginCall, receipt: plugin_api.DeliveryReceipt | None) -> None:
    """The call succeeded: the reminder is delivered, in the same transaction. A plugin that
    declined (``None``) leaves it to the log, as when no plugin answers (hookspecs)."""
    nid = parse_id(str(call.arguments.get("notification_id", "")))
    n = db.session.get(Notification, nid) if nid is not None else None
    if n is None or n.delivered_at is not None:
        return
    if receipt is None:
        _log_delivery(n)
    else:
        log.info("reminder delivered notification=%s via=%s reference=%s", n.id, receipt.provider,
                 receipt.provider_reference)
    n.delivered_at = utcnow()


@job(queue="default", timeout=600, retries=3)
def send_deadline_reminders(days_before: int) -> dict[str, int]:
    """Remind caseworkers of the council's statutory deadlines due within ``days_before`` days.

    Enqueued as ``send_deadline_reminders(tenant_id, days_before)``: the job wrapper enters the
    tenant given first and passes the rest here.
    """
    run = remind_deadlines(int(days_before))
    log.info("deadline reminders: %d recorded, %d delivered", run.recorded, run.delivered)
    return run.as_dict()


# ---------------------------------------------------------------------------------------
# The signed-in person's reminders (the "Your reminders" page)


@dataclass(frozen=True)
class ReminderRow:
    notification: Notification
    case_id: uuid.UUID
    child_name: str


def reminders_for(actor: Actor, *, limit: int = 200) -> list[ReminderRow]:
    """The actor's own reminders, newest first (only a person has reminders). Every child shown
    is recorded as ``child.listed``."""
    if actor.kind != "user" or not actor.can(permissions.CASES_READ):
        return []
    user_id = parse_id(actor.id)
    rows = db.session.execute(
        select(Notification, Child.id, Child.given_name, Child.family_name)
        .join(Case, and_(Case.tenant_id == Notification.tenant_id, Case.id == Notification.case_id))
        .join(Child, and_(Child.tenant_id == Case.tenant_id, Child.id == Case.child_id))
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()
    if rows:
        audit.record(actor, "child.listed", subject_type="child", subject_ids=sorted({child_id for _, child_id, _, _ in rows}))
    return [ReminderRow(n, n.case_id, f"{given} {family}") for n, _, given, family in rows]


def access_notification(actor: Actor, notification_id: uuid.UUID | str) -> Notification:
    """One of the actor's own notifications; the same :class:`NotFound` for missing,
    another person's and another council's."""
    nid = parse_id(notification_id)
    if nid is None or actor.kind != "user":
        raise NotFound("notification")
    notification = db.session.get(Notification, nid)  # tenant-filtered by the ORM criterion and by RLS
    if notification is None or str(notification.user_id) != actor.id:
        raise NotFound("notification")
    if notification.tenant_id != actor.tenant_id:  # unreachable while layers 2 and 3 hold
        raise AssertionError("tenant mismatch")
    return notification


def mark_read(actor: Actor, notification: Notification | None = None) -> int:
    """Mark one of the actor's notifications (or, with None, all of them) as read; returns how
    many changed. Reading a reminder changes nothing about a child, so it is not audited."""
    now = utcnow()
    if notification is not None:
        if notification.read_at is not None:
            return 0
        notification.read_at = now
        return 1
    user_id = parse_id(actor.id)
    if user_id is None:
        return 0
    result = db.session.execute(update(Notification).where(Notification.user_id == user_id,
                                                           Notification.read_at.is_(None)).values(read_at=now))
    return int(result.rowcount or 0)
