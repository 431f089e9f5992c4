"""Council staff sign in through their council's own identity provider (issue #4 item 1):
accounts are linked by (issuer, subject) only; a new person is provisioned with the role
their groups map to; nobody takes over an account by having its e-mail address."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.identity.models import Identity
from core.identity.services import record_identity
from core.users.models import Role, User, UserSession
from core.users.services import create_user
from tests.conftest import in_tenant
from tests.web.sso.conftest import reason, sso_sign_in, start
from tests.web.sso.test_refusals import assert_refused, assert_signed_out, counts


def _user(tenant: Any, email: str) -> User | None:
    with in_tenant(tenant) as s:
        return s.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()


def _staff_account(tenant: Any, email: str, role: Role = Role.CASEWORKER, *, issuer: str | None = None,
                   subject: str | None = None, name: str = "Existing Person") -> User:
    with in_tenant(tenant):
        user = create_user(email=email, display_name=name, role=role)
        if issuer is not None and subject is not None:
            user.identity_id = record_identity(issuer=issuer, subject=subject, email=email, email_verified=True,
                                               display_name=name).id
    return user


def test_a_new_member_of_staff_is_provisioned_with_the_role_their_groups_map_to(
        tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    resp = sso_sign_in(client, f"/sign-in/sso/{provider_id}", "amara")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/children/")
    page = client.get("/children/")
    assert page.status_code == 200 and "Amara Okafor" in page.get_data(as_text=True)
    user = _user(tenant_a, "amara.okafor@council.example.gov.uk")
    assert user is not None and user.role == Role.CASEWORKER
    with in_tenant(tenant_a) as s:
        identity = s.get(Identity, user.identity_id)
        assert (identity.issuer, identity.subject) == (oidc_provider.a.url, "amara")
        session = s.execute(select(UserSession).where(UserSession.user_id == user.id)).scalar_one()
        assert session.auth_method == f"oidc:{provider_id}"
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "user.provisioned",
                                                  AuditEvent.subject_id == user.id)).first() is not None


def test_the_highest_role_wins_when_groups_map_to_several(tenant_a: Any, client_for: Any, council_idp: Any,
                                                          oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    assert sso_sign_in(client_for(tenant_a), f"/sign-in/sso/{provider_id}", "daniel").status_code == 302
    assert _user(tenant_a, "daniel.hughes@council.example.gov.uk").role == Role.TEAM_MANAGER


def test_a_linked_account_signs_in_as_itself_and_follows_the_directory_role(
        tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    # Linked by an administrator (idp link-user) under another address: the link is what counts.
    user = _staff_account(tenant_a, "a.okafor@old-address.example.gov.uk", Role.TEAM_MANAGER,
                          issuer=oidc_provider.a.url, subject="amara", name="Amara O.")
    before = counts(tenant_a)[0]
    client = client_for(tenant_a)
    assert sso_sign_in(client, f"/sign-in/sso/{provider_id}", "amara").status_code == 302
    assert counts(tenant_a)[0] == before  # nobody new
    with in_tenant(tenant_a) as s:
        fresh = s.get(User, user.id)
        # Moved between groups in the council's directory: moved here at sign-in.
        assert fresh.role == Role.CASEWORKER and fresh.last_signed_in_at is not None
    assert client.get("/children/").status_code == 200


def test_an_unlinked_account_with_the_same_email_is_not_taken_over(tenant_a: Any, client_for: Any,
                                                                   council_idp: Any, oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    user = _staff_account(tenant_a, "Amara.Okafor@council.example.gov.uk", Role.TENANT_ADMIN)
    before = counts(tenant_a)
    client = client_for(tenant_a)
    resp = sso_sign_in(client, f"/sign-in/sso/{provider_id}", "amara")
    assert_refused(resp, "account_exists", 403)
    assert "system administrator to link them" in resp.get_data(as_text=True)
    assert counts(tenant_a) == before
    assert _user(tenant_a, "amara.okafor@council.example.gov.uk").identity_id is None
    assert user.identity_id is None
    assert_signed_out(client)


def test_the_same_email_from_another_issuer_does_not_reach_the_linked_account(
        tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    """Amara is linked at issuer A. Issuer B (also trusted here) vouches for someone with her
    address: a different person as far as we can tell, refused, and her account untouched."""
    council_idp(tenant_a, oidc_provider.a)
    b_id = council_idp(tenant_a, oidc_provider.b)
    user = _staff_account(tenant_a, "amara.okafor@council.example.gov.uk", Role.TENANT_ADMIN,
                          issuer=oidc_provider.a.url, subject="amara")
    client = client_for(tenant_a)
    assert_refused(sso_sign_in(client, f"/sign-in/sso/{b_id}", "amara"), "account_exists", 403)
    assert_signed_out(client)
    with in_tenant(tenant_a) as s:
        assert s.get(User, user.id).identity_id == user.identity_id
        sessions = s.execute(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id))
        assert sessions.scalar_one() == 0


def test_someone_whose_groups_map_to_no_role_is_refused_and_nothing_is_created(
        tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    before = counts(tenant_a)
    client = client_for(tenant_a)
    resp = sso_sign_in(client, f"/sign-in/sso/{provider_id}", "nobody")
    assert_refused(resp, "no_role", 403)
    assert "not in a group that uses SEND casework" in resp.get_data(as_text=True)
    assert counts(tenant_a) == before
    assert_signed_out(client)


def test_a_new_person_without_an_email_address_is_refused(tenant_a: Any, client_for: Any, council_idp: Any,
                                                          oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    assert_refused(sso_sign_in(client_for(tenant_a), f"/sign-in/sso/{provider_id}", "noemail"), "no_email", 403)


def test_a_switched_off_account_is_refused(tenant_a: Any, client_for: Any, council_idp: Any,
                                           oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    user = _staff_account(tenant_a, "amara.okafor@council.example.gov.uk", issuer=oidc_provider.a.url, subject="amara")
    with in_tenant(tenant_a) as s:
        s.get(User, user.id).active = False
    client = client_for(tenant_a)
    assert_refused(sso_sign_in(client, f"/sign-in/sso/{provider_id}", "amara"), "deactivated", 403)
    assert_signed_out(client)


def test_the_staff_sign_in_page_offers_the_councils_providers_and_goes_back_where_asked(
        tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a, name="Council A staff account")
    client = client_for(tenant_a)
    body = client.get("/sign-in?next=/cases/").get_data(as_text=True)
    assert "Sign in with Council A staff account" in body
    link = re.search(r'href="([^"]*/sign-in/sso/[^"]+)"', body)
    assert link and str(provider_id) in link.group(1) and "next=/cases/" in link.group(1)
    assert "being set up" not in body
    resp = sso_sign_in(client, link.group(1).replace("&amp;", "&"), "amara")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cases/")


def test_an_open_redirect_is_not_offered(tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any) -> None:
    provider_id = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    resp = sso_sign_in(client, f"/sign-in/sso/{provider_id}?next=//evil.example/", "amara")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/children/")


def test_the_authorization_request_uses_pkce_state_and_nonce(tenant_a: Any, client_for: Any, council_idp: Any,
                                                             oidc_provider: Any) -> None:
    import base64
    import hashlib
    import urllib.parse

    from web.ui.sso import STATE_KEY

    provider_id = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    url = start(client, f"/sign-in/sso/{provider_id}")
    assert url.startswith(f"{oidc_provider.a.url}/auth?")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["response_type"] == "code" and q["client_id"] == "staff" and q["code_challenge_method"] == "S256"
    assert q["redirect_uri"] == f"https://{tenant_a.slug}.sendbridge.test/sso/callback"
    assert len(q["state"]) >= 32 and len(q["nonce"]) >= 32 and "prompt" not in q
    with client.session_transaction() as sess:
        entry = sess[STATE_KEY][q["state"]]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(entry["v"].encode()).digest()).rstrip(b"=").decode()
    assert q["code_challenge"] == challenge and entry["n"] == q["nonce"]


def test_another_councils_provider_cannot_be_used_here(tenant_a: Any, tenant_b: Any, client_for: Any,
                                                       council_idp: Any, oidc_provider: Any) -> None:
    b_id = council_idp(tenant_b, oidc_provider.a)
    assert client_for(tenant_a).get(f"/sign-in/sso/{b_id}").status_code == 404
    assert reason(client_for(tenant_b).get(f"/sign-in/sso/{b_id}")) is None
