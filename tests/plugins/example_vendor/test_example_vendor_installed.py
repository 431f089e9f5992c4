"""Issue #5, "Done when": the example vendor plugin installs (its own package and entry point,
installed by the Makefile as a vendor's would be), is enabled for one council only, and works
there and nowhere else. Also the vendor kit around it: the ``sendbridge.testing`` pytest plugin
runs the vendor's own tests, and ``check_plugin`` refuses what the platform would refuse.

The partner is a real HTTPS server on 127.0.0.1 (``sendbridge_http_stub``, from the kit)."""

from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import os
import subprocess
import sys
import tomllib
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.cases.models import CaseEvent
from core.plugin_api import PartnerUnavailable, PupilRecord, SettingsSchema, hookimpl
from core.plugins import calls
from core.plugins.manager import PluginHost, host, load_plugins, use_host
from core.plugins.models import CallStatus, OutboxEvent, PluginCall
from core.plugins.services import call_enabled, configure, set_enabled
from tests.conftest import in_tenant
from web.testing import check_plugin

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ROOT / "plugins" / "example_vendor"
SECRET = "a-secret-only-council-a-and-the-vendor-share"
UPN = "A123456789012"


@pytest.fixture
def installed_host(app: Any) -> Iterator[PluginHost]:
    """The plugins as the platform loads them at start from the installed entry points, narrowed
    to the example vendor (the built-ins have their own tests); the test's host is restored."""
    previous = host()
    loaded = load_plugins(only=["example_vendor"])
    try:
        yield loaded
    finally:
        use_host(previous)


