"""OAuth 2.0 client credentials (api-v1.md "Tokens", RFC 6749 section 4.4), the resource
side's refusals (RFC 9457 problems with ``WWW-Authenticate``), scopes, and ``clients create``."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlalchemy import select, text

from tests.conftest import bearer, in_tenant, set_tenant_status
from tests.web.api.conftest import assert_problem, basic, snapshot

CHILD = {"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "2015-12-10"}


def _token_response(api: Any, *, data: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    return api.post("/oauth/token", data={"grant_type": "client_credentials", **data}, headers=headers or {})


def _claims(app: Any, token: str) -> dict[str, Any]:
    from web.api.oauth import _signing_key

    with app.app_context():
        return dict(jwt.decode(token, _signing_key(), algorithms=["HS256"]).claims)


def _sign(app: Any, claims: dict[str, Any], key: OctKey | None = None) -> str:
    from web.api.oauth import _signing_key

    with app.app_context():
        return jwt.encode({"alg": "HS256", "typ": "at+jwt"}, claims, key or _signing_key())


def _assert_oauth_error(resp: Any, status: int, error: str) -> dict[str, Any]:
    """RFC 6749 section 5.2: the token endpoint answers JSON errors, not problems."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["error"] == error
    assert resp.headers["Cache-Control"] == "no-store"
    return body  # type: ignore[no-any-return]


def _assert_refused(resp: Any) -> dict[str, Any]:
    body = assert_problem(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"].startswith('Bearer realm="sendbridge"')
    return body


# ---------------------------------------------------------------------------------------
# The token endpoint


@pytest.mark.smoke
def test_a_token_via_http_basic_has_the_contract_shape(app: Any, api: Any, tenant_a: Any, make_api_client: Any) -> None:
    client_id, secret = make_api_client(tenant_a, "children:read children:write")
    resp = _token_response(api, data={}, headers=basic(client_id, secret))
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.headers["Cache-Control"] == "no-store"  # RFC 6749 section 5.1
    body = resp.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "children:read children:write"
    claims = _claims(app, body["access_token"])
    assert claims["exp"] - claims["iat"] == 900
    assert claims["client_id"] == client_id
    assert claims["tid"] == str(tenant_a.id)
    assert api.get("/api/v1/children", headers=bearer(body["access_token"])).status_code == 200


@pytest.mark.smoke
def test_a_token_via_form_fields_works_the_same(api: Any, tenant_a: Any, make_api_client: Any) -> None:
    client_id, secret = make_api_client(tenant_a, "children:read")
    resp = _token_response(api, data={"client_id": client_id, "client_secret": secret})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["scope"] == "children:read"
    assert api.get("/api/v1/children", headers=bearer(body["access_token"])).status_code == 200


def test_asking_for_a_subset_of_scopes_gets_only_that_subset(api: Any, tenant_a: Any, make_api_client: Any) -> None:
    client_id, secret = make_api_client(tenant_a, "children:read children:write")
    resp = _token_response(api, data={"scope": "children:read"}, headers=basic(client_id, secret))
    assert resp.get_json()["scope"] == "children:read"
    token = resp.get_json()["access_token"]
    assert api.get("/api/v1/children", headers=bearer(token)).status_code == 200
    assert_problem(api.post("/api/v1/children", json=CHILD, headers=bearer(token)), 403, "insufficient-scope")


def test_a_scope_the_client_lacks_is_not_granted(api: Any, tenant_a: Any, make_api_client: Any) -> None:
    client_id, secret = make_api_client(tenant_a, "children:read")
    resp = _token_response(api, data={"scope": "children:read children:write cases:read"}, headers=basic(client_id, secret))
    assert resp.status_code == 200
    assert resp.get_json()["scope"] == "children:read"
    token = resp.get_json()["access_token"]
    assert_problem(api.post("/api/v1/children", json=CHILD, headers=bearer(token)), 403, "insufficient-scope")


def test_asking_only_for_scopes_the_client_lacks_is_invalid_scope(api: Any, tenant_a: Any, make_api_client: Any) -> None:
    client_id, secret = make_api_client(tenant_a, "children:read")
    resp = _token_response(api, data={"scope": "children:write"}, headers=basic(client_id, secret))
    body = _assert_oauth_error(resp, 400, "invalid_scope")
    assert "access_token" not in body


@pytest.mark.smoke
def test_a_wrong_secret_gets_401_invalid_client(api: Any, tenant_a: Any, make_api_client: Any) -> None:
    client_id, secret = make_api_client(tenant_a)
    for resp in (_token_response(api, data={}, headers=basic(client_id, secret + "x")),
                 _token_response(api, data={"client_id": client_id, "client_secret": "wrong"})):
        body = _assert_oauth_error(resp, 401, "invalid_client")
        assert "access_token" not in body
        assert resp.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("client_id", [
    "council-a.no-such-client",  # a real council, no such client
    "no-such-council.abcdef",    # no such council
    "no-dot-at-all",             # names no council
    "Council-A.abcdef",          # not a valid slug
], ids=["unknown-client", "unknown-council", "no-council", "bad-slug"])
def test_an_unknown_client_gets_the_same_401_as_a_wrong_secret(api: Any, tenant_a: Any, make_api_client: Any,
                                                              client_id: str) -> None:
    real_id, _ = make_api_client(tenant_a)
    wrong_secret = _assert_oauth_error(_token_response(api, data={}, headers=basic(real_id, "wrong")), 401, "invalid_client")
    for resp in (_token_response(api, data={}, headers=basic(client_id, "secret")),
                 _token_response(api, data={"client_id": client_id, "client_secret": "secret"})):
        # Identical answers: the token endpoint does not tell which clients or councils exist.
        assert _assert_oauth_error(resp, 401, "invalid_client") == wrong_secret


def test_no_client_credentials_at_all_gets_401_invalid_client(api: Any, tenant_a: Any) -> None:
    _assert_oauth_error(_token_response(api, data={}), 401, "invalid_client")
    _assert_oauth_error(_token_response(api, data={"client_id": "council-a.x"}), 401, "invalid_client")


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "", "CLIENT_CREDENTIALS"])
def test_a_wrong_grant_type_gets_unsupported_grant_type(api: Any, tenant_a: Any, make_api_client: Any, grant_type: str) -> None:
    client_id, secret = make_api_client(tenant_a)
    resp = api.post("/oauth/token", data={"grant_type": grant_type}, headers=basic(client_id, secret))
    body = _assert_oauth_error(resp, 400, "unsupported_grant_type")
    assert "access_token" not in body


