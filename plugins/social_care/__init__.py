"""Social care: a configurable REST adapter (issue #5).

Children's social care systems differ from council to council, so nothing here is fixed but
the shape of the exchange; each council sets its system's address, key, paths and field names:

* ``social_care_status_for_child``: ``GET <status_path>`` (a template over the identifiers the
  council holds: ``{upn}``, ``{nhs_number}``, ``{local_id}``, ``{child_id}``), read through the
  council's field names into looked-after (CA 1989 s22), child-in-need (s17) and
  child-protection-plan status, and the named social worker. 404: not known there.
* ``on_social_care_advice_requested``: ``POST <advice_request_path>`` with the request (reg
  6(1)(e) advice), carrying an ``Idempotency-Key`` (the case and the advice id); a 409 means
  the system has it already, which is success.
* ``social_care_advice_for_request``: ``GET <advice_return_path>``; 404 or a body without
  content means not yet; otherwise the advice file (base64) and the system's own reference.

5xx, 408, 429, timeouts and refused connections raise ``PartnerUnavailable`` (retried); any
other refusal, or an answer that does not fit, raises ``PermanentFailure`` (shown to the admin).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import string
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urljoin

import requests

from core.plugin_api import (
    AdviceRequest, AdviceReturn, PartnerUnavailable, PermanentFailure, Setting, SettingsSchema, SocialCareStatus,
    TenantInfo, hookimpl, int_range, max_length,
)

NAME = "social_care"
TITLE = "Children's social care system (REST)"
PLUGIN_API = ((1, 0), (2, 0))
__version__ = "1.0.0"

_SECURE_URL = re.compile(r"^(https://[^\s/$.?#][^\s]*|http://(127\.0\.0\.1|localhost)(:\d+)?(/[^\s]*)?)$")
_PLACEHOLDERS = {"upn", "nhs_number", "local_id", "child_id", "case_id", "advice_id", "reference"}
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*)*$")


def secure_url() -> Any:
    """https only; plain http for the loopback interface alone (never leaves the machine)."""
    return lambda v: None if _SECURE_URL.match(v) else "must be an https:// web address"


def path_template() -> Any:
    def check(value: str) -> str | None:
        if not value.startswith("/"):
            return "must start with /"
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError:
            return "has an unmatched { or }"
        unknown = names - _PLACEHOLDERS
        return f"may only use {', '.join('{' + p + '}' for p in sorted(_PLACEHOLDERS))}" if unknown else None
    return check


def field_name() -> Any:
    return lambda v: None if _FIELD.match(v) else "must be a field name, or dotted path like status.looked_after"


def _field(help_: str, default: str) -> Setting:
    return Setting(str, default, help_, validators=(field_name(), max_length(100)))


SETTINGS = SettingsSchema(NAME, {
    "base_url": Setting(str, "", "The social care system's API address, https only", validators=(secure_url(),)),
    "api_key": Setting(str, "", "API key the social care system issued to the SEND service", secret=True),
    "api_key_header": Setting(str, "X-API-Key", "The header the API key is sent in", validators=(max_length(64),)),
    "status_path": Setting(str, "/children/{upn}/status",
                           "Path of a child's status; placeholders {upn}, {nhs_number}, {local_id}, {child_id}",
                           validators=(path_template(),)),
    "advice_request_path": Setting(str, "/advice-requests", "Path to POST a request for social care advice to",
                                   validators=(path_template(),)),
    "advice_return_path": Setting(str, "/advice-requests/{reference}/advice",
                                  "Path of the advice for a request; {reference} is the council's reference",
                                  validators=(path_template(),)),
    "field_looked_after": _field("Field saying the child is looked after (CA 1989 s22)", "looked_after"),
    "field_child_in_need": _field("Field saying the child is a child in need (CA 1989 s17)", "child_in_need"),
    "field_child_protection_plan": _field("Field saying the child has a child protection plan",
                                          "child_protection_plan"),
    "field_social_worker": _field("Field with the allocated social worker's name", "social_worker"),
    "field_as_of": _field("Field with the date the status was true on", "as_of"),
    "timeout_seconds": Setting(int, 10, "Seconds to wait before trying again later", validators=(int_range(1, 60),)),
})

_RETRYABLE = {408, 429}


class _Api:
    def __init__(self, tenant: TenantInfo):
        s = tenant.settings
        base = str(s.get("base_url") or "")
        if not base:
            raise PermanentFailure("the social care system's address (base_url) is not set for this council")
        self.base = base.rstrip("/") + "/"
        self.settings = s
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if s.get("api_key"):
            self.session.headers[str(s.get("api_key_header") or "X-API-Key")] = str(s["api_key"])
        self.timeout = float(s.get("timeout_seconds") or 10)

    def path(self, key: str, values: Mapping[str, str | None]) -> str | None:
        """The setting's path filled in (each value URL-quoted), or ``None`` when it needs an
        identifier the council does not hold for this child."""
        template = str(self.settings.get(key) or SETTINGS.keys[key].default)
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        if any(not values.get(n) for n in names):
            return None
        return template.format(**{n: quote(str(values[n]), safe="") for n in names})

    def call(self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None,
             allow: tuple[int, ...] = ()) -> tuple[int, Any]:
        url = urljoin(self.base, path.lstrip("/"))
        try:
            response = self.session.request(method, url, json=json, headers=dict(headers or {}), timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise PartnerUnavailable(f"the social care system did not answer ({type(exc).__name__})") from None
        status = response.status_code
        if status in allow:
            return status, _json(response)
        if status >= 500 or status in _RETRYABLE:
            raise PartnerUnavailable(f"the social care system answered {status}")
        if status >= 400:
            raise PermanentFailure(f"the social care system refused {method} with {status}")
        return status, _json(response)


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise PermanentFailure("the social care system answered with something that is not JSON") from None


def _lookup(body: Mapping[str, Any], dotted: str) -> Any:
    value: Any = body
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _flag(body: Mapping[str, Any], dotted: str) -> bool:
    value = _lookup(body, dotted)
    if value is None:
        return False  # not stated: the system records only what is true
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "y", "1"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "n", "0", ""):
        return False
    raise PermanentFailure(f"the social care system's {dotted!r} is not true or false")


def _date(value: Any, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PermanentFailure(f"the social care system's {what} is not a date")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise PermanentFailure(f"the social care system's {what} is not a date (YYYY-MM-DD)") from None


def reference(request: AdviceRequest) -> str:
    """The council's reference for a request: unique in the council, stable across retries."""
    return f"{request.case_id}-{request.advice_id}"


