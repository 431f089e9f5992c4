"""Signing in to the portals with an e-mail link, invitations, signing out (web/ui/portal/sign_in.py)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from core import mail
from core.db import db, utcnow
from core.identity import services as identities
from core.identity.models import Membership, MembershipRole, SignInLink
from core.users.models import UserSession
from tests.conftest import actor_for, csrf_token, in_tenant


def _address() -> str:
    return f"family-{uuid.uuid4().hex[:10]}@example.org"


def _invite(tenant: Any, child_id: Any, email: str, make_user: Any) -> str:
    caseworker = actor_for(make_user(tenant))  # before in_tenant: make_user has its own
    with in_tenant(tenant):
        _membership, token = identities.invite(caseworker, role=MembershipRole.PARENT, email=email, child_id=child_id)
    return token


def _ask_for_link(client: Any, email: str) -> Any:
    return client.post("/portal/sign-in/email", data={"csrf_token": csrf_token(client, "/portal/sign-in"), "email": email})


def _link_in_mail(email: str) -> str:
    messages = mail.read_outbox(email)
    assert messages, f"no e-mail to {email}"
    body = messages[-1].get_content()
    match = re.search(r"https://[^\s]+/portal/sign-in/link/([A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


def _use(client: Any, token: str) -> Any:
    page = client.get(f"/portal/sign-in/link/{token}")
    assert page.status_code == 200 and "Continue" in page.get_data(as_text=True)
    return client.post(f"/portal/sign-in/link/{token}", data={"csrf_token": csrf_token(client, f"/portal/sign-in/link/{token}")})


def test_an_invited_parent_signs_in_with_an_email_link_and_sees_their_child(
        tenant_a: Any, object_graph: Any, make_user: Any, client_for: Any) -> None:
    graph = object_graph(tenant_a)
    email = _address()
    _invite(tenant_a, graph["child_id"], email, make_user)
    client = client_for(tenant_a)
    resp = _ask_for_link(client, email.upper())
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/sign-in/check-email")
    assert email in client.get("/portal/sign-in/check-email").get_data(as_text=True)
    token = _link_in_mail(email)
    # Opening the link (as a mail scanner would) spends nothing.
    assert client.get(f"/portal/sign-in/link/{token}").status_code == 200
    resp = _use(client, token)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/")
    home = client.get("/portal/")
    assert home.status_code == 200 and "/portal/family/" in home.get_data(as_text=True)
    listed = client.get("/portal/family/").get_data(as_text=True)
    assert graph["child"].given_name in listed
    with in_tenant(tenant_a) as s:
        membership = s.execute(select(Membership).where(Membership.invited_email == email)).scalar_one()
        assert membership.accepted_at is not None and membership.invite_token_hash is None
        record = s.get(UserSession, client.get("/portal/") and _session_id(client, tenant_a))
        assert record.auth_method == "email_link" and record.identity_id == membership.identity_id
    # The same link does not work twice.
    again = client_for(tenant_a)
    assert _use(again, token).status_code == 400


def _session_id(client: Any, tenant: Any) -> Any:
    with client.session_transaction() as sess:
        return uuid.UUID(sess["auth"][str(tenant.id)])


def test_the_page_is_the_same_for_an_address_with_no_access_and_no_link_is_made(
        tenant_a: Any, client_for: Any) -> None:
    email = _address()
    client = client_for(tenant_a)
    resp = _ask_for_link(client, email)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/sign-in/check-email")
    with in_tenant(tenant_a) as s:
        assert s.execute(select(SignInLink).where(SignInLink.email == email)).first() is None
    (message,) = mail.read_outbox(email)
    assert "has not been given access" in message.get_content() and "/portal/sign-in/link/" not in message.get_content()


def test_a_link_works_only_in_the_browser_that_asked_for_it(tenant_a: Any, object_graph: Any, make_user: Any,
                                                            client_for: Any) -> None:
    graph = object_graph(tenant_a)
    email = _address()
    _invite(tenant_a, graph["child_id"], email, make_user)
    asker = client_for(tenant_a)
    _ask_for_link(asker, email)
    token = _link_in_mail(email)
    thief = client_for(tenant_a)
    resp = _use(thief, token)
    assert resp.status_code == 400 and "only works in the browser" in resp.get_data(as_text=True)
    assert thief.get("/portal/").status_code == 302  # not signed in
    assert _use(asker, token).status_code == 302  # still good where it was asked for


def test_an_expired_link_is_refused(tenant_a: Any, object_graph: Any, make_user: Any, client_for: Any) -> None:
    graph = object_graph(tenant_a)
    email = _address()
    _invite(tenant_a, graph["child_id"], email, make_user)
    client = client_for(tenant_a)
    _ask_for_link(client, email)
    token = _link_in_mail(email)
    with in_tenant(tenant_a) as s:
        s.execute(update(SignInLink).where(SignInLink.email == email).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    resp = _use(client, token)
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)


def test_at_most_three_links_per_address_in_fifteen_minutes(tenant_a: Any, object_graph: Any, make_user: Any,
                                                             client_for: Any) -> None:
    graph = object_graph(tenant_a)
    email = _address()
    _invite(tenant_a, graph["child_id"], email, make_user)
    client = client_for(tenant_a)
    for _ in range(5):
        assert _ask_for_link(client, email).status_code == 302
    with in_tenant(tenant_a) as s:
        assert len(s.execute(select(SignInLink).where(SignInLink.email == email)).all()) == 3


def test_a_malformed_address_gets_the_error_summary(tenant_a: Any, client_for: Any) -> None:
    client = client_for(tenant_a)
    resp = _ask_for_link(client, "not an address")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "govuk-error-summary" in body and 'href="#email"' in body


def test_the_invitation_page_names_the_council_never_the_child_and_sign_in_takes_it_up(
        tenant_a: Any, object_graph: Any, make_user: Any, client_for: Any, make_identity: Any) -> None:
    graph = object_graph(tenant_a)
    email = _address()
    token = _invite(tenant_a, graph["child_id"], email, make_user)
    client = client_for(tenant_a)
    page = client.get(f"/invitations/{token}").get_data(as_text=True)
    assert tenant_a.name in page and graph["child"].given_name not in page and graph["child"].family_name not in page
    assert client.get("/invitations/not-a-token").status_code == 404
    _ask_for_link(client, email)
    assert _use(client, _link_in_mail(email)).status_code == 302
    assert client.get("/portal/family/").status_code == 200


def test_a_forwarded_invitation_gives_the_wrong_person_nothing(tenant_a: Any, object_graph: Any, make_user: Any,
                                                              client_for: Any) -> None:
    graph = object_graph(tenant_a)
    token = _invite(tenant_a, graph["child_id"], _address(), make_user)
    other = _address()
    client = client_for(tenant_a)
    client.get(f"/invitations/{token}")
    _ask_for_link(client, other)  # not invited: no link is sent at all
    assert "/portal/sign-in/link/" not in mail.read_outbox(other)[-1].get_content()
    with in_tenant(tenant_a) as s:
        assert s.execute(select(Membership.accepted_at).where(Membership.child_id == graph["child_id"],
                                                              Membership.invited_email.is_not(None))).scalar_one() is None


def test_revoking_access_ends_the_session_on_the_next_request(tenant_a: Any, object_graph: Any, make_member: Any,
                                                              identity_client: Any, make_user: Any) -> None:
    graph = object_graph(tenant_a)
    parent = make_member(tenant_a, "parent", child_id=graph["child_id"])
    client = identity_client(tenant_a, parent)
    assert client.get("/portal/family/").status_code == 200
    caseworker = actor_for(make_user(tenant_a))
    with in_tenant(tenant_a) as s:
        membership = s.execute(select(Membership).where(Membership.identity_id == parent.id)).scalar_one()
        identities.revoke(caseworker, membership)
    resp = client.get("/portal/family/")
    assert resp.status_code == 302 and "ended=no_access" in resp.headers["Location"]
    with in_tenant(tenant_a) as s:
        assert s.get(UserSession, client.user_session_id).ended_reason == "no_access"


def test_sign_out_everywhere_ends_the_persons_sessions_in_every_council(
        tenant_a: Any, tenant_b: Any, object_graph: Any, make_member: Any, make_identity: Any,
        identity_client: Any) -> None:
    person = make_identity()
    graph_a, graph_b = object_graph(tenant_a), object_graph(tenant_b)
    make_member(tenant_a, "parent", identity=person, child_id=graph_a["child_id"])
    make_member(tenant_b, "parent", identity=person, child_id=graph_b["child_id"])
    laptop_a, phone_b = identity_client(tenant_a, person), identity_client(tenant_b, person)
    assert phone_b.get("/portal/family/").status_code == 200
    home = laptop_a.get("/portal/").get_data(as_text=True)
    assert "Switch to another council" in home
    assert tenant_b.name in laptop_a.get("/portal/councils").get_data(as_text=True)
    resp = laptop_a.post("/portal/sign-out-everywhere", data={"csrf_token": csrf_token(laptop_a, "/portal/")})
    assert resp.status_code == 302
    assert phone_b.get("/portal/family/").status_code == 302
    assert laptop_a.get("/portal/family/").status_code == 302


def test_an_email_link_user_confirms_it_is_them_with_a_fresh_link(
        tenant_a: Any, object_graph: Any, make_member: Any, identity_client: Any) -> None:
    graph = object_graph(tenant_a)
    email = _address()
    with db.isolated_scope() as s:
        person = identities.email_identity(email)
        s.commit()
    make_member(tenant_a, "parent", identity=person, child_id=graph["child_id"])
    old = utcnow() - dt.timedelta(hours=1)
    client = identity_client(tenant_a, person, authenticated_at=old)
    page = client.get("/confirm-it-is-you?next=/portal/family/")
    assert page.status_code == 200 and "Email me a link" in page.get_data(as_text=True)
    resp = client.post("/confirm-it-is-you", data={"csrf_token": csrf_token(client, "/confirm-it-is-you"),
                                                   "next": "/portal/family/"})
    assert resp.status_code == 302
    token = _link_in_mail(email)
    resp = _use(client, token)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/family/")
    with in_tenant(tenant_a) as s:
        record = s.get(UserSession, client.user_session_id)
        assert record.ended_at is None and record.authenticated_at > old + dt.timedelta(minutes=30)


def test_the_demo_sign_in_is_refused_outside_demo_mode(tenant_a: Any, client_for: Any) -> None:
    client = client_for(tenant_a)
    resp = client.post("/portal/sign-in/demo", data={"csrf_token": csrf_token(client, "/portal/sign-in"),
                                                     "identity_id": str(uuid.uuid4())})
    assert resp.status_code == 404


@pytest.mark.parametrize("path", ["/portal/", "/portal/family/", "/portal/school/", "/portal/advice/", "/portal/councils"])
def test_portal_pages_send_strangers_to_sign_in(tenant_a: Any, client_for: Any, path: str) -> None:
    resp = client_for(tenant_a).get(path)
    assert resp.status_code == 302 and "/portal/sign-in" in resp.headers["Location"]
