"""Fixtures of the plan tests: cases at the drafting stage, and recording their events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.timescales import TimescalePolicy
from tests.conftest import JOURNEY_TO_PLAN

TODAY = dt.date(2026, 11, 27)
#: Request (5 Jan 2026) to the decision to issue a plan: the draft is being written.
TO_DRAFTING = JOURNEY_TO_PLAN[:-2]
SERVED = {"type": "draft_plan_served", "date": "2026-05-01"}
ISSUED = {"type": "final_plan_issued", "date": "2026-05-20"}


@pytest.fixture(autouse=True)
def _inline_jobs() -> Iterator[None]:
    """Plan PDFs are rendered by a job run in-process after the commit (the embedded default).
    Some other tests build a production app that points the process-wide job backend at
    Redis and leave it there; put the default back for these tests."""
    from core.jobs import configure_jobs

    configure_jobs(None)
    yield
    configure_jobs(None)


@pytest.fixture
def drafting_case(tenant_a: Any, make_case: Any) -> Any:
    """A case of council A whose plan is being drafted (decision to issue made)."""
    return make_case(tenant_a, TO_DRAFTING)


@pytest.fixture
def record() -> Callable[..., Any]:
    """``record(actor, case, event)``: record an event as the services do (today 27 Nov 2026)."""
    from core.cases import services as cases

    def go(actor: Any, case: Any, event: dict[str, Any]) -> Any:
        return cases.record_event(actor, case, event, policy=TimescalePolicy(), today=TODAY)

    return go
