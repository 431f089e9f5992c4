"""Security basics (issue #2 item 10) and production start-up refusals (item 3)."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from core.children.models import Child
from core.db import db
from core.users.models import Role
from tests.conftest import PG_ADMIN_URL, REDIS_TEST_URL, bearer, csrf_token, in_tenant, postgres_only


@pytest.mark.smoke
def test_pages_carry_the_security_headers(client_for: Any, tenant_a: Any) -> None:
    resp = client_for(tenant_a).get("/sign-in")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "default-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Request-ID"]


@pytest.mark.smoke
def test_the_only_inline_script_carries_this_responses_nonce(client_for: Any, tenant_a: Any) -> None:
    resp = client_for(tenant_a).get("/sign-in")
    nonce = re.search(r"'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1)
    body = resp.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", body)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert client_for(tenant_a).get("/sign-in").headers["Content-Security-Policy"] != resp.headers["Content-Security-Policy"]


@pytest.mark.smoke
def test_signed_in_pages_and_api_answers_are_never_cached(client_for: Any, tenant_a: Any, make_user: Any, api_token: Any,
                                                         app: Any) -> None:
    assert client_for(tenant_a, make_user(tenant_a)).get("/children/").headers["Cache-Control"] == "no-store"
    assert app.test_client().get("/api/v1/children", headers=bearer(api_token(tenant_a))).headers["Cache-Control"] == "no-store"
    assert app.test_client().post("/oauth/token").headers["Cache-Control"] == "no-store"


@pytest.mark.smoke
def test_the_session_cookie_is_host_only_secure_httponly_and_lax(client_for: Any, tenant_a: Any, make_user: Any) -> None:
    client = client_for(tenant_a, make_user(tenant_a))
    resp = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/children/")})  # rewrites the session
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("__Host-sendbridge=")
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attrs and "domain" not in attrs
    assert "SameSite=Lax" in cookie and "Path=/" in cookie


@pytest.mark.smoke
@pytest.mark.parametrize("token", [None, "forged", "tampered"])
def test_forms_refuse_a_missing_or_wrong_csrf_token_and_change_nothing(client_for: Any, tenant_a: Any, make_user: Any,
                                                                        token: str | None) -> None:
    client = client_for(tenant_a, make_user(tenant_a))
    real = csrf_token(client, "/children/new")
    data = {"given_name": "Forged", "family_name": "Request", "date_of_birth-day": "1", "date_of_birth-month": "1",
            "date_of_birth-year": "2015"}
    if token == "forged":
        data["csrf_token"] = "not-a-token"
    elif token == "tampered":
        data["csrf_token"] = real[:-4] + ("aaaa" if not real.endswith("aaaa") else "bbbb")
    resp = client.post("/children/new", data=data)
    assert resp.status_code == 400 and "Your form has expired" in resp.get_data(as_text=True)
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(Child).where(Child.family_name == "Request")).scalar_one() == 0


@pytest.mark.smoke
def test_a_cross_site_post_is_refused_even_with_a_token(client_for: Any, tenant_a: Any, make_user: Any) -> None:
    client = client_for(tenant_a, make_user(tenant_a))
    token = csrf_token(client, "/children/new")
    resp = client.post("/children/new", data={"csrf_token": token}, headers={"Referer": "https://evil.example/"})
    assert resp.status_code == 400


@pytest.mark.smoke
def test_request_ids_are_echoed_when_sane_and_replaced_when_not(client_for: Any, tenant_a: Any) -> None:
    client = client_for(tenant_a)
    assert client.get("/sign-in", headers={"X-Request-ID": "abc-12345678"}).headers["X-Request-ID"] == "abc-12345678"
    assert client.get("/sign-in", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"] != "<script>"


@pytest.mark.smoke
def test_health_check_answers_json_without_a_tenant(app: Any) -> None:
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.smoke
def test_rate_limits_protect_the_token_endpoint(app: Any) -> None:
    from web.extensions import limiter

    limiter.enabled = True
    limiter.reset()
    try:
        client = app.test_client()
        codes = [client.post("/oauth/token", data={"grant_type": "client_credentials"}).status_code for _ in range(61)]
    finally:
        limiter.enabled = False
    assert codes[:60] == [401] * 60 and codes[60] == 429


# ---------------------------------------------------------------------------------------
# Logs


@pytest.mark.smoke
def test_searches_by_name_never_reach_the_logs(caplog: Any, client_for: Any, tenant_a: Any, make_user: Any) -> None:
    from core.logs import StripQueryStrings

    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - [x] "%s" %s -',
                               ("127.0.0.1", "GET /t/kent/children/?q=Smith+Jones HTTP/1.1", "200"), None)
    StripQueryStrings().filter(record)
    assert "Smith" not in record.getMessage() and "?[redacted]" in record.getMessage()
    gunicorn = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%(r)s %(s)s',
                                 ({"r": "GET /children/?q=Smith HTTP/1.1", "s": "200"},), None)
    StripQueryStrings().filter(gunicorn)
    assert gunicorn.getMessage() == "GET /children/?[redacted] HTTP/1.1 200"
    caplog.set_level(logging.DEBUG)
    client_for(tenant_a, make_user(tenant_a)).get("/children/", query_string={"q": "Zebedee"})
    assert "Zebedee" not in caplog.text


@pytest.mark.smoke
def test_log_lines_are_json_with_request_and_tenant_ids() -> None:
    import json

    from core.logs import ContextFilter, JsonFormatter, bind_log_context, reset_log_context
    from core.tenancy import tenant_context

    token = bind_log_context(request_id="req-123")
    try:
        import uuid

        tid = uuid.uuid4()
        with tenant_context(tid):
            record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
            ContextFilter().filter(record)
    finally:
        reset_log_context(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world" and line["request_id"] == "req-123" and line["tenant_id"] == str(tid)


# ---------------------------------------------------------------------------------------
# Production start-up


@pytest.fixture
def restore_db() -> Iterator[None]:
    """create_app() binds the process-wide session registry; put the test binding back."""
    from core.jobs import configure_jobs

    saved = (db.engine, db.urls, db._factory.kw.get("bind"))
    yield
    configure_jobs(None)  # create_app(production) pointed the job backend at Redis
    db.session.remove()
    if db.engine is not saved[0]:
        db.engine.dispose()  # the engine the test's create_app() built
    db.engine, db.urls = saved[0], saved[1]
    db._factory.configure(bind=saved[2])


@postgres_only
def test_production_refuses_to_start_when_the_database_role_can_bypass_rls(settings: Any, restore_db: Any) -> None:
    from web.app import create_app

    prod = dataclasses.replace(settings, env="production", redis_url=REDIS_TEST_URL)
    role = db.urls.app_role
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER ROLE "{role}" BYPASSRLS'))
        with pytest.raises(SystemExit) as exc:
            create_app(prod)
        assert "BYPASSRLS" in str(exc.value.code) and "refuses to start" in str(exc.value.code)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER ROLE "{role}" NOBYPASSRLS'))
        admin.dispose()
    assert create_app(prod) is not None  # and starts once the role is safe again


@postgres_only
def test_production_refuses_to_run_requests_as_the_table_owner(settings: Any, restore_db: Any, monkeypatch: Any) -> None:
    from core import db_roles
    from web import app as web_app

    prod = dataclasses.replace(settings, env="production", redis_url=REDIS_TEST_URL)
    owner_engine = create_engine(db.urls.owner)
    check = db_roles.runtime_role_problems
    # As if DATABASE_URL's owner were used for requests: the check must see the ownership.
    monkeypatch.setattr(web_app.db_roles, "runtime_role_problems", lambda _engine: check(owner_engine))
    with pytest.raises(SystemExit) as exc:
        web_app.create_app(prod)
    assert "owns" in str(exc.value.code)
    owner_engine.dispose()


@pytest.mark.smoke
def test_permissions_come_from_one_table_for_every_role() -> None:
    from core.permissions import ROLE_PERMISSIONS, SCOPE_PERMISSIONS

    assert set(ROLE_PERMISSIONS) == set(Role)
    assert ROLE_PERMISSIONS[Role.SEND_OFFICER] == {"children.read", "cases.read", "plans.read", "transfers.read",
                                                   "disagreements.read"}  # read only
    assert "children.write" not in SCOPE_PERMISSIONS["children:read"]
