"""Platform operators' sign-in, and confirming it is you before a sensitive action (issue #4
item 7): SSO users go back to the same provider with ``prompt=login`` and ``max_age=0``, and
only the same person, freshly authenticated, counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from core.audit.models import AuditEvent
from core.db import utcnow
from core.users.models import UserSession
from tests.conftest import in_tenant
from tests.oidc_provider import OpAgent, local
from tests.web.sso.conftest import sso_sign_in, start
from tests.web.sso.test_refusals import assert_refused


# ---------------------------------------------------------------------------------------
# Operators


@pytest.fixture
def operator_settings(app: Any, oidc_provider: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app as configured with OPERATOR_OIDC_* pointing at issuer A's "operator" client."""
    settings = dataclasses.replace(app.config["SENDBRIDGE_SETTINGS"], operator_oidc_issuer=oidc_provider.a.url,
                                   operator_oidc_client_id="operator",
                                   operator_oidc_client_secret=oidc_provider.secret(oidc_provider.a, "operator"))
    monkeypatch.setitem(app.config, "SENDBRIDGE_SETTINGS", settings)
    return settings


@pytest.fixture
def registered_operator(app: Any, oidc_provider: Any, owner_engine: Any,
                        request: pytest.FixtureRequest) -> Iterator[str]:
    """Issuer A's "operator" account made an operator with the real CLI (committed; removed after)."""
    def remove() -> None:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM identity WHERE issuer = :i AND subject = 'operator'"),
                         {"i": oidc_provider.a.url})

    request.node.after_rollback.append(remove)
    result = app.test_cli_runner().invoke(args=["operators", "add", "--issuer", oidc_provider.a.url,
                                                "--subject", "operator"])
    assert result.exit_code == 0, result.output
    yield "operator"


def test_an_operator_signs_in_and_sees_no_child_data(tenant_a: Any, client_for: Any, operator_settings: Any,
                                                     registered_operator: str) -> None:
    client = client_for(tenant_a)
    assert client.get("/operator/").status_code == 404  # web/ui/operator.py: operators only
    resp = sso_sign_in(client, "/operator/sign-in", registered_operator)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/operator/"), resp.get_data(as_text=True)
    page = client.get("/operator/")
    assert page.status_code == 200 and "Olu Operator" in page.get_data(as_text=True)
    assert client.get("/children/").status_code == 302  # no break-glass: no casework pages
    with in_tenant(tenant_a) as s:
        session = s.execute(select(UserSession).where(UserSession.auth_method == "operator")).scalar_one()
        assert session.identity_id is not None
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "operator.signed_in")).first() is not None


def test_someone_who_is_not_an_operator_is_refused(tenant_a: Any, client_for: Any, operator_settings: Any,
                                                   registered_operator: str) -> None:
    client = client_for(tenant_a)
    assert_refused(sso_sign_in(client, "/operator/sign-in", "amara"), "not_operator", 403)
    assert client.get("/operator/").status_code == 404
    with in_tenant(tenant_a) as s:
        assert s.execute(select(UserSession).where(UserSession.auth_method == "operator")).first() is None


def test_without_operator_settings_there_is_no_operator_sign_in(tenant_a: Any, client_for: Any) -> None:
    assert client_for(tenant_a).get("/operator/sign-in").status_code == 404


# ---------------------------------------------------------------------------------------
# Re-authentication


def _session_of(tenant: Any, method_prefix: str) -> UserSession:
    with in_tenant(tenant) as s:
        return s.execute(select(UserSession).where(UserSession.auth_method.startswith(method_prefix))).scalar_one()


def _age(tenant: Any, session_id: Any, minutes: int = 30) -> dt.datetime:
    with in_tenant(tenant) as s:
        record = s.get(UserSession, session_id)
        record.authenticated_at = utcnow() - dt.timedelta(minutes=minutes)
        return record.authenticated_at


def _staff_signed_in(tenant: Any, client_for: Any, council_idp: Any, oidc_provider: Any,
                     client_id: str = "staff") -> tuple[Any, OpAgent, UserSession]:
    provider_id = council_idp(tenant, oidc_provider.a, client_id)
    client, agent = client_for(tenant), OpAgent()
    assert sso_sign_in(client, f"/sign-in/sso/{provider_id}", "amara", agent=agent).status_code == 302
    return client, agent, _session_of(tenant, "oidc:")


