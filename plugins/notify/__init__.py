"""GOV.UK Notify: e-mails, text messages and letters with each council's own templates (issue #5).

A council's Notify service holds its templates; this plugin maps the platform's message
kinds (``Notification.template``: ``deadline_reminder``, ``statutory_notice``) and channels
(e-mail, SMS, letter) to that council's template ids, one setting each
(``template_<kind>_<channel>``), and sends with the council's own API key. A kind the
council has not given a template for fails permanently, naming the setting to fill in, so
the tenant admin sees it on the integrations page instead of a message going nowhere.

Idempotency: ``notification.id`` is sent as Notify's ``reference``. Notify itself does not
refuse a second message with the same reference, so before sending we ask Notify for a
notification with that reference and return it if it exists: a retry after a worker died
between Notify accepting and our commit tells nobody twice.

Errors (https://docs.notifications.service.gov.uk/python.html#error-codes): 5xx, 429 (rate
or daily limit) and connection errors are temporary (``PartnerUnavailable``, retried with
backoff); 400 and 403 (a bad template, personalisation or key) are not (``PermanentFailure``,
with Notify's own message, any recipient details blanked out).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from notifications_python_client import NotificationsAPIClient
from notifications_python_client.errors import APIError, InvalidResponse

from core.plugin_api import (
    DeliveryReceipt,
    Notification,
    PartnerUnavailable,
    PermanentFailure,
    Setting,
    SettingsSchema,
    TenantInfo,
    hookimpl,
    https_url,
)

NAME = "notify"
TITLE = "GOV.UK Notify (e-mails, text messages and letters)"
PLUGIN_API = ((1, 0), (2, 0))

DEFAULT_BASE_URL = "https://api.notifications.service.gov.uk"
#: Seconds to wait for Notify before treating it as unavailable (a job has 110 s in all).
TIMEOUT = 20

#: What the platform sends (``Notification.template``) and, for each, the personalisation it
#: fills in: the council's Notify template may use any of these ``((placeholders))``.
MESSAGES: Mapping[str, tuple[str, ...]] = {
    # To the council's own caseworker: a statutory deadline due soon or missed.
    "deadline_reminder": ("caseworker_name", "child_initials", "deadline", "citation", "due_date", "status",
                          "case_link"),
    # To a family: a notice the law requires (e.g. a decision under CFA 2014 s36(9) or reg 5(3)).
    "statutory_notice": ("recipient_name", "notice", "citation", "date", "case_reference"),
}
CHANNELS = ("email", "sms", "letter")

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#: ``<key name>-<service id>-<secret>``, as Notify shows a new API key once.
_API_KEY = re.compile(rf"^(?P<name>\S.*?)-(?P<service>{_UUID})-(?P<secret>{_UUID})$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

# The client logs every failed request with Notify's error text, which can quote a recipient's
# address or number; core/logs.py allows no personal data in logs. We record the failure
# ourselves, redacted, on the plugin call the tenant admin sees.
logging.getLogger("notifications_python_client").setLevel(logging.ERROR)


def template_setting(kind: str, channel: str) -> str:
    return f"template_{kind}_{channel}"


def _api_key(value: str) -> str | None:
    if _API_KEY.match(value.strip()):
        return None
    # Never echo the value: it is a secret.
    return "must be a Notify API key: its name, then the service id and the secret key, joined by hyphens"


def _uuid(value: str) -> str | None:
    try:
        uuid.UUID(value)
    except ValueError:
        return "must be an id copied from Notify, like 0f9b5a56-7f37-4b5c-9d0a-2c1f3a0b6e11"
    return None


def _notify_url(value: str) -> str | None:
    """https:// for the real Notify; http:// only to this machine (a local stub in tests)."""
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return None
    return "must be an https:// web address"


def _schema() -> SettingsSchema:
    keys: dict[str, Setting] = {
        "api_key": Setting(str, None, "The council's Notify API key (a live key, or a test key before go-live)",
                           validators=(_api_key,), optional=True, secret=True),
        "base_url": Setting(str, DEFAULT_BASE_URL, "Notify's API address", validators=(_notify_url,)),
        "email_reply_to_id": Setting(str, None, "Reply-to address id for e-mails (from Notify's settings)",
                                     validators=(_uuid,), optional=True),
        "sms_sender_id": Setting(str, None, "Text message sender id (from Notify's settings)",
                                 validators=(_uuid,), optional=True),
        "service_url": Setting(str, None, "This council's Sendbridge address, for links to cases in e-mails "
                                          "to its own staff (e.g. https://kent.sendbridge.example)",
                               validators=(https_url(),), optional=True),
    }
    for kind in MESSAGES:
        for channel in CHANNELS:
            keys[template_setting(kind, channel)] = Setting(
                str, None, f"Notify template id for {kind.replace('_', ' ')}s by {channel}",
                validators=(_uuid,), optional=True)
    return SettingsSchema(NAME, keys)


