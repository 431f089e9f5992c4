"""Plugin calls that never lose work: the transactional outbox and durable, retried calls.

How work leaves a council for a partner system:

1. A service calls :func:`emit` (an integration event) or :func:`schedule_call` (a specific
   hook for the enabled plugins) **inside its own transaction**. Either writes rows in that
   transaction, so the work exists exactly when the change does: if the transaction rolls
   back, nothing is sent; if it commits, the rows are there even if Redis is down.
2. After commit a job is queued to carry the work out (:func:`relay_outbox` turns each
   outbox event into one :class:`PluginCall` per enabled plugin, unique per
   (plugin, event), so relaying twice is harmless; :func:`run_call` makes one call).
3. A call that raises is retried with backoff (:data:`BACKOFF`), up to :data:`MAX_ATTEMPTS`;
   ``PermanentFailure`` stops at once. Failed calls wait for a tenant admin's retry
   (:func:`retry_call`), and they are listed on the admin's integrations page.
4. :func:`sweep` (the scheduler, every minute, one job per council) relays what was never
   relayed and re-queues what is due: the path that delivers work written while Redis was
   down, or whose worker was killed mid-call (a call ``running`` for longer than its time
   limit is treated as interrupted).

A call runs one plugin only, in its own job and its own transaction: one plugin's failure
never affects a request or another plugin.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from core.db import db, utcnow
from core.errors import Conflict, NotFound
from core.jobs import enqueue_after_commit, job
from core.plugin_api import IntegrationEvent, PermanentFailure
from core.plugins.manager import call_plugin, implementers
from core.plugins.models import CallStatus, OutboxEvent, OutboxStatus, PluginCall
from core.plugins.services import enabled_plugins, tenant_info
from core.tenancy import require_tenant_id

log = logging.getLogger(__name__)

#: Seconds before attempt n+1 (n = attempts so far): a partner down for a minute or a day
#: still gets the work. The last delay repeats.
BACKOFF = (30, 120, 600, 3600, 6 * 3600)
MAX_ATTEMPTS = 8
#: A call running longer than this was interrupted (its worker died): it is due again.
CALL_TIME_LIMIT = 120
#: The job-level limit rq enforces on each call.
JOB_TIMEOUT = CALL_TIME_LIMIT - 10

#: How to rebuild a hook's arguments from the JSON a call stores: hook -> builder. Areas
#: register theirs (e.g. notifications turn a notification id into a Notification).
_BUILDERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {}


def register_arguments(hook: str) -> Callable[[Callable[[Mapping[str, Any]], dict[str, Any]]],
                                              Callable[[Mapping[str, Any]], dict[str, Any]]]:
    def decorate(fn: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        _BUILDERS[hook] = fn
        return fn
    return decorate


# Added for the notify plugin (issue #5, notify helper): the area that scheduled a call
# records its outcome (a reminder's delivered_at) in the same transaction that marks the
# call succeeded, so "succeeded" and "delivered" can never disagree.
_ON_SUCCESS: dict[str, Callable[[PluginCall, Any], None]] = {}


def on_success(hook: str) -> Callable[[Callable[[PluginCall, Any], None]], Callable[[PluginCall, Any], None]]:
    """Register ``fn(call, result)``, run after a call of ``hook`` returns, in the call's own
    transaction. If it raises, the call is treated as failed and retried (so it must be
    idempotent, and so must the plugin's side of the call)."""
    def decorate(fn: Callable[[PluginCall, Any], None]) -> Callable[[PluginCall, Any], None]:
        _ON_SUCCESS[hook] = fn
        return fn
    return decorate


#: Modules that register builders and success handlers. A worker imports them before its first
#: call, so what a call needs never depends on which modules happened to be imported first.
_REGISTRARS = ("core.cases.jobs", "core.integrations.advice", "core.integrations.jobs")


def _load_registrars() -> None:
    for name in _REGISTRARS:
        importlib.import_module(name)


@register_arguments("on_integration_event")
def _event_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    row = db.session.get(OutboxEvent, uuid.UUID(arguments["event_id"]))
    if row is None:
        raise PermanentFailure("the outbox event no longer exists")
    return {"event": IntegrationEvent(id=row.id, topic=row.topic, occurred_at=row.created_at,
                                      payload=dict(row.payload))}


# ---------------------------------------------------------------------------------------
# Writing work, inside the caller's transaction


def _check_ids_only(payload: Mapping[str, Any]) -> None:
    for key, value in payload.items():
        if not isinstance(key, str) or not (value is None or isinstance(value, (str, int, bool))):
            raise TypeError("outbox payloads and call arguments are flat: ids, codes and flags only")


def _subscribers() -> list[str]:
    """Enabled plugins that hear integration events."""
    return implementers("on_integration_event", enabled_plugins())


def emit(topic: str, payload: Mapping[str, Any]) -> OutboxEvent | None:
    """Record an integration event in the current transaction; relayed after commit.

    When no plugin enabled for the council listens to integration events nothing is written
    (``None``): an event is for the partners connected when it happens.
    """
    _check_ids_only(payload)
    tenant_id = require_tenant_id()
    if not _subscribers():
        return None
    row = OutboxEvent(topic=topic, payload=dict(payload))
    db.session.add(row)
    db.session.flush()
    enqueue_after_commit(relay_outbox, str(tenant_id))
    return row


def schedule_call(hook: str, key: str, arguments: Mapping[str, Any], *,
                  plugins: list[str] | None = None) -> list[PluginCall]:
    """Ask each enabled plugin implementing ``hook`` (or only ``plugins``) to run it once for
    ``key``, in the current transaction. Calls that already exist for a key are kept as they
    are (idempotent). Returns the calls."""
    _check_ids_only(arguments)
    tenant_id = require_tenant_id()
    names = implementers(hook, enabled_plugins())
    if plugins is not None:
        names = [n for n in names if n in plugins]
    calls = []
    for name in names:
        call = _get_or_create_call(name, hook, key, arguments)
        if call.status in (CallStatus.PENDING, CallStatus.RETRYING):
            enqueue_after_commit(run_call, str(tenant_id), str(call.id))
        calls.append(call)
    return calls


def _get_or_create_call(plugin: str, hook: str, key: str, arguments: Mapping[str, Any]) -> PluginCall:
    existing = db.session.execute(select(PluginCall).where(PluginCall.plugin == plugin, PluginCall.key == key)) \
        .scalar_one_or_none()
    if existing is not None:
        return existing
    call = PluginCall(plugin=plugin, hook=hook, key=key, arguments=dict(arguments), status=CallStatus.PENDING,
                      next_attempt_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(call)
            db.session.flush()
    except IntegrityError:
        # Another relay made it first (two relays racing): use theirs.
        return db.session.execute(select(PluginCall).where(PluginCall.plugin == plugin, PluginCall.key == key)) \
            .scalar_one()
    return call


# ---------------------------------------------------------------------------------------
# Jobs


@job(queue="default", timeout=60, retries=0)
def relay_outbox(limit: int = 500) -> int:
    """Turn pending outbox events into plugin calls (one per enabled plugin implementing
    ``on_integration_event``). Safe to run any number of times at once: rows are claimed
    with ``SKIP LOCKED`` and calls are unique per (plugin, event)."""
    query = (select(OutboxEvent).where(OutboxEvent.status == OutboxStatus.PENDING)
             .order_by(OutboxEvent.created_at).limit(limit))
    if db.dialect_name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    events = db.session.execute(query).scalars().all()
    for event in events:
        schedule_call("on_integration_event", f"outbox:{event.id}", {"event_id": str(event.id)})
        event.status = OutboxStatus.RELAYED
        event.relayed_at = utcnow()
    db.session.flush()
    return len(events)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])


