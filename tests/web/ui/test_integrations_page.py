"""The integrations page (issue #5 item 3): a council's tenant admin sees its plugins and the
partner calls that failed or are being retried, and retries them."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from core.db import db
from core.plugin_api import PartnerUnavailable, PermanentFailure
from core.plugins import calls, services
from core.plugins.models import CallStatus, PluginCall
from core.users.models import Role
from tests.conftest import csrf_token, in_tenant
from tests.core.plugins.test_platform import Listener


def _failed_call(tenant: Any, listener: Listener, error: Exception) -> Any:
    """The id of a call to ``listener`` that failed with ``error``."""
    listener.fail_with = error
    with in_tenant(tenant):
        services.set_enabled(listener.NAME, True)
        services.configure(listener.NAME, {"api_key": "secret-value-never-shown"})
        calls.emit("child.updated", {"child_id": "c"})
        db.session.commit()
        db.session.expire_all()
        call_id = db.session.execute(select(PluginCall.id)).scalar_one()
        db.session.rollback()
    return call_id


def test_the_admin_sees_failed_calls_and_retries_one(tenant_a: Any, use_plugins: Any, make_user: Any,
                                                     client_for: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    call_id = _failed_call(tenant_a, listener, PermanentFailure("partner said 400: unknown school"))
    admin = client_for(tenant_a, make_user(tenant_a, Role.TENANT_ADMIN))
    page = admin.get("/integrations")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "partner said 400: unknown school" in body and "Failed" in body
    assert "secret-value-never-shown" not in body and ">set<" in body.replace("\n", "").replace(" ", "")
    listener.fail_with = None
    resp = admin.post(f"/integrations/calls/{call_id}/retry", data={"csrf_token": csrf_token(admin, "/integrations")})
    assert resp.status_code == 303
    with in_tenant(tenant_a):
        assert db.session.get(PluginCall, call_id).status == CallStatus.SUCCEEDED
    assert len(listener.heard) == 1
    assert "Nothing has failed" in admin.get("/integrations").get_data(as_text=True)


def test_a_call_being_retried_says_when(tenant_a: Any, use_plugins: Any, make_user: Any, client_for: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    _failed_call(tenant_a, listener, PartnerUnavailable("partner answered 503"))
    body = client_for(tenant_a, make_user(tenant_a, Role.TENANT_ADMIN)).get("/integrations").get_data(as_text=True)
    assert "Being retried" in body and "next try" in body


def test_only_the_tenant_admin_may_see_or_retry(tenant_a: Any, use_plugins: Any, make_user: Any,
                                               client_for: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    call_id = _failed_call(tenant_a, listener, PermanentFailure("no"))
    for role in (Role.CASEWORKER, Role.TEAM_MANAGER, Role.SEND_OFFICER):
        client = client_for(tenant_a, make_user(tenant_a, role))
        assert client.get("/integrations").status_code == 403
        token = csrf_token(client, "/children/")
        assert client.post(f"/integrations/calls/{call_id}/retry", data={"csrf_token": token}).status_code == 403
        assert client.post("/integrations/plugins/listener/disable", data={"csrf_token": token}).status_code == 403
    with in_tenant(tenant_a):
        assert db.session.get(PluginCall, call_id).status == CallStatus.FAILED
        assert services.is_enabled("listener")


def test_another_councils_admin_cannot_retry_or_see_a_call(tenant_a: Any, tenant_b: Any, use_plugins: Any,
                                                          make_user: Any, client_for: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    call_id = _failed_call(tenant_a, listener, PermanentFailure("council A's failure"))
    admin_b = client_for(tenant_b, make_user(tenant_b, Role.TENANT_ADMIN))
    assert "council A&#39;s failure" not in admin_b.get("/integrations").get_data(as_text=True)
    resp = admin_b.post(f"/integrations/calls/{call_id}/retry", data={"csrf_token": csrf_token(admin_b, "/integrations")})
    assert resp.status_code == 404
    with in_tenant(tenant_a):
        assert db.session.get(PluginCall, call_id).status == CallStatus.FAILED


def test_turning_a_plugin_on_and_off_needs_a_fresh_sign_in_and_is_per_council(
        tenant_a: Any, tenant_b: Any, use_plugins: Any, make_user: Any, client_for: Any) -> None:
    use_plugins(listener=Listener())
    admin = client_for(tenant_a, make_user(tenant_a, Role.TENANT_ADMIN))
    token = csrf_token(admin, "/integrations")
    resp = admin.post("/integrations/plugins/listener/enable", data={"csrf_token": token})
    assert resp.status_code == 302
    assert "is now on" in admin.get("/integrations").get_data(as_text=True)
    with in_tenant(tenant_a):
        assert services.is_enabled("listener")
    with in_tenant(tenant_b):
        assert not services.is_enabled("listener")
    assert admin.post("/integrations/plugins/nonesuch/enable", data={"csrf_token": token}).status_code == 404
    stale = client_for(tenant_a, make_user(tenant_a, Role.TENANT_ADMIN), signed_in_at=time.time() - 3600,
                       last_seen=time.time() - 60)
    resp = stale.post("/integrations/plugins/listener/disable", data={"csrf_token": csrf_token(stale, "/integrations")})
    assert resp.status_code == 302 and "/confirm-it-is-you" in resp.headers["Location"]
    with in_tenant(tenant_a):
        assert services.is_enabled("listener")
