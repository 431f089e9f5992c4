"""A small FHIR R4 server on 127.0.0.1 (a real HTTP server in a thread, port 0) for the fhir
plugin's tests: the only mock is at the HTTP boundary, as the house rules say.

It keeps resources in memory, answers searches by ``identifier=system|value``, reads by id,
and conditional creates (``If-None-Exist``) the way a FHIR server does: 201 for a new
resource, 200 with the existing one when the condition matches. It records every request.
``fail_with = 503`` makes it answer everything with that status; ``overrides`` replace the
answer to one (method, path).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import plugins.fhir as fhir_plugin
from plugins.fhir import resources as r
from tests.plugins.stub_server import serve, stop  # noqa: F401  (tests import stop from here)

#: A valid NHS number (modulus 11 check digit), as NHS England's test data uses.
NHS_NUMBER = "9434765919"
PDF = b"%PDF-1.4\n% health advice\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FhirStub:
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    fail_with: int | None = None
    overrides: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    binaries: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/fhir"

    def add(self, resource: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            resource.setdefault("id", f"{resource['resourceType'].lower()}-{next(self._ids)}")
            self.resources.setdefault(resource["resourceType"], {})[resource["id"]] = resource
        return resource

    def of_type(self, rtype: str) -> list[dict[str, Any]]:
        return list(self.resources.get(rtype, {}).values())

    def seen(self, method: str, rtype: str) -> list[Seen]:
        return [s for s in self.requests if s.method == method and s.path.split("/")[2:3] == [rtype]]

    def search(self, rtype: str, token: str) -> list[dict[str, Any]]:
        system, _, value = token.partition("|")
        return [res for res in self.of_type(rtype)
                if any(i.get("system") == system and i.get("value") == value for i in res.get("identifier", []))]

    # -- what the server does ------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> tuple[int, Any, dict[str, str]]:
        if self.fail_with:
            return self.fail_with, outcome("transient", "service unavailable"), {}
        if (method, path) in self.overrides:
            status, payload = self.overrides[(method, path)]
            return status, payload, {}
        parts = path.strip("/").split("/")
        if parts[0] != "fhir" or len(parts) < 2:
            return 404, outcome("not-found", "no such endpoint"), {}
        rtype = parts[1]
        if method == "GET" and rtype == "Binary" and len(parts) == 3 and parts[2] in self.binaries:
            return 200, self.binaries[parts[2]], {}
        if method == "GET" and len(parts) == 2:
            token = (query.get("identifier") or [""])[0]
            found = self.search(rtype, token) if token else self.of_type(rtype)
            return 200, bundle(found), {}
        if method == "GET" and len(parts) == 3:
            res = self.resources.get(rtype, {}).get(parts[2])
            return (200, res, {}) if res else (404, outcome("not-found", f"{rtype}/{parts[2]} is not known"), {})
        if method == "POST" and len(parts) == 2:
            if not isinstance(body, dict) or body.get("resourceType") != rtype:
                return 400, outcome("invalid", "resourceType does not match the endpoint"), {}
            condition = headers.get("if-none-exist")
            if condition:
                token = (parse_qs(condition).get("identifier") or [""])[0]
                matches = self.search(rtype, token)
                if len(matches) > 1:
                    return 412, outcome("duplicate", "more than one match"), {}
                if matches:
                    return 200, matches[0], {}
            created = self.add(dict(body))
            return 201, created, {"Location": f"{self.url}/{rtype}/{created['id']}/_history/1"}
        return 405, outcome("not-supported", "not supported"), {}


def outcome(code: str, text: str) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"urn:uuid:{res.get('id')}", "resource": res, "search": {"mode": "match"}}
                      for res in resources]}


def _handler(stub: FhirStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            query = parse_qs(split.query)
            with stub.lock:
                stub.requests.append(Seen(method, split.path, query, headers, body))
            status, payload, extra = stub.answer(method, split.path, query, headers, body)
            if isinstance(payload, tuple):  # a Binary: (content type, bytes)
                content_type, data = payload
            else:
                content_type, data = "application/fhir+json", json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


def start(stub: FhirStub, port: int = 0) -> None:
    serve(stub, _handler(stub), port)


@pytest.fixture
def fhir_stub() -> Iterator[FhirStub]:
    stub = FhirStub()
    start(stub)
    yield stub
    stop(stub)


SETTINGS = {"token": "test-token", "council_ods_code": "X9A1", "health_body_ods_code": "QWO", "timeout_seconds": 5}


@pytest.fixture
def fhir_settings(fhir_stub: FhirStub) -> dict[str, Any]:
    return {**fhir_plugin.SETTINGS.defaults(), **SETTINGS, "base_url": fhir_stub.url}


# -- realistic resources ---------------------------------------------------------------


def uk_core_patient(nhs_number: str = NHS_NUMBER, **changes: Any) -> dict[str, Any]:
    patient = {
        "resourceType": "Patient",
        "meta": {"profile": [r.PROFILE.format("Patient")]},
        "identifier": [{
            "extension": [{"url": r.NHS_VERIFICATION_EXTENSION, "valueCodeableConcept": {"coding": [
                {"system": r.NHS_VERIFICATION_SYSTEM, "code": "01", "display": "Number present and verified"}]}}],
            "system": r.NHS_NUMBER_SYSTEM, "value": nhs_number}],
        "name": [{"use": "official", "family": "Okafor", "given": ["Ada", "Grace"]}],
        "gender": "female",
        "birthDate": "2016-04-12",
        "generalPractitioner": [{"type": "Organization",
                                 "identifier": {"system": r.ODS_SYSTEM, "value": "Y12345"}}],
    }
    patient.update(changes)
    return patient


def complete_with_document(stub: FhirStub, task: dict[str, Any], data: bytes = PDF, *,
                           date: str = "2026-03-02T10:15:00Z", **attachment: Any) -> dict[str, Any]:
    """What the health body does when it answers: a DocumentReference, the Task completed."""
    doc = stub.add({
        "resourceType": "DocumentReference",
        "meta": {"profile": [r.PROFILE.format("DocumentReference")]},
        "status": "current",
        "type": {"coding": [{"system": r.SNOMED, "code": "371530004", "display": "Clinical consultation report"}]},
        "subject": task["for"],
        "date": date,
        "content": [{"attachment": {"contentType": "application/pdf", "title": "Health advice.pdf",
                                    "data": base64.b64encode(data).decode(), "size": len(data),
                                    "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(),  # noqa: S324
                                    **attachment}}],
    })
    task["status"] = "completed"
    task["lastModified"] = date
    task["output"] = [{"type": {"coding": [{"system": r.SNOMED, "code": "371530004"}]},
                       "valueReference": {"reference": f"DocumentReference/{doc['id']}"}}]
    return doc


def request_for(case_id: Any = None, advice_id: str = "health1", nhs_number: str | None = NHS_NUMBER) -> Any:
    import uuid

    from core.plugin_api import AdviceRequest

    return AdviceRequest(case_id=case_id or uuid.uuid4(), advice_id=advice_id, child_id=uuid.uuid4(),
                         nhs_number=nhs_number, requested_on=dt.date(2026, 2, 11), due_on=dt.date(2026, 3, 25),
                         kind="medical")


@pytest.fixture
def tenant_info_for() -> Callable[[dict[str, Any]], Any]:
    import uuid

    from core.plugin_api import TenantInfo

    def make(settings: dict[str, Any]) -> Any:
        return TenantInfo(id=uuid.uuid4(), slug="council-a", name="Council A", la_code="901", settings=settings)

    return make
