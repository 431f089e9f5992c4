"""OAuth 2.0 client credentials (RFC 6749 section 4.4) for the public API.

* ``POST /oauth/token`` (authlib's authorization server) issues short-lived JWT access
  tokens (RFC 9068, HS256 with a key derived from ``SECRET_KEY``) carrying the client's
  tenant. Its errors are RFC 6749 section 5.2 JSON, as OAuth client libraries expect; every
  failure to authenticate the client (unknown id or council, wrong secret, revoked client,
  disabled council) is the same 401 ``invalid_client``.
* :func:`require_scope` guards every API operation: a valid token, an active tenant, a
  still-active client, and the scope; failures are RFC 9457 problems. The token's tenant is
  the only tenant the call can act in.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidScopeError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import Blueprint, Flask, current_app, g, request
from flask_smorest.utils import deepupdate
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from core.actors import Actor
from core.api_clients.services import find_client, hash_secret, tenant_slug_of, verify_secret
from core.db import db
from core.permissions import permissions_for_scopes
from core.tenancy import enter_tenant, exit_tenant
from tenants.resolution import resolve_slug
from tenants.services import TenantInfo
from web.api.problems import problem
from web.extensions import limiter

bp = Blueprint("oauth", __name__, url_prefix="/oauth")

ISSUER = "sendbridge"
AUDIENCE = "sendbridge-api-v1"


def _signing_key() -> OctKey:
    secret = current_app.config["SECRET_KEY"].encode()
    derived = hmac.new(secret, b"sendbridge-api-access-token-v1", hashlib.sha256).digest()
    return OctKey.import_key(derived)


@dataclass
class Client(ClientMixin):
    """A detached view of an ``ApiClient`` for authlib (looked up in its own tenant)."""

    client_id: str
    secret_hash: str
    scopes: frozenset[str]
    tenant: TenantInfo

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        # Ask for nothing: get everything the client holds. Ask for more: get the overlap.
        if not scope:
            return " ".join(sorted(self.scopes))
        return " ".join(sorted(set(scope.split()) & self.scopes))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return verify_secret(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


def query_client(client_id: str) -> Client | None:
    """Find a client: the tenant comes from the client id, the lookup runs inside that tenant."""
    slug = tenant_slug_of(client_id or "")
    tenant = resolve_slug(slug) if slug else None
    if tenant is None:
        return None
    token = enter_tenant(tenant.id)
    try:
        with db.isolated_scope():
            record = find_client(client_id)
            if record is None:
                return None
            return Client(record.client_id, record.secret_hash, record.scope_set, tenant)
    finally:
        exit_tenant(token)


class TokenGenerator(JWTBearerTokenGenerator):
    def get_jwks(self) -> Any:
        return _signing_key()

    def get_audiences(self, client: Client, user: Any, scope: str) -> str:
        return AUDIENCE

    def get_extra_claims(self, client: Client, grant_type: str, user: Any, scope: str) -> dict[str, Any]:
        return {"tid": str(client.tenant.id), "tenant": client.tenant.slug}


@functools.cache
def _decoy_hash() -> str:
    return hash_secret("sendbridge-decoy-secret")


def _authenticate(client_id: str | None, client_secret: str | None) -> Client | None:
    """The client if the id and secret match an active client of an active council.

    Every failure looks the same (no error of its own, and a secret check even for an
    unknown id), so the token endpoint never tells which client ids or councils exist.
    """
    if not client_id or not client_secret:
        return None
    client = query_client(client_id)
    if client is None:
        verify_secret(client_secret, _decoy_hash())
        return None
    return client if client.check_client_secret(client_secret) else None


def _client_secret_basic(_query_client: Any, req: Any) -> Client | None:
    return _authenticate(*extract_basic_authorization(req.headers))


def _client_secret_post(_query_client: Any, req: Any) -> Client | None:
    return _authenticate(req.form.get("client_id"), req.form.get("client_secret"))


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def authenticate_token_endpoint_client(self) -> Client:
        try:
            return super().authenticate_token_endpoint_client()  # type: ignore[no-any-return]
        except InvalidClientError:
            # RFC 6749 section 5.2: 401 with WWW-Authenticate, whichever way the client authenticated.
            raise InvalidClientError(
                status_code=401, description="Unknown client, wrong secret, or the client or its council is no longer active",
            ) from None

    def validate_token_request(self) -> None:
        super().validate_token_request()
        # Asking only for scopes the client does not hold is an error (RFC 6749 section 5.2
        # invalid_scope), not a token that can do nothing.
        requested = self.request.payload.scope
        if requested and not self.client.get_allowed_scope(requested):
            raise InvalidScopeError(description="This client holds none of the scopes asked for")


def init_oauth(app: Flask) -> None:
    server = AuthorizationServer()
    app.extensions["sendbridge_oauth"] = server
    server.init_app(app, query_client=query_client, save_token=lambda token, req: None)
    server.register_client_auth_method("client_secret_basic", _client_secret_basic)
    server.register_client_auth_method("client_secret_post", _client_secret_post)
    server.register_grant(ClientCredentialsGrant)
    seconds = app.config["SENDBRIDGE_SETTINGS"].api_token_seconds
    server.register_token_generator(
        "client_credentials",
        TokenGenerator(issuer=ISSUER, alg="HS256", expires_generator=lambda client, grant_type: seconds),
    )


@bp.post("/token")
@limiter.limit("60 per minute")
def token():  # type: ignore[no-untyped-def]
    return current_app.extensions["sendbridge_oauth"].create_token_response()


# ---------------------------------------------------------------------------------------
# Resource side


def _unauthorized(detail: str, error: str = "invalid_token") -> Any:
    return problem("unauthorized", detail=detail, request_id=g.get("request_id"),
                   headers={"WWW-Authenticate": f'Bearer realm="sendbridge", error="{error}"'})


def authenticate(required_scope: str) -> Any | None:
    """Check the bearer token for ``required_scope``; on success set ``g.actor`` and the
    tenant context and return ``None``, otherwise return the problem response."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return problem("unauthorized", request_id=g.get("request_id"),
                       headers={"WWW-Authenticate": 'Bearer realm="sendbridge"'})
    try:
        decoded = jwt.decode(raw.strip(), _signing_key(), algorithms=["HS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": AUDIENCE},
            exp={"essential": True},
            tid={"essential": True},
            client_id={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError):
        return _unauthorized("The access token is invalid or has expired; request a new one from POST /oauth/token")
    claims = decoded.claims
    if claims.get("exp", 0) <= time.time():
        return _unauthorized("The access token has expired; request a new one from POST /oauth/token")
    host_tenant: TenantInfo | None = g.get("tenant")
    slug = str(claims.get("tenant", ""))
    tenant = resolve_slug(slug) if slug else None
    if tenant is None or str(tenant.id) != claims["tid"]:
        return _unauthorized("The access token's council is not available")
    if host_tenant is not None and host_tenant.id != tenant.id:
        return _unauthorized("The access token was issued for another council")
    if g.get("_tenant_token") is None:
        g._tenant_token = enter_tenant(tenant.id)
    g.tenant = tenant
    # A revoked or deactivated client loses access at once, not when its token expires.
    if find_client(str(claims["client_id"])) is None:
        return _unauthorized("The API client has been revoked")
    scopes = frozenset(str(claims.get("scope", "")).split())
    if required_scope not in scopes:
        return problem("insufficient-scope", detail=f"This operation needs the scope {required_scope}",
                       request_id=g.get("request_id"),
                       headers={"WWW-Authenticate": f'Bearer realm="sendbridge", error="insufficient_scope", scope="{required_scope}"'})
    g.actor = Actor(tenant_id=tenant.id, kind="api_client", id=str(claims["client_id"]),
                    permissions=permissions_for_scopes(scopes))
    return None


def require_scope(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate an API view: authenticate first, before any argument parsing, and document
    the security requirement and the problem responses in OpenAPI."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = authenticate(scope)
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        problem_ref = {"$ref": "#/components/responses/PROBLEM"}
        wrapper._apidoc = deepupdate(getattr(wrapper, "_apidoc", {}), {  # type: ignore[attr-defined]
            "manual_doc": {
                "security": [{"oauth2": [scope]}],
                "responses": {"401": problem_ref, "403": problem_ref, "429": problem_ref},
            },
        })
        return wrapper

    return decorate

