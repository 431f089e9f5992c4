"""The caseload at the scale of England's largest councils, and the cost of recording an event.

Data: a fresh PostgreSQL database ``sendbridge_bench_cases``. Council 0 holds CASES cases (the
largest English authorities maintain about 20,000 plans), each with its child, a stored
stage and next deadline, and DEADLINES_PER_CASE stored deadlines spread around today; two
more councils hold the same again, so every query also has to skip other councils' rows.

Figures (calls per second, median of rounds):

  raw_due_this_week   baseline: the "due in the next 7 days" caseload page's query as plain SQL
                      run by a role that bypasses RLS, with the tenant filter written by hand
  find_cases          core.cases.services.find_cases(due="this_week") + caseload_counts, in a
                      tenant context (ORM criterion + RLS + audit rows for the children shown)
  caseload_page       GET /cases/?due=this_week&caseworker=all, signed in: the whole HTML page
  raw_insert_event    baseline: one INSERT of an event row (no checks, no deadlines)
  record_event        core.cases.services.record_event: workflow checks, the engine over the
                      case's events, stored deadlines rebuilt, audit, commit

Prints one JSON line. Run: ``make bench``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DB = os.environ.get("BENCH_CASES_DB", "sendbridge_bench_cases")
CASES = int(os.environ.get("BENCH_CASES", "20000"))
COUNCILS = 3
DEADLINES_PER_CASE = 5
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-" + "x" * 40


def rate(fn: Callable[[], object], per_round: int) -> float:
    for _ in range(3):
        fn()
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(per_round):
            fn()
        rates.append(per_round / (time.perf_counter() - start))
    return statistics.median(rates)


def prepare(today: dt.date) -> dict[str, Any]:
    import psycopg

    from core.db import derive_urls
    from core.ids import new_id
    from migrations import runner

    owner_role = f"{DB}_owner"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                      (DB,))
        admin.execute(f'DROP DATABASE IF EXISTS "{DB}"')
        for role in (f"{DB}_app", owner_role):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.execute(f'CREATE ROLE "{owner_role}" LOGIN NOSUPERUSER CREATEROLE NOBYPASSRLS')
        admin.execute(f'CREATE DATABASE "{DB}" OWNER "{owner_role}"')
    owner_url = f"postgresql://{owner_role}@127.0.0.1:5432/{DB}"
    runner.upgrade(derive_urls(owner_url, SECRET))

    rng = random.Random(2026)
    stages = ["request", "assessment", "draft", "plan", "plan", "plan", "plan", "review", "amendment"]
    keys = ["decision_to_assess", "final_plan_issued", "annual_review", "advice_returned", "post_review_decision"]
    now = dt.datetime.now(dt.timezone.utc)
    tenants = []
    with psycopg.connect(f"host=127.0.0.1 dbname={DB} user={owner_role}") as conn:
        for n in range(COUNCILS):
            tid = str(new_id())
            tenants.append(tid)
            conn.execute("INSERT INTO tenant (id, slug, name, la_code, status, settings, created_at) "
                         "VALUES (%s, %s, %s, %s, 'active', '{}', now())", (tid, f"bench-{n}", f"Bench Council {n}", f"{600 + n}"))
            conn.commit()
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tid,))
            children, cases, deadlines = [], [], []
            for _ in range(CASES):
                child_id, case_id = str(new_id()), str(new_id())
                dob = dt.date(2006, 1, 1) + dt.timedelta(days=rng.randrange(6500))
                children.append((child_id, tid, rng.choice("ABCDEFGHIJ") + "ane", rng.choice("KLMNOPQRST") + "mith", dob, now, now))
                dues = sorted(today + dt.timedelta(days=rng.randrange(-60, 400)) for _ in range(DEADLINES_PER_CASE))
                opened = today - dt.timedelta(days=rng.randrange(30, 1500))
                cases.append((case_id, tid, child_id, opened, rng.choice(stages), dues[0], keys[0], 3, now, now))
                for key, due in zip(keys, dues):
                    deadlines.append((str(new_id()), tid, case_id, key, due, due, "on_or_before", True,
                                      "open" if due >= today else "missed", "SEND Regs 2014", key, today))
            cur = conn.cursor()
            cur.executemany("INSERT INTO child (id, tenant_id, given_name, family_name, date_of_birth, created_at, updated_at) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s)", children)
            cur.executemany("INSERT INTO ehc_case (id, tenant_id, child_id, opened_on, stage, next_due, next_due_key, "
                            "event_count, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", cases)
            cur.executemany("INSERT INTO case_deadline (id, tenant_id, case_id, key, due, last_day, comparison, statutory, "
                            "status, citation, label, computed_on, provisional) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false)", deadlines)
            conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    return {"owner_url": owner_url, "tenant_id": tenants[0], "superuser_dsn": ADMIN_DSN.rsplit("/", 1)[0] + f"/{DB}"}


def main() -> None:
    import psycopg
    from sqlalchemy import select

    from core import clock

    today = clock.today()
    info = prepare(today)
    tid = info["tenant_id"]

    superuser = psycopg.connect(info["superuser_dsn"], autocommit=True)
    raw_sql = (
        "SELECT c.id, ch.given_name, ch.family_name, c.stage, c.next_due FROM ehc_case c "
        "JOIN child ch ON ch.tenant_id = c.tenant_id AND ch.id = c.child_id "
        "WHERE c.tenant_id = %(t)s AND c.next_due BETWEEN %(d0)s AND %(d1)s "
        "ORDER BY c.next_due, c.id LIMIT 25"
    )
    params = {"t": tid, "d0": today, "d1": today + dt.timedelta(days=7)}

    def raw_due_this_week() -> object:
        return superuser.execute(raw_sql, params).fetchall()

    from core.actors import Actor
    from core.cases import services as cases
    from core.cases.models import Case
    from core.config import load_settings
    from core.db import db
    from core.permissions import ALL
    from core.tenancy import tenant_context
    from core.users.models import Role
    from core.users.services import create_user
    from core.users.sessions import start_session
    from web.app import create_app

    app = create_app(load_settings({"DATABASE_URL": info["owner_url"], "SECRET_KEY": SECRET, "LOG_LEVEL": "WARNING",
                                    "VAR_DIR": tempfile.mkdtemp(prefix="sendbridge-bench-"), "BASE_DOMAIN": "bench.test"}))
    actor = Actor(tenant_id=uuid.UUID(tid), kind="system", id="bench", permissions=ALL)

    def find() -> object:
        with tenant_context(actor.tenant_id):
            rows, total = cases.find_cases(actor, cases.CaseFilter(due="this_week"), page=1, per_page=25, today=today)
            cases.caseload_counts(actor, today=today)
            ids = [c.id for c in rows]
            db.session.commit()
            db.session.remove()
            return ids

    with tenant_context(actor.tenant_id):
        user = create_user(email="bench@example.gov.uk", display_name="Bench Worker", role=Role.TEAM_MANAGER)
        session_id = start_session(user).id
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = "https://bench-0.bench.test/"
    with client.session_transaction(base_url="https://bench-0.bench.test") as sess:
        sess["auth"] = {tid: str(session_id)}

    def page() -> object:
        resp = client.get("/cases/?due=this_week&caseworker=all", base_url="https://bench-0.bench.test")
        assert resp.status_code == 200, resp.status_code
        return resp

    # Same cases from the raw query, the service and the page before anything is timed.
    expected = [r[0] for r in raw_due_this_week()]
    assert expected and find() == expected
    body = page().get_data(as_text=True)
    assert all(str(cid) in body for cid in expected)

    # Recording: a real request on a fresh child, then decisions and advice on it.
    with tenant_context(actor.tenant_id):
        case_ids = list(db.session.execute(select(Case.id).where(Case.stage == "request").limit(400)).scalars())
        db.session.rollback()
        db.session.remove()
    app_conn = psycopg.connect(info["superuser_dsn"], autocommit=True)
    counter = iter(range(10**9))

    def raw_insert_event() -> object:
        n = next(counter)
        return app_conn.execute(
            "INSERT INTO case_event (id, tenant_id, case_id, seq, type, date, attributes, recorded_at, recorded_by_type, "
            "recorded_by) VALUES (%s, %s, %s, %s, 'advice_requested', %s, '{}', now(), 'system', 'bench')",
            (str(uuid.uuid4()), tid, str(case_ids[0]), 10_000 + n, today))

    from core.children.models import Child

    work = iter(range(10**9))

    def record() -> object:
        # Open a case for a new child with a request, then record the decision to assess:
        # two record_event calls per round trip, each with its checks and stored deadlines.
        n = next(work)
        with tenant_context(actor.tenant_id):
            child = Child(given_name="Bench", family_name=f"Child{n}", date_of_birth=dt.date(2015, 1, 1))
            db.session.add(child)
            db.session.flush()
            received = today - dt.timedelta(days=20)
            case = cases.open_case(actor, child, {"type": "request_received", "date": received.isoformat()},
                                   policy=cases.policy_from_settings({}), today=today)
            cases.record_event(actor, case, {"type": "decision_to_assess_made", "date": today.isoformat(),
                                             "outcome": "assess"}, policy=cases.policy_from_settings({}), today=today)
            db.session.commit()
            db.session.remove()
        return case

    figures = {
        "raw_due_this_week": rate(raw_due_this_week, 200),
        "find_cases": rate(find, 40),
        "caseload_page": rate(page, 20),
    }
    raw_events = rate(raw_insert_event, 200)
    recorded = rate(record, 20) * 2  # two events per call
    print(json.dumps({
        "benchmark": "caseload",
        "cases_in_council": CASES,
        "councils": COUNCILS,
        "stored_deadlines": CASES * COUNCILS * DEADLINES_PER_CASE,
        "due_this_week_in_council": len(expected),
        "rounds": ROUNDS,
        "per_second": {**{k: round(v, 1) for k, v in figures.items()}, "raw_insert_event": round(raw_events, 1),
                       "record_event": round(recorded, 1)},
        "ratio_to_raw_due_this_week": {k: round(v / figures["raw_due_this_week"], 3) for k, v in figures.items()},
        "ratio_record_event_to_raw_insert": round(recorded / raw_events, 4),
        "ms_per": {"caseload_page": round(1000 / figures["caseload_page"], 1), "record_event": round(1000 / recorded, 1)},
    }))
    superuser.close()
    app_conn.close()


if __name__ == "__main__":
    main()
