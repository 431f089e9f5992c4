"""Fault test (issue #5 item 7): Redis stopped → pages still serve, writes land in the
outbox, and the work is delivered when Redis is back.

A private redis-server on a free port is started, stopped and started again (the shared one
on 6379 is never touched), with a real rq worker (JSON serializer) draining the queues.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import select

from core.db import db
from core.jobs import QUEUES, configure_jobs
from core.plugins import services
from core.plugins.calls import sweep
from core.plugins.models import CallStatus, OutboxEvent, OutboxStatus, PluginCall
from tests.conftest import bearer, in_tenant
from tests.core.plugins.test_platform import Listener

pytestmark = pytest.mark.postgres_only


class PrivateRedis:
    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
        configure_jobs(None)


def _drain(url: str) -> None:
    connection = Redis.from_url(url)
    queues = [configure_jobs(url).queue(name) for name in QUEUES]  # type: ignore[attr-defined]
    SimpleWorker(queues, connection=connection, serializer=JSONSerializer).work(burst=True)


def test_with_redis_stopped_pages_serve_writes_land_in_the_outbox_and_are_delivered_when_it_is_back(
        private_redis: PrivateRedis, tenant_a: Any, use_plugins: Any, make_user: Any, make_child: Any,
        client_for: Any, api_token: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    with in_tenant(tenant_a):
        services.set_enabled("listener", True)
        db.session.commit()
    child = make_child(tenant_a)
    caseworker = make_user(tenant_a)
    token = api_token(tenant_a, "children:read cases:read cases:write")
    configure_jobs(private_redis.url)

    private_redis.stop()
    page = client_for(tenant_a, caseworker).get("/children/")
    assert page.status_code == 200 and child.family_name in page.get_data(as_text=True)
    api = client_for(tenant_a)
    created = api.post("/api/v1/cases", headers=bearer(token), json={
        "child_id": str(child.id), "events": [{"type": "request_received", "date": "2026-11-02", "requester": "parent"}]})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert api.get(f"/api/v1/cases/{created.get_json()['id']}", headers=bearer(token)).status_code == 200
    with in_tenant(tenant_a):
        waiting = db.session.execute(select(OutboxEvent)).scalars().all()
        assert [e.status for e in waiting] == [OutboxStatus.PENDING]  # kept, not lost
        assert waiting[0].payload["case_id"] == created.get_json()["id"]
        db.session.rollback()
    assert listener.heard == []
    # The scheduler's minute tick cannot queue the sweep either: it is logged, nothing is lost.
    from tenants.maintenance import fan_out
    fan_out(sweep)
    assert listener.heard == []

    private_redis.start()
    fan_out(sweep)  # the next tick, with Redis back
    _drain(private_redis.url)
    assert [h[:2] for h in listener.heard] == [(tenant_a.slug, "case.event_recorded")]
    with in_tenant(tenant_a):
        db.session.expire_all()
        assert db.session.execute(select(OutboxEvent.status)).scalars().all() == [OutboxStatus.RELAYED]
        assert db.session.execute(select(PluginCall.status)).scalars().all() == [CallStatus.SUCCEEDED]
        db.session.rollback()
    # Another tick changes nothing: the work was delivered exactly once.
    fan_out(sweep)
    _drain(private_redis.url)
    assert len(listener.heard) == 1


def test_rate_limited_pages_still_serve_with_redis_stopped(private_redis: PrivateRedis, settings: Any) -> None:
    """The app's own rate-limit settings, on a small app whose Redis has gone away: the limit
    falls back to process memory, so the page answers (and still limits) instead of failing."""
    import dataclasses

    from flask import Flask
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    from web.app import rate_limit_config

    app = Flask(__name__)
    app.config.update(rate_limit_config(dataclasses.replace(settings, redis_url=private_redis.url)))
    limiter = Limiter(key_func=get_remote_address, app=app)

    @app.get("/sign-in")
    @limiter.limit("3 per minute")
    def sign_in() -> str:
        return "the sign-in page"

    client = app.test_client()
    assert client.get("/sign-in").status_code == 200  # Redis up: shared counts
    private_redis.stop()
    answers = [client.get("/sign-in").status_code for _ in range(4)]
    assert answers[0] == 200 and 429 in answers  # served from memory, and still limited
