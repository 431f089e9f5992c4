"""The SEN register import job: parse a stored register file with the council's enabled
plugin, then match children by UPN and apply every entry, in committed batches.

A child the council already holds (same UPN) keeps its own name and date of birth: the
council's record wins, and only the SEN entry is taken from the file.

All or nothing for the file's content: a file with any bad record (the plugin's per-record
report) or any record that conflicts with a child the council already holds (same UPN,
another date of birth) imports nothing, and its report is stored on the :class:`SenImport`.

Restartable: each batch is applied with set-based SQL and committed together with the
import's ``checkpoint`` and counts, under a row lock on the import. A worker killed at any
instant leaves either a whole batch (and its checkpoint) or none of it; the retry parses the
file again and resumes at the checkpoint. The partial unique index ``uq_child_tenant_id_upn``
means a pupil is never created twice, even by two runs racing (the loser's batch fails and is
retried), and the SEN upsert only writes rows whose provision or needs change, so a
re-import of the same file changes nothing.

The SQL is written out (``text()``): a batch is COPYed into a temporary table of its own
transaction and applied by one statement, which is what makes the cost per pupil small;
every statement names ``tenant_id`` itself and runs under the council's row-level security
as well. For the same reason the batch writes its audit rows itself (one per child written:
``child.created`` or ``child.sen_updated``, the columns ``core.audit.services.record``
writes, channel ``job``) in the same statement, so a batch and its audit rows commit or
vanish together. PostgreSQL only: on the embedded SQLite default an import fails with a
message saying so.

Measured (``benchmarks/import.py``, 2 shared cores under load): 50,000 pupils in about 4.5-7
seconds (7,000-11,000 a second; it was 3,600-7,400 with an ``unnest`` statement per batch and
the ElementTree parser). Most of what is left is the database's own per-row work, which a
plain COPY does not do: five foreign-key checks per pupil (child and SEN entry to their
council, the SEN entry to its child and import, the audit row to its council) took about
half of a batch's time, then the child's six indexes, the audit row's four and row-level
security.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import select, text

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.db import db, utcnow
from core.ids import new_ids, parse_id
from core.jobs import job
from core.plugin_api import SenRegisterEntry, SenRegisterImport
from core.plugins.services import call_enabled
from core.sen.models import ImportStatus, SenImport
from core.sen.services import IMPORT_HOOK
from core.storage import storage
from core.tenancy import require_tenant_id

#: Entries per committed batch: big enough for set-based statements to pay, small enough that
#: a killed worker loses little and a batch's locks are short.
BATCH = 5000
#: UPNs per conflict-check query.
_CHECK_CHUNK = 10_000

_CREATED_FIELDS = ("upn", "given_name", "family_name", "date_of_birth", "sen_provision", "sen_needs")
_UPDATED_FIELDS = ("sen_provision", "sen_needs")

# A batch's rows reach the database by COPY into a table of this transaction's own (dropped at
# commit or rollback, so a killed worker leaves nothing behind and a pooled connection carries
# nothing into the next transaction). Not a tenant table: it lives and dies in this session.
# IF NOT EXISTS and the emptying are for a transaction that does not end between batches
# (the tests' outer transaction).
_STAGE = text("""
    CREATE TEMP TABLE IF NOT EXISTS sen_import_batch (
        id uuid, sen_id uuid, audit_id uuid, upn text, given_name text, family_name text,
        date_of_birth date, provision text, needs jsonb
    ) ON COMMIT DROP
