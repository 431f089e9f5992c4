"""Outside people through identity providers (issue #4 items 2 and 3): families with GOV.UK
One Login (here with private_key_jwt, as One Login requires), and SENCOs with their school's
own provider, trusted by every council that places children there."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select

from core.audit.models import AuditEvent
from core.children.access import access_child
from core.children.services import add_placement
from core.identity.models import Identity, Membership, MembershipRole
from core.identity.services import invite
from tenants import identity_providers as idps
from tests.conftest import in_tenant, system_actor
from tests.oidc_provider import OpAgent
from tests.web.sso.conftest import sso_sign_in
from tests.web.sso.test_refusals import assert_refused


def _pkjwt(oidc_provider: Any) -> idps.ClientAuth:
    return idps.ClientAuth(method=idps.PRIVATE_KEY_JWT, private_key_pem=oidc_provider.private_key_pem)


# ---------------------------------------------------------------------------------------
# GOV.UK One Login (a public provider of the council)


def test_a_parent_signs_in_with_one_login_and_takes_up_their_invitation(
        tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        membership, _token = invite(system_actor(tenant_a), role=MembershipRole.PARENT,
                                    email="Sam.Parent@family.example.com", child_id=child.id)
    provider_id = council_idp(tenant_a, oidc_provider.a, "pkjwt", purpose="public", name="GOV.UK One Login",
                              auth=_pkjwt(oidc_provider))
    client = client_for(tenant_a)
    assert "Sign in with GOV.UK One Login" in client.get("/portal/sign-in").get_data(as_text=True)
    resp = sso_sign_in(client, f"/portal/sign-in/provider/{provider_id}", "parent", post=True)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/"), resp.get_data(as_text=True)
    assert client.get("/portal/").status_code == 200
    with in_tenant(tenant_a) as s:
        accepted = s.get(Membership, membership.id)
        identity = s.get(Identity, accepted.identity_id)
        assert accepted.accepted_at is not None
        assert (identity.issuer, identity.subject) == (oidc_provider.a.url, "parent")
    # Families never reach the staff pages.
    assert client.get("/children/").status_code == 302


def test_an_unverified_address_takes_up_no_invitation(tenant_a: Any, client_for: Any, council_idp: Any,
                                                      oidc_provider: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        membership, _ = invite(system_actor(tenant_a), role=MembershipRole.PARENT, email="sam.parent@family.example.com",
                               child_id=child.id)
    provider_id = council_idp(tenant_a, oidc_provider.a, "pkjwt", purpose="public", auth=_pkjwt(oidc_provider))
    client = client_for(tenant_a)
    resp = sso_sign_in(client, f"/portal/sign-in/provider/{provider_id}", "unverified", post=True)
    assert resp.status_code == 403 and "You do not have access yet" in resp.get_data(as_text=True)
    with in_tenant(tenant_a) as s:
        assert s.get(Membership, membership.id).accepted_at is None


def test_an_invitation_for_another_address_is_refused(tenant_a: Any, client_for: Any, council_idp: Any,
                                                      oidc_provider: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        membership, token = invite(system_actor(tenant_a), role=MembershipRole.PARENT,
                                   email="someone.else@family.example.com", child_id=child.id)
    provider_id = council_idp(tenant_a, oidc_provider.a, "pkjwt", purpose="public", auth=_pkjwt(oidc_provider))
    client = client_for(tenant_a)
    assert client.get(f"/invitations/{token}").status_code == 200  # the secret waits in the session
    resp = sso_sign_in(client, f"/portal/sign-in/provider/{provider_id}", "parent", post=True)
    assert resp.status_code == 400 and "another email address" in resp.get_data(as_text=True)
    with in_tenant(tenant_a) as s:
        assert s.get(Membership, membership.id).accepted_at is None


def test_the_one_login_start_needs_a_form_token_and_a_public_provider(tenant_a: Any, client_for: Any,
                                                                      council_idp: Any, oidc_provider: Any) -> None:
    staff_id = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    assert client.post(f"/portal/sign-in/provider/{staff_id}").status_code == 400  # no CSRF token
    from tests.conftest import csrf_token

    token = csrf_token(client, "/portal/sign-in")
    # A staff provider is not a families' way in.
    assert client.post(f"/portal/sign-in/provider/{staff_id}", data={"csrf_token": token}).status_code == 404


# ---------------------------------------------------------------------------------------
# SENCOs through their school's provider, across councils


def _place(tenant: Any, make_child: Any, urn: int | None, **names: Any) -> Any:
    child = make_child(tenant, **names)
    if urn is not None:
        with in_tenant(tenant):
            actor = system_actor(tenant)
            add_placement(actor, access_child(actor, child.id, for_write=True), urn=urn, started_on=dt.date(2024, 9, 1))
    return child


def test_a_senco_gets_memberships_in_every_council_placing_children_and_sees_only_pupils_on_roll(
        tenant_a: Any, tenant_b: Any, client_for: Any, org_idp: Any, oidc_provider: Any, make_child: Any,
        institution: int) -> None:
    pupil_a = _place(tenant_a, make_child, institution, given_name="Alpha")
    pupil_b = _place(tenant_b, make_child, institution, given_name="Bravo")
    elsewhere = _place(tenant_a, make_child, None, given_name="Charlie")
    slug = org_idp(oidc_provider.b)
    agent = OpAgent()
    client_a = client_for(tenant_a)
    resp = sso_sign_in(client_a, f"/portal/sign-in/school/{slug}", "senco", agent=agent)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/school/"), resp.get_data(as_text=True)
    page = client_a.get("/portal/school/").get_data(as_text=True)
    assert pupil_a.given_name in page
    assert elsewhere.given_name not in page and pupil_b.given_name not in page
    # The council switcher names the other council that places children at the school.
    assert "Council B" in client_a.get("/portal/councils").get_data(as_text=True)
    for tenant in (tenant_a, tenant_b):
        with in_tenant(tenant) as s:
            granted = s.execute(select(Membership).where(Membership.role == MembershipRole.SENCO)).scalars().all()
            assert [(m.urn, m.granted_by) for m in granted] == [(institution, f"claims:{oidc_provider.b.url}")]
            assert s.execute(select(AuditEvent).where(AuditEvent.action == "membership.granted",
                                                      AuditEvent.subject_id == granted[0].id)).first() is not None
    # One sign-in: council B takes them straight through (their school session is still on).
    client_b = client_for(tenant_b)
    resp = sso_sign_in(client_b, f"/portal/sign-in/school/{slug}", "unused", agent=agent)
    assert resp.status_code == 302
    page_b = client_b.get("/portal/school/").get_data(as_text=True)
    assert pupil_b.given_name in page_b and pupil_a.given_name not in page_b


def test_a_senco_with_no_pupils_here_is_shown_the_councils_where_they_have(
        tenant_a: Any, tenant_b: Any, create_tenant: Any, client_for: Any, org_idp: Any, oidc_provider: Any,
        make_child: Any, institution: int) -> None:
    _place(tenant_a, make_child, institution)
    _place(tenant_b, make_child, institution)
    slug = org_idp(oidc_provider.b)
    other = create_tenant(name="Council Without Pupils")
    client = client_for(other)
    resp = sso_sign_in(client, f"/portal/sign-in/school/{slug}", "senco")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Choose a council" in body
    links = re.findall(r'<a class="govuk-link" href="([^"]+)">(Council [AB])</a>', body)
    assert links == [(f"https://council-a.sendbridge.test/portal/sign-in/school/{slug}", "Council A"),
                     (f"https://council-b.sendbridge.test/portal/sign-in/school/{slug}", "Council B")]
    assert client.get("/portal/school/").status_code == 302  # not signed in here


def test_a_school_account_that_is_not_a_sencos_is_refused(tenant_a: Any, client_for: Any, org_idp: Any,
                                                          oidc_provider: Any, make_child: Any, institution: int) -> None:
    _place(tenant_a, make_child, institution)
    slug = org_idp(oidc_provider.b)
    client = client_for(tenant_a)
    assert_refused(sso_sign_in(client, f"/portal/sign-in/school/{slug}", "teacher"), "not_senco", 403)
    assert_refused(sso_sign_in(client, f"/portal/sign-in/school/{slug}", "senco-elsewhere"), "no_urns", 403)
    with in_tenant(tenant_a) as s:
        assert s.execute(select(Membership)).first() is None


def test_a_senco_whose_school_no_council_places_children_at_is_told_so(tenant_a: Any, client_for: Any, org_idp: Any,
                                                                       oidc_provider: Any) -> None:
    slug = org_idp(oidc_provider.b)
    assert_refused(sso_sign_in(client_for(tenant_a), f"/portal/sign-in/school/{slug}", "senco"), "no_council", 403)


def test_the_school_page_lists_the_providers_of_schools_the_council_places_children_at(
        tenant_a: Any, tenant_b: Any, client_for: Any, org_idp: Any, oidc_provider: Any, make_child: Any,
        institution: int) -> None:
    _place(tenant_a, make_child, institution)
    slug = org_idp(oidc_provider.b)
    here = client_for(tenant_a).get("/portal/sign-in/school").get_data(as_text=True)
    assert f"/portal/sign-in/school/{slug}" in here and "Sign in with your Test Primary School account" in here
    there = client_for(tenant_b).get("/portal/sign-in/school").get_data(as_text=True)
    assert f"/portal/sign-in/school/{slug}" not in there and "has set up its own sign-in yet" in there
    assert client_for(tenant_a).get("/portal/sign-in/school/no-such-school").status_code == 404