SETTINGS = _schema()


def _client(settings: Mapping[str, Any]) -> NotificationsAPIClient:
    key = settings.get("api_key")
    if not key:
        raise PermanentFailure("no Notify API key is set (setting api_key)")
    return NotificationsAPIClient(key.strip(), base_url=settings.get("base_url") or DEFAULT_BASE_URL, timeout=TIMEOUT)


def _redacted(message: Any, notification: Notification) -> str:
    """Notify's error text, without anything about the recipient (it can quote the address)."""
    if isinstance(message, list):
        text = "; ".join(f"{e.get('error', '')}: {e.get('message', '')}" if isinstance(e, dict) else str(e)
                         for e in message)
    else:
        text = str(message)
    for value in (notification.to, *notification.personalisation.values()):
        for part in {value, *value.splitlines()}:
            if part and len(part.strip()) > 2:
                text = text.replace(part.strip(), "[redacted]")
    return text[:500]


def _translate(exc: APIError, notification: Notification) -> Exception:
    status = exc.status_code
    if isinstance(exc, InvalidResponse) or status >= 500 or status == 429:
        return PartnerUnavailable(f"Notify answered {status}: {_redacted(exc.message, notification)}")
    return PermanentFailure(f"Notify refused the message ({status}): {_redacted(exc.message, notification)}")


def _already_sent(client: NotificationsAPIClient, notification: Notification) -> str | None:
    """Notify's id for a notification we sent earlier with this reference, if any."""
    found = client.get_all_notifications(template_type=notification.channel, reference=str(notification.id))
    for item in (found or {}).get("notifications", []):
        if item.get("reference") == str(notification.id):
            return str(item["id"])
    return None


@hookimpl
def delivery_for_notification(tenant: TenantInfo, notification: Notification) -> DeliveryReceipt | None:
    settings = tenant.settings
    if notification.channel not in CHANNELS:
        return None
    setting = template_setting(notification.template, notification.channel)
    if notification.template not in MESSAGES:
        raise PermanentFailure(f"Notify has no template kind {notification.template!r}")
    template_id = settings.get(setting)
    if not template_id:
        raise PermanentFailure(f"no Notify template is set for {notification.template} by {notification.channel} "
                               f"(setting {setting})")
    client = _client(settings)
    reference = str(notification.id)
    personalisation = dict(notification.personalisation)
    if "case_link" in MESSAGES[notification.template] and "case_path" in personalisation:
        base = (settings.get("service_url") or "").rstrip("/")
        personalisation["case_link"] = base + personalisation.pop("case_path")
    try:
        existing = _already_sent(client, notification)
        if existing is not None:
            return DeliveryReceipt(notification.id, NAME, existing)
        if notification.channel == "email":
            response = client.send_email_notification(
                email_address=notification.to, template_id=template_id, personalisation=personalisation,
                reference=reference, email_reply_to_id=settings.get("email_reply_to_id"))
        elif notification.channel == "sms":
            response = client.send_sms_notification(
                phone_number=notification.to, template_id=template_id, personalisation=personalisation,
                reference=reference, sms_sender_id=settings.get("sms_sender_id"))
        else:
            # A letter's address is its first lines of personalisation (address_line_1..7);
            # Notify needs at least three, the last a postcode or a country.
            lines = [line.strip() for line in notification.to.splitlines() if line.strip()]
            if not 3 <= len(lines) <= 7:
                raise PermanentFailure("a letter needs an address of 3 to 7 lines")
            personalisation.update({f"address_line_{i}": line for i, line in enumerate(lines, start=1)})
            response = client.send_letter_notification(template_id=template_id, personalisation=personalisation,
                                                       reference=reference)
    except APIError as exc:
        raise _translate(exc, notification) from None
    return DeliveryReceipt(notification_id=notification.id, provider=NAME, provider_reference=str(response["id"]))
