"""Background jobs: enqueued only after commit, JSON primitives only, run inside their tenant."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core import jobs
from core.children.models import Child
from core.db import db
from core.jobs import InlineBackend, RQBackend, configure_jobs, enqueue_after_commit, job
from core.tenancy import current_tenant_id
from tests.conftest import REDIS_TEST_URL, in_tenant

SEEN: list[tuple[Any, ...]] = []


@job(queue="default", timeout=30, retries=0)
def note_child(child_id: str) -> None:
    """A test job: record which tenant it ran in and whether the child is visible there."""
    child = db.session.get(Child, uuid.UUID(child_id))
    SEEN.append((current_tenant_id(), child.given_name if child else None))


@job(queue="default", timeout=30, retries=0)
def fail_always(marker: str) -> None:
    raise RuntimeError(f"boom {marker}")


@pytest.fixture(autouse=True)
def _inline_backend() -> Any:
    SEEN.clear()
    backend = configure_jobs(None)
    yield backend
    configure_jobs(None)


@pytest.mark.smoke
def test_a_job_runs_only_after_its_transaction_commits(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a, given_name="Jobbed")
    with in_tenant(tenant_a):
        enqueue_after_commit(note_child, str(tenant_a.id), str(child.id))
        assert SEEN == []  # not yet: the transaction is still open
    assert SEEN == [(tenant_a.id, "Jobbed")]


@pytest.mark.smoke
def test_a_job_asked_for_in_a_rolled_back_transaction_never_runs(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    from core.tenancy import tenant_context

    with tenant_context(tenant_a.id):
        session = db.session()
        session.get(Child, child.id)
        enqueue_after_commit(note_child, str(tenant_a.id), str(child.id))
        session.rollback()
        session.commit()
    db.session.remove()
    assert SEEN == []


@pytest.mark.smoke
def test_a_job_runs_inside_its_own_tenant_only(tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_b):
        enqueue_after_commit(note_child, str(tenant_b.id), str(child.id))
    assert SEEN == [(tenant_b.id, None)]  # tenant B's job cannot see tenant A's child


@pytest.mark.smoke
@pytest.mark.parametrize("args, message", [
    ((), "first argument is the tenant id"),
    ((uuid.uuid4(),), "JSON primitives"),
    (("not-a-uuid", "x"), "badly formed"),
    (("00000000-0000-0000-0000-000000000000", object()), "JSON primitives"),
])
def test_job_arguments_must_be_json_primitives_with_the_tenant_first(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        enqueue_after_commit(note_child, *args)


def test_only_declared_jobs_can_be_enqueued() -> None:
    with pytest.raises(TypeError, match="decorated with @job"):
        enqueue_after_commit(print, "x")


@pytest.mark.smoke
def test_a_failing_inline_job_never_breaks_the_request_that_asked_for_it(tenant_a: Any, caplog: Any) -> None:
    with in_tenant(tenant_a):
        enqueue_after_commit(fail_always, str(tenant_a.id), "x")
    assert "job failed" in caplog.text
    assert isinstance(jobs.backend(), InlineBackend)


@pytest.mark.redis
def test_jobs_go_through_redis_with_the_json_serializer(tenant_a: Any, make_child: Any) -> None:
    from redis import Redis
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    redis = Redis.from_url(REDIS_TEST_URL)
    redis.flushdb()
    backend = configure_jobs(REDIS_TEST_URL)
    assert isinstance(backend, RQBackend)
    child = make_child(tenant_a, given_name="Queued")
    with in_tenant(tenant_a):
        enqueue_after_commit(note_child, str(tenant_a.id), str(child.id))
    queue = backend.queue("default")
    [queued] = queue.get_jobs()
    # What sits in Redis: the tenant id first, then ids; never names or other personal data.
    assert queued.args == [str(tenant_a.id), str(child.id)] or queued.args == (str(tenant_a.id), str(child.id))
    raw = redis.hget(queued.key, "data")
    assert b"Queued" not in raw
    SimpleWorker([queue], connection=redis, serializer=JSONSerializer).work(burst=True, max_jobs=1)
    assert SEEN == [(tenant_a.id, "Queued")]
    redis.flushdb()


@pytest.mark.redis
def test_a_failed_redis_job_is_kept_for_inspection(tenant_a: Any) -> None:
    from redis import Redis
    from rq import SimpleWorker
    from rq.registry import FailedJobRegistry
    from rq.serializers import JSONSerializer

    redis = Redis.from_url(REDIS_TEST_URL)
    redis.flushdb()
    backend = configure_jobs(REDIS_TEST_URL)
    with in_tenant(tenant_a):
        enqueue_after_commit(fail_always, str(tenant_a.id), "y")
    queue = backend.queue("default")
    SimpleWorker([queue], connection=redis, serializer=JSONSerializer).work(burst=True, max_jobs=1)
    assert len(FailedJobRegistry(queue=queue)) == 1
    redis.flushdb()


@pytest.mark.smoke
def test_expired_idempotency_records_are_purged_per_council(tenant_a: Any, tenant_b: Any) -> None:
    import datetime as dt

    from sqlalchemy import select

    from core.db import utcnow
    from core.idempotency.models import IdempotencyRecord
    from tenants.maintenance import MAINTENANCE_JOBS, fan_out

    for tenant in (tenant_a, tenant_b):
        with in_tenant(tenant) as s:
            for key, expires in (("old", utcnow() - dt.timedelta(minutes=1)), ("fresh", utcnow() + dt.timedelta(hours=1))):
                s.add(IdempotencyRecord(actor_id="c", key=key, fingerprint="f", status_code=201, response_body={},
                                        expires_at=expires))
    from core.idempotency.jobs import purge_idempotency_records

    assert MAINTENANCE_JOBS["purge-idempotency"].endswith("purge_idempotency_records")
    assert fan_out(purge_idempotency_records) >= 2
    for tenant in (tenant_a, tenant_b):
        with in_tenant(tenant) as s:
            assert set(s.execute(select(IdempotencyRecord.key)).scalars()) == {"fresh"}


@pytest.mark.smoke
def test_savepoints_neither_release_nor_drop_the_transactions_jobs(tenant_a: Any, make_child: Any) -> None:
    # Services use savepoints (duplicate checks, idempotency, recording an event). Releasing
    # one is not the commit, and rolling one back does not undo the transaction's other work.
    child = make_child(tenant_a, given_name="Saved")
    from core.tenancy import tenant_context

    with tenant_context(tenant_a.id):
        session = db.session()
        session.get(Child, child.id)
        enqueue_after_commit(note_child, str(tenant_a.id), str(child.id))
        with session.begin_nested():
            session.get(Child, child.id)
        assert SEEN == []
        try:
            with session.begin_nested():
                session.get(Child, child.id)
                raise ValueError("a refused step")
        except ValueError:
            pass
        assert SEEN == []
        session.commit()
    db.session.remove()
    assert SEEN == [(tenant_a.id, "Saved")]
