"""The 50,000-pupil CTF import through the job, against a raw COPY of the same rows.

Data: ``benchmarks/ctf_data.py`` writes a CTF of BENCH_IMPORT_PUPILS made-up pupils (valid
UPNs, SEN provision and ranked needs). In a fresh database ``sendbridge_bench_import``:

  import_job  upload through ``core.sen.services.start_import``, then the import job as the
              app runs it (jobs inline, no Redis): stores the file, parses the XML with the ctf
              plugin, checks every UPN against the council's children, creates 50,000 children
              and their SEN entries under row-level security in committed batches, and writes
              one audit row per child.
  copy        the baseline: the same rows the import writes (a child row and an SEN entry per
              pupil) COPYed into plain scratch tables of the same columns: no indexes,
              constraints, RLS, audit or parsing.
  copy_indexed  for context, the same COPY into tables with child's and child_sen's indexes.

Prints one JSON line with the rates (pupils per second) and the import's ratio to each COPY
(target: at least 0.25 of ``copy``). Run: ``make bench``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ctf_data import SECRET, create_database, drop_database, generate_ctf, pupils  # noqa: E402

DB = os.environ.get("BENCH_IMPORT_DB", "sendbridge_bench_import")
PUPILS = int(os.environ.get("BENCH_IMPORT_PUPILS", "50000"))
TARGET = 0.25


def main() -> None:
    import psycopg

    from core.config import load_settings
    from web.app import create_app

    url = create_database(DB)
    settings = load_settings({"DATABASE_URL": url, "SECRET_KEY": SECRET, "LOG_LEVEL": "WARNING",
                              "VAR_DIR": tempfile.mkdtemp(prefix="sendbridge-bench-import-"),
                              "BASE_DOMAIN": "bench.test"})
    create_app(settings)
    data = generate_ctf(PUPILS)
    rows = pupils(PUPILS)

    from benchmarks.ctf_data import queue_import

    start = time.perf_counter()
    tenant_id, import_id = queue_import(data)  # jobs run inline right after the upload commits
    import_seconds = time.perf_counter() - start

    owner = psycopg.connect(f"host=127.0.0.1 dbname={DB} user={DB}_owner")
    owner.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant_id,))
    status, created, checkpoint = owner.execute(
        "SELECT status, created, checkpoint FROM sen_import WHERE id = %s", (import_id,)).fetchone()
    children = owner.execute("SELECT count(*) FROM child").fetchone()[0]
    assert (status, created, checkpoint, children) == ("succeeded", PUPILS, PUPILS, PUPILS), (status, created, children)

    # The same rows the import writes: each pupil as a child row and as an SEN entry row.
    import uuid

    children = [(str(uuid.uuid4()), tenant_id, r["given_name"], r["family_name"], r["date_of_birth"], r["upn"])
                for r in rows]
    entries = [(str(uuid.uuid4()), tenant_id, child[0], r["provision"], json.dumps(list(r["needs"])))
               for child, r in zip(children, rows)]

    def copy_rows(child_table: str, sen_table: str) -> float:
        start = time.perf_counter()
        with owner.cursor() as cur:
            with cur.copy(f"COPY {child_table} (id, tenant_id, given_name, family_name, date_of_birth, upn, "
                          "created_at, updated_at) FROM STDIN") as copy:
                for c in children:
                    copy.write_row((*c, "2026-11-27T00:00:00Z", "2026-11-27T00:00:00Z"))
            with cur.copy(f"COPY {sen_table} (id, tenant_id, child_id, provision, needs, recorded_at) "
                          "FROM STDIN") as copy:
                for e in entries:
                    copy.write_row((*e, "2026-11-27T00:00:00Z"))
        owner.commit()
        return time.perf_counter() - start

    # Baseline: plain tables of the same columns, no indexes, constraints or RLS.
    owner.execute("CREATE TABLE copy_child (LIKE child)")
    owner.execute("CREATE TABLE copy_child_sen (LIKE child_sen)")
    owner.commit()
    copy_seconds = copy_rows("copy_child", "copy_child_sen")
    # For context: the same COPY into tables with child's and child_sen's indexes (not RLS,
    # foreign keys, audit rows or parsing, which the import also pays for).
    owner.execute("CREATE TABLE copy_child_indexed (LIKE child INCLUDING ALL)")
    owner.execute("CREATE TABLE copy_child_sen_indexed (LIKE child_sen INCLUDING ALL)")
    owner.commit()
    indexed_seconds = copy_rows("copy_child_indexed", "copy_child_sen_indexed")
    assert owner.execute("SELECT count(*) FROM copy_child_indexed").fetchone()[0] == PUPILS
    owner.close()

    import_rate = PUPILS / import_seconds
    copy_rate = PUPILS / copy_seconds
    indexed_rate = PUPILS / indexed_seconds
    print(json.dumps({
        "benchmark": "import",
        "database": DB,
        "pupils": PUPILS,
        "file_bytes": len(data),
        "rows_per_second": {"import_job": round(import_rate, 1), "copy": round(copy_rate, 1),
                            "copy_indexed": round(indexed_rate, 1)},
        "seconds": {"import_job": round(import_seconds, 2), "copy": round(copy_seconds, 2),
                    "copy_indexed": round(indexed_seconds, 2)},
        "ratio_import_to_copy": round(import_rate / copy_rate, 3),
        "ratio_import_to_copy_indexed": round(import_rate / indexed_rate, 3),
        "target_ratio": TARGET,
    }))
    from core.db import db

    db.session.remove()
    if db.engine is not None:
        db.engine.dispose()
    if not os.environ.get("BENCH_KEEP_DB"):
        drop_database(DB)


if __name__ == "__main__":
    main()
