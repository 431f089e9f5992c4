"""OpenID Connect sign-in (issue #4 items 1-3, 7, 8): council staff through their council's
own identity provider, families through GOV.UK One Login (or another public provider the
council configures), SENCOs through their school's or college's provider, platform operators
through the platform's, and re-authentication before sensitive actions for all of them.

The authorization code flow (OpenID Connect Core 1.0 section 3.1), with these checks, each
tested against a real provider (tests/web/sso/):

* PKCE with S256 (RFC 7636): the code is useless without this browser's verifier.
* ``state``: random, single use (popped from this browser's signed session, and recorded as
  spent on the server, so a copied cookie cannot replay it), bound to the council, the
  provider and the kind of sign-in it was issued for, and expiring after
  :data:`STATE_SECONDS`. A response is only ever checked against the provider its state
  names: one callback serves every provider without mixing them up.
* RFC 9207 ``iss`` on the authorization response: when present it must be that provider's
  issuer, and it must be present when the provider's metadata says it sends it (mix-up).
* The ID token: signature by a key from the provider's JWKS (never ``none`` or HMAC); ``iss``
  equal to the registered issuer; ``aud`` containing our client id (``azp`` equal to it when
  there are several audiences, or when present); ``exp`` and ``iat`` within a small clock
  leeway; ``nonce`` equal to the one this browser sent; userinfo for the same ``sub``.
* Accounts are keyed by ``(issuer, subject)`` only, never by e-mail: an unlinked staff
  account with the same e-mail is not taken over (an administrator links it, tenants/idp_cli).

Refusals are GOV.UK pages (400 or 403, a reason code in small print for support) and change
nothing (the request boundary rolls back any response of 400 or more).

Client authentication at the token endpoint: ``client_secret_basic`` or ``private_key_jwt``
(RFC 7523; GOV.UK One Login uses it), per provider. Multi-factor authentication for SSO users
is the identity provider's business: re-authentication sends them back with ``prompt=login``
and ``max_age=0`` and checks ``auth_time``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from sqlalchemy import func, select

from core import crypto
from core.actors import Actor
from core.audit import services as audit
from core.config import Settings
from core.db import db
from core.errors import Conflict, NotFound
from core.identity import services as identities
from core.identity.models import Identity
from core.idempotency.services import KeyAlreadyUsed, remember
from core.plugins.services import call_enabled
from core.users.models import User
from core.users.services import create_user, record_sign_in
from tenants import identity_providers as idps
from tenants.models import IdpPurpose
from tenants.services import active_tenant_ids, tenant_names
from web.context import require_tenant
from web.extensions import limiter
from web.middleware import PATH_SLUG_KEY
from web.ui.sessions import begin, mark_reauthenticated, safe_next, sign_in_identity

log = logging.getLogger(__name__)

bp = Blueprint("sso", __name__)

#: Sign-ins in progress, in this browser's signed session: ``{state: entry}``.
STATE_KEY = "sso"
#: How long someone has to sign in at their provider before the state is refused.
STATE_SECONDS = 600
#: Sign-ins in progress kept per browser (tabs); the oldest is dropped beyond this.
MAX_PENDING = 5
#: Clock difference tolerated between us and a provider (exp, iat, auth_time).
CLOCK_SKEW = 120
#: An ID token older than this (by ``iat``) is refused, whatever its ``exp`` says.
ID_TOKEN_MAX_AGE = 600
#: Signature algorithms accepted for ID tokens: asymmetric only (never ``none`` or HMAC).
SAFE_ALGS = ("RS256", "PS256", "ES256", "EdDSA")
#: The server-side record of spent states (core.idempotency: unique per council, expiring).
SPENT_STATE = "sso:state"


@dataclass(frozen=True)
class Target:
    """A provider someone signs in through, whatever its kind, detached from the database."""

    #: ``staff`` (council SSO), ``public`` (One Login), ``school`` (an organisation's provider), ``operator``.
    kind: str
    #: The provider's id (council providers), slug (organisations), or ``operator``.
    key: str
    name: str
    issuer: str
    client_id: str
    scopes: str
    auth: idps.ClientAuth = field(repr=False)
    claim_mapping: dict[str, Any] = field(default_factory=dict)
    urns: tuple[int, ...] = ()

    @property
    def method(self) -> str:
        """``UserSession.auth_method``: re-authentication asks the same provider again."""
        return {"staff": f"oidc:{self.key}", "public": f"public:{self.key}", "school": f"org:{self.key}",
                "operator": "operator"}[self.kind]


class Refused(Exception):
    """A sign-in we will not complete: ``reason`` picks the words (REASONS) and the status."""

    def __init__(self, reason: str, *, status: int = 400, kind: str | None = None, detail: str | None = None):
        self.reason = reason
        self.status = status
        self.kind = kind
        self.detail = detail
        super().__init__(reason)


_START_AGAIN = "Start again from the sign-in page."
_CHECK = "We could not check who you are with the sign-in service, so you have not been signed in. " + _START_AGAIN
#: reason -> (page title, what the person is told). Plain words; the code is shown for support.
REASONS: dict[str, tuple[str, str]] = {
    "state_unknown": ("You could not be signed in",
                      "We could not match this sign-in to one started in this browser. " + _START_AGAIN),
    "state_expired": ("You could not be signed in", "Signing in took too long, so it has expired. " + _START_AGAIN),
    "state_replayed": ("You could not be signed in", "This sign-in has already been used. " + _START_AGAIN),
    "provider_gone": ("You could not be signed in", "This way of signing in has been switched off. " + _START_AGAIN),
    "mixup": ("You could not be signed in",
              "The answer came from a different sign-in service from the one you chose. " + _START_AGAIN),
    "iss_missing": ("You could not be signed in", "The sign-in service did not say who it is. " + _START_AGAIN),
    "cancelled": ("You did not finish signing in", "You stopped signing in, or the sign-in service refused. "
                  + _START_AGAIN),
    "no_code": ("You could not be signed in", _CHECK),
    "token_refused": ("You could not be signed in", _CHECK),
    "id_token_malformed": ("You could not be signed in", _CHECK),
    "id_token_alg": ("You could not be signed in", _CHECK),
    "id_token_signature": ("You could not be signed in", _CHECK),
    "id_token_issuer": ("You could not be signed in", _CHECK),
    "id_token_audience": ("You could not be signed in", _CHECK),
    "id_token_azp": ("You could not be signed in", _CHECK),
    "id_token_expired": ("You could not be signed in", _CHECK),
    "id_token_iat": ("You could not be signed in", _CHECK),
    "id_token_nonce": ("You could not be signed in", _CHECK),
    "id_token_sub": ("You could not be signed in", _CHECK),
    "userinfo": ("You could not be signed in", _CHECK),
    "userinfo_sub": ("You could not be signed in", _CHECK),
    "provider_unavailable": ("The sign-in service is not available",
                             "The sign-in service did not answer properly. Try again in a few minutes."),
    "no_role": ("You do not have access to this service",
                "Your council account is not in a group that uses SEND casework. Ask your council's system "
                "administrator to give you access."),
    "account_exists": ("Your account needs to be linked first",
                       "There is already an account here with your email address, but it is not linked to the "
                       "account you signed in with. Ask your council's system administrator to link them. For your "
                       "security we never link accounts by email address alone."),
    # Issue #5: a plugin the council enabled failed while reading the account's details.
    "claims_plugin_failed": ("You could not be signed in",
                             "Something went wrong while we checked your account's details, so you have not been "
                             "signed in. Try again in a few minutes. If it keeps happening, tell your council's "
                             "system administrator."),
    "no_email": ("You could not be signed in",
                 "Your council account did not give us an email address. Ask your council's system administrator."),
    "deactivated": ("Your account has been switched off",
                    "Your account here is switched off. Ask your council's system administrator."),
    "not_senco": ("You do not have access to this service",
                  "Your school or college account is not set up as a SENCO's. Ask your school's IT administrator, "
                  "or sign in with an email link if the council has invited you."),
    "no_urns": ("You do not have access to this service",
                "Your school or college account is not linked to any school we know. Ask your school's IT "
                "administrator."),
    "no_council": ("No council has pupils at your school yet",
                   "You signed in, but no council using this service has children placed at your school or college. "
                   "If you think this is wrong, contact the council's SEND team."),
    "not_operator": ("You are not a platform operator", "This account is not one of the platform's operators."),
    "different_person": ("You signed in as someone else",
                         "To confirm it is you, sign in with the same account you are using here. Nothing has "
                         "changed."),
    "stale_auth": ("You could not confirm it is you",
                   "The sign-in service did not ask you to sign in again just now. Try again."),
    "session_changed": ("You could not confirm it is you", "You have signed out or in since you started. "
                        + _START_AGAIN),
}


def _settings() -> Settings:
    return current_app.config["SENDBRIDGE_SETTINGS"]


# ---------------------------------------------------------------------------------------
# Providers, whatever their kind


def _target(kind: str, key: str) -> Target | None:
    """The enabled provider ``key`` of this ``kind``, as seen from the current council."""
    try:
        if kind in ("staff", "public"):
            provider = idps.council_provider(uuid.UUID(key), enabled_only=True)
            if provider.purpose != IdpPurpose(kind):
                return None
            return Target(kind, str(provider.id), provider.name, provider.issuer, provider.client_id, provider.scopes,
                          idps.client_auth(provider), dict(provider.claim_mapping or {}))
        if kind == "school":
            org = idps.organisation_provider(key, enabled_only=True)
            return Target(kind, org.slug, org.name, org.issuer, org.client_id, org.scopes, idps.client_auth(org),
                          dict(org.claim_mapping or {}), tuple(org.urns or ()))
    except (NotFound, ValueError):
        return None
    except crypto.DecryptionFailed:
        # Sealed under another SECRET_KEY (or altered): unusable until an operator sets new
        # credentials (idp council-update / org-update). Nobody is sent to it meanwhile.
        log.error("identity provider %s %s: its credentials cannot be decrypted", kind, key)
        return None
    if kind == "operator":
        s = _settings()
        if not (s.operator_oidc_issuer and s.operator_oidc_client_id and s.operator_oidc_client_secret):
            return None
        return Target("operator", "operator", "Sendbridge operators", s.operator_oidc_issuer, s.operator_oidc_client_id,
                      "openid email profile",
                      idps.ClientAuth(method=idps.CLIENT_SECRET_BASIC, secret=s.operator_oidc_client_secret))
    return None


def _target_for_method(method: str) -> Target | None:
    """The provider a session was signed in with (``UserSession.auth_method``)."""
    prefix, _, key = method.partition(":")
    kind = {"oidc": "staff", "public": "public", "org": "school", "operator": "operator"}.get(prefix)
    return _target(kind, key or "operator") if kind else None


# ---------------------------------------------------------------------------------------
# Starting: the authorization request


def _pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _authorization_url(target: Target, *, next_url: str | None, reauth: dict[str, str] | None = None) -> str:
    """Record a new sign-in in progress in this browser and return where to send it.

    Raises Refused("provider_unavailable") when the provider cannot be discovered."""
    tenant = require_tenant()
    try:
        metadata = idps.provider_metadata(target.issuer, production=_settings().is_production)
    except idps.ProviderUnavailable as exc:
        raise Refused("provider_unavailable", status=502, kind=target.kind, detail=exc.reason) from None
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    redirect_uri = url_for("sso.callback", _external=True)
    entry: dict[str, Any] = {"t": str(tenant.id), "k": target.kind, "p": target.key, "n": nonce, "v": verifier,
                             "r": redirect_uri, "at": int(time.time()), "next": next_url}
    if reauth is not None:
        entry["re"] = reauth
    pending = {k: v for k, v in (session.get(STATE_KEY) or {}).items() if isinstance(v, dict)}
    for old in sorted(pending, key=lambda k: pending[k].get("at", 0))[:max(0, len(pending) - MAX_PENDING + 1)]:
        del pending[old]
    pending[state] = entry
    session[STATE_KEY] = pending
    params = {"response_type": "code", "client_id": target.client_id, "redirect_uri": redirect_uri,
              "scope": target.scopes, "state": state, "nonce": nonce, "code_challenge": _pkce_challenge(verifier),
              "code_challenge_method": "S256"}
    if reauth is not None:
        # OpenID Connect Core 3.1.2.1: make the provider authenticate them now (MFA is its call).
        params.update({"prompt": "login", "max_age": "0"})
    endpoint = metadata["authorization_endpoint"]
    return endpoint + ("&" if urllib.parse.urlsplit(endpoint).query else "?") + urllib.parse.urlencode(params)


def _start(target: Target | None, *, next_url: str | None, reauth: dict[str, str] | None = None,
           interstitial: bool = False) -> Any:
    if target is None:
        abort(404)
    try:
        url = _authorization_url(target, next_url=next_url, reauth=reauth)
    except Refused as refused:
        return _refusal_page(refused)
    if interstitial:
        # A form POSTed here (CSRF-protected). CSP Level 3 applies the sign-in page's
        # form-action ('self') to redirects that follow a form submission too, and browsers
        # differ on enforcing it (the Chromium of the browser tests does not), so instead of
        # a redirect to another origin: a page that moves on by itself, with a link.
        return render_template("sso/continue.html", title=f"Continue to {target.name}", url=url, target=target)
    return redirect(url)


@bp.get("/sign-in/sso/<uuid:provider_id>")
@limiter.limit("30 per minute")
def start_staff(provider_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """Council staff: sign in with the council's identity provider."""
    require_tenant()
    return _start(_target("staff", str(provider_id)), next_url=safe_next(request.args.get("next")))


