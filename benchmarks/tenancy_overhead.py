"""What tenant isolation costs on the hottest read: one page of a council's children.

Data: ``benchmarks/data.py`` puts CHILDREN_PER_TENANT children in each of TENANTS councils
of a fresh PostgreSQL database ``sendbridge_bench``. Each variant reads the first 50 children
of one council, ordered by id, many times; the figures are pages per second.

  raw_sql         baseline: psycopg as the superuser (RLS bypassed), ``WHERE tenant_id = ...``
  raw_rls_sql     the same read as the runtime role, filtered by row-level security alone
  orm_query       the ORM select alone in a tenant context (criterion + RLS), no audit, no commit
  orm_service     ``core.children.services.list_children_page`` in a tenant context
                  (ORM criterion + RLS + the audit rows it writes for 50 reads)
  api_request     ``GET /api/v1/children?limit=50`` through Flask with a bearer token
                  (adds token checks, serialisation, headers, the request commit)

Prints one JSON line with each rate and its ratio to the baseline. Run: ``make bench``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.data import BENCH_DB, CHILDREN_PER_TENANT, TENANTS, prepare  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
PER_ROUND = int(os.environ.get("BENCH_PER_ROUND", "100"))


def rate(fn: Callable[[], object]) -> float:
    """Pages per second: the median of ROUNDS rounds of PER_ROUND calls, after a warm-up."""
    for _ in range(10):
        fn()
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(PER_ROUND):
            fn()
        rates.append(PER_ROUND / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    import psycopg
    from sqlalchemy import text

    info = prepare()
    tenant_id, slug = info["tenant_id"], info["slug"]

    # The baseline runs as the superuser, which row-level security never applies to: plain
    # SQL with the tenant filter written by hand, as a system without isolation layers would.
    superuser = psycopg.connect(info["superuser_dsn"], autocommit=True)
    sql = "SELECT id, given_name, family_name, date_of_birth FROM child WHERE tenant_id = %s ORDER BY id LIMIT 50"

    def raw_sql() -> object:
        return superuser.execute(sql, (tenant_id,)).fetchall()

    app_conn = psycopg.connect(info["runtime_dsn"], autocommit=True)

    def raw_rls() -> object:
        with app_conn.transaction():
            app_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
            return app_conn.execute(
                "SELECT id, given_name, family_name, date_of_birth FROM child ORDER BY id LIMIT 50").fetchall()

    from core.actors import Actor
    from core.children.services import ChildFilter, list_children_page
    from core.config import load_settings
    from core.db import db
    from core.permissions import ALL
    from core.tenancy import tenant_context
    from web.app import create_app

    settings = load_settings({"DATABASE_URL": info["owner_url"], "SECRET_KEY": info["secret"], "LOG_LEVEL": "WARNING",
                              "VAR_DIR": info["var_dir"], "BASE_DOMAIN": "bench.test"})
    app = create_app(settings)
    import uuid

    actor = Actor(tenant_id=uuid.UUID(tenant_id), kind="system", id="bench", permissions=ALL)

    def orm_service() -> object:
        with tenant_context(actor.tenant_id):
            session = db.session()
            rows, _ = list_children_page(actor, ChildFilter(), after=None, limit=50)
            session.commit()
            db.session.remove()
            return rows

    from sqlalchemy import select

    from core.children.models import Child

    def orm_query() -> object:
        with tenant_context(actor.tenant_id):
            ids = [c.id for c in db.session.execute(select(Child).order_by(Child.id).limit(50)).scalars()]
            db.session.rollback()
            db.session.remove()
            return ids

    from core.api_clients.services import create_client

    with tenant_context(actor.tenant_id):
        client, secret = create_client(slug, "bench", "children:read")
        db.session.commit()
        db.session.remove()
    http = app.test_client()
    import base64

    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    token = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                      headers={"Authorization": f"Basic {basic}"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def api_request() -> object:
        resp = http.get("/api/v1/children?limit=50", headers=headers)
        assert resp.status_code == 200 and len(resp.get_json()["items"]) == 50
        return resp

    # Same answer everywhere before timing anything.
    expected = [r[0] for r in raw_sql()]
    assert [r[0] for r in raw_rls()] == expected
    assert orm_query() == expected
    assert [c.id for c in orm_service()] == expected
    assert [uuid.UUID(i["id"]) for i in api_request().get_json()["items"]] == expected

    figures = {"raw_sql": rate(raw_sql), "raw_rls_sql": rate(raw_rls), "orm_query": rate(orm_query),
               "orm_service": rate(orm_service),
               "api_request": rate(api_request)}
    base = figures["raw_sql"]
    with tenant_context(actor.tenant_id):
        audit_rows = db.session.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
        db.session.rollback()
    print(json.dumps({
        "benchmark": "tenancy_overhead",
        "database": BENCH_DB,
        "tenants": TENANTS,
        "children_per_tenant": CHILDREN_PER_TENANT,
        "page_size": 50,
        "rounds": ROUNDS,
        "calls_per_round": PER_ROUND,
        "pages_per_second": {k: round(v, 1) for k, v in figures.items()},
        "ratio_to_raw_sql": {k: round(v / base, 3) for k, v in figures.items()},
        "audit_rows_written": audit_rows,
    }))
    superuser.close()
    app_conn.close()


if __name__ == "__main__":
    main()
