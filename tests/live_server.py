"""The real app on a real HTTP server, for tests that need committed data (browser tests,
concurrency tests): a fresh PostgreSQL database owned by a non-superuser role, the real
migrations and demo seed run by the real ``flask`` commands, then gunicorn serving
``wsgi:app`` on a free loopback port.

Use it as a context manager::

    with LiveServer() as server:
        status, headers, body = server.http("GET", "/healthz")
        creds = server.create_api_client("northshire", scopes="children:read children:write")

or, in tests, through :func:`shared_live_server`, which starts one server per pytest session
however many test modules ask for it.

The database is its own (``sendbridge_live_<pid>`` by default, so two pytest sessions on one
machine never share or drop each other's), never the unit-test one. ``stop()`` ends gunicorn
(by its own process group, so the workers too) and drops the database and its roles.
"""

from __future__ import annotations

import base64
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
import urllib.parse
import urllib.request
from email.message import Message
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, create_pg_database

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"

# Prints the app's URL map as JSON. It runs in a subprocess so the test process never builds
# a second app: create_app binds the process-wide database registry (core.db.db), which the
# unit tests' session-scoped app owns.
_DUMP_RULES = """
import json
from web.app import create_app
app = create_app()
print(json.dumps([{"rule": r.rule, "endpoint": r.endpoint, "methods": sorted(r.methods or ())}
                  for r in app.url_map.iter_rules()]))
"""

# Settings that must come from us, not from whoever runs the tests.
_ENV_DROPPED = ("REDIS_URL", "PUBLIC_URL", "PROXY_COUNT", "SAFE_MODE", "FLASK_APP", "FLASK_DEBUG", "FLASK_RUN_PORT",
                "FRONTEND_DIST", "LOG_LEVEL", "SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS", "API_TOKEN_SECONDS")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def drop_pg_database(name: str) -> None:
    """Drop a database made by ``create_pg_database(name)``, and its two roles."""
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            for role in (f"{name}_app", f"{name}_owner"):
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    finally:
        engine.dispose()


class LiveServerError(RuntimeError):
    pass


class LiveServer:
    """A gunicorn-served Sendbridge on 127.0.0.1 with its own (demo-seeded) database."""

    def __init__(self, db_name: str | None = None, *, workers: int = 2, seed: bool = True,
                 startup_timeout: float = 60.0, keep_database: bool = False) -> None:
        self.db_name = db_name or f"sendbridge_live_{os.getpid()}"
        assert self.db_name.startswith("sendbridge_live"), "a live server never touches another database"
        self.workers = workers
        self.seed = seed
        self.startup_timeout = startup_timeout
        self.keep_database = keep_database
        self.port = 0
        self.database_url = ""
        self.secret_key = "live-server-" + secrets.token_urlsafe(40)  # >= 32 characters
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._created_db = False

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
    # Commands against the same database

    @property
    def env(self) -> dict[str, str]:
        assert self._tmp is not None, "LiveServer not started"
        env = {k: v for k, v in os.environ.items() if k not in _ENV_DROPPED}
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

    def api_token(self, tenant: str, scopes: str = "children:read children:write") -> str:
        """A new API client of ``tenant`` (CLI), exchanged for an access token at ``/oauth/token``."""
        creds = self.create_api_client(tenant, scopes=scopes)
        basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
        status, _, body = self.http("POST", "/oauth/token", form={"grant_type": "client_credentials"},
                                    headers={"Authorization": f"Basic {basic}"})
        assert status == 200, body
        return str(body["access_token"])

    def url_rules(self) -> list[dict[str, Any]]:
        """The served app's URL map: ``[{"rule", "endpoint", "methods"}, ...]``."""
        result = subprocess.run([str(BIN / "python"), "-c", _DUMP_RULES], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise LiveServerError(f"dumping the URL map failed:\n{result.stderr}")
        return list(json.loads(result.stdout.strip().splitlines()[-1]))

    # -----------------------------------------------------------------------------------
    # Plain HTTP (no third-party client: urllib is enough, and is thread-safe per request)

    def http(self, method: str, path: str, *, token: str | None = None, json_body: Any = None,
             form: dict[str, str] | None = None, headers: dict[str, str] | None = None,
             timeout: float = 30.0) -> tuple[int, Message, Any]:
        """One request to this server: ``(status, headers, body)``, the body parsed as JSON
        when the response says it is JSON. HTTP errors are returned, not raised."""
        all_headers = dict(headers or {})
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, resp_headers, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, resp_headers, raw = err.code, err.headers, err.read()
        ctype = resp_headers.get("Content-Type", "")
        body: Any = json.loads(raw) if raw and "json" in ctype else raw.decode(errors="replace")
        return status, resp_headers, body

    def mail_to(self, address: str) -> list[Any]:
        """E-mail the server sent to ``address``, oldest first (``email.message.EmailMessage``):
        it writes each message as an .eml file under ``VAR_DIR/mail`` (core.mail's file
        transport, the default when MAIL_URL is not set)."""
        import email.policy
        from email.parser import BytesParser

        assert self._tmp is not None, "LiveServer not started"
        folder = self._tmp / "var" / "mail"
        out = []
        for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
            msg = BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
            if str(msg["To"]).lower() == address.lower():
                out.append(msg)
        return out

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
            self._created_db = True
            self.flask("db", "upgrade")
            if self.seed:
                self.flask("demo", "seed")
            self.port = free_port()
            self._log = open(self._tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed in stop()
            self._proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 "--graceful-timeout", "5",
                 # gunicorn 27 otherwise opens a control socket at a fixed path in $HOME, which
                 # a second server (another test session, `make bench`) would fight over.
                 "--no-control-socket",
                 "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: stop() ends the workers too
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
            # A process we do not control gives us no event to wait on: poll every 0.1 s.
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
            # Keep the server's log with the other test artifacts (gitignored), for CI failures.
            (ROOT / "artifacts").mkdir(exist_ok=True)
            (ROOT / "artifacts" / "live-server.log").write_text(self.log_text())
        if self._created_db and not self.keep_database:
            drop_pg_database(self.db_name)
            self._created_db = False
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


_SHARED = pytest.StashKey[LiveServer]()


def shared_live_server(config: pytest.Config) -> LiveServer:
    """One live server per pytest session, whichever test module asks first; stopped (and
    its database dropped) when the session ends. Use from a session-scoped fixture."""
    server = config.stash.get(_SHARED, None)
    if server is None:
        server = LiveServer().start()
        config.stash[_SHARED] = server
        config.add_cleanup(server.stop)
    return server
