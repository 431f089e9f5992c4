"""Fault test (issue #5 item 7): kill -9 the worker at several points of a 50,000-pupil CTF
import; after the retry there are exactly 50,000 pupils, none twice, and the import says so.

Everything is real: a scratch PostgreSQL database migrated to head (owned by a non-superuser,
so row-level security applies), our own throwaway redis-server on a free port (the shared
Redis is never touched), the upload through ``core.sen.services.start_import`` in a
subprocess, and ``flask --app wsgi worker`` processes that are SIGKILLed (with their
work-horses, by process group) while the job runs:

1. just after the first batch's checkpoint committed;
2. while the second attempt is parsing the file again (before it applies anything);
3. just after a checkpoint half-way through.

A last worker then finishes the retried job. Retrying is what the status page's button does:
queue ``import_sen_register`` again; it resumes at the committed checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from benchmarks.ctf_data import SECRET, create_database, drop_database, generate_ctf
from tests.conftest import postgres_only

pytestmark = postgres_only

ROOT = Path(__file__).resolve().parents[3]
BIN = ROOT / ".venv" / "bin"
PUPILS = 50_000
_ENV_DROPPED = ("REDIS_URL", "PUBLIC_URL", "SAFE_MODE", "FLASK_APP", "FLASK_DEBUG", "PLUGINS", "LOG_LEVEL")

_QUEUE_IMPORT = """
import json, sys
sys.path.insert(0, {root!r})
from benchmarks.ctf_data import queue_import
from web.app import create_app
app = create_app()
print(json.dumps(queue_import(open({path!r}, "rb").read())))
"""


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].lower()
    except (FileNotFoundError, IndexError):
        return "gone"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Our own redis-server, killed by its PID afterwards."""
    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from redis import Redis

    client = Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except Exception:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.kill()
    proc.wait()


@pytest.fixture
def scratch_db() -> Iterator[tuple[str, str]]:
    name = f"sendbridge_ctf_fault_{os.getpid()}"
    url = create_database(name)
    yield name, url
    drop_database(name)


class Import:
    """Watches the import row from outside the app, as the council's owner role (RLS on)."""

    def __init__(self, db_name: str, tenant_id: str, import_id: str):
        self.conn = psycopg.connect(f"host=127.0.0.1 dbname={db_name} user={db_name}_owner", autocommit=True)
        self.conn.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant_id,))
        self.import_id = import_id

    def state(self) -> dict[str, Any]:
        row = self.conn.execute("SELECT status, checkpoint, attempts, total, matched, created, updated, unchanged, "
                                "errors, failure FROM sen_import WHERE id = %s", (self.import_id,)).fetchone()
        assert row is not None
        keys = ("status", "checkpoint", "attempts", "total", "matched", "created", "updated", "unchanged", "errors",
                "failure")
        return dict(zip(keys, row))

    def wait_for(self, what: Callable[[dict[str, Any]], bool], timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if what(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"import never got there: {state}")
            time.sleep(0.02)

    def scalar(self, sql: str) -> Any:
        return self.conn.execute(sql).fetchone()[0]  # type: ignore[index]


def test_kill_9_the_worker_at_several_points_then_retry_gives_exactly_50000_pupils(
        scratch_db: tuple[str, str], redis_url: str, tmp_path: Path) -> None:
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    from core.sen.jobs import BATCH

    db_name, database_url = scratch_db
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROPPED}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": SECRET, "REDIS_URL": redis_url,
                "VAR_DIR": str(tmp_path / "var"), "SENDBRIDGE_ENV": "development", "BASE_DOMAIN": "localhost",
                "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    ctf = tmp_path / "register.xml"
    ctf.write_bytes(generate_ctf(PUPILS))
    out = subprocess.run([sys.executable, "-c", _QUEUE_IMPORT.format(root=str(ROOT), path=str(ctf))], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    tenant_id, import_id = json.loads(out.stdout.strip().splitlines()[-1])
    watch = Import(db_name, tenant_id, import_id)
    assert watch.state()["status"] == "queued"
    queue = Queue("bulk", connection=Redis.from_url(redis_url), serializer=JSONSerializer)
    assert queue.count == 1  # the upload queued the job, after its commit
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker() -> subprocess.Popen[bytes]:
        # Killed (and later retried) work is never run twice by rq itself: its abandoned job
        # stays in StartedJobRegistry until its heartbeat lapses; the retry is a new job.
        proc = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "worker", "--queues", "bulk"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        workers.append(proc)
        return proc

    def kill_9(proc: subprocess.Popen[bytes]) -> None:
        # rq runs each job in a forked work-horse that puts itself in a process group of its
        # own (os.setpgrp): kill the horses' groups and the worker's, all at once.
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        horses = [int(p) for p in children.read_text().split()] if children.exists() else []
        for horse in horses:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(horse, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for horse in horses:
            # Reaped by init once their parent is gone; wait until they really are.
            while Path(f"/proc/{horse}").exists() and "zombie" not in _state(horse):
                time.sleep(0.01)

    def retry() -> None:
        queue.enqueue("core.sen.jobs.import_sen_register", args=[tenant_id, import_id], job_timeout=3600)

    try:
        # 1. Just after the first committed checkpoint.
        worker = start_worker()
        watch.wait_for(lambda s: s["checkpoint"] >= BATCH)
        kill_9(worker)
        first = watch.state()
        assert first["status"] == "running" and BATCH <= first["checkpoint"] < PUPILS

        # 2. While the retry is parsing the file again, before it applies a batch.
        worker = start_worker()
        retry()
        second = watch.wait_for(lambda s: s["attempts"] == 2)
        kill_9(worker)
        assert watch.state()["checkpoint"] < PUPILS and second["status"] == "running"

        # 3. Just after a checkpoint half-way through.
        worker = start_worker()
        retry()
        watch.wait_for(lambda s: s["checkpoint"] >= PUPILS // 2 and s["attempts"] == 3)
        kill_9(worker)
        third = watch.state()
        assert third["status"] == "running" and third["checkpoint"] < PUPILS

        # The last retry runs to the end.
        worker = start_worker()
        retry()
        final = watch.wait_for(lambda s: s["status"] in ("succeeded", "failed"))
    finally:
        for proc in workers:
            if proc.poll() is None:
                kill_9(proc)

    assert final["status"] == "succeeded", final
    assert (final["total"], final["matched"], final["created"], final["updated"], final["unchanged"], final["errors"]) == (
        PUPILS, 0, PUPILS, 0, 0, 0)
    assert final["attempts"] == 4
    assert watch.scalar("SELECT count(*) FROM child") == PUPILS
    assert watch.scalar("SELECT count(DISTINCT upn) FROM child") == PUPILS
    assert watch.scalar("SELECT count(*) FROM child_sen") == PUPILS
    # Exactly one audit row per child written: a batch and its audit rows commit together.
    assert watch.scalar(f"SELECT count(*) FROM audit_event WHERE object_id = '{import_id}'") == PUPILS
    assert watch.scalar(f"SELECT count(DISTINCT subject_id) FROM audit_event WHERE object_id = '{import_id}'") == PUPILS
    watch.conn.close()
