"""The benchmark data generator: a fresh PostgreSQL database with several councils of
children, loaded with COPY under each council's own RLS context (the owner role is not a
superuser, so FORCE ROW LEVEL SECURITY applies to the load too)."""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
from typing import Any

BENCH_DB = os.environ.get("BENCH_DB", "sendbridge_bench")
TENANTS = int(os.environ.get("BENCH_TENANTS", "4"))
CHILDREN_PER_TENANT = int(os.environ.get("BENCH_CHILDREN", "25000"))
ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-" + "x" * 40


def prepare() -> dict[str, Any]:
    import psycopg

    from core.db import derive_urls
    from core.ids import new_id
    from migrations import runner

    owner_role = f"{BENCH_DB}_owner"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                      (BENCH_DB,))
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        for role in (f"{BENCH_DB}_app", owner_role):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.execute(f'CREATE ROLE "{owner_role}" LOGIN NOSUPERUSER CREATEROLE NOBYPASSRLS')
        admin.execute(f'CREATE DATABASE "{BENCH_DB}" OWNER "{owner_role}"')
    owner_url = f"postgresql://{owner_role}@127.0.0.1:5432/{BENCH_DB}"
    urls = derive_urls(owner_url, SECRET)
    runner.upgrade(urls)

    rng = random.Random(2026)
    given = ["Aisha", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hamza", "Isla", "Jacob"]
    family = ["Adams", "Begum", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hussain", "Iqbal", "Jones"]
    owner_dsn = f"host=127.0.0.1 port=5432 dbname={BENCH_DB} user={owner_role}"
    tenant_ids = []
    now = dt.datetime.now(dt.timezone.utc)
    with psycopg.connect(owner_dsn) as conn:
        for n in range(TENANTS):
            tid = str(new_id())
            tenant_ids.append(tid)
            conn.execute("INSERT INTO tenant (id, slug, name, la_code, status, settings, created_at) "
                         "VALUES (%s, %s, %s, %s, 'active', '{}', now())", (tid, f"bench-{n}", f"Bench Council {n}", f"{500 + n}"))
            conn.commit()
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tid,))
            # COPY is refused on a table with forced row-level security, so batch INSERTs
            # (psycopg pipelines executemany).
            rows = [(str(new_id()), tid, rng.choice(given), rng.choice(family),
                     dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(7000)), now, now)
                    for _ in range(CHILDREN_PER_TENANT)]
            conn.cursor().executemany(
                "INSERT INTO child (id, tenant_id, given_name, family_name, date_of_birth, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
            conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    runtime = urls.runtime
    return {
        "tenant_id": tenant_ids[0],
        "slug": "bench-0",
        "owner_url": owner_url,
        "owner_dsn": owner_dsn,
        "superuser_dsn": ADMIN_DSN.rsplit("/", 1)[0] + f"/{BENCH_DB}",
        "runtime_dsn": f"host=127.0.0.1 port=5432 dbname={BENCH_DB} user={runtime.username}",
        "secret": SECRET,
        "var_dir": tempfile.mkdtemp(prefix="sendbridge-bench-"),
    }
