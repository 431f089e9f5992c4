"""The protocol's defences, each against the real provider (issue #4 item 8): a refused
sign-in is a clear page, signs nobody in and changes nothing.

Where the provider must misbehave (a wrong nonce, issuer or audience in the ID token, a bad
signature), it is the real provider with a ``tamper-*`` client: it re-signs that client's ID
token, with its real published key, with exactly one thing wrong (tests/oidc/provider.mjs).
Mix-ups, replays and other browsers are produced with the two real issuers and real flows.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from sqlalchemy import func, select

from core.identity.models import Identity
from core.users.models import User, UserSession
from tenants import identity_providers as idps
from tests.conftest import in_tenant
from tests.oidc_provider import OpAgent, local
from tests.web.sso.conftest import reason, sso_sign_in, start


def counts(tenant: Any) -> tuple[int, int, int]:
    """(staff accounts, identities, sessions) in ``tenant``: a refusal changes none of them."""
    with in_tenant(tenant) as s:
        return (s.execute(select(func.count()).select_from(User)).scalar_one(),
                s.execute(select(func.count()).select_from(Identity)).scalar_one(),
                s.execute(select(func.count()).select_from(UserSession)).scalar_one())


def assert_refused(resp: Any, code: str, status: int = 400) -> None:
    body = resp.get_data(as_text=True)
    assert resp.status_code == status, body[:2000]
    assert reason(resp) == code, body[:2000]
    assert "Traceback" not in body and "govuk-heading-l" in body


def assert_signed_out(client: Any) -> None:
    resp = client.get("/children/")
    assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"]


@pytest.mark.parametrize(("client_id", "code"), [
    ("tamper-nonce", "id_token_nonce"),
    ("tamper-iss", "id_token_issuer"),
    ("tamper-aud", "id_token_audience"),
    ("tamper-azp", "id_token_azp"),
    ("tamper-exp", "id_token_expired"),
    ("tamper-iat", "id_token_iat"),
    ("tamper-signature", "id_token_signature"),
    ("tamper-userinfo", "userinfo_sub"),
    ("hs256", "id_token_alg"),
])
def test_an_id_token_with_one_thing_wrong_is_refused(client_id: str, code: str, tenant_a: Any, client_for: Any,
                                                     council_idp: Any, oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a, client_id)
    before = counts(tenant_a)
    client = client_for(tenant_a)
    assert_refused(sso_sign_in(client, f"/sign-in/sso/{provider_id}", "amara"), code)
    assert counts(tenant_a) == before
    assert_signed_out(client)


def test_the_same_client_untampered_signs_in(tenant_a: Any, client_for: Any, council_idp: Any,
                                             oidc_provider: Any) -> None:
    """Positive control for the tamper tests: the provider and client set-up are sound."""
    provider_id = council_idp(tenant_a, oidc_provider.a, "staff")
    client = client_for(tenant_a)
    assert sso_sign_in(client, f"/sign-in/sso/{provider_id}", "amara").status_code == 302
    assert client.get("/children/").status_code == 200


def test_a_response_from_the_other_provider_is_refused_as_a_mix_up(tenant_a: Any, client_for: Any, council_idp: Any,
                                                                   oidc_provider: Any) -> None:
    """RFC 9207: a sign-in started with provider A, answered by provider B (both registered
    here, both real) with A's state. B says who it is (``iss``), and it is not A."""
    a_id = council_idp(tenant_a, oidc_provider.a, "staff")
    council_idp(tenant_a, oidc_provider.b, "staff")
    client = client_for(tenant_a)
    to_a = start(client, f"/sign-in/sso/{a_id}")
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(to_a).query)["state"][0]
    # The same request, sent to B instead (an attacker's provider, or a confused browser).
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(to_a).query)
    to_b = f"{oidc_provider.b.url}/auth?" + urllib.parse.urlencode({k: v[0] for k, v in params.items()})
    callback = OpAgent().authorize(to_b, "amara")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query)
    assert query["state"] == [state] and query["iss"] == [oidc_provider.b.url]
    before = counts(tenant_a)
    assert_refused(client.get(local(callback)), "mixup")
    assert counts(tenant_a) == before
    assert_signed_out(client)