def test_the_token_endpoint_only_accepts_post(api: Any) -> None:
    resp = api.get("/oauth/token")
    assert_problem(resp, 405, "method-not-allowed")
    assert "POST" in resp.headers["Allow"]


def test_a_revoked_client_cannot_get_a_token(api: Any, tenant_a: Any, make_api_client: Any) -> None:
    from core.api_clients.models import ApiClient
    from core.api_clients.services import revoke_client

    client_id, secret = make_api_client(tenant_a)
    with in_tenant(tenant_a) as session:
        revoke_client(session.execute(select(ApiClient).where(ApiClient.client_id == client_id)).scalar_one())
    _assert_oauth_error(_token_response(api, data={}, headers=basic(client_id, secret)), 401, "invalid_client")


# ---------------------------------------------------------------------------------------
# Refused tokens: 401 problems with WWW-Authenticate


@pytest.mark.smoke
def test_a_missing_token_gets_401_problem_with_www_authenticate(api: Any, tenant_a: Any) -> None:
    for method, path in (("get", "/api/v1/children"), ("post", "/api/v1/children"),
                         ("get", "/api/v1/children/01a21ea2-0000-7000-8000-000000000000")):
        _assert_refused(getattr(api, method)(path))


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer abc", "Bearer a.b.c", "Bearer ....",
    "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJzZW5kYnJpZGdlIn0.",  # alg none
    "Bearer W10.W10.x",  # JSON arrays where objects belong
], ids=lambda h: h[:24])
def test_a_malformed_token_gets_401_problem(api: Any, tenant_a: Any, header: str) -> None:
    _assert_refused(api.get("/api/v1/children", headers={"Authorization": header}))


def test_a_tampered_token_gets_401_problem(api: Any, tenant_a: Any, writer_a: Any) -> None:
    head, payload, signature = writer_a.token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    _assert_refused(api.get("/api/v1/children", headers=bearer(f"{head}.{payload}.{flipped}")))


def test_a_token_signed_with_another_key_gets_401_problem(app: Any, api: Any, tenant_a: Any, writer_a: Any) -> None:
    claims = _claims(app, writer_a.token)
    # Positive control: the same claims signed with the platform's key are accepted.
    assert api.get("/api/v1/children", headers=bearer(_sign(app, claims))).status_code == 200
    other = OctKey.import_key(b"another-key-entirely-0123456789abcdef")
    _assert_refused(api.get("/api/v1/children", headers=bearer(_sign(app, claims, other))))


