"""Identity providers: the council's own (staff SSO, GOV.UK One Login for families) and the
platform's register of schools' and colleges' providers (issue #4 items 1-3).

* Registering: issuers must be ``https://`` (plain ``http://`` only for 127.0.0.1 and
  localhost outside production, for development and the tests' real provider); claim
  mappings are checked against a schema per kind of provider and unknown keys are refused.
* Secrets at rest: the client's credentials (a client secret for ``client_secret_basic``,
  or an EC P-256 private key for ``private_key_jwt``, as GOV.UK One Login uses) are sealed
  with ``core.crypto``, bound to the row they belong to, and never shown back.
* Discovery: a provider's metadata and keys are fetched from its issuer and cached briefly
  (:data:`METADATA_TTL`); the metadata must name exactly the registered issuer (OpenID
  Connect Discovery 1.0 section 4.3), so one provider cannot pose as another.
* Claims: a staff provider's claims map to a staff :class:`Role` (no match: no access); an
  organisation provider's claims say who is a SENCO and, optionally, for which of its URNs.

Council providers are tenant-owned (RLS); organisation providers are platform configuration,
registered by operators (``flask --app wsgi idp ...``, tenants/idp_cli.py).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select

from core import crypto
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.identity.models import InstitutionCouncil
from core.institutions.models import Institution
from core.users.models import Role
from tenants.models import CouncilIdentityProvider, IdpPurpose, OrganisationIdentityProvider

#: Token endpoint client authentication methods we support (OpenID Connect Core 9).
CLIENT_SECRET_BASIC = "client_secret_basic"
PRIVATE_KEY_JWT = "private_key_jwt"
AUTH_METHODS = (CLIENT_SECRET_BASIC, PRIVATE_KEY_JWT)
#: The only signing algorithm for private_key_jwt: an EC P-256 key (ES256) is small enough to
#: seal into the 1000-character secret column, and GOV.UK One Login accepts it.
CLIENT_ASSERTION_ALG = "ES256"

#: How long discovery metadata and key sets are reused before being fetched again (seconds).
METADATA_TTL = 300.0
#: A key set is fetched again early (an unknown ``kid``: the provider rotated its keys) at
#: most this often.
KEYS_REFRESH_MIN = 10.0
#: Time limit for every call to a provider (seconds), and the largest answer we read.
HTTP_TIMEOUT = 5.0
MAX_RESPONSE_BYTES = 512 * 1024

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
_CLAIM_NAME = re.compile(r"^[A-Za-z0-9_:/.\-]{1,100}$")
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")  # RFC 6749 section 3.3
#: When one person's claims map to several staff roles, the highest wins.
_ROLE_RANK = (Role.SEND_OFFICER, Role.CASEWORKER, Role.TEAM_MANAGER, Role.TENANT_ADMIN)


# ---------------------------------------------------------------------------------------
# Client credentials (sealed at rest)


@dataclass(frozen=True)
class ClientAuth:
    """How we authenticate to a provider's token endpoint. Never logged, never shown."""

    method: str
    secret: str | None = None
    #: PKCS#8 PEM of an EC P-256 key (``private_key_jwt``).
    private_key_pem: str | None = None

    @property
    def key_id(self) -> str | None:
        """The JWK thumbprint (RFC 7638) of the key: the ``kid`` the provider is given."""
        return signing_key(self).thumbprint() if self.private_key_pem else None

    def public_jwk(self) -> dict[str, Any] | None:
        """The public half, for the operator to register with the provider (One Login asks for it)."""
        if not self.private_key_pem:
            return None
        key = signing_key(self)
        return {**key.as_dict(private=False), "kid": key.thumbprint(), "use": "sig", "alg": CLIENT_ASSERTION_ALG}


def secret_context(kind: str, provider_id: uuid.UUID) -> str:
    return f"{kind}:{provider_id}:client_secret"


def _kind(provider: CouncilIdentityProvider | OrganisationIdentityProvider) -> str:
    return "council_idp" if isinstance(provider, CouncilIdentityProvider) else "organisation_idp"


def generate_private_key() -> str:
    """A new EC P-256 private key (PKCS#8 PEM), for ``private_key_jwt``."""
    return ECKey.generate_key("P-256", private=True).as_pem(private=True).decode()


def signing_key(auth: ClientAuth) -> ECKey:
    assert auth.private_key_pem is not None
    return ECKey.import_key(auth.private_key_pem)