# ---------------------------------------------------------------------------------------
# Hooks


@hookimpl
def social_care_status_for_child(tenant: TenantInfo, child_id: uuid.UUID,
                                 identifiers: Mapping[str, str]) -> SocialCareStatus | None:
    api = _Api(tenant)
    path = api.path("status_path", {**identifiers, "child_id": str(child_id)})
    if path is None:
        return None  # the system is looked up by an identifier the council does not hold
    status, body = api.call("GET", path, allow=(404,))
    if status == 404:
        return None
    if not isinstance(body, Mapping):
        raise PermanentFailure("the social care system's status is not a JSON object")
    s = api.settings
    worker = _lookup(body, str(s.get("field_social_worker") or "social_worker"))
    if worker is not None and not isinstance(worker, str):
        raise PermanentFailure("the social care system's social worker is not a name")
    return SocialCareStatus(
        child_id=child_id,
        looked_after=_flag(body, str(s.get("field_looked_after") or "looked_after")),
        child_in_need=_flag(body, str(s.get("field_child_in_need") or "child_in_need")),
        child_protection_plan=_flag(body, str(s.get("field_child_protection_plan") or "child_protection_plan")),
        social_worker=(worker or None) and worker[:200],
        as_of=_date(_lookup(body, str(s.get("field_as_of") or "as_of")), "status date"),
    )


@hookimpl
def on_social_care_advice_requested(tenant: TenantInfo, request: AdviceRequest) -> None:
    api = _Api(tenant)
    ref = reference(request)
    path = api.path("advice_request_path", {"case_id": str(request.case_id), "advice_id": request.advice_id,
                                            "reference": ref, "child_id": str(request.child_id),
                                            "nhs_number": request.nhs_number})
    if path is None:
        raise PermanentFailure("the advice request path needs an identifier the council does not hold")
    payload = {
        "reference": ref,
        "kind": request.kind,
        "child": {"id": str(request.child_id), "nhs_number": request.nhs_number},
        "requested_on": request.requested_on.isoformat(),
        # SEND Regulations 2014 reg 8(1): advice within six weeks of the request.
        "due_on": request.due_on.isoformat(),
        "legal_basis": "SEND Regulations 2014 reg 6(1)(e)",
    }
    # 409: the system already has this reference (a retry after a lost answer): done.
    api.call("POST", path, json=payload, headers={"Idempotency-Key": ref}, allow=(409,))


@hookimpl
def social_care_advice_for_request(tenant: TenantInfo, request: AdviceRequest) -> AdviceReturn | None:
    api = _Api(tenant)
    ref = reference(request)
    path = api.path("advice_return_path", {"case_id": str(request.case_id), "advice_id": request.advice_id,
                                           "reference": ref, "child_id": str(request.child_id)})
    if path is None:
        raise PermanentFailure("the advice return path needs an identifier the council does not hold")
    status, body = api.call("GET", path, allow=(404,))
    if status == 404 or body is None:
        return None
    if not isinstance(body, Mapping):
        raise PermanentFailure("the social care system's advice is not a JSON object")
    if body.get("status") in ("pending", "in_progress", "requested"):
        return None
    external_id, content = body.get("id"), body.get("content")
    if not isinstance(external_id, (str, int)) or str(external_id) == "":
        raise PermanentFailure("the social care system's advice has no id")
    if not isinstance(content, str) or not content:
        raise PermanentFailure("the social care system's advice has no content")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise PermanentFailure("the social care system's advice content is not base64") from None
    filename = body.get("filename") if isinstance(body.get("filename"), str) else None
    return AdviceReturn(advice_id=request.advice_id,
                        received_on=_date(body.get("returned_on"), "returned_on") or dt.date.today(),
                        filename=filename or f"social-care-advice-{request.advice_id}", content=data,
                        external_id=f"social_care:{external_id}")
