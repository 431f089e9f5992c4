"""A local GOV.UK Notify API: a real HTTP server on 127.0.0.1 (port 0, in a thread).

It implements what the notify plugin uses, as Notify does
(https://docs.notifications.service.gov.uk/rest-api.html):

* ``POST /v2/notifications/email``, ``/sms`` and ``/letter``: 201 with the new notification's
  id; 400 ``BadRequestError`` for an unknown template, a template of another type, missing
  personalisation or a missing recipient;
* ``GET /v2/notifications?reference=...&template_type=...``: the notifications sent with that
  reference (what the plugin asks before sending, to never send twice);
* every request must carry ``Authorization: Bearer <JWT>``, HS256, signed with the secret part
  of one of the services' API keys, ``iss`` the service id, ``iat`` within 30 seconds: else
  403 ``AuthError``, as Notify answers.

Tests register services (one per council: its key and templates), read ``requests`` (what
arrived, with the service it authenticated as), make it fail (``fail_next(500)``, ``429``,
``400``) or ``stop()`` it (connection refused) and ``start()`` it again on the same port.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

_TYPES = {"/v2/notifications/email": "email", "/v2/notifications/sms": "sms", "/v2/notifications/letter": "letter"}
_RECIPIENT = {"email": "email_address", "sms": "phone_number"}


@dataclass(frozen=True)
class Template:
    id: str
    type: str
    #: The template's ((placeholders)): each must be in the personalisation.
    placeholders: tuple[str, ...] = ()


@dataclass
class Service:
    id: str
    secret: str
    templates: dict[str, Template] = field(default_factory=dict)

    @property
    def api_key(self) -> str:
        return f"sendbridge_live-{self.id}-{self.secret}"


@dataclass(frozen=True)
class Received:
    service_id: str
    method: str
    path: str
    body: dict[str, Any]
    notification_id: str | None = None


def new_service(templates: list[Template]) -> Service:
    return Service(id=str(uuid.uuid4()), secret=str(uuid.uuid4()), templates={t.id: t for t in templates})


class NotifyStub:
    def __init__(self) -> None:
        self.services: dict[str, Service] = {}
        self.requests: list[Received] = []
        #: Notifications accepted: (service id, reference) -> notification id.
        self.sent: list[tuple[str, str, str | None, str]] = []  # (service, type, reference, id)
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- control ---------------------------------------------------------------------

    def add_service(self, service: Service) -> Service:
        self.services[service.id] = service
        return service

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, status: int, times: int = 1) -> None:
        """The next ``times`` sends (POSTs, after authentication) answer ``status``."""
        with self._lock:
            self._failures.extend([status] * times)

    def posts(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]

    def start(self) -> NotifyStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                stub._handle(self, "GET")

            def do_POST(self) -> None:
                stub._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: the client then gets "connection refused", as when Notify is down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the API ---------------------------------------------------------------------

    def _authenticate(self, header: str) -> Service | None:
        if not header.startswith("Bearer "):
            return None
        token = header[len("Bearer "):]
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            service = self.services.get(str(issuer))
            if service is None:
                return None
            claims = jwt.decode(token, service.secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        if abs(time.time() - int(claims.get("iat", 0))) > 30:
            return None
        return service

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        service = self._authenticate(handler.headers.get("Authorization", ""))
        if service is None:
            return self._error(handler, 403, "AuthError", "Invalid token: signature, api token not found")
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._error(handler, 400, "BadRequestError", "Invalid JSON")
        with self._lock:
            failure = self._failures.pop(0) if self._failures and method == "POST" else None
        if failure is not None:
            self.requests.append(Received(service.id, method, parts.path, body))
            if failure == 429:
                return self._error(handler, 429, "RateLimitError", "Exceeded rate limit for key type LIVE of 3000 "
                                   "requests per 60 seconds")
            if failure >= 500:
                return self._error(handler, failure, "Exception", "Internal server error")
            return self._error(handler, failure, "BadRequestError", f"Can't send to this recipient: "
                               f"{body.get('email_address') or body.get('phone_number') or 'unknown'}")
        if method == "GET" and parts.path == "/v2/notifications":
            query = parse_qs(parts.query)
            reference = query.get("reference", [None])[0]
            kind = query.get("template_type", [None])[0]
            found = [{"id": nid, "reference": ref, "type": typ}
                     for sid, typ, ref, nid in self.sent
                     if sid == service.id and ref == reference and (kind is None or typ == kind)]
            self.requests.append(Received(service.id, method, parts.path, dict(query)))
            return self._reply(handler, 200, {"notifications": found, "links": {}})
        if method != "POST" or parts.path not in _TYPES:
            return self._error(handler, 404, "NotFound", "Not found")
        kind = _TYPES[parts.path]
        template = service.templates.get(str(body.get("template_id")))
        problem = None
        personalisation = body.get("personalisation") or {}
        if template is None:
            problem = "Template not found"
        elif template.type != kind:
            problem = f"{kind} template is not suitable for {template.type} notification"
        else:
            needed = list(template.placeholders)
            if kind == "letter":
                needed += ["address_line_1", "address_line_2", "address_line_3"]
            missing = [p for p in needed if p not in personalisation]
            if missing:
                problem = "Missing personalisation: " + ", ".join(missing)
            elif kind in _RECIPIENT and not body.get(_RECIPIENT[kind]):
                problem = f"{_RECIPIENT[kind]} is a required property"
        if problem:
            self.requests.append(Received(service.id, method, parts.path, body))
            return self._error(handler, 400, "BadRequestError", problem)
        notification_id = str(uuid.uuid4())
        self.requests.append(Received(service.id, method, parts.path, body, notification_id))
        self.sent.append((service.id, kind, body.get("reference"), notification_id))
        return self._reply(handler, 201, {"id": notification_id, "reference": body.get("reference"),
                                          "content": {}, "template": {"id": template.id}})

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @classmethod
    def _error(cls, handler: BaseHTTPRequestHandler, status: int, error: str, message: str) -> None:
        cls._reply(handler, status, {"status_code": status, "errors": [{"error": error, "message": message}]})
