"""Talking to a FHIR R4 server: one place that turns the partner's answers into what the
platform's retry logic understands.

* Connection refused, timeouts, 5xx, 429 and 408: the partner is down or busy, so
  ``PartnerUnavailable`` (the call is retried with backoff, the work is never dropped).
* Other 4xx: retrying the same request cannot help (a refused resource, a wrong token, a
  conditional create matching several resources), so ``PermanentFailure`` with the server's
  ``OperationOutcome`` diagnostics, which the council's admin sees.
* A body that is not a JSON object is a partner fault we cannot act on: ``PermanentFailure``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import requests

from core.plugin_api import PartnerUnavailable, PermanentFailure
from plugins.fhir.resources import decode_base64

FHIR_JSON = "application/fhir+json"
_RETRYABLE = {408, 429}


def _outcome_text(body: Any) -> str:
    """The diagnostics of an OperationOutcome, shortened (never the request we sent)."""
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        parts = []
        for issue in body.get("issue") or []:
            if isinstance(issue, dict):
                text = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code")
                if text:
                    parts.append(str(text))
        if parts:
            return "; ".join(parts)[:300]
    return ""


class FhirClient:
    """A FHIR server at ``base_url`` (the service root), with a bearer token if given."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 10.0):
        if not base_url:
            raise PermanentFailure("the FHIR server's address (base_url) is not set for this council")
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Accept": FHIR_JSON})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path.lstrip("/"))

    def same_server(self, url: str) -> bool:
        """Only follow absolute links to the configured server: the bearer token must never be
        sent to a host a resource names (a confused or hostile partner could name any)."""
        return url.startswith(self.base_url)

    def request(self, method: str, path_or_url: str, *, params: Mapping[str, str] | None = None,
                json: Any = None, headers: Mapping[str, str] | None = None,
                allow: tuple[int, ...] = ()) -> tuple[int, Any, requests.Response]:
        """Make one request; returns (status, parsed JSON or None, response). Statuses in
        ``allow`` are returned to the caller instead of raising."""
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self.url(path_or_url)
        if path_or_url.startswith(("http://", "https://")) and not self.same_server(url):
            raise PermanentFailure("the FHIR server pointed at another server; the link was not followed")
        send_headers = dict(headers or {})
        if json is not None:
            send_headers["Content-Type"] = FHIR_JSON
        try:
            response = self.session.request(method, url, params=params, json=json, headers=send_headers,
                                            timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise PartnerUnavailable(f"the FHIR server did not answer ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise PermanentFailure(f"the request to the FHIR server could not be made ({type(exc).__name__})") \
                from None
        status = response.status_code
        body = self._json(response)
        if status in allow:
            return status, body, response
        if status >= 500 or status in _RETRYABLE:
            raise PartnerUnavailable(f"the FHIR server answered {status} to {method} {_path(path_or_url)}")
        if status >= 400:
            detail = _outcome_text(body)
            raise PermanentFailure(f"the FHIR server refused {method} {_path(path_or_url)} with {status}"
                                   + (f": {detail}" if detail else ""))
        return status, body, response

    @staticmethod
    def _json(response: requests.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def binary(self, url: str) -> bytes:
        """The raw bytes of an attachment's ``url`` (a Binary on the same server)."""
        target = url if url.startswith(("http://", "https://")) else self.url(url)
        if not self.same_server(target):
            raise PermanentFailure("the advice attachment is on another server; it was not fetched")
        try:
            response = self.session.get(target, headers={"Accept": "*/*"}, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise PartnerUnavailable(f"the FHIR server did not answer ({type(exc).__name__})") from None
        if response.status_code >= 500 or response.status_code in _RETRYABLE:
            raise PartnerUnavailable(f"the FHIR server answered {response.status_code} for an attachment")
        if response.status_code >= 400:
            raise PermanentFailure(f"the FHIR server refused the advice attachment with {response.status_code}")
        content_type = response.headers.get("Content-Type", "")
        if "json" in content_type:
            # A FHIR Binary resource rather than the raw bytes.
            body = self._json(response)
            if not isinstance(body, dict) or body.get("resourceType") != "Binary" or not body.get("data"):
                raise PermanentFailure("the advice attachment is not a Binary with data")
            return decode_base64(body["data"], "Binary.data")
        return response.content


def _path(path_or_url: str) -> str:
    """What to name in an error: the resource path, without the query (which holds the NHS
    number or the identifier searched for)."""
    return path_or_url.split("?", 1)[0]