def check_client_auth(auth: ClientAuth) -> ClientAuth:
    """Refuse credentials we could not use (wrong method, empty secret, a key of another kind)."""
    errors: dict[str, list[str]] = {}
    if auth.method not in AUTH_METHODS:
        errors["auth_method"] = [f"Use one of {', '.join(AUTH_METHODS)}"]
    elif auth.method == CLIENT_SECRET_BASIC:
        if not auth.secret or len(auth.secret) > 500 or auth.private_key_pem:
            errors["client_secret"] = ["Give the client secret the provider issued (up to 500 characters)"]
    else:
        if auth.secret or not auth.private_key_pem:
            errors["private_key"] = ["Give an EC P-256 private key (PEM), or let the command generate one"]
        else:
            try:
                key = ECKey.import_key(auth.private_key_pem)
                if key.curve_name != "P-256" or not key.is_private:
                    raise ValueError("not a P-256 private key")
            except Exception:  # noqa: BLE001 - any parse failure is the same answer to the operator
                errors["private_key"] = ["The private key must be an unencrypted EC P-256 key in PEM form"]
    if errors:
        raise ValidationFailed(errors)
    return auth


def _seal(kind: str, provider_id: uuid.UUID, auth: ClientAuth) -> str:
    payload: dict[str, str] = {"method": auth.method}
    if auth.secret:
        payload["secret"] = auth.secret
    if auth.private_key_pem:
        payload["key"] = auth.private_key_pem
    sealed = crypto.encrypt(json.dumps(payload, separators=(",", ":")), context=secret_context(kind, provider_id))
    if len(sealed) > 1000:
        raise ValidationFailed({"client_secret": ["The credentials are too long to store"]})
    return sealed


def client_auth(provider: CouncilIdentityProvider | OrganisationIdentityProvider) -> ClientAuth:
    """The provider's credentials, decrypted (raises ``core.crypto.DecryptionFailed`` if tampered)."""
    plain = crypto.decrypt(provider.client_secret_encrypted, context=secret_context(_kind(provider), provider.id))
    try:
        payload = json.loads(plain)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or payload.get("method") not in AUTH_METHODS:
        return ClientAuth(method=CLIENT_SECRET_BASIC, secret=plain)  # a bare secret, sealed before methods existed
    return ClientAuth(method=payload["method"], secret=payload.get("secret"), private_key_pem=payload.get("key"))


def client_secret(provider: CouncilIdentityProvider | OrganisationIdentityProvider) -> str:
    """The client secret of a ``client_secret_basic`` provider."""
    auth = client_auth(provider)
    if auth.secret is None:
        raise ValueError("this provider authenticates with a private key, not a secret")
    return auth.secret


# ---------------------------------------------------------------------------------------
# Validation


def check_issuer(issuer: str, *, production: bool) -> str:
    """An issuer identifier as registered: ``https://`` with a host and no query or fragment
    (OpenID Connect Discovery 1.0 section 2). Plain ``http://`` is allowed only for 127.0.0.1
    and localhost outside production (development, and the tests' real provider)."""
    value = (issuer or "").strip()
    parts = urllib.parse.urlsplit(value)
    ok = bool(parts.hostname) and not parts.query and not parts.fragment and len(value) <= 300 and (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK and not production))
    if not ok:
        raise ValidationFailed({"issuer": ["Give the provider's issuer: an https:// address with no query or fragment"
                                           + ("" if production else " (http:// only for 127.0.0.1 or localhost)")]})
    return value


def check_scopes(scopes: str) -> str:
    tokens = scopes.split()
    if "openid" not in tokens or len(scopes) > 300 or not all(_SCOPE_TOKEN.match(t) for t in tokens):
        raise ValidationFailed({"scopes": ["Give space-separated scopes including openid, e.g. \"openid email profile\""]})
    return " ".join(dict.fromkeys(tokens))


