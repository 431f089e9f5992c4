"""Example Vendor: a council's case events to the vendor's webhook, and pupils from its MIS API.

A third-party Sendbridge plugin, shipped as a package of its own (``sendbridge-example-vendor``)
and found by the platform through the ``sendbridge.plugins`` entry point. It imports nothing of
the platform but ``core.plugin_api`` (see the platform's docs/plugins/guide.md).

Webhook deliveries are signed so the vendor can tell they came from the council's platform:
``X-Sendbridge-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the
council's signing secret (the timestamp lets the receiver refuse replays), and carry
``X-Sendbridge-Delivery: <event id>`` so the vendor can drop a delivery it has already had:
the platform retries until it sees a 2xx, so the same event may arrive more than once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from core.plugin_api import (
    IntegrationEvent,
    PartnerUnavailable,
    PermanentFailure,
    PupilRecord,
    Setting,
    SettingsSchema,
    TenantInfo,
    hookimpl,
    https_url,
    max_length,
)

__version__ = "1.0.0"

NAME = "example_vendor"
TITLE = "Example Vendor (case events and pupil records)"
#: Written for plugin API 1.x: every 1.y is additive, so any of them will do.
PLUGIN_API = ((1, 0), (2, 0))

SETTINGS = SettingsSchema(NAME, {
    "webhook_url": Setting(str, "", "Where the council's case events are sent (https)", validators=(https_url(),)),
    "signing_secret": Setting(str, "", "Shared secret the webhook deliveries are signed with (HMAC-SHA256)",
                              validators=(max_length(200),), secret=True),
    "api_url": Setting(str, "", "Base address of the vendor's MIS API (https); empty: no pupil look-ups",
                       validators=(https_url(),)),
    "api_token": Setting(str, "", "Bearer token for the vendor's MIS API", validators=(max_length(500),),
                         secret=True),
})

#: Seconds to wait for the vendor; a job has a time limit of its own, and a slow vendor is
#: better retried later than waited on.
TIMEOUT = 10
USER_AGENT = f"sendbridge-example-vendor/{__version__}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: a webhook that moves must be reconfigured by the council, not
    followed to wherever it points (and a POST's body re-sent there)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _send(request: urllib.request.Request) -> tuple[int, bytes]:
    """The status and body of an HTTP exchange; the vendor being unreachable, slow or failing
    (5xx, 429) is :class:`PartnerUnavailable`, so the platform retries with backoff."""
    try:
        with _opener.open(request, timeout=TIMEOUT) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:  # the error is also the response: close its connection
            status, body = exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise PartnerUnavailable(f"Example Vendor did not answer: {getattr(exc, 'reason', exc)}") from None
    if status >= 500 or status == 429:
        raise PartnerUnavailable(f"Example Vendor answered {status}")
    return status, body


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Sendbridge-Signature`` header value (the vendor's receiver computes the same)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@hookimpl
def on_integration_event(tenant: TenantInfo, event: IntegrationEvent) -> None:
    settings = tenant.settings
    if not settings["webhook_url"] or not settings["signing_secret"]:
        # Retrying cannot help until an administrator configures the plugin: say so at once.
        raise PermanentFailure("Example Vendor: set webhook_url and signing_secret for this council")
    # Ids and codes only, as the platform's events carry: never a child's personal data.
    body = json.dumps({
        "id": str(event.id),
        "topic": event.topic,
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(),
        "council": {"la_code": tenant.la_code, "slug": tenant.slug},
        "payload": dict(event.payload),
    }, sort_keys=True, separators=(",", ":")).encode()
    request = urllib.request.Request(settings["webhook_url"], data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Sendbridge-Delivery": str(event.id),
        "X-Sendbridge-Signature": signature(settings["signing_secret"], int(time.time()), body),
    })
    status, _ = _send(request)
    if not 200 <= status < 300:
        raise PermanentFailure(f"Example Vendor refused the event: {status}")


@hookimpl
def pupil_for_upn(tenant: TenantInfo, upn: str) -> PupilRecord | None:
    api_url = tenant.settings["api_url"]
    if not api_url:
        return None  # this council does not use the vendor's MIS: let another plugin answer
    request = urllib.request.Request(
        f"{api_url.rstrip('/')}/pupils/{urllib.parse.quote(upn, safe='')}",
        headers={"Accept": "application/json", "Authorization": f"Bearer {tenant.settings['api_token']}",
                 "User-Agent": USER_AGENT})
    status, body = _send(request)
    if status == 404:
        return None
    if status != 200:
        raise PermanentFailure(f"Example Vendor refused the pupil look-up: {status}")
    try:
        data = json.loads(body)
        return PupilRecord(
            upn=data["upn"], given_name=data["given_name"], family_name=data["family_name"],
            date_of_birth=dt.date.fromisoformat(data["date_of_birth"]), urn=data.get("urn"),
            sen_provision=data.get("sen_provision"), sen_needs=tuple(data.get("sen_needs") or ()))
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentFailure(f"Example Vendor sent a pupil record we cannot read: {exc!r}"[:300]) from None
