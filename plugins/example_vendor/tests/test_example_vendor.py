"""The vendor's own tests, run with the platform's ``sendbridge.testing`` pytest plugin (installed
with the platform, nothing to configure): the real platform on a throwaway database, and the
vendor's system played by a real HTTPS server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from typing import Any

import pytest

import sendbridge_example_vendor as plugin
from core.plugin_api import PartnerUnavailable, PupilRecord
from web.testing import check_plugin, installed_plugin

SECRET = "vendor-shared-secret"
UPN = "A123456789012"
PUPIL = {"upn": UPN, "given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "2015-12-10",
         "urn": "100000", "sen_provision": "K", "sen_needs": ["SPLD", "SLCN"]}


def _verify(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """What the vendor's receiver does with a delivery."""
    parts = dict(p.split("=", 1) for p in headers["X-Sendbridge-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_the_plugin_is_valid_and_installed_under_its_name() -> None:
    check_plugin(plugin, name="example_vendor")
    assert installed_plugin("example_vendor") is plugin


def test_case_events_reach_the_webhook_signed_in_the_council_that_enabled_it(
        sendbridge_plugin_host: Any, sendbridge_enable_plugin: Any, sendbridge_emit_event: Any,
        sendbridge_http_stub: Any, sendbridge_council: Any, sendbridge_other_council: Any) -> None:
    sendbridge_plugin_host(example_vendor=plugin)
    sendbridge_http_stub.route("POST", "/hooks/sendbridge", 204)
    sendbridge_enable_plugin(sendbridge_council, "example_vendor", webhook_url=sendbridge_http_stub.url + "/hooks/sendbridge",
                             signing_secret=SECRET)
    case_id = str(uuid.uuid4())
    calls = sendbridge_emit_event(sendbridge_council, "case.event_recorded",
                                  {"case_id": case_id, "type": "final_plan_issued"})
    assert calls == [("example_vendor", "succeeded", "")]
    [delivery] = sendbridge_http_stub.requests
    body = delivery.json()
    assert body["topic"] == "case.event_recorded" and body["payload"]["case_id"] == case_id
    assert body["council"]["la_code"] == sendbridge_council.la_code
    assert delivery.headers["X-Sendbridge-Delivery"] == body["id"]
    assert _verify(delivery.headers, delivery.body, SECRET)
    assert not _verify(delivery.headers, delivery.body, "another secret")

    # The other council never enabled it: no event is even written, nothing is sent.
    assert sendbridge_emit_event(sendbridge_other_council, "case.event_recorded", {"case_id": case_id}) == []
    assert len(sendbridge_http_stub.requests) == 1


def test_a_vendor_outage_is_retried_and_a_refusal_is_not(sendbridge_plugin_host: Any, sendbridge_enable_plugin: Any,
                                                          sendbridge_emit_event: Any, sendbridge_http_stub: Any,
                                                          sendbridge_council: Any) -> None:
    sendbridge_plugin_host(example_vendor=plugin)
    sendbridge_http_stub.route("POST", "/down", 503)
    sendbridge_enable_plugin(sendbridge_council, "example_vendor", webhook_url=sendbridge_http_stub.url + "/down",
                             signing_secret=SECRET)
    [(_, status, error)] = sendbridge_emit_event(sendbridge_council, "case.event_recorded", {"case_id": "c1"})
    assert status == "retrying" and error.startswith("PartnerUnavailable")

    sendbridge_http_stub.route("POST", "/gone", 410)
    sendbridge_enable_plugin(sendbridge_council, "example_vendor", webhook_url=sendbridge_http_stub.url + "/gone")
    [(_, status, error)] = sendbridge_emit_event(sendbridge_council, "case.event_recorded", {"case_id": "c2"})
    assert status == "failed" and error.startswith("PermanentFailure")


def test_pupils_come_from_the_vendor_api(sendbridge_plugin_host: Any, sendbridge_enable_plugin: Any,
                                         sendbridge_call_hook: Any, sendbridge_http_stub: Any,
                                         sendbridge_council: Any, sendbridge_other_council: Any) -> None:
    sendbridge_plugin_host(example_vendor=plugin)
    # The vendor answers once, then falls over.
    sendbridge_http_stub.route("GET", f"/api/pupils/{UPN}", 200, PUPIL, times=1)
    sendbridge_http_stub.route("GET", f"/api/pupils/{UPN}", 502)
    sendbridge_enable_plugin(sendbridge_council, "example_vendor", api_url=sendbridge_http_stub.url + "/api",
                             api_token="token-1")
    pupil = sendbridge_call_hook(sendbridge_council, "pupil_for_upn", upn=UPN)
    assert pupil == PupilRecord(upn=UPN, given_name="Ada", family_name="Lovelace", date_of_birth=dt.date(2015, 12, 10),
                                urn="100000", sen_provision="K", sen_needs=("SPLD", "SLCN"))
    assert sendbridge_http_stub.requests[0].headers["Authorization"] == "Bearer token-1"
    assert sendbridge_call_hook(sendbridge_council, "pupil_for_upn", upn="Z999999999999") is None  # 404
    assert sendbridge_call_hook(sendbridge_other_council, "pupil_for_upn", upn=UPN) is None
    assert len(sendbridge_http_stub.requests) == 2  # the other council asked nobody

    with pytest.raises(PartnerUnavailable):
        sendbridge_call_hook(sendbridge_council, "pupil_for_upn", upn=UPN)