def _check_text(errors: dict[str, list[str]], name: str, value: str, limit: int, message: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        errors.setdefault(name, []).append(message)
    return value


def _claim_name(errors: dict[str, list[str]], key: str, value: Any) -> None:
    if not isinstance(value, str) or not _CLAIM_NAME.match(value):
        errors.setdefault(f"claim_mapping.{key}", []).append("must be a claim name, like \"groups\"")


def check_claim_mapping(kind: str, mapping: Any) -> dict[str, Any]:
    """The claim mapping of a ``staff``, ``public`` or ``organisation`` provider, checked.

    * staff: ``{"claim": "groups", "roles": {"send-team": "caseworker", ...}}`` (required);
    * public (GOV.UK One Login): ``{}``: families' access comes from invitations, not claims;
    * organisation: ``{"senco_claim": "roles", "senco_values": ["SENCO"], "urn_claim": "urn"}``
      (``urn_claim`` optional: without it a SENCO gets every URN the provider speaks for).
    Unknown keys are refused.
    """
    if not isinstance(mapping, dict):
        raise ValidationFailed({"claim_mapping": ["must be a JSON object"]})
    allowed = {"staff": {"claim", "roles"}, "public": set(),
               "organisation": {"senco_claim", "senco_values", "urn_claim"}}[kind]
    errors: dict[str, list[str]] = {}
    for key in sorted(set(mapping) - allowed):
        errors[f"claim_mapping.{key}"] = [f"is not a claim mapping key of a {kind} provider"]
    if kind == "staff":
        _claim_name(errors, "claim", mapping.get("claim"))
        roles = mapping.get("roles")
        values = {r.value for r in Role}
        if not isinstance(roles, dict) or not roles or not all(
                isinstance(k, str) and k and len(k) <= 200 and v in values for k, v in roles.items()):
            errors["claim_mapping.roles"] = [f"must map claim values to roles ({', '.join(sorted(values))})"]
    elif kind == "organisation":
        _claim_name(errors, "senco_claim", mapping.get("senco_claim"))
        senco_values = mapping.get("senco_values")
        if not isinstance(senco_values, list) or not senco_values or not all(
                isinstance(v, str) and v and len(v) <= 200 for v in senco_values):
            errors["claim_mapping.senco_values"] = ["must list the claim values that mark a SENCO"]
        if "urn_claim" in mapping:
            _claim_name(errors, "urn_claim", mapping["urn_claim"])
    if errors:
        raise ValidationFailed(errors)
    return dict(mapping)


def check_urns(urns: Any) -> list[int]:
    """URNs an organisation provider speaks for: known institutions (the reference table)."""
    if not isinstance(urns, list) or not urns or not all(isinstance(u, int) and 100000 <= u <= 9999999 for u in urns):
        raise ValidationFailed({"urns": ["List the URNs of the organisation's schools or colleges (6 or 7 digits)"]})
    wanted = sorted(set(urns))
    known = set(db.session.execute(select(Institution.urn).where(Institution.urn.in_(wanted))).scalars())
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise ValidationFailed({"urns": [f"Not in the institutions reference data: {', '.join(map(str, unknown))}"]})
    return wanted


# ---------------------------------------------------------------------------------------
# Council providers (tenant-owned: the current council)


def register_council_provider(*, purpose: IdpPurpose | str, name: str, issuer: str, client_id: str, auth: ClientAuth,
                              scopes: str | None = None, claim_mapping: Any = None,
                              production: bool) -> CouncilIdentityProvider:
    """Add an identity provider to the current council: ``staff`` (council SSO) or ``public``
    (GOV.UK One Login for families). One per issuer and purpose."""
    try:
        purpose = IdpPurpose(purpose)
    except ValueError:
        raise ValidationFailed({"purpose": ["Choose staff or public"]}) from None
    errors: dict[str, list[str]] = {}
    name = _check_text(errors, "name", name, 200, "Give the provider a name people will recognise (up to 200 characters)")
    client_id = _check_text(errors, "client_id", client_id, 300, "Give the client id the provider issued")
    if errors:
        raise ValidationFailed(errors)
    issuer = check_issuer(issuer, production=production)
    scopes = check_scopes(scopes or ("openid email profile" if purpose == IdpPurpose.STAFF else "openid email"))
    mapping = check_claim_mapping(purpose.value, claim_mapping if claim_mapping is not None else {})
    check_client_auth(auth)
    clash = db.session.execute(select(CouncilIdentityProvider.id).where(
        CouncilIdentityProvider.issuer == issuer, CouncilIdentityProvider.purpose == purpose)).first()
    if clash:
        raise Conflict("This council already has a provider with this issuer for this purpose", field="issuer")
    provider = CouncilIdentityProvider(id=uuid.uuid4(), purpose=purpose, name=name, issuer=issuer, client_id=client_id,
                                       scopes=scopes, claim_mapping=mapping, enabled=True)
    provider.client_secret_encrypted = _seal("council_idp", provider.id, auth)
    db.session.add(provider)
    db.session.flush()
    return provider


def council_provider(provider_id: uuid.UUID, *, enabled_only: bool = False) -> CouncilIdentityProvider:
    """A provider of the current council (NotFound for another council's or a missing one)."""
    provider = db.session.get(CouncilIdentityProvider, provider_id)
    if provider is None or (enabled_only and not provider.enabled):
        raise NotFound("identity provider")
    return provider


def update_council_provider(provider_id: uuid.UUID, *, name: str | None = None, client_id: str | None = None,
                            auth: ClientAuth | None = None, scopes: str | None = None, claim_mapping: Any = None,
                            enabled: bool | None = None) -> CouncilIdentityProvider:
    """Change a council provider. The issuer cannot change (accounts are keyed by it): add a
    new provider instead."""
    provider = council_provider(provider_id)
    errors: dict[str, list[str]] = {}
    if name is not None:
        name = _check_text(errors, "name", name, 200, "Give the provider a name (up to 200 characters)")
    if client_id is not None:
        client_id = _check_text(errors, "client_id", client_id, 300, "Give the client id the provider issued")
    if errors:
        raise ValidationFailed(errors)
    if scopes is not None:
        provider.scopes = check_scopes(scopes)
    if claim_mapping is not None:
        provider.claim_mapping = check_claim_mapping(provider.purpose.value, claim_mapping)
    if auth is not None:
        provider.client_secret_encrypted = _seal("council_idp", provider.id, check_client_auth(auth))
    if name is not None:
        provider.name = name
    if client_id is not None:
        provider.client_id = client_id
    if enabled is not None:
        provider.enabled = enabled
    db.session.flush()
    return provider


def disable_council_provider(provider_id: uuid.UUID) -> CouncilIdentityProvider:
    """Nobody signs in through it any more (existing sessions carry on until they end)."""
    return update_council_provider(provider_id, enabled=False)


def council_providers() -> list[CouncilIdentityProvider]:
    """Every provider of the current council, enabled or not (operators' list)."""
    return list(db.session.execute(select(CouncilIdentityProvider).order_by(
        CouncilIdentityProvider.purpose, CouncilIdentityProvider.name)).scalars())


def public_providers() -> list[CouncilIdentityProvider]:
    """The current council's enabled sign-in providers for families (GOV.UK One Login)."""
    return list(db.session.execute(select(CouncilIdentityProvider).where(
        CouncilIdentityProvider.purpose == IdpPurpose.PUBLIC, CouncilIdentityProvider.enabled.is_(True))
        .order_by(CouncilIdentityProvider.name)).scalars())


def staff_providers() -> list[CouncilIdentityProvider]:
    """The current council's enabled staff SSO providers."""
    return list(db.session.execute(select(CouncilIdentityProvider).where(
        CouncilIdentityProvider.purpose == IdpPurpose.STAFF, CouncilIdentityProvider.enabled.is_(True))
        .order_by(CouncilIdentityProvider.name)).scalars())


# ---------------------------------------------------------------------------------------
# Organisation providers (platform-wide; registered by operators as the owner role)


def register_organisation_provider(*, slug: str, name: str, issuer: str, client_id: str, auth: ClientAuth,
                                   urns: Any, claim_mapping: Any, scopes: str | None = None,
                                   production: bool) -> OrganisationIdentityProvider:
    """Register a school's, college's or trust's identity provider, once for the platform."""
    errors: dict[str, list[str]] = {}
    if not _SLUG.match(slug or ""):
        errors["slug"] = ["Use 3 to 63 lower-case letters, digits and hyphens, starting with a letter"]
    name = _check_text(errors, "name", name, 200, "Give the organisation's name (up to 200 characters)")
    client_id = _check_text(errors, "client_id", client_id, 300, "Give the client id the provider issued")
    if errors:
        raise ValidationFailed(errors)
    issuer = check_issuer(issuer, production=production)
    scopes = check_scopes(scopes or "openid email profile")
    mapping = check_claim_mapping("organisation", claim_mapping)
    checked_urns = check_urns(urns)
    check_client_auth(auth)
    for column, value, label in ((OrganisationIdentityProvider.slug, slug, "slug"),
                                 (OrganisationIdentityProvider.issuer, issuer, "issuer")):
        if db.session.execute(select(OrganisationIdentityProvider.id).where(column == value)).first():
            raise Conflict(f"An organisation provider with this {label} already exists", field=label)
    provider = OrganisationIdentityProvider(id=uuid.uuid4(), slug=slug, name=name, issuer=issuer, client_id=client_id,
                                            scopes=scopes, urns=checked_urns, claim_mapping=mapping, enabled=True)
    provider.client_secret_encrypted = _seal("organisation_idp", provider.id, auth)
    db.session.add(provider)
    db.session.flush()
    return provider


def organisation_provider(slug: str, *, enabled_only: bool = False) -> OrganisationIdentityProvider:
    provider = db.session.execute(select(OrganisationIdentityProvider).where(
        OrganisationIdentityProvider.slug == slug)).scalar_one_or_none()
    if provider is None or (enabled_only and not provider.enabled):
        raise NotFound("identity provider")
    return provider


def update_organisation_provider(slug: str, *, name: str | None = None, client_id: str | None = None,
                                 auth: ClientAuth | None = None, urns: Any = None, claim_mapping: Any = None,
                                 scopes: str | None = None, enabled: bool | None = None) -> OrganisationIdentityProvider:
    provider = organisation_provider(slug)
    errors: dict[str, list[str]] = {}
    if name is not None:
        name = _check_text(errors, "name", name, 200, "Give the organisation's name (up to 200 characters)")
    if client_id is not None:
        client_id = _check_text(errors, "client_id", client_id, 300, "Give the client id the provider issued")
    if errors:
        raise ValidationFailed(errors)
    if urns is not None:
        provider.urns = check_urns(urns)
    if claim_mapping is not None:
        provider.claim_mapping = check_claim_mapping("organisation", claim_mapping)
    if scopes is not None:
        provider.scopes = check_scopes(scopes)
    if auth is not None:
        provider.client_secret_encrypted = _seal("organisation_idp", provider.id, check_client_auth(auth))
    if name is not None:
        provider.name = name
    if client_id is not None:
        provider.client_id = client_id
    if enabled is not None:
        provider.enabled = enabled
    db.session.flush()
    return provider


def disable_organisation_provider(slug: str) -> OrganisationIdentityProvider:
    return update_organisation_provider(slug, enabled=False)


def organisation_providers() -> list[OrganisationIdentityProvider]:
    return list(db.session.execute(select(OrganisationIdentityProvider).where(
        OrganisationIdentityProvider.enabled.is_(True)).order_by(OrganisationIdentityProvider.name)).scalars())


def all_organisation_providers() -> list[OrganisationIdentityProvider]:
    return list(db.session.execute(select(OrganisationIdentityProvider).order_by(
        OrganisationIdentityProvider.slug)).scalars())


def organisation_providers_for_council(tenant_id: uuid.UUID) -> list[OrganisationIdentityProvider]:
    """Enabled organisation providers speaking for at least one institution where this
    council places children (the platform's placement index; no child data)."""
    placed = set(db.session.execute(select(InstitutionCouncil.urn).where(
        InstitutionCouncil.tenant_id == tenant_id)).scalars())
    return [p for p in organisation_providers() if placed & set(p.urns or [])]


# ---------------------------------------------------------------------------------------
# Claims


def _values(claims: dict[str, Any], name: str) -> list[str]:
    value = claims.get(name)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int)) and not isinstance(v, bool)]
    return []


