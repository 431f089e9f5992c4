"""Background jobs (STYLE.md section 5).

* Declare with ``@job(queue=..., timeout=...)`` in ``core/<area>/jobs.py``; name them verb_noun.
* Arguments are JSON primitives only (ids, never ORM objects or personal data), and for
  tenant jobs ``tenant_id`` comes first: the wrapper enters that tenant, opens its own
  session, commits on success and rolls back on error.
* Services call :func:`enqueue_after_commit`; jobs are handed to the queue only once the
  transaction that asked for them has committed, so a worker never sees uncommitted or
  rolled-back state.
* With ``REDIS_URL`` jobs go to rq (JSON serializer, retries with backoff, a time limit);
  without it (the embedded default) they run in-process right after the commit.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis import Redis
from rq import Queue, Retry, get_current_job
from rq.serializers import JSONSerializer
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.audit.services import audit_context
from core.db import db
from core.logs import bind_log_context, reset_log_context
from core.tenancy import tenant_context

log = logging.getLogger(__name__)

QUEUES = ("interactive", "default", "bulk")
#: Seconds between retries: a partner that is down for a minute or an hour still gets the job.
RETRY_INTERVALS = (10, 60, 300, 1800)


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Any]
    queue: str
    timeout: int
    retries: int
    tenant_scoped: bool


_REGISTRY: dict[str, JobSpec] = {}


def _check_primitives(value: Any, path: str = "args") -> None:
    if value is None or isinstance(value, (str, int, float, bool)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_primitives(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"job {path} keys must be strings")
            _check_primitives(item, f"{path}.{key}")
        return
    raise TypeError(f"job {path} must be JSON primitives (ids, not objects); got {type(value).__name__}")


def job(*, queue: str = "default", timeout: int = 60, retries: int = 3, tenant_scoped: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a job. The decorated function is what rq imports and calls by dotted path."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; use one of {QUEUES}")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        name = f"{func.__module__}.{func.__qualname__}"
        spec = JobSpec(name, func, queue, timeout, retries, tenant_scoped)

        @functools.wraps(func)
        def run(*args: Any) -> Any:
            return execute(spec, args)

        run.spec = spec  # type: ignore[attr-defined]
        _REGISTRY[name] = spec
        return run

    return decorate


def execute(spec: JobSpec, args: tuple[Any, ...], job_id: str | None = None) -> Any:
    """Run a job body in its own session and tenant; commit on success, roll back on error."""
    job_id = job_id or _current_rq_job_id() or uuid.uuid4().hex
    tenant = uuid.UUID(args[0]) if spec.tenant_scoped else None
    body_args = args[1:] if spec.tenant_scoped else args
    token = bind_log_context(job_id=job_id, job=spec.name)
    try:
        with tenant_context(tenant), audit_context("job", request_id=f"job:{job_id}"), db.isolated_scope() as session:
            try:
                result = spec.func(*body_args)
                session.commit()
                return result
            except BaseException:
                session.rollback()
                log.exception("job failed")
                raise
    finally:
        reset_log_context(token)


def _current_rq_job_id() -> str | None:
    try:
        current = get_current_job()
    except Exception:  # outside a worker there is no current job
        return None
    return current.id if current is not None else None


# ---------------------------------------------------------------------------------------
# Backends


class Backend(Protocol):
    def dispatch(self, spec: JobSpec, args: tuple[Any, ...]) -> None: ...


class InlineBackend:
    """Runs jobs in-process, immediately (the embedded default: no Redis, no worker)."""

    def dispatch(self, spec: JobSpec, args: tuple[Any, ...]) -> None:
        try:
            execute(spec, args)
        except Exception:
            # Already logged by execute(); a job failing must never break the request that
            # asked for it (that request has committed already).
            pass


class RQBackend:
    """Hands jobs to rq queues on Redis with the JSON serializer."""

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self.connection = Redis.from_url(redis_url)

    def queue(self, name: str) -> Any:
        return Queue(name, connection=self.connection, serializer=JSONSerializer)

    def dispatch(self, spec: JobSpec, args: tuple[Any, ...]) -> None:
        retry = Retry(max=spec.retries, interval=list(RETRY_INTERVALS[: spec.retries])) if spec.retries else None
        self.queue(spec.queue).enqueue(spec.name, args=args, job_timeout=spec.timeout, retry=retry,
                                       failure_ttl=30 * 24 * 3600)


_backend: Backend = InlineBackend()


def configure_jobs(redis_url: str | None) -> Backend:
    """Choose the backend once at start (app factory or worker)."""
    global _backend
    _backend = RQBackend(redis_url) if redis_url else InlineBackend()
    return _backend


def backend() -> Backend:
    return _backend


_PENDING = "sendbridge_pending_jobs"


def enqueue_after_commit(fn: Callable[..., Any], *args: Any, session: Session | None = None) -> None:
    """Queue ``fn(*args)`` to run once the current transaction commits (dropped on rollback).

    For tenant jobs the first argument is the tenant id as a string.
    """
    spec: JobSpec | None = getattr(fn, "spec", None)
    if spec is None:
        raise TypeError("enqueue only functions decorated with @job")
    _check_primitives(list(args))
    if spec.tenant_scoped:
        if not args or not isinstance(args[0], str):
            raise TypeError("a tenant job's first argument is the tenant id (a string)")
        uuid.UUID(args[0])
    # Always wait for the session's next commit, even if nothing has been written yet: a
    # service that asks for a job before making its changes must not see the job run first.
    session = session or db.session()
    session.info.setdefault(_PENDING, []).append((spec, tuple(args)))


# SQLAlchemy fires after_commit when a SAVEPOINT is released and after_rollback when one is
# rolled back, not only for the real transaction. Jobs must wait for the outermost commit (a
# job dispatched at a savepoint would run before its data is visible, and see nothing), and a
# savepoint rolled back inside a transaction that goes on must not drop the others' jobs.


@event.listens_for(Session, "after_commit")
def _dispatch_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, [])
    for spec, args in pending:
        try:
            _backend.dispatch(spec, args)
        except Exception:
            # TODO(#5): the transactional outbox makes this durable; until then a Redis outage
            # at this instant loses the job, and we say so loudly.
            log.exception("could not enqueue job %s", spec.name)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING, None)
