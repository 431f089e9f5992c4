"""The real app on a real HTTP server, for tests that need committed data (browser tests,
concurrency tests): a fresh PostgreSQL database, the real migrations and demo seed run by the
real ``flask`` commands, then gunicorn serving ``wsgi:app`` on a free loopback port.

Use it as a context manager::

    with LiveServer() as server:
        urllib.request.urlopen(server.url("/healthz"))
        creds = server.create_api_client("northshire", scopes="children:read children:write")

It uses a database of its own (``sendbridge_live`` by default), never the unit-test one, and
stops gunicorn (and only gunicorn, by its process group) on exit.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.conftest import create_pg_database

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"

# Prints the app's URL map as JSON; run in a subprocess so this test process never builds a
# second app (create_app binds the process-wide database registry, core.db.db).
_DUMP_RULES = """
import json
from web.app import create_app
app = create_app()
print(json.dumps([{"rule": r.rule, "endpoint": r.endpoint, "methods": sorted(r.methods or ())}
                  for r in app.url_map.iter_rules()]))
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServerError(RuntimeError):
    pass


class LiveServer:
    """A gunicorn-served Sendbridge on 127.0.0.1 with its own seeded demo database."""

    def __init__(self, db_name: str = "sendbridge_live", *, workers: int = 2, seed: bool = True,
                 startup_timeout: float = 60.0) -> None:
        self.db_name = db_name
        self.workers = workers
        self.seed = seed
        self.startup_timeout = startup_timeout
        self.port = 0
        self.database_url = ""
        self.secret_key = "live-server-" + secrets.token_urlsafe(40)
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    # -----------------------------------------------------------------------------------
    # Addresses

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def tenant_url(self, slug: str, path: str = "/") -> str:
        return f"{self.base_url}/t/{slug}{path}"

    # -----------------------------------------------------------------------------------
    # Environment and commands

    @property
    def env(self) -> dict[str, str]:
        assert self._tmp is not None, "LiveServer not started"
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "PUBLIC_URL", "PROXY_COUNT", "SAFE_MODE", "FLASK_APP", "FLASK_DEBUG")}
        env.update({
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": self.secret_key,
            "DEMO_MODE": "1",
            "SENDBRIDGE_ENV": "development",
            "BASE_DOMAIN": "localhost",
            "VAR_DIR": str(self._tmp / "var"),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def flask(self, *args: str, timeout: float = 120.0) -> str:
        """Run ``flask --app wsgi ARGS`` against this server's database; returns stdout."""
        result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise LiveServerError(f"flask {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def create_api_client(self, tenant: str, name: str = "Test MIS",
                          scopes: str = "children:read children:write") -> dict[str, str]:
        """A new API client of ``tenant`` via the operators' CLI: ``{"client_id", "client_secret"}``."""
        out = self.flask("clients", "create", "--tenant", tenant, "--name", name, "--scopes", scopes)
        creds = json.loads(out.strip().splitlines()[-1])
        assert {"client_id", "client_secret"} <= set(creds), out
        return creds

    def url_rules(self) -> list[dict[str, Any]]:
        """The served app's URL map: ``[{"rule", "endpoint", "methods"}, ...]``."""
        result = subprocess.run([str(BIN / "python"), "-c", _DUMP_RULES], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise LiveServerError(f"dumping the URL map failed:\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def log_text(self) -> str:
        if self._tmp is None or not (self._tmp / "gunicorn.log").exists():
            return ""
        return (self._tmp / "gunicorn.log").read_text(errors="replace")

    # -----------------------------------------------------------------------------------
    # Lifecycle

    def start(self) -> LiveServer:
        self._tmp = Path(tempfile.mkdtemp(prefix="sendbridge-live-"))
        (self._tmp / "var").mkdir()
        try:
            self.database_url = create_pg_database(self.db_name)
            self.flask("db", "upgrade")
            if self.seed:
                self.flask("demo", "seed")
            self.port = free_port()
            self._log = open(self._tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed in stop()
            self._proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 "--graceful-timeout", "5", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends the workers too
            )
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        last: object = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LiveServerError(f"gunicorn exited with {self._proc.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as resp:
                    if resp.status == 200 and json.load(resp).get("status") == "ok":
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError) as exc:
                last = exc
            # Polling a process we do not control has no event to wait on; 0.1 s between tries.
            time.sleep(0.1)
        raise LiveServerError(f"/healthz did not answer ok within {self.startup_timeout}s ({last!r}):\n{self.log_text()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