def staff_role_for(mapping: dict[str, Any], claims: dict[str, Any]) -> Role | None:
    """The staff role a staff provider's claims give (the highest, if several); None: none."""
    roles = mapping.get("roles") or {}
    found = {Role(roles[v]) for v in _values(claims, mapping.get("claim", "")) if v in roles}
    for role in reversed(_ROLE_RANK):
        if role in found:
            return role
    return None


def senco_urns(provider: OrganisationIdentityProvider, claims: dict[str, Any]) -> list[int] | None:
    """The URNs a person from an organisation's provider is SENCO for: None if the claims do
    not mark them as a SENCO; otherwise the provider's URNs, narrowed by ``urn_claim``."""
    mapping = provider.claim_mapping or {}
    marks = set(mapping.get("senco_values") or [])
    if not marks & set(_values(claims, mapping.get("senco_claim", ""))):
        return None
    urns = sorted(set(provider.urns or []))
    if mapping.get("urn_claim"):
        claimed = {int(v) for v in _values(claims, mapping["urn_claim"]) if v.isdigit()}
        urns = [u for u in urns if u in claimed]
    return urns


# ---------------------------------------------------------------------------------------
# Talking to providers: discovery and keys (cached briefly)


class ProviderUnavailable(RuntimeError):
    """The provider did not answer, or answered with something we cannot use."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


_cache_lock = threading.Lock()
_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_keys: dict[str, tuple[float, KeySet]] = {}


def clear_caches() -> None:
    """Forget cached metadata and keys (after an operator changes a provider; tests)."""
    with _cache_lock:
        _metadata.clear()
        _keys.clear()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a provider's endpoints answer directly; a redirect is an error


_opener = urllib.request.build_opener(_NoRedirects)


def http_json(method: str, url: str, *, form: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One call to a provider: ``(status, parsed JSON or None)``. Raises ProviderUnavailable
    when it cannot be reached. Never follows redirects, reads at most MAX_RESPONSE_BYTES."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    all_headers = {"Accept": "application/json", "User-Agent": "Sendbridge"}
    if data is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    all_headers.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with _opener.open(req, timeout=HTTP_TIMEOUT) as resp:
            status, raw = resp.status, resp.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read(MAX_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ProviderUnavailable(f"unreachable: {type(exc).__name__}") from None
    if len(raw) > MAX_RESPONSE_BYTES:
        raise ProviderUnavailable("answer too large")
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def _is_https_or_loopback(url: Any, production: bool) -> bool:
    if not isinstance(url, str):
        return False
    parts = urllib.parse.urlsplit(url)
    return bool(parts.hostname) and (parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in _LOOPBACK and not production))


def provider_metadata(issuer: str, *, production: bool) -> dict[str, Any]:
    """The provider's discovery document (cached for METADATA_TTL seconds).

    Refuses a document naming another issuer (Discovery 1.0 section 4.3: otherwise one
    provider could pose as another, the mix-up attack), or lacking the endpoints we use.
    """
    now = time.monotonic()
    with _cache_lock:
        hit = _metadata.get(issuer)
        if hit is not None and now - hit[0] < METADATA_TTL:
            return hit[1]
    if not _is_https_or_loopback(issuer, production):
        raise ProviderUnavailable("issuer is not https")
    status, doc = http_json("GET", issuer.rstrip("/") + "/.well-known/openid-configuration")
    if status != 200 or not isinstance(doc, dict):
        raise ProviderUnavailable(f"discovery answered {status}")
    if doc.get("issuer") != issuer:
        raise ProviderUnavailable("discovery names another issuer")
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not _is_https_or_loopback(doc.get(endpoint), production):
            raise ProviderUnavailable(f"discovery lacks a usable {endpoint}")
    if doc.get("userinfo_endpoint") is not None and not _is_https_or_loopback(doc["userinfo_endpoint"], production):
        raise ProviderUnavailable("discovery has an unusable userinfo_endpoint")
    with _cache_lock:
        _metadata[issuer] = (now, doc)
    return doc


def provider_keys(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    """The provider's public signing keys (cached; ``refresh`` fetches again, at most every
    KEYS_REFRESH_MIN seconds, for a key id we have not seen: the provider rotated its keys)."""
    now = time.monotonic()
    with _cache_lock:
        hit = _keys.get(jwks_uri)
        if hit is not None and (now - hit[0] < (KEYS_REFRESH_MIN if refresh else METADATA_TTL)):
            return hit[1]
    status, doc = http_json("GET", jwks_uri)
    if status != 200 or not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ProviderUnavailable(f"keys answered {status}")
    # Only public signature keys: a provider publishing anything else is ignored for those.
    usable = [k for k in doc["keys"] if isinstance(k, dict) and k.get("use", "sig") == "sig"
              and k.get("kty") in ("RSA", "EC", "OKP") and "d" not in k]
    try:
        keyset = KeySet.import_key_set({"keys": usable})
    except Exception:  # noqa: BLE001 - a malformed key set is unusable, whatever is wrong with it
        raise ProviderUnavailable("keys are malformed") from None
    with _cache_lock:
        _keys[jwks_uri] = (now, keyset)
    return keyset
