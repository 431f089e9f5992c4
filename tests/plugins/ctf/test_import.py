"""The SEN register import (issue #5 item 5): children matched by UPN, unknown pupils created,
entries applied idempotently in committed batches, all or nothing for bad files, and a
retry after a failure resumes at the checkpoint without doing anything twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.ctf as ctf
from benchmarks.ctf_data import ctf_bytes, pupils, upn_for
from core.audit.models import AuditEvent
from core.children.models import Child
from core.errors import NotFound, ValidationFailed
from core.plugins.services import set_enabled
from core.sen import jobs as sen_jobs
from core.sen import services
from core.sen.models import ChildSen, ImportStatus, SenImport
from core.storage import storage
from tests.conftest import actor_for, in_tenant, postgres_only, system_actor

pytestmark = postgres_only


@pytest.fixture
def council(tenant_a: Any, use_plugins: Any) -> Any:
    use_plugins(ctf=ctf)
    with in_tenant(tenant_a):
        set_enabled("ctf", True)
    return tenant_a


def _import(tenant: Any, data: bytes, filename: str = "school.xml") -> SenImport:
    """Upload as the system actor; the job runs (inline) once the upload commits."""
    with in_tenant(tenant):
        row = services.start_import(system_actor(tenant), filename=filename, data=data)
        iid = row.id
    with in_tenant(tenant) as session:
        row = session.get(SenImport, iid)
        session.expunge(row)
    return row


def _count(tenant: Any, model: Any, *where: Any) -> int:
    with in_tenant(tenant) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_unknown_pupils_are_created_known_ones_matched_by_upn(council: Any, make_child: Any) -> None:
    rows = pupils(5)
    known = make_child(council, upn=rows[0]["upn"], date_of_birth=rows[0]["date_of_birth"], given_name="Known")
    row = _import(council, ctf_bytes(rows))
    assert row.status == ImportStatus.SUCCEEDED, (row.failure, row.error_report)
    assert (row.total, row.checkpoint, row.matched, row.created, row.updated, row.unchanged, row.errors) == (5, 5, 1, 4, 1, 0, 0)
    assert row.source_urn == "100001" and row.attempts == 1
    with in_tenant(council) as session:
        children = {c.upn: c for c in session.execute(select(Child).where(Child.upn.in_([r["upn"] for r in rows]))).scalars()}
        assert children[rows[0]["upn"]].id == known.id and children[rows[0]["upn"]].given_name == "Known"
        assert (children[rows[1]["upn"]].given_name, children[rows[1]["upn"]].date_of_birth) == (
            rows[1]["given_name"], rows[1]["date_of_birth"])
        sen = {e.child_id: e for e in session.execute(select(ChildSen)).scalars()}
        for r in rows:
            entry = sen[children[r["upn"]].id]
            assert (entry.provision, tuple(entry.needs), entry.source_import_id) == (r["provision"], r["needs"], row.id)
        events = session.execute(select(AuditEvent.action, AuditEvent.subject_id)
                                 .where(AuditEvent.object_id == row.id)).all()
    # One audit row per child written, none for anything else.
    assert sorted(events) == sorted([("child.sen_updated", known.id)] +
                                    [("child.created", children[r["upn"]].id) for r in rows[1:]])


def test_importing_the_same_file_again_changes_nothing(council: Any) -> None:
    data = ctf_bytes(pupils(6))
    _import(council, data)
    children, entries, audits = _count(council, Child), _count(council, ChildSen), _count(council, AuditEvent)
    again = _import(council, data)
    assert again.status == ImportStatus.SUCCEEDED
    assert (again.matched, again.created, again.updated, again.unchanged) == (6, 0, 0, 6)
    assert (_count(council, Child), _count(council, ChildSen), _count(council, AuditEvent)) == (children, entries, audits)


def test_a_changed_entry_is_updated_and_audited(council: Any) -> None:
    rows = pupils(3)
    _import(council, ctf_bytes(rows))
    rows[2] = {**rows[2], "provision": "E", "needs": ("PD", "VI")}
    row = _import(council, ctf_bytes(rows))
    assert (row.matched, row.created, row.updated, row.unchanged) == (3, 0, 1, 2)
    with in_tenant(council) as session:
        entry = session.execute(select(ChildSen).join(Child, Child.id == ChildSen.child_id)
                                .where(Child.upn == rows[2]["upn"])).scalar_one()
        assert (entry.provision, entry.needs, entry.source_import_id) == ("E", ["PD", "VI"], row.id)
    assert _count(council, AuditEvent, AuditEvent.object_id == row.id) == 1


def test_names_with_tabs_backslashes_and_line_breaks_are_imported_exactly(council: Any) -> None:
    # The job sends each batch by COPY, whose text format gives these characters a meaning.
    rows = pupils(3)
    rows[1] = {**rows[1], "family_name": "O\\Neil\tSmith", "given_name": "Anne\nMarie \\N"}
    row = _import(council, ctf_bytes(rows))
    assert row.status == ImportStatus.SUCCEEDED, (row.failure, row.error_report)
    with in_tenant(council) as session:
        child = session.execute(select(Child).where(Child.upn == rows[1]["upn"])).scalar_one()
        assert (child.family_name, child.given_name) == ("O\\Neil\tSmith", "Anne\nMarie \\N")
        assert session.execute(select(Child.family_name).where(Child.upn == rows[2]["upn"])).scalar_one() == \
            rows[2]["family_name"]


def test_a_file_with_a_bad_record_imports_nothing_and_reports_lines_only(council: Any) -> None:
    rows = pupils(4)
    data = ctf_bytes(rows).replace(f"<UPN>{rows[2]['upn']}".encode(), b"<UPN>A" + rows[2]["upn"][1:].encode())
    before = _count(council, Child)
    row = _import(council, data)
    assert row.status == ImportStatus.FAILED and row.errors == 1
    (line, reason), = row.error_report
    assert data.decode().splitlines()[line - 1].startswith("<UPN>") and reason.startswith("UPN is not valid")
    assert rows[2]["upn"][1:] not in reason
    assert _count(council, Child) == before and _count(council, ChildSen) == 0
    assert not services.can_retry(row)


def test_a_upn_the_council_holds_with_another_date_of_birth_is_a_conflict(council: Any, make_child: Any) -> None:
    rows = pupils(3)
    make_child(council, upn=rows[1]["upn"], date_of_birth=rows[1]["date_of_birth"] - dt.timedelta(days=400))
    before = _count(council, Child)
    row = _import(council, ctf_bytes(rows))
    assert row.status == ImportStatus.FAILED
    assert [r[1] for r in row.error_report] == ["The UPN belongs to a child the council holds with a different date of birth"]
    assert _count(council, Child) == before and _count(council, ChildSen) == 0


def test_a_failed_run_resumes_at_its_checkpoint_and_does_nothing_twice(council: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sen_jobs, "BATCH", 3)
    real_apply = sen_jobs._apply
    calls = []

    def dies_on_the_third_batch(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise ConnectionError("worker lost its database")
        real_apply(*args)

    monkeypatch.setattr(sen_jobs, "_apply", dies_on_the_third_batch)
    rows = pupils(10)
    row = _import(council, ctf_bytes(rows))
    assert (row.status, row.checkpoint, row.created) == (ImportStatus.FAILED, 6, 6)
    assert "unexpected error" in row.failure and services.can_retry(row)
    with in_tenant(council) as session:
        services.retry_import(system_actor(council), session.get(SenImport, row.id))
    with in_tenant(council) as session:
        row = session.get(SenImport, row.id)
        assert (row.status, row.checkpoint, row.attempts) == (ImportStatus.SUCCEEDED, 10, 2)
        assert (row.matched, row.created, row.updated, row.unchanged) == (0, 10, 0, 0)
        upns = session.execute(select(Child.upn).where(Child.upn.in_([r["upn"] for r in rows]))).scalars().all()
        assert sorted(upns) == sorted(r["upn"] for r in rows)
        assert session.execute(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.object_id == row.id)).scalar_one() == 10
    with in_tenant(council):
        with pytest.raises(ValidationFailed):
            services.retry_import(system_actor(council), row)


def test_the_file_is_stored_under_the_councils_prefix_with_its_checksum(council: Any) -> None:
    data = ctf_bytes(pupils(2))
    row = _import(council, data)
    assert row.storage_key.startswith(f"tenants/{council.id}/")
    import hashlib

    assert row.checksum == hashlib.sha256(data).hexdigest() and row.size == len(data)
    with in_tenant(council):
        assert storage().get(row.storage_key) == data


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The selected file is empty"),
    (b"%PDF-1.7 not a register", "The selected file must be a Common Transfer File (XML)"),
])
def test_a_bad_upload_is_refused_and_nothing_is_stored(council: Any, data: bytes, message: str) -> None:
    with in_tenant(council):
        with pytest.raises(ValidationFailed) as exc:
            services.start_import(system_actor(council), filename="x.xml", data=data)
    assert exc.value.errors == {"file": [message]}
    assert _count(council, SenImport) == 0


def test_no_upload_without_an_enabled_register_plugin(tenant_a: Any, use_plugins: Any) -> None:
    use_plugins(ctf=ctf)  # installed, not enabled for this council
    with in_tenant(tenant_a):
        with pytest.raises(ValidationFailed) as exc:
            services.start_import(system_actor(tenant_a), filename="x.xml", data=ctf_bytes(pupils(1)))
    assert "enable the Common Transfer File" in exc.value.errors["file"][0]


def test_export_writes_the_childs_sen_data_and_audits_it(council: Any, make_user: Any) -> None:
    rows = pupils(2)
    _import(council, ctf_bytes(rows))
    user = make_user(council)
    with in_tenant(council) as session:
        child = session.execute(select(Child).where(Child.upn == rows[1]["upn"])).scalar_one()
        filename, body = services.export_child(actor_for(user), child.id, destination_urn="100002")
    assert filename.endswith(".xml")
    (entry,) = ctf.parse.parse_ctf(body, today=dt.date(2026, 11, 27)).entries
    assert (entry.upn, entry.sen_provision, entry.sen_needs) == (rows[1]["upn"], rows[1]["provision"], rows[1]["needs"])
    assert _count(council, AuditEvent, AuditEvent.action == "child.exported", AuditEvent.subject_id == child.id) == 1


def test_export_refuses_a_bad_urn_and_a_child_without_upn(council: Any, make_child: Any) -> None:
    child = make_child(council)
    with in_tenant(council):
        with pytest.raises(ValidationFailed) as exc:
            services.export_child(system_actor(council), child.id, destination_urn="12x")
    assert set(exc.value.errors) == {"destination_urn", "upn"}


def test_another_councils_import_is_not_found(council: Any, tenant_b: Any) -> None:
    row = _import(council, ctf_bytes(pupils(1)))
    with in_tenant(tenant_b):
        with pytest.raises(NotFound):
            services.access_import(system_actor(tenant_b), row.id)
    with in_tenant(council):
        assert services.access_import(system_actor(council), row.id).id == row.id