""")
_COPY = ("COPY sen_import_batch (id, sen_id, audit_id, upn, given_name, family_name, date_of_birth, provision, needs) "
         "FROM STDIN")
# COPY's text format: a backslash, tab, newline or carriage return in a value is escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

# Then one statement applies the batch: look every pupil up by UPN (``known``, one snapshot),
# create the ones not known yet, upsert every pupil's SEN entry (only rows whose provision
# or needs change are written), and write one audit row per child written, with the same
# columns core.audit.services.record writes. Set-based, so the cost of a batch is a COPY and
# one statement, not a round trip per pupil.
#
# Never twice: the partial unique index uq_child_tenant_id_upn. A pupil another transaction
# creates after this statement's snapshot makes the INSERT fail (unique violation) and the
# batch roll back; one created before it is found by ``known`` and checked like any other
# known child: a different date of birth (``differs``) rolls the batch back too, and the
# retry's conflict check reports it.
_APPLY_BATCH = text("""
    WITH known AS MATERIALIZED (
        SELECT t.*, c.id AS child_id, c.date_of_birth <> t.date_of_birth AS differs
        FROM sen_import_batch t LEFT JOIN child c ON c.tenant_id = :tid AND c.upn = t.upn
    ), created AS (
        INSERT INTO child (id, tenant_id, given_name, family_name, date_of_birth, upn, created_at, updated_at)
        SELECT id, :tid, given_name, family_name, date_of_birth, upn, :now, :now FROM known
        WHERE child_id IS NULL
        RETURNING 1
    ), targets AS MATERIALIZED (
        SELECT coalesce(child_id, id) AS child_id, sen_id, audit_id, provision, needs, child_id IS NULL AS is_new
        FROM known
    ), changed AS (
        INSERT INTO child_sen (id, tenant_id, child_id, provision, needs, source_import_id, recorded_at)
        SELECT sen_id, :tid, child_id, provision, needs, :iid, :now FROM targets
        ON CONFLICT (tenant_id, child_id) DO UPDATE
           SET provision = excluded.provision, needs = excluded.needs,
               source_import_id = excluded.source_import_id, recorded_at = excluded.recorded_at
           WHERE child_sen.provision <> excluded.provision OR child_sen.needs <> excluded.needs
        RETURNING child_id
    ), audited AS (
        INSERT INTO audit_event (id, tenant_id, occurred_at, actor_type, actor_id, action, subject_type, subject_id,
                                 object_type, object_id, channel, request_id, fields)
        SELECT t.audit_id, :tid, :now, :actor_type, :actor_id,
               CASE WHEN t.is_new THEN 'child.created' ELSE 'child.sen_updated' END, 'child', ch.child_id,
               'sen_import', :iid, 'job', :request_id,
               CASE WHEN t.is_new THEN :created_fields ELSE :updated_fields END
        FROM changed ch JOIN targets t ON t.child_id = ch.child_id
        RETURNING action
    )
    SELECT (SELECT count(*) FROM created) AS created,
           (SELECT count(*) FROM known) AS staged,
           (SELECT count(*) FROM known WHERE differs) AS differs,
           (SELECT count(*) FROM audited WHERE action = 'child.sen_updated') AS updated,
           (SELECT count(*) FROM audited) AS audited
""")

# The dates of birth travel as one string (split by the server), which costs the worker far
# less than binding an array of date objects; ``n`` is the entry's index in the chunk.
_KNOWN = text("""
    SELECT t.n - 1 AS n
    FROM unnest(CAST(:upns AS text[]), CAST(string_to_array(:dobs, ',') AS date[])) WITH ORDINALITY
         AS t(upn, dob, n)
    JOIN child c ON c.tenant_id = :tid AND c.upn = t.upn
    WHERE c.date_of_birth <> t.dob