@job(queue="default", timeout=JOB_TIMEOUT + 5, retries=0)
def run_call(call_id: str) -> str:
    """Make one plugin call. Claims it (so two workers never make the same call at once),
    commits the claim, calls the plugin outside any lock, then records the outcome."""
    now = utcnow()
    claimed = db.session.execute(
        update(PluginCall)
        .where(PluginCall.id == uuid.UUID(call_id),
               or_(PluginCall.status.in_([CallStatus.PENDING, CallStatus.RETRYING]),
                   (PluginCall.status == CallStatus.RUNNING)
                   & (PluginCall.next_attempt_at <= now - dt.timedelta(seconds=CALL_TIME_LIMIT))))
        .values(status=CallStatus.RUNNING, attempts=PluginCall.attempts + 1, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return "skipped"  # done already, or another worker has it
    db.session.commit()
    call = db.session.get(PluginCall, uuid.UUID(call_id))
    assert call is not None
    try:
        if call.plugin not in enabled_plugins():
            raise PermanentFailure(f"the {call.plugin} plugin is not enabled for this council")
        _load_registrars()
        builder = _BUILDERS.get(call.hook)
        kwargs = builder(call.arguments) if builder else dict(call.arguments)
        result = call_plugin(tenant_info(call.plugin), call.plugin, call.hook, **kwargs)
        handler = _ON_SUCCESS.get(call.hook)
        if handler is not None:
            handler(call, result)
    except Exception as exc:  # a plugin's failure is recorded, never raised into rq or a request
        db.session.rollback()
        call = db.session.get(PluginCall, uuid.UUID(call_id))
        assert call is not None
        call.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        if isinstance(exc, PermanentFailure) or call.attempts >= MAX_ATTEMPTS:
            call.status = CallStatus.FAILED
            call.finished_at = utcnow()
            log.warning("plugin call failed for good", extra={"plugin": call.plugin, "hook": call.hook})
        else:
            call.status = CallStatus.RETRYING
            call.next_attempt_at = utcnow() + _backoff(call.attempts)
            log.info("plugin call will be retried", extra={"plugin": call.plugin, "hook": call.hook})
        return call.status.value
    call.status = CallStatus.SUCCEEDED
    call.last_error = ""
    call.finished_at = utcnow()
    return call.status.value


@job(queue="default", timeout=60, retries=0)
def sweep(limit: int = 500) -> int:
    """Relay any outbox events still pending and queue every call that is due (retries whose
    time has come, pending calls never queued, calls interrupted mid-run)."""
    tenant_id = require_tenant_id()
    relay_outbox.spec.func(limit)  # type: ignore[attr-defined]
    now = utcnow()
    due = db.session.execute(
        select(PluginCall.id).where(or_(
            PluginCall.status.in_([CallStatus.PENDING, CallStatus.RETRYING]) & (PluginCall.next_attempt_at <= now),
            (PluginCall.status == CallStatus.RUNNING)
            & (PluginCall.next_attempt_at <= now - dt.timedelta(seconds=CALL_TIME_LIMIT)),
        )).limit(limit)).scalars().all()
    for call_id in due:
        enqueue_after_commit(run_call, str(tenant_id), str(call_id))
    return len(due)


def note_problem(plugin: str, hook: str, key: str, arguments: Mapping[str, Any], exc: BaseException) -> PluginCall:
    """Record that work done outside a call (a poll asking a partner for an answer) failed, as
    a call the admin sees and can retry: ``PermanentFailure`` as failed, anything else as
    retrying with backoff. The hook needs a registered argument builder (and, for its
    answer to be used, a success handler), since retrying runs it as a call."""
    _check_ids_only(arguments)
    call = _get_or_create_call(plugin, hook, key, arguments)
    call.attempts += 1
    call.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    if isinstance(exc, PermanentFailure) or call.attempts >= MAX_ATTEMPTS:
        call.status = CallStatus.FAILED
        call.finished_at = utcnow()
    else:
        call.status = CallStatus.RETRYING
        call.next_attempt_at = utcnow() + _backoff(call.attempts)
    db.session.flush()
    return call


def clear_problem(plugin: str, key: str) -> None:
    """The work went through after all: a recorded problem for it no longer needs anyone."""
    call = db.session.execute(select(PluginCall).where(PluginCall.plugin == plugin, PluginCall.key == key)) \
        .scalar_one_or_none()
    if call is not None and call.status != CallStatus.SUCCEEDED:
        call.status = CallStatus.SUCCEEDED
        call.last_error = ""
        call.finished_at = utcnow()
        db.session.flush()


# ---------------------------------------------------------------------------------------
# What a tenant admin sees and does


def calls_needing_attention(limit: int = 200) -> list[PluginCall]:
    """Failed calls and calls being retried, newest first."""
    return list(db.session.execute(
        select(PluginCall).where(PluginCall.status.in_([CallStatus.FAILED, CallStatus.RETRYING]))
        .order_by(PluginCall.created_at.desc()).limit(limit)).scalars())


def retry_call(call_id: uuid.UUID | str) -> PluginCall:
    """A tenant admin's retry: the call starts again with a fresh set of attempts."""
    try:
        cid = uuid.UUID(str(call_id))
    except ValueError:
        raise NotFound("No such call") from None
    call = db.session.get(PluginCall, cid)
    if call is None:
        raise NotFound("No such call")
    if call.status not in (CallStatus.FAILED, CallStatus.RETRYING):
        raise Conflict("Only a failed call, or one waiting to be retried, can be retried")
    call.status = CallStatus.PENDING
    call.attempts = 0
    call.next_attempt_at = utcnow()
    call.finished_at = None
    db.session.flush()
    enqueue_after_commit(run_call, str(require_tenant_id()), str(call.id))
    return call