def test_a_response_without_iss_is_refused_when_the_provider_sends_it(tenant_a: Any, client_for: Any,
                                                                      council_idp: Any, oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    callback = OpAgent().authorize(start(client, f"/sign-in/sso/{provider_id}"), "amara")
    parts = urllib.parse.urlsplit(callback)
    stripped = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "iss"]
    assert_refused(client.get(parts.path + "?" + urllib.parse.urlencode(stripped)), "iss_missing")
    assert_signed_out(client)


def test_a_state_is_used_once_even_with_a_copy_of_the_old_cookie(tenant_a: Any, client_for: Any, council_idp: Any,
                                                                 oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    callback = OpAgent().authorize(start(client, f"/sign-in/sso/{provider_id}"), "amara")
    host = f"{tenant_a.slug}.sendbridge.test"
    old_cookie = client.get_cookie("__Host-sendbridge", domain=host).value
    assert client.get(local(callback)).status_code == 302  # signed in
    # Replayed in the same browser: the state was taken out of its session.
    assert_refused(client.get(local(callback)), "state_unknown")
    # Replayed with the cookie as it was before: the server remembers the state was spent.
    thief = client_for(tenant_a)
    thief.set_cookie("__Host-sendbridge", old_cookie, domain=host, secure=True, path="/")
    before = counts(tenant_a)
    assert_refused(thief.get(local(callback)), "state_replayed")
    assert counts(tenant_a) == before
    assert_signed_out(thief)


def test_a_refused_sign_ins_state_cannot_be_tried_again(tenant_a: Any, client_for: Any, council_idp: Any,
                                                        oidc_provider: Any) -> None:
    """The state leaves the browser's session on first use, whatever the outcome."""
    provider_id = council_idp(tenant_a, oidc_provider.a, "tamper-nonce")
    client = client_for(tenant_a)
    callback = OpAgent().authorize(start(client, f"/sign-in/sso/{provider_id}"), "amara")
    assert_refused(client.get(local(callback)), "id_token_nonce")
    assert_refused(client.get(local(callback)), "state_unknown")


def test_a_response_delivered_to_another_browser_is_refused(tenant_a: Any, client_for: Any, council_idp: Any,
                                                            oidc_provider: Any) -> None:
    """Login CSRF: an attacker's own sign-in, finished in the victim's browser, signs nobody in."""
    provider_id = council_idp(tenant_a, oidc_provider.a)
    attacker = client_for(tenant_a)
    callback = OpAgent().authorize(start(attacker, f"/sign-in/sso/{provider_id}"), "amara")
    victim = client_for(tenant_a)
    before = counts(tenant_a)
    assert_refused(victim.get(local(callback)), "state_unknown")
    assert counts(tenant_a) == before
    assert_signed_out(victim)


def test_a_state_expires(tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    from web.ui.sso import STATE_KEY, STATE_SECONDS

    provider_id = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    callback = OpAgent().authorize(start(client, f"/sign-in/sso/{provider_id}"), "amara")
    with client.session_transaction() as sess:
        pending = dict(sess[STATE_KEY])
        for entry in pending.values():
            entry["at"] -= STATE_SECONDS + 1  # started just over the limit ago
        sess[STATE_KEY] = pending
    assert_refused(client.get(local(callback)), "state_expired")
    assert_signed_out(client)


def test_a_state_from_another_council_is_refused(tenant_a: Any, tenant_b: Any, app: Any, council_idp: Any,
                                                 oidc_provider: Any) -> None:
    """Councils addressed by path share one cookie: a sign-in begun in A is not finished in B."""
    from tests.conftest import BASE_DOMAIN, TenantClient

    a_id = council_idp(tenant_a, oidc_provider.a)
    council_idp(tenant_b, oidc_provider.a)
    client = TenantClient(app, app.response_class, use_cookies=True)
    client.base_url = f"https://{BASE_DOMAIN}"
    callback = OpAgent().authorize(start(client, f"/t/{tenant_a.slug}/sign-in/sso/{a_id}"), "amara")
    parts = urllib.parse.urlsplit(callback)
    assert parts.path == f"/t/{tenant_a.slug}/sso/callback"
    resp = client.get(f"/t/{tenant_b.slug}/sso/callback?{parts.query}")
    assert_refused(resp, "state_unknown")
    assert client.get(f"/t/{tenant_b.slug}/children/").status_code == 302


def test_an_unknown_state_is_refused_without_calling_anyone(tenant_a: Any, client_for: Any) -> None:
    client = client_for(tenant_a)
    assert_refused(client.get("/sso/callback?state=made-up&code=made-up"), "state_unknown")
    assert_refused(client.get("/sso/callback"), "state_unknown")


def test_a_cancelled_sign_in_is_refused(tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    to_provider = start(client, f"/sign-in/sso/{provider_id}")
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(to_provider).query)["state"][0]
    resp = client.get("/sso/callback?" + urllib.parse.urlencode(
        {"error": "access_denied", "state": state, "iss": oidc_provider.a.url}))
    assert_refused(resp, "cancelled")


def test_a_registered_issuer_the_provider_does_not_call_itself_is_refused(
        tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    """The provider's discovery document must name exactly the registered issuer (a trailing
    slash is another issuer): otherwise nobody is sent there at all."""
    provider_id = council_idp(tenant_a, oidc_provider.a, registered_issuer=oidc_provider.a.url + "/")
    idps.clear_caches()
    resp = client_for(tenant_a).get(f"/sign-in/sso/{provider_id}")
    assert_refused(resp, "provider_unavailable", 502)


def test_private_key_jwt_with_a_key_the_provider_does_not_know_is_refused(
        tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    auth = idps.ClientAuth(method=idps.PRIVATE_KEY_JWT, private_key_pem=idps.generate_private_key())
    provider_id = council_idp(tenant_a, oidc_provider.a, "pkjwt", purpose="staff", auth=auth)
    client = client_for(tenant_a)
    assert_refused(sso_sign_in(client, f"/sign-in/sso/{provider_id}", "amara"), "token_refused")
    assert_signed_out(client)


def test_a_wrong_client_secret_is_refused(tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    auth = idps.ClientAuth(method=idps.CLIENT_SECRET_BASIC, secret="not-the-secret")
    provider_id = council_idp(tenant_a, oidc_provider.a, "staff", auth=auth)
    client = client_for(tenant_a)
    assert_refused(sso_sign_in(client, f"/sign-in/sso/{provider_id}", "amara"), "token_refused")


def test_a_provider_switched_off_mid_sign_in_is_refused(tenant_a: Any, client_for: Any, council_idp: Any,
                                                        oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    callback = OpAgent().authorize(start(client, f"/sign-in/sso/{provider_id}"), "amara")
    with in_tenant(tenant_a):
        idps.disable_council_provider(provider_id)
    assert_refused(client.get(local(callback)), "provider_gone")
    assert client.get(f"/sign-in/sso/{provider_id}").status_code == 404


def test_a_provider_whose_credentials_cannot_be_decrypted_is_not_used(tenant_a: Any, client_for: Any,
                                                                      council_idp: Any, oidc_provider: Any) -> None:
    from core import crypto
    from tenants.models import CouncilIdentityProvider

    provider_id = council_idp(tenant_a, oidc_provider.a)
    with in_tenant(tenant_a) as s:
        # As if sealed under another SECRET_KEY: bound to another row, it does not open here.
        s.get(CouncilIdentityProvider, provider_id).client_secret_encrypted = crypto.encrypt(
            "x", context="council_idp:00000000-0000-0000-0000-000000000000:client_secret")
    assert client_for(tenant_a).get(f"/sign-in/sso/{provider_id}").status_code == 404
