"""Two people (or two API calls) starting the same transfer at the same moment make ONE
transfer: real threads, real PostgreSQL transactions, committed data (the per-test rolled
back transaction of the other tests cannot show a race)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from core.cases.access import access_case
from core.cases.models import CaseEvent
from core.db import Base, db
from core.errors import Conflict
from core.tenancy import tenant_context
from core.transfers import services as transfers
from core.transfers.models import Transfer
from tests.conftest import JOURNEY_TO_PLAN, in_tenant, system_actor

D = dt.date
THREADS = 4


def _wipe(owner_engine: Any, tenant_ids: list[uuid.UUID]) -> None:
    """Delete every row the test committed in its councils (RLS holds for the owner too)."""
    tables = [t for t in reversed(Base.metadata.sorted_tables) if "tenant_id" in t.c and t.name != "tenant"]
    for tid in tenant_ids:
        with owner_engine.begin() as conn:
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
            # Served and issued plan versions are immutable (a trigger): lift it for the wipe.
            conn.execute(text("ALTER TABLE plan_version DISABLE TRIGGER plan_version_frozen"))
            for table in tables:
                conn.execute(table.delete().where(table.c.tenant_id == tid))
            conn.execute(text("ALTER TABLE plan_version ENABLE TRIGGER plan_version_frozen"))


@pytest.fixture
def committed(app: Any, owner_engine: Any) -> Iterator[None]:
    """Let the test commit for real (its councils are wiped afterwards)."""
    if db.dialect_name != "postgresql":
        pytest.skip("a race needs PostgreSQL")
    bound = db._factory.kw.get("bind")
    db.bind_to(db.engine)
    try:
        yield
    finally:
        db.bind_to(bound, join_transaction_mode="create_savepoint")


def test_concurrent_starts_of_one_transfer_make_one(committed: None, create_tenant: Any, make_case: Any,
                                                    owner_engine: Any) -> None:
    sender, receiver = create_tenant(), create_tenant()
    try:
        case = make_case(sender, JOURNEY_TO_PLAN)
        barrier = threading.Barrier(THREADS)
        results: list[Any] = [RuntimeError("no answer")] * THREADS

        def start(i: int) -> None:
            with tenant_context(sender.id):
                session = db.session()
                try:
                    actor = system_actor(sender)
                    found = access_case(actor, case.id, for_write=True)
                    barrier.wait(timeout=30)
                    made = transfers.start_transfer(actor, found, to_la_code=receiver.la_code,
                                                    move_on=D(2026, 12, 18), became_aware_on=D(2026, 11, 20),
                                                    today=D(2026, 11, 27))
                    session.commit()
                    results[i] = made.ref
                except BaseException as exc:  # noqa: BLE001 - reported below
                    session.rollback()
                    results[i] = exc
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=start, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        made = [r for r in results if isinstance(r, uuid.UUID)]
        refused = [r for r in results if isinstance(r, Conflict)]
        assert len(made) == 1, results
        assert len(refused) == THREADS - 1, results
        assert all("already being transferred" in r.message for r in refused)
        with in_tenant(sender) as s:
            assert s.execute(select(func.count()).select_from(Transfer)).scalar_one() == 1
            assert s.execute(select(func.count()).select_from(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.type == "move_notified")).scalar_one() == 1
        with in_tenant(receiver) as s:
            rows = list(s.execute(select(Transfer)).scalars())
            assert [(r.ref, r.direction) for r in rows] == [(made[0], "incoming")]
    finally:
        db.session.remove()
        _wipe(owner_engine, [sender.id, receiver.id])
