"""The same transfer submitted from several threads at once, against gunicorn with committed
data (tests/live_server.py): one transfer, whoever asks. With one ``Idempotency-Key`` every
request answers the first's result; with none, one starts it and the rest get a 409.

Marked ``browser`` because it needs the live server, as the browser tests do.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest

from tests.browser.test_transfer_pages import SCOPES, make_plan_case
from tests.live_server import LiveServer, shared_live_server

pytestmark = pytest.mark.browser

THREADS = 6


@pytest.fixture(scope="session")
def live_server(pytestconfig: pytest.Config) -> LiveServer:
    return shared_live_server(pytestconfig)


@pytest.fixture(scope="module")
def token(live_server: LiveServer) -> str:
    return live_server.api_token("northshire", scopes=SCOPES)


def _fire(server: LiveServer, token: str, body: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [RuntimeError("no answer")] * THREADS

    def fire(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = server.http("POST", "/api/v1/transfers", token=token, json_body=body, headers=headers)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions
            results[i] = exc

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    assert not [r for r in results if isinstance(r, BaseException)], results
    return results


def _body(case_id: str) -> dict[str, Any]:
    today = dt.date.today()
    return {"case_id": case_id, "to_la_code": "992", "move_on": (today + dt.timedelta(days=40)).isoformat(),
            "became_aware_on": today.isoformat()}


def _outgoing_for(server: LiveServer, token: str, case_id: str) -> list[dict[str, Any]]:
    status, _, page = server.http("GET", "/api/v1/transfers?direction=outgoing&limit=200", token=token)
    assert status == 200, page
    return [t for t in page["items"] if t["case_id"] == case_id]


def test_same_key_from_several_threads_makes_one_transfer(live_server: LiveServer, token: str) -> None:
    case_id, _ = make_plan_case(live_server, token, "Racing")
    answers = _fire(live_server, token, _body(case_id), {"Idempotency-Key": str(uuid.uuid4())})
    assert [s for s, _, _ in answers] == [201] * THREADS, [(s, b) for s, _, b in answers]
    assert len({b["id"] for _, _, b in answers}) == 1
    assert [h.get("Idempotent-Replayed") == "true" for _, h, _ in answers].count(False) == 1
    assert len(_outgoing_for(live_server, token, case_id)) == 1


def test_no_key_from_several_threads_makes_one_transfer_and_conflicts(live_server: LiveServer, token: str) -> None:
    case_id, _ = make_plan_case(live_server, token, "Racing")
    answers = _fire(live_server, token, _body(case_id), {})
    statuses = sorted(s for s, _, _ in answers)
    assert statuses == [201] + [409] * (THREADS - 1), [(s, b) for s, _, b in answers]
    assert len(_outgoing_for(live_server, token, case_id)) == 1
