"""``sendbridge.testing``: the pytest plugin vendors run against their own plugin package.

Installed with the platform (entry point ``sendbridge.testing`` in the ``pytest11`` group),
so ``pytest`` in a plugin's own repository picks it up with nothing to configure. It gives a
plugin's tests the real platform around them (docs/plugins/guide.md, "Testing"):

* ``sendbridge_app``: the platform, on a throwaway database built with the real migrations
  (PostgreSQL with row-level security by default, as in production; ``SENDBRIDGE_TEST_DB=sqlite``
  for the embedded SQLite), dropped at the end of the run;
* ``sendbridge_council`` and ``sendbridge_other_council``: two councils (so a test can show a
  plugin works where it is enabled and nowhere else);
* ``sendbridge_db``: one transaction per test, rolled back after it;
* ``sendbridge_plugin_host``: load exactly the plugins given (never whatever is installed);
* ``sendbridge_enable_plugin``: enable a plugin for one council, with settings;
* ``sendbridge_call_hook``: call a hook for a council as the platform does (enabled plugins
  only, each with its own settings);
* ``sendbridge_emit_event``: record an integration event in a council and let the platform's
  outbox deliver it (the path ``on_integration_event`` really takes);
* ``sendbridge_http_stub``: a real HTTPS server on 127.0.0.1 standing in for the vendor's
  system, trusted by the platform's default TLS settings for the test;
* :func:`check_plugin`: NAME, TITLE, PLUGIN_API and SETTINGS are right and every hook
  implementation matches a hook specification.

It never changes the platform's own test suite, which loads it too: every fixture is named
``sendbridge_...``, none is autouse, and it implements no pytest hooks. The platform is
imported only inside fixtures, so loading the plugin costs nothing to a run that does not use it.
It lives in ``web`` because the platform is assembled there (``web.app.create_app``); core may
not import the web layer or ``tenants``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import importlib.metadata
import ipaddress
import json
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["check_plugin", "installed_plugin", "in_council", "HttpStub", "StubRequest"]

_SECRET = "sendbridge-testing-secret-" + "x" * 40
_PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_PG_PREFIX = "sendbridge_plugin_test_"
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


# ---------------------------------------------------------------------------------------
# Checking a plugin without a database


def check_plugin(module: Any, name: str | None = None) -> None:
    """Fail (``AssertionError`` listing every problem) unless ``module`` is a loadable plugin:
    ``NAME`` (and the entry-point ``name``, if given), ``TITLE``, a ``PLUGIN_API`` range that
    includes the platform's ``PLUGIN_API_VERSION``, ``SETTINGS`` a ``SettingsSchema`` of the
    same name, at least one hook, and every hook implementation matching a specification by
    name and arguments (pluggy's ``check_pending`` and argument validation)."""
    from core.plugin_api import PLUGIN_API_VERSION, SettingsSchema
    from core.plugins.manager import build_host

    problems: list[str] = []
    plugin_name = getattr(module, "NAME", None)
    if not isinstance(plugin_name, str) or not _NAME.match(plugin_name):
        problems.append(f"NAME must be lower-case letters, digits and _ (2-64), not {plugin_name!r}")
    if name is not None and plugin_name != name:
        problems.append(f"NAME is {plugin_name!r} but the entry point is called {name!r}")
    title = getattr(module, "TITLE", None)
    if not isinstance(title, str) or not title.strip():
        problems.append("TITLE must be a non-empty string (tenant administrators see it)")
    api = getattr(module, "PLUGIN_API", None)
    try:
        lo, hi = api  # type: ignore[misc]
        if not tuple(lo) <= PLUGIN_API_VERSION < tuple(hi):
            problems.append(f"PLUGIN_API {api!r} does not include the platform's {PLUGIN_API_VERSION!r}")
    except (TypeError, ValueError):
        problems.append(f"PLUGIN_API must be ((lowest major, minor), (highest major, minor) exclusive), not {api!r}")
    settings = getattr(module, "SETTINGS", None)
    if not isinstance(settings, SettingsSchema):
        problems.append("SETTINGS must be a core.plugin_api.SettingsSchema")
    elif settings.name != plugin_name:
        problems.append(f"SETTINGS is named {settings.name!r}, not {plugin_name!r}")
    hooks = [n for n in dir(module) if hasattr(getattr(module, n, None), "sendbridge_impl")]
    if not hooks:
        problems.append("no @hookimpl functions: the plugin would never be called")
    if not problems:
        try:
            build_host({plugin_name: module})
        except Exception as exc:  # pluggy's PluginValidationError, or the loader's own
            problems.append(f"{type(exc).__name__}: {exc}")
    assert not problems, f"{plugin_name or module!r} is not a valid Sendbridge plugin:\n- " + "\n- ".join(problems)


def installed_plugin(name: str) -> Any:
    """The plugin installed under ``name`` in the ``sendbridge.plugins`` entry-point group, loaded
    (what the platform finds at start). Fails if there is none."""
    found = [ep for ep in importlib.metadata.entry_points(group="sendbridge.plugins") if ep.name == name]
    assert found, f"no plugin called {name!r} is installed (entry-point group sendbridge.plugins)"
    return found[0].load()


# ---------------------------------------------------------------------------------------
# The platform on a throwaway database


def _admin_engine() -> Any:
    from sqlalchemy import create_engine

    return create_engine(os.environ.get("SENDBRIDGE_TEST_PG_ADMIN", _PG_ADMIN), isolation_level="AUTOCOMMIT")


def _drop_pg(name: str) -> None:
    from sqlalchemy import text

    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        for role in (f"{name}_app", f"{name}_owner"):
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    engine.dispose()


def _drop_stale_pg() -> None:
    """Drop the databases of earlier runs that were killed before they could drop their own."""
    from sqlalchemy import text

    engine = _admin_engine()
    with engine.connect() as conn:
        names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                             {"p": f"{_PG_PREFIX}%"}).scalars().all()
    engine.dispose()
    for name in names:
        pid = name[len(_PG_PREFIX):]
        if pid.isdigit() and not _alive(int(pid)):
            _drop_pg(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _create_pg(name: str) -> str:
    """A database owned by a non-superuser role, as production has (so RLS applies)."""
    from sqlalchemy import text

    _drop_pg(name)
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{name}_owner" LOGIN NOSUPERUSER CREATEROLE NOBYPASSRLS'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{name}_owner"'))
    engine.dispose()
    return f"postgresql://{name}_owner@127.0.0.1:5432/{name}"


@pytest.fixture(scope="session")
def sendbridge_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The platform (a Flask app, jobs run inline) on a migrated throwaway database."""
    from core.config import Settings
    from core.db import db, derive_urls
    from migrations import runner
    from web.app import create_app

    sqlite = os.environ.get("SENDBRIDGE_TEST_DB") == "sqlite"
    pg_name = f"{_PG_PREFIX}{os.getpid()}"
    if not sqlite:
        _drop_stale_pg()
    url = f"sqlite:///{tmp_path_factory.mktemp('sendbridge-db') / 'sendbridge.db'}" if sqlite else _create_pg(pg_name)
    try:
        runner.upgrade(derive_urls(url, _SECRET))
        settings = Settings(env="test", secret_key=_SECRET, database_url=url, redis_url=None, demo_mode=False,
                            plugins=(), base_domain="sendbridge.test",
                            var_dir=tmp_path_factory.mktemp("sendbridge-var"))
        yield create_app(settings)
    finally:
        db.session.remove()
        if db.engine is not None:
            db.engine.dispose()
        if not sqlite:
            _drop_pg(pg_name)


def _provision(slug: str, name: str, la_code: str) -> Any:
    from core.db import db
    from tenants.services import TenantInfo, provision_tenant, tenant_by_slug

    with db.as_owner() as session:
        provision_tenant(slug=slug, name=name, la_code=la_code)
        session.commit()
        info = TenantInfo.of(tenant_by_slug(slug))
        session.rollback()
    return info


@pytest.fixture(scope="session")
def sendbridge_council(sendbridge_app: Any) -> Any:
    """A council (``id``, ``slug``, ``name``, ``la_code``), created once for the run."""
    return _provision("plugin-council", "Plugin Test Council", "991")


@pytest.fixture(scope="session")
def sendbridge_other_council(sendbridge_app: Any) -> Any:
    """A second council, which a test leaves the plugin disabled in."""
    return _provision("other-council", "Other Test Council", "992")


@pytest.fixture
def sendbridge_db(sendbridge_app: Any) -> Iterator[None]:
    """One outer transaction for the test, rolled back after it: what a test writes (and what
    the platform commits while it runs) is gone for the next one."""
    from core.db import db

    engine = db.engine
    conn = engine.connect()
    outer = conn.begin()
    db.bind_to(conn, join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        db.session.remove()
        outer.rollback()
        conn.close()
        db.bind_to(engine)


@contextlib.contextmanager
def in_council(council: Any) -> Iterator[Any]:
    """Act as the platform does inside ``council``: its tenant context and a session, committed
    at the end of the block (into the test's transaction)."""
    from core.db import db
    from core.tenancy import tenant_context

    with tenant_context(council.id):
        session = db.session()
        try:
            yield session
            session.commit()
        finally:
            db.session.remove()


@pytest.fixture
def sendbridge_plugin_host(sendbridge_app: Any) -> Iterator[Callable[..., Any]]:
    """``sendbridge_plugin_host(example=my_plugin)``: exactly these plugins are loaded (name ->
    module or dotted path), checked as the platform checks them at start; restored after."""
    from core.plugins.manager import swapped_host

    with swapped_host() as load:
        yield load


@pytest.fixture
def sendbridge_enable_plugin(sendbridge_db: None) -> Callable[..., None]:
    """``sendbridge_enable_plugin(council, "name", key=value, ...)``: enable a loaded plugin for
    that council only, with those settings (checked against its schema; secrets sealed)."""
    from core.plugins.services import configure, set_enabled

    def enable(council: Any, name: str, **settings: Any) -> None:
        with in_council(council):
            set_enabled(name, True)
            if settings:
                configure(name, settings)

    return enable


@pytest.fixture
def sendbridge_call_hook(sendbridge_db: None) -> Callable[..., Any]:
    """``sendbridge_call_hook(council, "hook", **kwargs)``: the hook called for that council as
    the platform calls it in a job (its enabled plugins only; firstresult hooks return the
    first answer, notifications a list)."""
    from core.plugins.services import call_enabled

    def call(council: Any, hook: str, **kwargs: Any) -> Any:
        with in_council(council):
            return call_enabled(hook, **kwargs)

    return call


@pytest.fixture
def sendbridge_emit_event(sendbridge_db: None) -> Callable[..., Any]:
    """``sendbridge_emit_event(council, topic, payload)``: record an integration event in the
    council and commit, so the platform's outbox relays it to the enabled plugins' jobs (run
    inline here). Returns the calls made: ``[(plugin, status, last_error)]``."""
    from sqlalchemy import select

    from core.plugins.calls import emit
    from core.plugins.models import PluginCall

    def fire(council: Any, topic: str, payload: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        with in_council(council):
            row = emit(topic, payload)
        if row is None:
            return []
        with in_council(council) as session:
            calls = session.execute(select(PluginCall).where(PluginCall.key == f"outbox:{row.id}")
                                    .order_by(PluginCall.plugin)).scalars()
            return [(c.plugin, c.status.value, c.last_error) for c in calls]

    return fire


# ---------------------------------------------------------------------------------------
# A partner system at the HTTP boundary: a real HTTPS server on 127.0.0.1


@dataclass(frozen=True)
class StubRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpStub:
    """A vendor's system stand-in. ``url`` is its ``https://127.0.0.1:<port>`` base address;
    :meth:`route` says what to answer; ``requests`` is what it received, in order."""

    url: str = ""
    requests: list[StubRequest] = field(default_factory=list)
    #: The stub's certificate (PEM), for a client that takes a CA file explicitly (boto3's
    #: ``verify=``, an ``ssl.SSLContext``).
    ca_file: str = ""
    _routes: dict[tuple[str, str], list[list[Any]]] = field(default_factory=dict)

    def route(self, method: str, path: str, status: int = 200, body: Any = b"",
              headers: Mapping[str, str] | None = None, *, times: int | None = None) -> None:
        """Answer ``method path`` (query string ignored) with ``status`` and ``body`` (bytes,
        str, or anything JSON-able). Routes for one path form a queue: each answers ``times``
        times (``None``: for ever), then gives way to the next. Unrouted: 404."""
        self._routes.setdefault((method.upper(), path), []).append([status, body, dict(headers or {}), times])

    def _answer(self, method: str, path: str) -> tuple[int, bytes, dict[str, str]]:
        queue = self._routes.get((method, path.split("?", 1)[0]))
        if not queue:
            return 404, b'{"error": "not found"}', {"Content-Type": "application/json"}
        status, body, headers, times = queue[0]
        if times is not None:
            queue[0][3] = times - 1
            if times - 1 <= 0:
                queue.pop(0)
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **headers}
        return status, raw, headers


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files in ``directory``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sendbridge.testing stub")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "stub.crt", directory / "stub.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def sendbridge_http_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpStub]:
    """A real HTTPS server on 127.0.0.1 (port 0) playing the vendor's system: mock only at the
    HTTP boundary. Its certificate is trusted for the test through ``SSL_CERT_FILE`` (which
    Python's default TLS context reads) and ``REQUESTS_CA_BUNDLE`` (requests), so a plugin's
    https-only settings and its ordinary certificate checks are exercised unchanged."""
    import ssl

    stub = HttpStub()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                stub.requests.append(StubRequest(self.command, self.path, dict(self.headers.items()), body))
                status, raw, headers = stub._answer(self.command, self.path)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    with tempfile.TemporaryDirectory(prefix="sendbridge-stub-") as tmp:
        cert, key = _self_signed(Path(tmp))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, name="sendbridge-http-stub", daemon=True)
        thread.start()
        # Python's ssl (urllib, http.client, httpx) reads SSL_CERT_FILE; requests reads its own.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        stub.ca_file = str(cert)
        stub.url = f"https://127.0.0.1:{server.server_address[1]}"
        try:
            yield stub
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def new_id() -> uuid.UUID:
    """A fresh id (for events and notifications a test makes up)."""
    return uuid.uuid4()
