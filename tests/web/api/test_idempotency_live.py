"""``Idempotency-Key`` under real concurrency: the same create fired from 8 threads at once at
gunicorn (2 worker processes, committed data, PostgreSQL's unique index doing the arbitration),
which the per-test rolled-back transaction of the unit tests cannot show.

Marked ``browser`` because it needs the live server (tests/live_server.py), as the browser
tests do; it shares their server when both run in one session.
"""

from __future__ import annotations

import random
import string
import threading
import uuid
from typing import Any

import pytest

from tests.live_server import LiveServer, shared_live_server

pytestmark = pytest.mark.browser

THREADS = 8


@pytest.fixture(scope="session")
def live_server(pytestconfig: pytest.Config) -> LiveServer:
    return shared_live_server(pytestconfig)


@pytest.fixture(scope="module")
def token(live_server: LiveServer) -> str:
    # A real client, made the way an operator makes one, exchanged at the real token endpoint.
    return live_server.api_token("northshire", scopes="children:read children:write")


def unique_name() -> str:
    return "Idem" + "".join(random.choices(string.ascii_lowercase, k=10))


def children_named(server: LiveServer, token: str, name: str) -> list[dict[str, Any]]:
    status, _, body = server.http("GET", f"/api/v1/children?q={name}", token=token)
    assert status == 200, body
    return list(body["items"])


def test_same_key_from_eight_threads_at_once_creates_one_child(live_server: LiveServer, token: str) -> None:
    family = unique_name()
    body = {"given_name": "Concurrent", "family_name": family, "date_of_birth": "2015-06-01"}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, Any, Any] | BaseException] = [RuntimeError("no answer")] * THREADS

    def fire(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = live_server.http("POST", "/api/v1/children", token=token, json_body=body, headers=headers)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    answers = [r for r in results if not isinstance(r, BaseException)]

    statuses = [status for status, _, _ in answers]
    assert statuses == [201] * THREADS, [(s, b) for s, _, b in answers]
    ids = {b["id"] for _, _, b in answers}
    assert len(ids) == 1, ids
    (child_id,) = ids
    replayed = [h.get("Idempotent-Replayed") == "true" for _, h, _ in answers]
    assert replayed.count(False) == 1, f"exactly one original answer, the rest replays: {replayed}"
    first = next(b for (_, h, b), r in zip(answers, replayed) if not r)
    assert all(b == first for _, _, b in answers), "a replay differs from the original answer"
    assert {h.get("Location") for _, h, _ in answers} == {f"/api/v1/children/{child_id}"}

    # Exactly one child exists, the one every answer named.
    found = children_named(live_server, token, family)
    assert [c["id"] for c in found] == [child_id]

    # A later repeat is a replay too.
    status, resp_headers, again = live_server.http("POST", "/api/v1/children", token=token, json_body=body,
                                                   headers=headers)
    assert (status, resp_headers.get("Idempotent-Replayed"), again["id"]) == (201, "true", child_id)


def test_same_key_with_a_different_body_is_refused(live_server: LiveServer, token: str) -> None:
    family = unique_name()
    other = unique_name()
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    status, _, created = live_server.http("POST", "/api/v1/children", token=token, headers=headers, json_body={
        "given_name": "Keyed", "family_name": family, "date_of_birth": "2014-02-03"})
    assert status == 201, created

    status, resp_headers, problem = live_server.http("POST", "/api/v1/children", token=token, headers=headers, json_body={
        "given_name": "Keyed", "family_name": other, "date_of_birth": "2014-02-03"})

    assert status == 422, problem
    assert resp_headers.get("Content-Type", "").startswith("application/problem+json")
    assert problem["type"] == "/api/v1/problems/idempotency-key-reused"
    assert problem["title"] == "Idempotency key reused"
    assert problem["status"] == 422
    assert resp_headers.get("Idempotent-Replayed") is None
    assert children_named(live_server, token, other) == []
    assert [c["id"] for c in children_named(live_server, token, family)] == [created["id"]]