def test_a_staff_member_confirms_it_is_them_at_their_provider(tenant_a: Any, client_for: Any, council_idp: Any,
                                                              oidc_provider: Any) -> None:
    client, agent, record = _staff_signed_in(tenant_a, client_for, council_idp, oidc_provider)
    old = _age(tenant_a, record.id)
    resp = client.get("/confirm-it-is-you?next=/cases/")
    assert resp.status_code == 302 and "/sign-in/again" in resp.headers["Location"]
    to_provider = start(client, local(resp.headers["Location"]))
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(to_provider).query))
    assert query["prompt"] == "login" and query["max_age"] == "0"
    # The provider asks again although its own session is still on (prompt=login).
    back = client.get(local(agent.authorize(to_provider, "amara")))
    assert back.status_code == 302 and back.headers["Location"].endswith("/cases/")
    with in_tenant(tenant_a) as s:
        fresh = s.get(UserSession, record.id)
        assert fresh.authenticated_at > old + dt.timedelta(minutes=29) and fresh.ended_at is None


def test_confirming_as_someone_else_is_refused_and_changes_nothing(tenant_a: Any, client_for: Any, council_idp: Any,
                                                                   oidc_provider: Any) -> None:
    client, agent, record = _staff_signed_in(tenant_a, client_for, council_idp, oidc_provider)
    old = _age(tenant_a, record.id)
    to_provider = start(client, "/sign-in/again?next=/cases/")
    resp = client.get(local(agent.authorize(to_provider, "daniel")))
    assert_refused(resp, "different_person", 403)
    with in_tenant(tenant_a) as s:
        assert s.get(UserSession, record.id).authenticated_at == old
    assert client.get("/children/").status_code == 200  # still signed in as themselves


def test_a_provider_that_did_not_authenticate_them_again_is_refused(tenant_a: Any, client_for: Any,
                                                                    council_idp: Any, oidc_provider: Any) -> None:
    """The provider answers with an old auth_time (as one ignoring max_age would)."""
    client, agent, record = _staff_signed_in(tenant_a, client_for, council_idp, oidc_provider, "tamper-authtime")
    old = _age(tenant_a, record.id)
    resp = client.get(local(agent.authorize(start(client, "/sign-in/again"), "amara")))
    assert_refused(resp, "stale_auth")
    with in_tenant(tenant_a) as s:
        assert s.get(UserSession, record.id).authenticated_at == old


def test_a_family_member_confirms_it_is_them_with_one_login(tenant_a: Any, client_for: Any, council_idp: Any,
                                                            oidc_provider: Any, make_child: Any) -> None:
    from core.identity.models import MembershipRole
    from core.identity.services import invite
    from tenants import identity_providers as idps
    from tests.conftest import system_actor

    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        invite(system_actor(tenant_a), role=MembershipRole.PARENT, email="sam.parent@family.example.com",
               child_id=child.id)
    provider_id = council_idp(tenant_a, oidc_provider.a, "pkjwt", purpose="public", auth=idps.ClientAuth(
        method=idps.PRIVATE_KEY_JWT, private_key_pem=oidc_provider.private_key_pem))
    client, agent = client_for(tenant_a), OpAgent()
    assert sso_sign_in(client, f"/portal/sign-in/provider/{provider_id}", "parent", agent=agent,
                       post=True).status_code == 302
    record = _session_of(tenant_a, "public:")
    old = _age(tenant_a, record.id)
    resp = client.get(local(agent.authorize(start(client, "/sign-in/again?next=/portal/"), "parent")))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/")
    with in_tenant(tenant_a) as s:
        assert s.get(UserSession, record.id).authenticated_at > old


def test_there_is_no_provider_to_go_back_to_without_a_single_sign_on_session(tenant_a: Any, client_for: Any,
                                                                             make_user: Any) -> None:
    assert client_for(tenant_a).get("/sign-in/again").status_code == 404  # signed out
    demo = client_for(tenant_a, make_user(tenant_a))  # a session that did not come through SSO
    assert demo.get("/sign-in/again").status_code == 404


def test_an_operator_confirms_it_is_them_before_opening_break_glass(tenant_a: Any, client_for: Any,
                                                                    operator_settings: Any,
                                                                    registered_operator: str) -> None:
    from tests.conftest import csrf_token

    client, agent = client_for(tenant_a), OpAgent()
    assert sso_sign_in(client, "/operator/sign-in", registered_operator, agent=agent).status_code == 302
    record = _session_of(tenant_a, "operator")
    _age(tenant_a, record.id)
    form = {"csrf_token": csrf_token(client, "/operator/"), "reason": "Incident INC-1234: check a case's clocks",
            "minutes": "30"}
    asked = client.post("/operator/break-glass", data=form, headers={"Referer": "https://council-a.sendbridge.test/operator/"})
    assert asked.status_code == 302 and "/confirm-it-is-you" in asked.headers["Location"]
    to_provider = start(client, local(client.get(local(asked.headers["Location"])).headers["Location"]))
    back = client.get(local(agent.authorize(to_provider, registered_operator)))
    assert back.status_code == 302 and back.headers["Location"].endswith("/operator/")
    assert client.post("/operator/break-glass", data=form).status_code == 302
    assert client.get("/children/").status_code == 200  # read only, for the break-glass's duration
