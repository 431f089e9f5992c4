"""The plugin platform (issue #5 items 1-3): loading, per-council enablement and settings,
sealed secrets, the transactional outbox and durable, retried plugin calls."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text

from core.db import db, utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.plugin_api import PartnerUnavailable, PermanentFailure, Setting, SettingsSchema, hookimpl, https_url
from core.plugins import calls, services
from core.plugins.manager import PluginLoadError, build_host, installed_plugins, load_plugins, use_host
from core.plugins.models import CallStatus, OutboxEvent, OutboxStatus, PluginCall, TenantPlugin
from tests.conftest import in_tenant


class Listener:
    """A plugin that hears integration events; it can be told to fail."""

    TITLE = "Listener"
    PLUGIN_API = ((1, 0), (2, 0))
    SETTINGS = SettingsSchema("listener", {
        "url": Setting(str, "https://partner.example/hook", "Where events go", validators=(https_url(),)),
        "api_key": Setting(str, "", "The partner's key", secret=True),
        "batch": Setting(int, 10, "How many at a time"),
    })

    def __init__(self, name: str = "listener") -> None:
        self.NAME = name
        self.heard: list[tuple[str, str, dict[str, Any]]] = []
        self.fail_with: Exception | None = None

    @hookimpl
    def on_integration_event(self, tenant: Any, event: Any) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.heard.append((tenant.slug, event.topic, dict(tenant.settings)))


class Finder:
    NAME = "finder"
    TITLE = "Finder"
    PLUGIN_API = ((1, 0), (2, 0))

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer
        self.asked: list[str] = []

    @hookimpl
    def pupil_for_upn(self, tenant: Any, upn: str) -> Any:
        self.asked.append(tenant.slug)
        return self.answer


# ---------------------------------------------------------------------------------------
# Loading


def test_builtin_plugins_are_registered_under_the_entry_point_group() -> None:
    found = installed_plugins()
    assert {"ctf", "fhir", "social_care", "notify"} <= set(found)
    host = build_host({k: v for k, v in found.items() if k in ("ctf", "fhir", "social_care", "notify")})
    assert set(host.plugins) == {"ctf", "fhir", "social_care", "notify"}


def test_safe_mode_loads_no_plugin_and_only_loads_the_named() -> None:
    before = use_host(build_host({}))
    try:
        assert load_plugins(safe_mode=True).plugins == {}
        assert set(load_plugins(only=["notify"]).plugins) == {"notify"}
    finally:
        use_host(before)


def test_a_hook_implementation_that_matches_no_spec_is_refused() -> None:
    class Typo(Listener):
        @hookimpl
        def on_integration_evnt(self, tenant: Any, event: Any) -> None: ...

    with pytest.raises(Exception, match="unknown hook"):
        build_host({"listener": Typo()})


def test_a_plugin_for_another_plugin_api_or_with_a_wrong_name_is_refused() -> None:
    class Future(Listener):
        PLUGIN_API = ((2, 0), (3, 0))

    with pytest.raises(PluginLoadError, match="plugin API"):
        build_host({"listener": Future()})
    with pytest.raises(PluginLoadError, match="must match"):
        build_host({"other": Listener()})
    with pytest.raises(PluginLoadError, match="lower-case"):
        build_host({"Bad-Name": Listener("Bad-Name")})


# ---------------------------------------------------------------------------------------
# Per-council enablement and settings


def test_hooks_are_called_only_for_councils_that_enabled_the_plugin(tenant_a: Any, tenant_b: Any,
                                                                     use_plugins: Any) -> None:
    finder = Finder(answer="found")
    use_plugins(finder=finder)
    with in_tenant(tenant_a):
        services.set_enabled("finder", True)
        assert services.call_enabled("pupil_for_upn", upn="A123") == "found"
    with in_tenant(tenant_b):
        assert services.enabled_plugins() == []
        assert services.call_enabled("pupil_for_upn", upn="A123") is None
    assert finder.asked == [tenant_a.slug]


def test_settings_are_checked_against_the_plugin_schema_and_bad_ones_change_nothing(tenant_a: Any,
                                                                                     use_plugins: Any) -> None:
    use_plugins(listener=Listener())
    with in_tenant(tenant_a):
        services.configure("listener", {"url": "https://one.example/hook", "batch": 5})
        with pytest.raises(ValidationFailed) as caught:
            services.configure("listener", {"url": "http://plain.example", "batch": "many", "colour": "red"})
        assert set(caught.value.errors) == {"url", "batch", "colour"}
        assert services.settings_of("listener") == {"url": "https://one.example/hook", "batch": 5, "api_key": ""}
        with pytest.raises(NotFound):
            services.configure("nonesuch", {})


def test_secrets_are_sealed_at_rest_never_shown_and_bound_to_their_council(tenant_a: Any, tenant_b: Any,
                                                                           use_plugins: Any) -> None:
    use_plugins(listener=Listener())
    with in_tenant(tenant_a):
        services.configure("listener", {"api_key": "very-secret-key-a"})
        sealed = db.session.execute(select(TenantPlugin.sealed_secrets)).scalar_one()
        assert sealed and "very-secret-key-a" not in sealed
        assert "very-secret-key-a" not in str(db.session.execute(select(TenantPlugin.settings)).scalar_one())
        assert services.settings_of("listener")["api_key"] == "very-secret-key-a"
        shown = next(s for s in services.describe() if s.name == "listener")
        assert shown.settings["api_key"] == "set" and shown.enabled is False
    with in_tenant(tenant_b):
        services.configure("listener", {"batch": 3})
        row = db.session.execute(select(TenantPlugin)).scalar_one()
        row.sealed_secrets = sealed  # council A's sealed secrets copied onto B's row
        db.session.flush()
        with pytest.raises(Exception, match="(?i)decrypt|tag|authenticat"):
            services.settings_of("listener")


# ---------------------------------------------------------------------------------------
# The outbox and durable calls


def test_an_event_is_written_in_the_same_transaction_and_relayed_to_each_enabled_listener(
        tenant_a: Any, tenant_b: Any, use_plugins: Any) -> None:
    one, two = Listener("one"), Listener("two")
    use_plugins(one=one, two=two)
    with in_tenant(tenant_a):
        services.set_enabled("one", True)
        services.set_enabled("two", True)
        services.configure("one", {"batch": 7})
        db.session.commit()
        rolled_back = calls.emit("child.updated", {"child_id": str(uuid.uuid4())})
        assert rolled_back is not None
        db.session.rollback()  # the change was abandoned: so is its event, and nothing is called
        assert db.session.execute(select(OutboxEvent)).scalars().all() == []
        event = calls.emit("child.updated", {"child_id": "c-1"})
        db.session.commit()  # after commit the relay runs (inline here), then each call
        db.session.expire_all()
        assert db.session.get(OutboxEvent, event.id).status == OutboxStatus.RELAYED
        made = db.session.execute(select(PluginCall).order_by(PluginCall.plugin)).scalars().all()
        assert [(c.plugin, c.status) for c in made] == [("one", CallStatus.SUCCEEDED), ("two", CallStatus.SUCCEEDED)]
    assert one.heard == [(tenant_a.slug, "child.updated", {"url": "https://partner.example/hook", "batch": 7,
                                                           "api_key": ""})]
    assert [h[:2] for h in two.heard] == [(tenant_a.slug, "child.updated")]
    with in_tenant(tenant_b):
        assert calls.emit("child.updated", {"child_id": "c-2"}) is None  # nobody listens in B: nothing kept
        db.session.commit()
    assert len(one.heard) == 1


def test_payloads_are_ids_and_codes_only(tenant_a: Any, use_plugins: Any) -> None:
    use_plugins(listener=Listener())
    with in_tenant(tenant_a), pytest.raises(TypeError):
        calls.emit("child.updated", {"child": {"name": "Ada"}})


def test_relaying_twice_makes_one_call_per_plugin(tenant_a: Any, use_plugins: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    with in_tenant(tenant_a):
        services.set_enabled("listener", True)
        listener.fail_with = PartnerUnavailable("down")
        event = calls.emit("case.event_recorded", {"case_id": "k"})
        db.session.commit()
        db.session.get(OutboxEvent, event.id).status = OutboxStatus.PENDING  # as if the relay died before marking
        db.session.flush()
        calls.relay_outbox.spec.func()
        calls.relay_outbox.spec.func()
        assert db.session.execute(select(PluginCall)).scalars().all().__len__() == 1


def test_one_plugin_failing_never_stops_another_and_is_retried_with_backoff(tenant_a: Any,
                                                                             use_plugins: Any) -> None:
    broken, fine = Listener("broken"), Listener("fine")
    use_plugins(broken=broken, fine=fine)
    broken.fail_with = PartnerUnavailable("partner answered 503")
    with in_tenant(tenant_a):
        services.set_enabled("broken", True)
        services.set_enabled("fine", True)
        calls.emit("child.updated", {"child_id": "x"})
        db.session.commit()
        by_plugin = {c.plugin: c for c in db.session.execute(select(PluginCall)).scalars()}
        assert by_plugin["fine"].status == CallStatus.SUCCEEDED
        failed = by_plugin["broken"]
        assert failed.status == CallStatus.RETRYING and failed.attempts == 1
        assert "503" in failed.last_error
        assert failed.next_attempt_at > utcnow() + dt.timedelta(seconds=calls.BACKOFF[0] - 5)
        assert [c.id for c in calls.calls_needing_attention()] == [failed.id]
        # Not due yet: the sweep leaves it alone.
        calls.sweep.spec.func()
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(PluginCall, failed.id).attempts == 1
        # Its time comes, the partner is back: the sweep queues it and it goes through once.
        broken.fail_with = None
        db.session.get(PluginCall, failed.id).next_attempt_at = utcnow() - dt.timedelta(seconds=1)
        db.session.flush()
        calls.sweep.spec.func()
        db.session.commit()
        db.session.expire_all()
        done = db.session.get(PluginCall, failed.id)
        assert (done.status, done.attempts, done.last_error) == (CallStatus.SUCCEEDED, 2, "")
    assert len(broken.heard) == 1 and len(fine.heard) == 1


def test_a_permanent_failure_stops_at_once_and_waits_for_the_admins_retry(tenant_a: Any,
                                                                           use_plugins: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    listener.fail_with = PermanentFailure("partner refused the request: 400 invalid identifier")
    with in_tenant(tenant_a):
        services.set_enabled("listener", True)
        calls.emit("child.updated", {"child_id": "x"})
        db.session.commit()
        call = db.session.execute(select(PluginCall)).scalar_one()
        assert call.status == CallStatus.FAILED and call.attempts == 1 and call.finished_at is not None
        calls.sweep.spec.func()  # failed calls are not retried by themselves
        db.session.commit()
        assert db.session.get(PluginCall, call.id).attempts == 1
        listener.fail_with = None
        calls.retry_call(call.id)
        db.session.commit()
        db.session.expire_all()
        again = db.session.get(PluginCall, call.id)
        assert (again.status, again.attempts) == (CallStatus.SUCCEEDED, 1)
        with pytest.raises(Conflict):
            calls.retry_call(call.id)
        with pytest.raises(NotFound):
            calls.retry_call("not-an-id")


def test_calls_give_up_after_the_last_attempt(tenant_a: Any, use_plugins: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    listener.fail_with = RuntimeError("boom")
    with in_tenant(tenant_a):
        services.set_enabled("listener", True)
        calls.emit("child.updated", {"child_id": "x"})
        db.session.commit()
        call = db.session.execute(select(PluginCall)).scalar_one()
        for _ in range(calls.MAX_ATTEMPTS - 1):
            db.session.expire_all()
            db.session.get(PluginCall, call.id).next_attempt_at = utcnow() - dt.timedelta(seconds=1)
            db.session.flush()
            calls.sweep.spec.func()
            db.session.commit()
        db.session.expire_all()
        final = db.session.get(PluginCall, call.id)
        assert (final.status, final.attempts) == (CallStatus.FAILED, calls.MAX_ATTEMPTS)


def test_a_call_interrupted_mid_run_is_taken_up_again_and_a_finished_one_is_never_repeated(
        tenant_a: Any, use_plugins: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    with in_tenant(tenant_a):
        services.set_enabled("listener", True)
        call = calls.schedule_call("on_integration_event", "outbox:none", {"event_id": str(uuid.uuid4())})[0]
        # A worker claimed it and was killed: the row says "running" since long ago.
        call.status = CallStatus.RUNNING
        call.attempts = 1
        call.next_attempt_at = utcnow() - dt.timedelta(seconds=calls.CALL_TIME_LIMIT + 1)
        db.session.flush()
        assert calls.run_call.spec.func(str(call.id)) == "failed"  # its event is gone: a permanent failure
        assert db.session.get(PluginCall, call.id).attempts == 2
        assert calls.run_call.spec.func(str(call.id)) == "skipped"
        # A call still within its time limit is not taken from the worker running it.
        fresh = calls.schedule_call("on_integration_event", "outbox:other", {"event_id": str(uuid.uuid4())})[0]
        fresh.status = CallStatus.RUNNING
        fresh.next_attempt_at = utcnow()
        db.session.flush()
        assert calls.run_call.spec.func(str(fresh.id)) == "skipped"


def test_a_call_for_a_plugin_the_council_has_since_turned_off_fails_visibly(tenant_a: Any, use_plugins: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    listener.fail_with = PartnerUnavailable("down")
    with in_tenant(tenant_a):
        services.set_enabled("listener", True)
        calls.emit("child.updated", {"child_id": "x"})
        db.session.commit()
        db.session.expire_all()
        services.set_enabled("listener", False)
        listener.fail_with = None
        call = db.session.execute(select(PluginCall)).scalar_one()
        call.next_attempt_at = utcnow() - dt.timedelta(seconds=1)
        db.session.flush()
        calls.sweep.spec.func()
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(PluginCall, call.id).status == CallStatus.FAILED
        assert "not enabled" in db.session.get(PluginCall, call.id).last_error
    assert listener.heard == []


def test_hook_on_integration_event_runs_when_a_case_event_is_recorded(tenant_a: Any, use_plugins: Any,
                                                                      make_case: Any) -> None:
    listener = Listener()
    use_plugins(listener=listener)
    with in_tenant(tenant_a):
        services.set_enabled("listener", True)
        db.session.commit()
    case = make_case(tenant_a, [{"type": "request_received", "date": dt.date(2026, 9, 1).isoformat()}])
    topics = [h[1] for h in listener.heard]
    assert topics and set(topics) == {"case.event_recorded"}
    with in_tenant(tenant_a):
        payloads = [e.payload for e in db.session.execute(select(OutboxEvent)).scalars()]
    assert {p["case_id"] for p in payloads} == {str(case.id)}
    assert all(set(p) == {"case_id", "child_id", "event_id", "type", "advice_id"} for p in payloads)


def test_plugin_tables_are_tenant_owned_under_row_level_security(tenant_a: Any, owner_engine: Any) -> None:
    if db.dialect_name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    with owner_engine.connect() as conn:
        rows = conn.execute(text("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                                 "WHERE relname IN ('tenant_plugin', 'plugin_call', 'outbox_event')")).all()
    assert sorted(rows) == [("outbox_event", True, True), ("plugin_call", True, True), ("tenant_plugin", True, True)]


def test_every_hook_with_data_to_look_up_has_its_builder_registered_by_a_known_module() -> None:
    """A worker that imported nothing else still rebuilds every call's arguments."""
    import ast
    import subprocess
    import sys

    code = ("from core.plugins import calls; calls._load_registrars(); "
            "print(sorted(calls._BUILDERS))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert ast.literal_eval(out) == sorted(["on_integration_event", "delivery_for_notification", "on_health_advice_requested",
                                "on_social_care_advice_requested", "on_health_body_notification",
                                "health_advice_for_request", "social_care_advice_for_request"])