""")


def _locked(import_id: uuid.UUID) -> SenImport | None:
    # FOR UPDATE: a retry racing a still-running first attempt waits for its batch, then
    # sees its checkpoint, so the two never apply the same batch.
    return db.session.execute(select(SenImport).where(SenImport.id == import_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one_or_none()


def _fail(row: SenImport, *, failure: str = "", report: list[tuple[int, str]] | None = None) -> None:
    row.status = ImportStatus.FAILED
    row.failure = failure[:500]
    if report is not None:
        row.error_report = [[line, reason] for line, reason in report]
        row.errors = len(report)
    row.finished_at = utcnow()


def _conflicts(tenant_id: uuid.UUID, entries: tuple[SenRegisterEntry, ...]) -> list[tuple[int, str]]:
    """Records whose UPN belongs to a child with another date of birth: the file and the
    council disagree about who this is, and a person must decide."""
    found = []
    db.session.execute(text("SET LOCAL jit = off"))  # as in _apply
    for start in range(0, len(entries), _CHECK_CHUNK):
        chunk = entries[start:start + _CHECK_CHUNK]
        rows = db.session.execute(_KNOWN, {"tid": tenant_id, "upns": [e.upn for e in chunk],
                                           "dobs": ",".join([e.date_of_birth.isoformat() for e in chunk])}).all()
        found += [(chunk[r.n].line, "The UPN belongs to a child the council holds with a different date of birth")
                  for r in rows]
    return sorted(found)


def _copy_text(batch: tuple[SenRegisterEntry, ...]) -> str:
    """The batch as COPY text: one line per entry, built directly from the entries."""
    n = len(batch)
    ids, sen_ids, audit_ids = new_ids(n), new_ids(n), new_ids(n)
    needs_json: dict[tuple[str, ...], str] = {}
    for e in batch:
        if e.sen_needs not in needs_json:
            needs_json[e.sen_needs] = json.dumps(list(e.sen_needs))
    data = "".join([f"{ids[k]}\t{sen_ids[k]}\t{audit_ids[k]}\t{e.upn}\t{e.given_name}\t{e.family_name}\t"
                    f"{e.date_of_birth.isoformat()}\t{e.sen_provision}\t{needs_json[e.sen_needs]}\n"
                    for k, e in enumerate(batch)])
    # Names almost never hold a character COPY's text format escapes (backslash, tab, newline,
    # carriage return): counting them over the whole batch is far cheaper than escaping each
    # value, and a batch with any is built again with every value escaped.
    if data.count("\t") != 8 * n or data.count("\n") != n or "\\" in data or "\r" in data:
        escape = _COPY_ESCAPES
        data = "".join([f"{ids[k]}\t{sen_ids[k]}\t{audit_ids[k]}\t{e.upn.translate(escape)}\t"
                        f"{e.given_name.translate(escape)}\t{e.family_name.translate(escape)}\t"
                        f"{e.date_of_birth.isoformat()}\t{e.sen_provision.translate(escape)}\t"
                        f"{needs_json[e.sen_needs].translate(escape)}\n"
                        for k, e in enumerate(batch)])
    return data


def _apply(actor: Actor, row: SenImport, batch: tuple[SenRegisterEntry, ...]) -> None:
    n = len(batch)
    # The planner has no statistics for the staging table; when a guess of too many rows made
    # it JIT-compile a batch's statement, that measured at 60% of the batch's time. Off for
    # this transaction only.
    db.session.execute(text("SET LOCAL jit = off"))
    db.session.execute(_STAGE)
    db.session.execute(text("TRUNCATE sen_import_batch"))
    # The session's own connection, so the COPY is part of this transaction (and its tenant).
    with db.session.connection().connection.driver_connection.cursor() as cursor, cursor.copy(_COPY) as copy:
        copy.write(_copy_text(batch))
    result = db.session.execute(_APPLY_BATCH, {
        "tid": row.tenant_id, "iid": row.id, "now": utcnow(),
        "actor_type": actor.kind, "actor_id": actor.id, "request_id": audit.current_request_id(),
        "created_fields": ",".join(sorted(_CREATED_FIELDS)), "updated_fields": ",".join(sorted(_UPDATED_FIELDS)),
    }).one()
    if result.staged != n:
        raise RuntimeError("the batch did not reach the database whole; retrying the batch")
    if result.differs:
        # A child with one of these UPNs and another date of birth was created after the
        # conflict check. Roll back; the retry's check reports it.
        raise RuntimeError("a pupil of this batch was created concurrently; retrying the batch")
    row.created += result.created
    row.matched += n - result.created
    row.updated += result.updated
    row.unchanged += n - result.created - result.updated


@job(queue="bulk", timeout=3600, retries=3)
def import_sen_register(import_id: str) -> str | None:
    """Import a stored SEN register file. Called as ``import_sen_register(tenant_id, import_id)``.

    Idempotent and restartable (see the module docstring). Returns the final status.
    """
    iid = parse_id(import_id)
    row = _locked(iid) if iid else None
    if row is None or row.status == ImportStatus.SUCCEEDED or row.error_report:
        return row.status.value if row else None
    row.status = ImportStatus.RUNNING
    row.failure = ""
    row.attempts += 1
    row.started_at = row.started_at or utcnow()
    db.session.commit()
    try:
        return _run(row.id)
    except Exception:
        # Say so on the import (the job is retried by rq, and the page offers a retry too);
        # everything committed so far stays, behind its checkpoint.
        db.session.rollback()
        row = _locked(row.id)
        if row is not None:
            _fail(row, failure="The import stopped with an unexpected error; it will be retried")
            db.session.commit()
        raise


def _run(import_id: uuid.UUID) -> str:
    tenant_id = require_tenant_id()
    row = db.session.get(SenImport, import_id)
    assert row is not None
    if db.session.get_bind().dialect.name != "postgresql":
        _fail(row, failure="SEN register imports need the PostgreSQL database (not the embedded SQLite one)")
        return row.status.value
    data = storage().get(row.storage_key)
    if hashlib.sha256(data).hexdigest() != row.checksum:
        _fail(row, failure="The stored file does not match the uploaded one (checksum); upload it again")
        return row.status.value
    parsed: SenRegisterImport | None = call_enabled(IMPORT_HOOK, filename=row.filename, data=data)
    del data
    if parsed is None:
        _fail(row, failure="No integration enabled for your council reads this kind of file")
        return row.status.value
    if parsed.errors:
        _fail(row, report=list(parsed.errors))
        return row.status.value
    entries = parsed.entries
    # Checked from the checkpoint on: entries before it were applied by an earlier attempt
    # (and match by construction).
    conflicts = _conflicts(tenant_id, entries[row.checkpoint:])
    if conflicts:
        _fail(row, report=conflicts)
        return row.status.value
    row.total = len(entries)
    row.source_urn = parsed.source_urn
    db.session.commit()
    actor = Actor(tenant_id=tenant_id, kind="user", id=row.created_by,
                  permissions=frozenset({permissions.CHILDREN_READ, permissions.CHILDREN_WRITE}))
    while True:
        row = _locked(import_id)
        assert row is not None
        start = row.checkpoint
        if start >= len(entries):
            break
        batch = entries[start:start + BATCH]
        _apply(actor, row, batch)
        row.checkpoint = start + len(batch)
        db.session.commit()
    row.status = ImportStatus.SUCCEEDED
    row.finished_at = utcnow()
    db.session.commit()
    return row.status.value