def test_an_expired_token_gets_401_problem(app: Any, api: Any, tenant_a: Any, writer_a: Any) -> None:
    claims = _claims(app, writer_a.token)
    now = int(time.time())
    expired = _sign(app, {**claims, "iat": now - 1000, "exp": now - 100})
    body = _assert_refused(api.get("/api/v1/children", headers=bearer(expired)))
    assert "expired" in body["detail"]
    assert 'error="invalid_token"' in api.get("/api/v1/children", headers=bearer(expired)).headers["WWW-Authenticate"]


@pytest.mark.parametrize("claim", ["exp", "tid", "client_id", "iss", "aud"])
def test_a_token_missing_an_essential_claim_gets_401_problem(app: Any, api: Any, tenant_a: Any, writer_a: Any, claim: str) -> None:
    claims = _claims(app, writer_a.token)
    del claims[claim]
    _assert_refused(api.get("/api/v1/children", headers=bearer(_sign(app, claims))))


def test_a_token_naming_one_council_by_slug_and_another_by_id_gets_401_problem(app: Any, api: Any, tenant_a: Any,
                                                                               tenant_b: Any, writer_a: Any) -> None:
    claims = _claims(app, writer_a.token)
    _assert_refused(api.get("/api/v1/children", headers=bearer(_sign(app, {**claims, "tid": str(tenant_b.id)}))))


def test_a_token_of_a_client_revoked_after_issue_gets_401_problem(api: Any, tenant_a: Any, writer_a: Any,
                                                                  make_child: Any) -> None:
    from core.api_clients.models import ApiClient
    from core.api_clients.services import revoke_client

    child = make_child(tenant_a)
    assert api.get(f"/api/v1/children/{child.id}", headers=writer_a.headers).status_code == 200
    with in_tenant(tenant_a) as session:
        revoke_client(session.execute(select(ApiClient).where(ApiClient.client_id == writer_a.client_id)).scalar_one())
    body = _assert_refused(api.get(f"/api/v1/children/{child.id}", headers=writer_a.headers))
    assert "revoked" in body["detail"]
    before = snapshot(tenant_a)
    _assert_refused(api.patch(f"/api/v1/children/{child.id}", json={"given_name": "Changed"}, headers=writer_a.headers))
    _assert_refused(api.post("/api/v1/children", json=CHILD, headers=writer_a.headers))
    assert snapshot(tenant_a) == before


