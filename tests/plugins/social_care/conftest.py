"""A children's social care REST API on 127.0.0.1 (a real HTTP server in a thread, port 0),
shaped differently from the plugin's defaults so that the council's field mapping is what is
tested. It checks the API key, records requests, keeps advice requests by their idempotency
key (409 for a repeat), and serves advice once a test "returns" it."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

import plugins.social_care as social_care
from tests.plugins.stub_server import serve, stop  # noqa: F401  (tests import stop from here)

API_KEY = "sc-key-123"
PDF = b"%PDF-1.4\n% social care advice\n%%EOF\n"
UPN = "L201234567890"  # check letter valid (DfE UPN guidance)


@dataclass
class SocialCareStub:
    #: UPN -> the system's own status record.
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: reference -> the advice request as posted.
    advice_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: reference -> the advice answer.
    advice: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    fail_with: int | None = None
    refuse_posts_with: int | None = None
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api"

    def return_advice(self, reference: str, data: bytes = PDF, advice_id: str = "LCS-77") -> None:
        self.advice[reference] = {"id": advice_id, "status": "returned", "returned_on": "2026-03-04",
                                  "filename": "Social care advice.pdf", "content": base64.b64encode(data).decode()}

    def answer(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        if self.fail_with:
            return self.fail_with, {"error": "unavailable"}
        if headers.get("x-api-key") != API_KEY:
            return 401, {"error": "bad key"}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "GET" and len(parts) == 4 and parts[:2] == ["api", "children"] and parts[3] == "status":
            record = self.statuses.get(parts[2])
            return (200, record) if record else (404, {"error": "not known"})
        if method == "POST" and parts == ["api", "advice-requests"]:
            if self.refuse_posts_with:
                return self.refuse_posts_with, {"error": "invalid request"}
            key = headers.get("idempotency-key", "")
            if key in self.advice_requests:
                return 409, {"error": "already have it"}
            self.advice_requests[key] = body
            return 201, {"id": f"req-{len(self.advice_requests)}"}
        if method == "GET" and len(parts) == 4 and parts[:2] == ["api", "advice-requests"] and parts[3] == "advice":
            if parts[2] not in self.advice_requests:
                return 404, {"error": "no such request"}
            return 200, self.advice.get(parts[2], {"status": "pending"})
        return 404, {"error": "no such endpoint"}


def _handler(stub: SocialCareStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            with stub.lock:
                stub.requests.append((method, split.path, headers, body))
                status, payload = stub.answer(method, split.path, headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


def start(stub: SocialCareStub, port: int = 0) -> None:
    serve(stub, _handler(stub), port)


@pytest.fixture
def social_care_stub() -> Iterator[SocialCareStub]:
    stub = SocialCareStub()
    start(stub)
    yield stub
    stop(stub)


#: This council's system names things its own way: the mapping is the council's setting.
SETTINGS = {
    "api_key": API_KEY,
    "status_path": "/children/{upn}/status",
    "field_looked_after": "flags.lac",
    "field_child_in_need": "flags.cin",
    "field_child_protection_plan": "flags.cpp",
    "field_social_worker": "allocated_worker.name",
    "field_as_of": "recorded",
    "timeout_seconds": 5,
}


@pytest.fixture
def social_care_settings(social_care_stub: SocialCareStub) -> dict[str, Any]:
    return {**social_care.SETTINGS.defaults(), **SETTINGS, "base_url": social_care_stub.url}


def status_record(**flags: Any) -> dict[str, Any]:
    return {"flags": {"lac": True, "cin": False, "cpp": "no", **flags},
            "allocated_worker": {"name": "Jo Bloggs", "team": "Children in care"}, "recorded": "2026-11-20"}
