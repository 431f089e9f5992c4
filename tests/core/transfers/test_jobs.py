"""The daily check: no transfer can be silently lost. Late, nearly late and failed transfers
are flagged in both councils, and a new alert is sent once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

import core.clock
from core.cases.access import access_case
from core.transfers import jobs
from core.transfers import services as transfers
from core.transfers.models import Transfer
from tests.conftest import JOURNEY_TO_PLAN, in_tenant, system_actor

D = dt.date


@pytest.fixture
def transfer(tenant_a: Any, tenant_b: Any, make_case: Any) -> Transfer:
    case = make_case(tenant_a, JOURNEY_TO_PLAN)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        # Learnt Fri 20 Nov 2026 of a move on Fri 18 Dec: ample notice, due on the day of the move.
        return transfers.start_transfer(actor, access_case(actor, case.id, for_write=True), to_la_code="902",
                                        move_on=D(2026, 12, 18), became_aware_on=D(2026, 11, 20),
                                        today=D(2026, 11, 27))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    calls: list[tuple[str, str | None]] = []
    real = jobs._notify

    def spy(t: Transfer) -> None:
        calls.append((t.direction, t.alert))
        real(t)

    monkeypatch.setattr(jobs, "_notify", spy)
    return calls


def _check(tenant: Any, today: D) -> dict[str, int]:
    with in_tenant(tenant):
        return jobs.check_transfers(today=today)


def _alert(tenant: Any, ref: Any) -> tuple[str | None, D | None]:
    with in_tenant(tenant) as s:
        row = s.execute(select(Transfer).where(Transfer.ref == ref)).scalar_one()
        return row.alert, row.alert_raised_on


def test_flags_in_both_councils_as_the_date_nears_and_passes(tenant_a: Any, tenant_b: Any, transfer: Transfer,
                                                            sent: list[Any]) -> None:
    assert transfer.due_on == D(2026, 12, 18)
    # Fri 11 Dec: 11, 14-18 Dec is 6 working days to go: no alert yet.
    assert _check(tenant_a, D(2026, 12, 11))["raised"] == 0
    assert _alert(tenant_a, transfer.ref) == (None, None)
    # Mon 14 Dec: 14-18 Dec is 5 working days: due soon, in both councils, sent once each.
    assert _check(tenant_a, D(2026, 12, 14)) == {"due_soon": 1, "overdue": 0, "failed": 0, "raised": 1}
    assert _check(tenant_b, D(2026, 12, 14))["raised"] == 1
    assert _alert(tenant_a, transfer.ref) == ("due_soon", D(2026, 12, 14))
    assert _alert(tenant_b, transfer.ref) == ("due_soon", D(2026, 12, 14))
    assert sent == [("outgoing", "due_soon"), ("incoming", "due_soon")]
    # The same day again (a second scheduler, a retry): nobody is told twice.
    assert _check(tenant_a, D(2026, 12, 14))["raised"] == 0
    assert len(sent) == 2
    # The day of the move is still in time; the day after is not.
    assert _check(tenant_a, D(2026, 12, 18))["raised"] == 0
    assert _check(tenant_a, D(2026, 12, 19)) == {"due_soon": 0, "overdue": 1, "failed": 0, "raised": 1}
    assert _alert(tenant_a, transfer.ref) == ("overdue", D(2026, 12, 19))
    assert sent[-1] == ("outgoing", "overdue")


def test_failed_transfers_stay_flagged_and_finished_ones_are_not(tenant_a: Any, tenant_b: Any,
                                                                transfer: Transfer) -> None:
    with in_tenant(tenant_a) as s:
        row = s.execute(select(Transfer).where(Transfer.ref == transfer.ref)).scalar_one()
        row.status = "failed"
    assert _check(tenant_a, D(2026, 11, 27))["failed"] == 1
    assert _alert(tenant_a, transfer.ref)[0] == "failed"
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        transfers.cancel_transfer(actor, transfers.access_transfer(actor, transfer.ref, for_write=True),
                                  today=D(2026, 11, 27))
    # A cancelled transfer is no longer checked, and its alert is gone.
    assert _check(tenant_a, D(2026, 12, 21)) == {"due_soon": 0, "overdue": 0, "failed": 0, "raised": 0}
    assert _alert(tenant_a, transfer.ref) == (None, None)


def test_the_daily_job_runs_per_council(tenant_a: Any, tenant_b: Any, transfer: Transfer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from core.jobs import configure_jobs

    configure_jobs(None)
    monkeypatch.setattr(core.clock, "today", lambda: D(2026, 12, 21))
    assert jobs.flag_transfers(str(tenant_b.id))["overdue"] == 1
    assert _alert(tenant_b, transfer.ref) == ("overdue", D(2026, 12, 21))
    assert _alert(tenant_a, transfer.ref) == (None, None)  # each council runs its own