@bp.post("/portal/sign-in/provider/<uuid:provider_id>")
@limiter.limit("30 per minute")
def start_public(provider_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """Families: sign in with GOV.UK One Login (or another public provider of this council)."""
    require_tenant()
    next_url = safe_next(request.form.get("next")) or safe_next(session.get("portal_next"))
    return _start(_target("public", str(provider_id)), next_url=next_url, interstitial=True)


@bp.get("/portal/sign-in/school")
def choose_school():  # type: ignore[no-untyped-def]
    """Schools, colleges and early years settings with their own sign-in, for this council."""
    tenant = require_tenant()
    return render_template("sso/choose_school.html", title="Sign in with your school or college account",
                           providers=idps.organisation_providers_for_council(tenant.id))


@bp.get("/portal/sign-in/school/<slug>")
@limiter.limit("30 per minute")
def start_school(slug: str):  # type: ignore[no-untyped-def]
    """A SENCO: sign in with their school's or college's identity provider."""
    require_tenant()
    next_url = safe_next(request.args.get("next")) or safe_next(session.get("portal_next"))
    return _start(_target("school", slug), next_url=next_url)


@bp.get("/operator/sign-in")
@limiter.limit("30 per minute")
def start_operator():  # type: ignore[no-untyped-def]
    """Platform operators: the platform's own identity provider (OPERATOR_OIDC_*)."""
    require_tenant()
    return _start(_target("operator", "operator"), next_url=None)


@bp.get("/sign-in/again")
@limiter.limit("30 per minute")
def reauthenticate():  # type: ignore[no-untyped-def]
    """Confirm it is you (before a sensitive action): the same provider again, made to ask
    for the person's credentials now (``prompt=login``, ``max_age=0``)."""
    require_tenant()
    record = g.get("user_session")
    if record is None:
        abort(404)
    identity = g.get("identity")
    if identity is None and g.get("user") is not None and g.user.identity_id is not None:
        identity = db.session.get(Identity, g.user.identity_id)
    target = _target_for_method(record.auth_method)
    if identity is None or target is None or identity.issuer != target.issuer:
        abort(404)
    return _start(target, next_url=safe_next(request.args.get("next")),
                  reauth={"iss": identity.issuer, "sub": identity.subject, "sid": str(record.id)})


# ---------------------------------------------------------------------------------------
# Finishing: the callback


@bp.get("/sso/callback")
@limiter.limit("30 per minute")
def callback():  # type: ignore[no-untyped-def]
    """Where every provider sends people back (one redirect URI per council)."""
    tenant = require_tenant()
    try:
        return _finish(tenant)
    except Refused as refused:
        return _refusal_page(refused)


def _refusal_page(refused: Refused) -> Any:
    title, message = REASONS[refused.reason]
    log.warning("single sign-on refused: %s (%s)%s", refused.reason, refused.kind or "unknown",
                f": {refused.detail}" if refused.detail else "")
    again = {"staff": url_for("auth.sign_in"), "operator": url_for("sso.start_operator")}.get(
        refused.kind or "", url_for("portal.sign_in"))
    if refused.reason in ("different_person", "stale_auth", "session_changed"):
        again = None
    return render_template("sso/refused.html", title=title, message=message, reason=refused.reason,
                           again=again), refused.status


def _take_state() -> dict[str, Any]:
    """This browser's sign-in for the returned ``state``, removed (single use)."""
    state = request.args.get("state", "")
    pending = dict(session.get(STATE_KEY) or {})
    entry = pending.pop(state, None) if state else None
    session[STATE_KEY] = pending
    if not isinstance(entry, dict) or entry.get("t") != str(require_tenant().id):
        # Unknown here: never started in this browser (login CSRF), already used, or started
        # in another council (path-addressed councils share one cookie).
        raise Refused("state_unknown")
    if time.time() - int(entry.get("at", 0)) > STATE_SECONDS:
        raise Refused("state_expired", kind=entry.get("k"))
    _spend(state, entry)
    return entry


def _spend(state: str, entry: dict[str, Any]) -> None:
    """Record the state as spent, on the server and at once (its own transaction), so a
    replay with a copy of the old cookie finds it spent even if this sign-in fails."""
    digest = hashlib.sha256(state.encode()).hexdigest()
    with db.isolated_scope() as spent:
        try:
            remember(SPENT_STATE, digest, digest, 0, {}, None)
            spent.commit()
        except KeyAlreadyUsed:
            spent.rollback()
            raise Refused("state_replayed", kind=entry.get("k")) from None


def _finish(tenant: Any) -> Any:
    entry = _take_state()
    kind = str(entry.get("k"))
    target = _target(kind, str(entry.get("p")))
    if target is None:
        raise Refused("provider_gone", kind=kind)
    try:
        metadata = idps.provider_metadata(target.issuer, production=_settings().is_production)
    except idps.ProviderUnavailable as exc:
        raise Refused("provider_unavailable", status=502, kind=kind, detail=exc.reason) from None
    # RFC 9207 section 2.4: the response must come from the provider this state was issued for.
    iss = request.args.get("iss")
    if iss is not None and not hmac.compare_digest(iss.encode(), target.issuer.encode()):
        raise Refused("mixup", kind=kind, detail=f"iss {iss[:200]!r}")
    if iss is None and metadata.get("authorization_response_iss_parameter_supported") is True:
        raise Refused("iss_missing", kind=kind)
    if request.args.get("error"):
        raise Refused("cancelled", kind=kind, detail=request.args.get("error", "")[:100])
    code = request.args.get("code")
    if not code:
        raise Refused("no_code", kind=kind)
    tokens = _exchange(target, metadata, code, verifier=str(entry["v"]), redirect_uri=str(entry["r"]))
    claims = _verify_id_token(target, metadata, str(tokens["id_token"]), nonce=str(entry["n"]))
    userinfo = _userinfo(target, metadata, tokens, claims["sub"])
    # Signed ID token claims win over userinfo's where both say something.
    merged = {**userinfo, **claims}
    if "re" in entry:
        return _reauthenticated(target, entry, claims)
    if kind != "operator":
        merged = _claims_from_plugins(target.issuer, merged, kind=kind)
    if kind == "staff":
        return _sign_in_staff(tenant, target, merged, entry)
    if kind == "public":
        return _sign_in_family(tenant, target, merged, entry)
    if kind == "school":
        return _sign_in_senco(tenant, target, merged, entry)
    return _sign_in_operator(tenant, target, merged)


def _exchange(target: Target, metadata: dict[str, Any], code: str, *, verifier: str,
              redirect_uri: str) -> dict[str, Any]:
    """The token request (OpenID Connect Core 3.1.3.1), authenticated as the provider asks."""
    endpoint = str(metadata["token_endpoint"])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    headers: dict[str, str] = {}
    auth = target.auth
    if auth.method == idps.PRIVATE_KEY_JWT:
        # RFC 7523 section 3 (One Login's client authentication): a short-lived, single-use
        # assertion signed with our key, for this token endpoint only.
        now = int(time.time())
        assertion = jwt.encode(
            {"alg": idps.CLIENT_ASSERTION_ALG, "kid": auth.key_id, "typ": "JWT"},
            {"iss": target.client_id, "sub": target.client_id, "aud": endpoint, "jti": secrets.token_urlsafe(24),
             "iat": now, "exp": now + 60},
            idps.signing_key(auth), algorithms=[idps.CLIENT_ASSERTION_ALG])
        form.update({"client_id": target.client_id, "client_assertion": assertion,
                     "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    else:
        # RFC 6749 section 2.3.1: both parts form-encoded before Basic encoding.
        pair = f"{urllib.parse.quote(target.client_id, safe='')}:{urllib.parse.quote(auth.secret or '', safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    try:
        status, body = idps.http_json("POST", endpoint, form=form, headers=headers)
    except idps.ProviderUnavailable as exc:
        raise Refused("provider_unavailable", status=502, kind=target.kind, detail=exc.reason) from None
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        error = body.get("error") if isinstance(body, dict) else None
        raise Refused("token_refused", kind=target.kind, detail=f"{status} {error or ''}".strip())
    return body


def _has_kid(keys: KeySet, kid: str) -> bool:
    try:
        keys.get_by_kid(kid)
    except (JoseError, KeyError, ValueError):
        return False
    return True


def _verify_id_token(target: Target, metadata: dict[str, Any], id_token: str, *, nonce: str) -> dict[str, Any]:
    """The ID token's claims, after every check of OpenID Connect Core 3.1.3.7."""
    kind = target.kind
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algs = [a for a in SAFE_ALGS if a in offered]
    try:
        header = extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError):
        raise Refused("id_token_malformed", kind=kind) from None
    if header.get("alg") not in algs:
        raise Refused("id_token_alg", kind=kind, detail=str(header.get("alg")))
    try:
        keys = idps.provider_keys(str(metadata["jwks_uri"]))
        kid = header.get("kid")
        if isinstance(kid, str) and not _has_kid(keys, kid):
            keys = idps.provider_keys(str(metadata["jwks_uri"]), refresh=True)  # the provider rotated its keys
    except idps.ProviderUnavailable as exc:
        raise Refused("provider_unavailable", status=502, kind=kind, detail=exc.reason) from None
    try:
        claims = dict(jwt.decode(id_token, keys, algorithms=algs).claims)
    except (JoseError, ValueError):
        raise Refused("id_token_signature", kind=kind) from None
    if claims.get("iss") != target.issuer:
        raise Refused("id_token_issuer", kind=kind, detail=f"iss {str(claims.get('iss'))[:200]!r}")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if target.client_id not in audiences:
        raise Refused("id_token_audience", kind=kind)
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != target.client_id:
        raise Refused("id_token_azp", kind=kind)
    now = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, (int, float)) or exp <= now - CLOCK_SKEW:
        raise Refused("id_token_expired", kind=kind)
    if not isinstance(iat, (int, float)) or iat > now + CLOCK_SKEW or iat < now - ID_TOKEN_MAX_AGE - CLOCK_SKEW:
        raise Refused("id_token_iat", kind=kind)
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
        raise Refused("id_token_nonce", kind=kind)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise Refused("id_token_sub", kind=kind)
    return claims


def _userinfo(target: Target, metadata: dict[str, Any], tokens: dict[str, Any], sub: str) -> dict[str, Any]:
    """The userinfo claims (e-mail, groups ...), for the same subject (Core 5.3.2)."""
    endpoint, access = metadata.get("userinfo_endpoint"), tokens.get("access_token")
    if not endpoint or not isinstance(access, str) or str(tokens.get("token_type", "")).lower() != "bearer":
        return {}
    try:
        status, body = idps.http_json("GET", str(endpoint), headers={"Authorization": f"Bearer {access}"})
    except idps.ProviderUnavailable as exc:
        raise Refused("provider_unavailable", status=502, kind=target.kind, detail=exc.reason) from None
    if status != 200 or not isinstance(body, dict):
        raise Refused("userinfo", kind=target.kind, detail=str(status))
    if body.get("sub") != sub:
        raise Refused("userinfo_sub", kind=target.kind)
    return body


def _claims_from_plugins(issuer: str, claims: dict[str, Any], *, kind: str) -> dict[str, Any]:
    """Issue #5: a plugin the council enabled may rewrite the claims before they are mapped
    to a person and a role (hook ``oidc_claims_for_user``, docs/plugins/hooks.md), e.g. to
    turn a directory's ``department`` into the ``groups`` the role mapping reads. Operators'
    sign-in is the platform's, not the council's, so it never goes through a council's
    plugins. ``iss`` and ``sub`` stay the verified token's whatever a plugin says: a plugin
    may change what someone's claims say, never who they are. A plugin that fails refuses the
    sign-in (a page, not an error): going on with the claims it did not rewrite could give
    someone a role the council's mapping would not."""
    try:
        rewritten = call_enabled("oidc_claims_for_user", issuer=issuer, claims=dict(claims))
        if rewritten is not None and not isinstance(rewritten, Mapping):
            raise TypeError(f"oidc_claims_for_user answered a {type(rewritten).__name__}, not a mapping")
    except Exception as exc:  # a plugin's failure never becomes a server error (issue #5 item 3)
        raise Refused("claims_plugin_failed", status=502, kind=kind, detail=type(exc).__name__) from None
    if rewritten is None:
        return claims
    return {**dict(rewritten), "iss": claims.get("iss"), "sub": claims["sub"]}


def _identity(target: Target, claims: dict[str, Any]) -> Identity:
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    return identities.record_identity(issuer=target.issuer, subject=str(claims["sub"]), email=email,
                                      email_verified=claims.get("email_verified") is True,
                                      display_name=name or email or "")


# ---------------------------------------------------------------------------------------
# What each kind of sign-in leads to


def _sign_in_staff(tenant: Any, target: Target, claims: dict[str, Any], entry: dict[str, Any]) -> Any:
    """A member of the council's staff: their linked account, or a new one (JIT) if nobody
    here has their e-mail address. Never someone else's account by e-mail alone."""
    role = idps.staff_role_for(target.claim_mapping, claims)
    if role is None:
        raise Refused("no_role", status=403, kind="staff")
    identity = _identity(target, claims)
    user = db.session.execute(select(User).where(User.identity_id == identity.id)).scalar_one_or_none()
    actor = Actor(tenant_id=tenant.id, kind="system", id=f"sso:{target.key}")
    if user is None:
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise Refused("no_email", status=403, kind="staff")
        if db.session.execute(select(User.id).where(func.lower(User.email) == email.strip().lower())).first():
            # No takeover: the same address from this (or another) provider is not proof
            # that this is that account's owner. An administrator links it (idp link-user).
            raise Refused("account_exists", status=403, kind="staff")
        user = create_user(email=email.strip(), display_name=identity.display_name, role=role)
        user.identity_id = identity.id
        audit.record(actor, "user.provisioned", subject_type="user", subject_ids=[user.id])
    elif not user.active:
        raise Refused("deactivated", status=403, kind="staff")
    elif user.role != role:
        # The council's directory is the source of truth for roles: moving someone between
        # groups there moves them here at their next sign-in.
        user.role = role
        audit.record(actor, "user.role_changed", subject_type="user", subject_ids=[user.id])
    record_sign_in(user.id)
    begin(tenant.id, user=user, method=target.method)
    flash(f"Signed in as {user.display_name}", "success")
    return redirect(safe_next(entry.get("next")) or url_for("children.index"))


def _sign_in_family(tenant: Any, target: Target, claims: dict[str, Any], entry: dict[str, Any]) -> Any:
    """A parent, carer or young person (GOV.UK One Login): their identity, and the invitations
    waiting for their verified e-mail address here."""
    identity = _identity(target, claims)
    next_url = safe_next(entry.get("next")) or safe_next(session.pop("portal_next", None))
    try:
        signed_in = sign_in_identity(tenant.id, identity, method=target.method)
    except Conflict as exc:
        return render_template("portal/link_refused.html", title="You could not be signed in", reason=exc.message), 400
    if not signed_in:
        return render_template("portal/no_access.html", title="You do not have access yet"), 403
    flash("You are signed in", "success")
    return redirect(next_url or url_for("portal.home"))


def _sign_in_senco(tenant: Any, target: Target, claims: dict[str, Any], entry: dict[str, Any]) -> Any:
    """A SENCO from a school's identity provider: memberships in every council that places
    children at their URNs (each council in its own context and transaction, audited there),
    then a session here if they have pupils here, or the councils where they do."""
    org = idps.organisation_provider(target.key, enabled_only=True)
    urns = idps.senco_urns(org, claims)
    if urns is None:
        raise Refused("not_senco", status=403, kind="school")
    if not urns:
        raise Refused("no_urns", status=403, kind="school")
    # The identity is committed first, in its own transaction: the councils' memberships
    # (committed council by council) refer to it.
    with db.isolated_scope() as own:
        identity_id = _identity(target, claims).id
        own.commit()
    identity = db.session.get(Identity, identity_id)
    assert identity is not None
    by_council: dict[uuid.UUID, list[int]] = {}
    for urn in urns:
        for tid in identities.councils_placing_at([urn]):
            by_council.setdefault(tid, []).append(urn)
    councils = [tid for tid in active_tenant_ids() if tid in by_council]

    def grant(tid: uuid.UUID) -> int:
        fresh = db.session.get(Identity, identity_id)
        assert fresh is not None
        return len([identities.grant_senco(fresh, urn, issuer=target.issuer) for urn in by_council.get(tid, [])])

    # This council goes last (visited even with nothing to grant): where sessions share one
    # connection (the tests' savepoints), the database's tenant setting it leaves behind is
    # then this request's own.
    identities.for_each_council([*(t for t in councils if t != tenant.id), tenant.id], grant)
    next_url = safe_next(entry.get("next")) or safe_next(session.pop("portal_next", None))
    if sign_in_identity(tenant.id, identity, method=target.method):
        flash("You are signed in", "success")
        return redirect(next_url or url_for("portal_school.index"))
    names = tenant_names(councils)
    if not names:
        raise Refused("no_council", status=403, kind="school")
    links = [(name, _council_url(slug, url_for("sso.start_school", slug=target.key))) for slug, name in names]
    return render_template("sso/school_councils.html", title="Choose a council", councils=links, school=target.name)


def _council_url(slug: str, path: str) -> str:
    """``path`` (built in this council) in council ``slug``: its /t/<slug>/ path or its host."""
    if path.startswith(request.script_root):
        path = path[len(request.script_root):]
    if request.environ.get(PATH_SLUG_KEY):
        return f"/t/{slug}{path}"
    return f"{request.scheme}://{slug}.{_settings().base_domain}{path}"


def _sign_in_operator(tenant: Any, target: Target, claims: dict[str, Any]) -> Any:
    """A platform operator: an active Operator, in this council without child data (any
    access to it is a separate, audited break-glass)."""
    identity = _identity(target, claims)
    if not identities.is_operator(identity.id):
        raise Refused("not_operator", status=403, kind="operator")
    begin(tenant.id, identity=identity, method=target.method)
    audit.record(Actor(tenant_id=tenant.id, kind="operator", id=str(identity.id)), "operator.signed_in",
                 subject_type="operator", subject_ids=[identity.id])
    flash(f"Signed in as {identity.display_name}, platform operator", "success")
    return redirect(url_for("operator.home"))  # web/ui/operator.py: break-glass, nothing else


def _reauthenticated(target: Target, entry: dict[str, Any], claims: dict[str, Any]) -> Any:
    """The same person, just now: the session counts as freshly signed in."""
    expected = entry["re"]
    record = g.get("user_session")
    if record is None or str(record.id) != expected.get("sid"):
        raise Refused("session_changed", status=403, kind=target.kind)
    if claims.get("iss") != expected.get("iss") or claims.get("sub") != expected.get("sub"):
        raise Refused("different_person", status=403, kind=target.kind)
    auth_time = claims.get("auth_time")
    if not isinstance(auth_time, (int, float)) or auth_time < int(entry["at"]) - CLOCK_SKEW:
        raise Refused("stale_auth", kind=target.kind)
    mark_reauthenticated()
    kind = getattr(g.get("actor"), "kind", None)
    fallback = {"operator": "operator.home", "identity": "portal.home"}.get(kind or "", "children.index")
    return redirect(safe_next(entry.get("next")) or url_for(fallback))