@pytest.mark.postgres_only
def test_a_token_of_a_council_disabled_after_issue_gets_401_problem(app: Any, api: Any, create_tenant: Any,
                                                                    owner_engine: Any, committed_clients: Any) -> None:
    extra = create_tenant()
    # The client is made by the operator command, committed outside the test transaction: a row
    # of the extra council written inside it would hold a lock on the council's tenant row, and
    # create_tenant's clean-up (which runs before the rollback) would wait on it for ever.
    result = app.test_cli_runner().invoke(args=["clients", "create", "--tenant", extra.slug, "--name", "MIS",
                                                "--scopes", "children:read"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    committed_clients.append((extra, created["client_id"]))
    token_resp = _token_response(api, data={}, headers=basic(created["client_id"], created["client_secret"]))
    assert token_resp.status_code == 200, token_resp.get_data(as_text=True)
    token = token_resp.get_json()["access_token"]
    assert api.get("/api/v1/children", headers=bearer(token)).status_code == 200
    set_tenant_status(owner_engine, extra.slug, "disabled")
    try:
        _assert_refused(api.get("/api/v1/children", headers=bearer(token)))
        # ...and no new token either: a disabled council's client looks like an unknown one.
        _assert_oauth_error(_token_response(api, data={}, headers=basic(created["client_id"], created["client_secret"])),
                            401, "invalid_client")
    finally:
        set_tenant_status(owner_engine, extra.slug, "active")
    assert api.get("/api/v1/children", headers=bearer(token)).status_code == 200


def test_a_token_presented_on_another_councils_host_gets_401_problem(api: Any, tenant_a: Any, tenant_b: Any,
                                                                     writer_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    own = api.get(f"/api/v1/children/{child.id}", headers=writer_a.headers, base_url="https://council-a.sendbridge.test")
    assert own.status_code == 200
    before = snapshot(tenant_a)
    for method, path, kwargs in (("get", "/api/v1/children", {}), ("get", f"/api/v1/children/{child.id}", {}),
                                 ("post", "/api/v1/children", {"json": CHILD}),
                                 ("patch", f"/api/v1/children/{child.id}", {"json": {"given_name": "X"}})):
        resp = getattr(api, method)(path, headers=writer_a.headers, base_url="https://council-b.sendbridge.test", **kwargs)
        body = _assert_refused(resp)
        assert str(child.id) not in json.dumps(body)
    assert snapshot(tenant_a) == before


# ---------------------------------------------------------------------------------------
# Scopes


@pytest.mark.smoke
def test_a_read_only_token_gets_403_insufficient_scope_on_writes_and_nothing_changes(api: Any, tenant_a: Any,
                                                                                     credentials: Any, make_child: Any) -> None:
    reader = credentials(tenant_a, "children:read")
    child = make_child(tenant_a)
    assert api.get(f"/api/v1/children/{child.id}", headers=reader.headers).status_code == 200
    assert api.get("/api/v1/children", headers=reader.headers).status_code == 200
    before = snapshot(tenant_a)
    for resp in (api.post("/api/v1/children", json=CHILD, headers=reader.headers),
                 api.patch(f"/api/v1/children/{child.id}", json={"given_name": "Changed"}, headers=reader.headers)):
        body = assert_problem(resp, 403, "insufficient-scope")
        assert "children:write" in body["detail"]
        assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
        assert 'scope="children:write"' in resp.headers["WWW-Authenticate"]
    assert snapshot(tenant_a) == before


def test_a_token_without_children_scopes_gets_403_on_reads(api: Any, tenant_a: Any, credentials: Any, make_child: Any) -> None:
    other = credentials(tenant_a, "cases:read cases:write")
    child = make_child(tenant_a)
    before = snapshot(tenant_a)
    assert_problem(api.get("/api/v1/children", headers=other.headers), 403, "insufficient-scope")
    assert_problem(api.get(f"/api/v1/children/{child.id}", headers=other.headers), 403, "insufficient-scope")
    assert snapshot(tenant_a) == before  # not even a read was audited


def test_the_scope_is_checked_before_the_body(api: Any, tenant_a: Any, credentials: Any) -> None:
    reader = credentials(tenant_a, "children:read")
    # An invalid body from a client that may not write at all: the answer is about the scope.
    assert_problem(api.post("/api/v1/children", json={"given_name": 5}, headers=reader.headers), 403, "insufficient-scope")


# ---------------------------------------------------------------------------------------
# flask clients create


def _api_clients(owner_engine: Any, tenant: Any) -> list[str]:
    with owner_engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
        return sorted(conn.execute(text("SELECT client_id FROM api_client")).scalars())


@pytest.mark.postgres_only
def test_clients_create_prints_one_json_object_with_a_working_id_and_secret(app: Any, api: Any, tenant_a: Any,
                                                                           owner_engine: Any, committed_clients: Any) -> None:
    result = app.test_cli_runner().invoke(args=["clients", "create", "--tenant", "council-a", "--name", "X",
                                                "--scopes", "children:read"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    created = json.loads(lines[0])
    assert set(created) == {"client_id", "client_secret"}
    committed_clients.append((tenant_a, created["client_id"]))
    assert created["client_id"].startswith("council-a.")
    assert created["client_id"] in _api_clients(owner_engine, tenant_a)
    resp = _token_response(api, data={}, headers=basic(created["client_id"], created["client_secret"]))
    assert resp.status_code == 200
    assert resp.get_json()["scope"] == "children:read"


@pytest.mark.postgres_only
@pytest.mark.parametrize("args, message", [
    (["--tenant", "no-such-council", "--name", "X", "--scopes", "children:read"], "tenant not found"),
    (["--tenant", "council-a", "--name", "X", "--scopes", "children:read children:delete"], "Unknown scope(s): children:delete"),
    (["--tenant", "council-a", "--name", "X", "--scopes", ""], "at least one scope"),
    (["--tenant", "council-a", "--name", "X", "--scopes", "   "], "at least one scope"),
    (["--tenant", "council-a", "--name", "  ", "--scopes", "children:read"], "name"),
    (["--tenant", "council-a", "--name", "X"], "Missing option '--scopes'"),
], ids=["unknown-tenant", "unknown-scope", "empty-scopes", "blank-scopes", "blank-name", "no-scopes"])
def test_clients_create_refuses_bad_input_clearly_and_creates_nothing(app: Any, tenant_a: Any, owner_engine: Any,
                                                                     args: list[str], message: str) -> None:
    before = _api_clients(owner_engine, tenant_a)
    result = app.test_cli_runner().invoke(args=["clients", "create", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "client_secret" not in result.output
    assert _api_clients(owner_engine, tenant_a) == before