def _verify(headers: dict[str, str], body: bytes, secret: str) -> bool:
    parts = dict(p.split("=", 1) for p in headers["X-Sendbridge-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def _count(tenant: Any, model: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


# ---------------------------------------------------------------------------------------
# Installed as a separate package, found through its entry point


def test_the_example_vendor_is_a_separate_installed_package_found_by_its_entry_point(installed_host: Any) -> None:
    [ep] = [e for e in importlib.metadata.entry_points(group="sendbridge.plugins") if e.name == "example_vendor"]
    assert ep.value == "sendbridge_example_vendor"
    assert ep.dist is not None and ep.dist.metadata["Name"] == "sendbridge-example-vendor"
    module = ep.load()
    # Its code is the package under plugins/example_vendor/src, not a module of the platform.
    assert Path(module.__file__).resolve().is_relative_to(VENDOR / "src")
    assert installed_host.plugins["example_vendor"].module is module
    assert installed_host.plugins["example_vendor"].hooks == {"on_integration_event", "pupil_for_upn"}
    assert installed_host.plugins["example_vendor"].version == "1.0.0"
    check_plugin(module, name="example_vendor")


def test_the_platform_package_does_not_swallow_the_vendor_package() -> None:
    """The platform's packages.find takes plugins*; the vendor's source must not become
    ``plugins.example_vendor...`` in the platform's own distribution."""
    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = find_packages(where=str(ROOT), **config["tool"]["setuptools"]["packages"]["find"])
    assert "plugins.ctf" in packages  # the check is looking at the right thing
    assert not [p for p in packages if "example_vendor" in p]
    vendor = tomllib.loads((VENDOR / "pyproject.toml").read_text())
    assert vendor["project"]["entry-points"]["sendbridge.plugins"] == {"example_vendor": "sendbridge_example_vendor"}


# ---------------------------------------------------------------------------------------
# Enabled for council A only: works there and nowhere else


def test_hook_on_integration_event(installed_host: Any, tenant_a: Any, tenant_b: Any, make_case: Any,
                                   sendbridge_http_stub: Any) -> None:
    sendbridge_http_stub.route("POST", "/a", 204)
    sendbridge_http_stub.route("POST", "/b", 204)
    with in_tenant(tenant_a):
        set_enabled("example_vendor", True)
        configure("example_vendor", {"webhook_url": sendbridge_http_stub.url + "/a", "signing_secret": SECRET})
    with in_tenant(tenant_b):
        # Configured but never enabled: if the platform called it here, /b would hear of it.
        configure("example_vendor", {"webhook_url": sendbridge_http_stub.url + "/b", "signing_secret": SECRET})

    case_a = make_case(tenant_a, [{"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}])
    case_b = make_case(tenant_b, [{"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}])

    deliveries = sendbridge_http_stub.requests
    assert deliveries and {d.path for d in deliveries} == {"/a"}
    with in_tenant(tenant_a) as s:
        recorded = {str(e.id): e.type for e in s.execute(select(CaseEvent).where(CaseEvent.case_id == case_a.id))
                    .scalars()}
        states = s.execute(select(PluginCall.status)).scalars().all()
    bodies = [d.json() for d in deliveries]
    assert {b["payload"]["event_id"]: b["payload"]["type"] for b in bodies}.items() <= recorded.items()
    assert "decision_to_assess_made" in {b["payload"]["type"] for b in bodies}
    assert all(b["payload"]["case_id"] == str(case_a.id) and b["council"]["la_code"] == "901" for b in bodies)
    assert all(_verify(d.headers, d.body, SECRET) and d.headers["X-Sendbridge-Delivery"] == d.json()["id"]
               for d in deliveries)
    # Ids and codes only leave the council: no name of the child appears in what was sent.
    assert all(b"Child" not in d.body and b"Family" not in d.body for d in deliveries)
    assert states and set(states) == {CallStatus.SUCCEEDED}
    # Council B: nothing written to its outbox, no call made, nothing sent.
    assert case_b is not None and _count(tenant_b, OutboxEvent) == 0 and _count(tenant_b, PluginCall) == 0


def test_a_vendor_outage_is_retried_and_the_redelivery_carries_the_same_id(
        installed_host: Any, tenant_a: Any, make_case: Any, sendbridge_http_stub: Any) -> None:
    sendbridge_http_stub.route("POST", "/hook", 503, times=1)
    sendbridge_http_stub.route("POST", "/hook", 204)
    with in_tenant(tenant_a):
        set_enabled("example_vendor", True)
        configure("example_vendor", {"webhook_url": sendbridge_http_stub.url + "/hook", "signing_secret": SECRET})
        call_count_before = len(sendbridge_http_stub.requests)
    make_case(tenant_a)
    with in_tenant(tenant_a) as s:
        waiting = s.execute(select(PluginCall).where(PluginCall.status == CallStatus.RETRYING)).scalars().all()
    assert len(waiting) == 1 and waiting[0].last_error.startswith("PartnerUnavailable")
    with in_tenant(tenant_a):
        calls.retry_call(waiting[0].id)  # an administrator's Retry; the job runs after commit
    with in_tenant(tenant_a) as s:
        assert s.get(PluginCall, waiting[0].id).status == CallStatus.SUCCEEDED
    first, *_, last = sendbridge_http_stub.requests[call_count_before:]
    assert first.headers["X-Sendbridge-Delivery"] == last.headers["X-Sendbridge-Delivery"]
    assert first.json()["id"] == last.json()["id"]


def test_hook_pupil_for_upn(installed_host: Any, tenant_a: Any, tenant_b: Any, sendbridge_http_stub: Any) -> None:
    pupil = {"upn": UPN, "given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "2015-12-10",
             "sen_provision": "E", "sen_needs": ["ASD"]}
    sendbridge_http_stub.route("GET", f"/a/pupils/{UPN}", 200, pupil, times=1)
    sendbridge_http_stub.route("GET", f"/a/pupils/{UPN}", 503)
    sendbridge_http_stub.route("GET", f"/b/pupils/{UPN}", 200, pupil)
    with in_tenant(tenant_a):
        set_enabled("example_vendor", True)
        configure("example_vendor", {"api_url": sendbridge_http_stub.url + "/a", "api_token": "token-a"})
    with in_tenant(tenant_b):
        configure("example_vendor", {"api_url": sendbridge_http_stub.url + "/b", "api_token": "token-b"})

    with in_tenant(tenant_a):
        found = call_enabled("pupil_for_upn", upn=UPN)
    assert isinstance(found, PupilRecord) and (found.family_name, found.sen_provision, found.sen_needs) == \
        ("Lovelace", "E", ("ASD",))
    assert sendbridge_http_stub.requests[-1].headers["Authorization"] == "Bearer token-a"
    with in_tenant(tenant_b):
        assert call_enabled("pupil_for_upn", upn=UPN) is None
    assert [r.path for r in sendbridge_http_stub.requests] == [f"/a/pupils/{UPN}"]
    with in_tenant(tenant_a), pytest.raises(PartnerUnavailable):
        call_enabled("pupil_for_upn", upn=UPN)


# ---------------------------------------------------------------------------------------
# The vendor kit: sendbridge.testing


def test_the_vendor_runs_its_own_tests_with_the_sendbridge_testing_plugin(tmp_path: Path) -> None:
    """What a vendor does in their own repository: ``pytest``, with the platform installed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SENDBRIDGE_TEST_DB_NAME"))}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp",
                             str(tmp_path / "vendor")], cwd=VENDOR, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout


def test_sendbridge_testing_is_a_registered_pytest_plugin_that_leaves_this_suite_alone(
        request: pytest.FixtureRequest) -> None:
    import web.testing

    [ep] = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "sendbridge.testing"]
    assert ep.value == "web.testing"
    assert request.config.pluginmanager.get_plugin("sendbridge.testing") is web.testing
    fixtures = {name: obj._fixture_function_marker for name, obj in vars(web.testing).items()
                if hasattr(obj, "_fixture_function_marker")}
    assert {"sendbridge_app", "sendbridge_council", "sendbridge_plugin_host", "sendbridge_enable_plugin",
            "sendbridge_call_hook", "sendbridge_http_stub"} <= set(fixtures)
    assert all(name.startswith("sendbridge_") and not marker.autouse and marker.name is None
               for name, marker in fixtures.items())
    assert not [name for name in vars(web.testing) if name.startswith("pytest_")]  # no hooks


def _plugin(name: str = "vendor_x", **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.NAME = name  # type: ignore[attr-defined]
    module.TITLE = "Vendor X"  # type: ignore[attr-defined]
    module.PLUGIN_API = ((1, 0), (2, 0))  # type: ignore[attr-defined]
    module.SETTINGS = SettingsSchema(name, {})  # type: ignore[attr-defined]

    @hookimpl
    def pupil_for_upn(tenant: Any, upn: str) -> None:
        return None

    module.pupil_for_upn = pupil_for_upn  # type: ignore[attr-defined]
    for key, value in attrs.items():
        setattr(module, key, value)
    return module


@hookimpl
def pupil_for_nhs_number(tenant: Any, nhs_number: str) -> None:  # no such hook
    return None


@hookimpl
def patient_for_nhs_number(tenant: Any, nhs: str) -> None:  # the argument is nhs_number
    return None


@pytest.mark.parametrize(("attrs", "entry_point", "problem"), [
    ({}, "vendor_y", "NAME is 'vendor_x' but the entry point is called 'vendor_y'"),
    ({"NAME": "Vendor-X"}, None, "NAME must be lower-case"),
    ({"TITLE": ""}, None, "TITLE must be a non-empty string"),
    ({"PLUGIN_API": ((2, 0), (3, 0))}, None, "does not include the platform's (1, 0)"),
    ({"PLUGIN_API": "1.0"}, None, "PLUGIN_API must be"),
    ({"SETTINGS": {"url": "x"}}, None, "SETTINGS must be a core.plugin_api.SettingsSchema"),
    ({"SETTINGS": SettingsSchema("someone_else", {})}, None, "SETTINGS is named 'someone_else'"),
    ({"pupil_for_nhs_number": pupil_for_nhs_number}, None, "pupil_for_nhs_number"),
    ({"patient_for_nhs_number": patient_for_nhs_number}, None, "nhs"),
])
def test_check_plugin_refuses_what_the_platform_would_refuse(attrs: dict[str, Any], entry_point: str | None,
                                                             problem: str) -> None:
    check_plugin(_plugin())  # the base is valid, so each case fails for its own reason
    with pytest.raises(AssertionError) as refused:
        check_plugin(_plugin(**attrs), name=entry_point)
    assert problem in str(refused.value)


def test_the_http_stub_answers_in_order_and_records_requests(sendbridge_http_stub: Any) -> None:
    import urllib.error
    import urllib.request

    sendbridge_http_stub.route("GET", "/x", 503, times=1)
    sendbridge_http_stub.route("GET", "/x", 200, {"ok": True})
    with pytest.raises(urllib.error.HTTPError) as first:
        urllib.request.urlopen(sendbridge_http_stub.url + "/x?try=1", timeout=10)
    assert first.value.code == 503
    first.value.close()
    with urllib.request.urlopen(sendbridge_http_stub.url + "/x", timeout=10) as resp:  # verified TLS
        assert resp.status == 200 and resp.read() == b'{"ok": true}'
    requests = pytest.importorskip("requests")  # what plugins/fhir uses: trusted the same way
    assert requests.get(sendbridge_http_stub.url + "/x", timeout=10).json() == {"ok": True}
    with pytest.raises(urllib.error.HTTPError) as unrouted:
        urllib.request.urlopen(sendbridge_http_stub.url + "/y", timeout=10)
    assert unrouted.value.code == 404
    unrouted.value.close()
    assert [(r.method, r.path) for r in sendbridge_http_stub.requests] == [("GET", "/x?try=1"), ("GET", "/x"),
                                                                           ("GET", "/x"), ("GET", "/y")]
