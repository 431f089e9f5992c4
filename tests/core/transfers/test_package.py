"""Transfer packages for councils not on the platform: built from a snapshot, read back with
every tampering refused (listing every problem), and imported all or nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.cases.models import Case, Document, PlanVersion
from core.children.models import Child
from core.errors import Conflict, Forbidden, ValidationFailed
from core.plans import services as plans
from core.transfers import package as pkg
from core.transfers import snapshot as snap
from core.users.models import Role
from tests.conftest import actor_for, in_tenant
from tests.core.plans.factories import inflate_pdf
from tests.core.transfers.test_snapshot import _inline_jobs, take, transferable_case  # noqa: F401

ON = dt.date(2026, 11, 25)
TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def exported(tenant_a: Any, make_case: Any, make_child: Any, make_contact: Any) -> tuple[snap.CaseSnapshot, bytes]:
    s = take(tenant_a, transferable_case(tenant_a, make_case, make_child, make_contact))
    with in_tenant(tenant_a):
        return s, pkg.build_package(s)


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(members: dict[str, bytes], *, remanifest: bool = False) -> bytes:
    """A package with ``members``; ``remanifest``: a tamperer who also rewrote the manifest."""
    members = dict(members)
    if remanifest:
        manifest = json.loads(members["manifest.json"])
        manifest["files"] = [{"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                             for p, d in members.items() if p != "manifest.json"]
        members["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def problems(data: bytes) -> list[str]:
    with pytest.raises(ValidationFailed) as exc:
        pkg.read_package(data)
    assert list(exc.value.errors) == ["package"]
    return exc.value.errors["package"]


def test_the_package_holds_a_manifest_case_json_an_accessible_pdf_and_the_documents(exported: Any) -> None:
    s, data = exported
    members = unzip(data)
    manifest = json.loads(members["manifest.json"])
    assert (manifest["format"], manifest["format_version"], manifest["from_la_code"]) == (
        "sendbridge-transfer-package", 1, "901")
    assert {f["path"] for f in manifest["files"]} == set(members) - {"manifest.json"}
    for entry in manifest["files"]:
        assert entry["size"] == len(members[entry["path"]])
        assert entry["sha256"] == hashlib.sha256(members[entry["path"]]).hexdigest()
    case_json = json.loads(members["case.json"])
    assert case_json["child"]["family_name"] == "Moved"
    assert case_json["plan"]["number"] == 3 and len(case_json["plan_versions"]) == 4
    assert [e["type"] for e in case_json["case"]["events"]][0] == "request_received"
    assert {d["path"] for d in case_json["documents"]} == {n for n in members if n.startswith("documents/")}
    pdf = inflate_pdf(members["plan.pdf"])
    # Tagged (PDF/UA), titled and with a language: core/plans/pdf.py renders it.
    assert pdf.startswith(b"%PDF-")
    for marker in (b"/StructTreeRoot", b"/Lang (en)", b"/DisplayDocTitle true"):
        assert marker in pdf
    assert pkg.read_package(data) == s


def _counts(tenant: Any) -> tuple[int, int, int, int]:
    with in_tenant(tenant) as session:
        return tuple(session.execute(select(func.count()).select_from(m)).scalar_one()  # type: ignore[return-value]
                     for m in (Child, Case, PlanVersion, Document))


def test_round_trip_from_one_council_to_another(exported: Any, tenant_b: Any, make_user: Any) -> None:
    s, data = exported
    user = make_user(tenant_b, Role.CASEWORKER)
    with in_tenant(tenant_b):
        case = pkg.import_package(actor_for(user), data, transferred_on=ON, today=TODAY)
        case_id = case.id
    with in_tenant(tenant_b) as session:
        case = session.get(Case, case_id)
        versions = plans.versions(case)
        assert [(v.number, v.state, v.issued_on.isoformat() if v.issued_on else None) for v in versions] == [
            (v["number"], v["state"], v["issued_on"]) for v in s.plan_versions]
        for version, sent in zip(versions, s.plan_versions):
            assert {k: v for k, v in version.content.items() if k != "K"} == \
                {k: v for k, v in sent["content"].items() if k != "K"}
        stored = {d.sha256 for d in session.execute(select(Document).where(Document.case_id == case_id)).scalars()}
        assert {d.sha256 for d in s.documents} <= stored
        [event] = case.events
        assert (event.type, event.attributes["from_la_code"], event.attributes["to_la_code"]) == ("plan_transferred", "901", "902")
        from core.transfers.models import Transfer

        [transfer] = session.execute(select(Transfer)).scalars().all()
        assert (transfer.direction, transfer.status, transfer.received_case_id) == ("incoming", "completed", case_id)
        actions = set(session.execute(select(AuditEvent.action).where(AuditEvent.actor_id == str(user.id))).scalars())
        assert {"transfer.package_imported", "transfer.imported"} <= actions


def test_importing_needs_permission(exported: Any, tenant_b: Any, make_user: Any) -> None:
    officer = make_user(tenant_b, Role.SEND_OFFICER)
    with in_tenant(tenant_b):
        with pytest.raises(Forbidden):
            pkg.import_package(actor_for(officer), exported[1], transferred_on=ON, today=TODAY)


def test_importing_the_same_package_twice_is_refused_and_keeps_one_case(exported: Any, tenant_b: Any,
                                                                        make_user: Any) -> None:
    user = make_user(tenant_b, Role.CASEWORKER)
    with in_tenant(tenant_b):
        pkg.import_package(actor_for(user), exported[1], transferred_on=ON, today=TODAY)
    before = _counts(tenant_b)
    with in_tenant(tenant_b) as session:
        with pytest.raises(Conflict, match="already has an open EHC case"):
            pkg.import_package(actor_for(user), exported[1], transferred_on=ON, today=TODAY)
        session.commit()  # even a caller that commits keeps nothing of the refused import
    assert _counts(tenant_b) == before


def _tamper(kind: str, members: dict[str, bytes]) -> bytes:
    doc = next(n for n in members if n.startswith("documents/"))
    if kind == "not_a_zip":
        return b"%PDF-1.7 this is not a package"
    if kind == "no_manifest":
        return rezip({k: v for k, v in members.items() if k != "manifest.json"})
    if kind == "invalid_manifest":
        return rezip({**members, "manifest.json": b"{not json"})
    if kind == "checksum":
        data = bytearray(members[doc])
        data[-1] ^= 0x01
        return rezip({**members, doc: bytes(data)})
    if kind == "size":
        return rezip({**members, doc: members[doc] + b" "})
    if kind == "missing":
        return rezip({k: v for k, v in members.items() if k != doc})
    if kind == "extra":
        return rezip({**members, "documents/extra.pdf": b"%PDF-1.7 extra"})
    if kind == "traversal":
        return rezip({**members, "../../etc/evil.pdf": b"%PDF-1.7 evil"})
    if kind == "absolute":
        return rezip({**members, "/tmp/evil.pdf": b"%PDF-1.7 evil"})
    if kind == "version":
        manifest = json.loads(members["manifest.json"])
        manifest["format_version"] = 99
        return rezip({**members, "manifest.json": json.dumps(manifest).encode()})
    if kind == "invalid_case_json":
        case_json = json.loads(members["case.json"])
        del case_json["child"]["date_of_birth"]
        case_json["plan_versions"][1]["state"] = "final"
        return rezip({**members, "case.json": json.dumps(case_json).encode()}, remanifest=True)
    if kind == "document_swapped":
        # A tamperer who rewrites the manifest too is still caught by case.json's checksums.
        return rezip({**members, doc: b"%PDF-1.7 swapped"}, remanifest=True)
    raise AssertionError(kind)


TAMPERING = {
    "not_a_zip": ["not a transfer package"],
    "no_manifest": ["no manifest.json"],
    "invalid_manifest": ["manifest.json is not valid JSON"],
    "checksum": ["does not match its checksum in the manifest"],
    "size": ["but the manifest says"],
    "missing": ["missing from the package"],
    "extra": ["is in the package but not in its manifest"],
    "traversal": ["unsafe name"],
    "absolute": ["unsafe name"],
    "version": ["format version 99"],
    "invalid_case_json": ["child.date_of_birth must be a date", "plan_versions.1.state must be one of"],
    "document_swapped": ["does not match its size and checksum in case.json"],
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampered_packages_are_refused_listing_every_problem_and_change_nothing(
        kind: str, exported: Any, tenant_b: Any, make_user: Any) -> None:
    data = _tamper(kind, unzip(exported[1]))
    found = problems(data)
    for expected in TAMPERING[kind]:
        assert any(expected in p for p in found), (expected, found)
    user = make_user(tenant_b, Role.CASEWORKER)
    before = _counts(tenant_b)
    with in_tenant(tenant_b) as session:
        with pytest.raises(ValidationFailed):
            pkg.import_package(actor_for(user), data, transferred_on=ON, today=TODAY)
        session.commit()
    assert _counts(tenant_b) == before


def test_several_problems_are_all_listed(exported: Any) -> None:
    members = unzip(exported[1])
    doc = next(n for n in members if n.startswith("documents/"))
    data = rezip({**members, doc: members[doc] + b"x", "notes.txt": b"hello", "../x": b"y"})
    found = problems(data)
    assert any("unsafe name" in p for p in found)
    assert any("but the manifest says" in p for p in found)
    assert any("notes.txt is in the package but not in its manifest" in p for p in found)


def test_zip_bombs_and_too_many_files_are_refused(exported: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    members = unzip(exported[1])
    monkeypatch.setattr(pkg, "MAX_TOTAL_UNCOMPRESSED", 1024 * 1024)
    bomb = rezip({**members, "documents/zeros.pdf": b"%PDF-" + b"\0" * (2 * 1024 * 1024)}, remanifest=True)
    assert len(bomb) < 1024 * 1024  # it compresses well: that is the point
    assert any("unpacks to more than 1MB" in p for p in problems(bomb))
    monkeypatch.setattr(pkg, "MAX_FILES", 5)
    many = rezip({**members, **{f"documents/{i}.pdf": b"%PDF-" for i in range(6)}})
    assert any("at most 5" in p for p in problems(many))


def test_a_header_lying_about_its_size_is_refused(exported: Any) -> None:
    raw = bytearray(rezip(unzip(exported[1])))
    pos = 0
    while True:  # the central directory entry of case.json
        pos = raw.find(b"PK\x01\x02", pos)
        assert pos >= 0
        name_len = int.from_bytes(raw[pos + 28:pos + 30], "little")
        if raw[pos + 46:pos + 46 + name_len] == b"case.json":
            break
        pos += 4
    raw[pos + 24:pos + 28] = (10).to_bytes(4, "little")  # "uncompressed size: 10 bytes"
    assert any("case.json" in p for p in problems(bytes(raw)))


def test_only_an_issued_plan_can_be_imported(exported: Any) -> None:
    members = unzip(exported[1])
    case_json = json.loads(members["case.json"])
    for version in case_json["plan_versions"]:
        if version["state"] == "issued":
            version["state"], version["issued_on"] = "draft", None
    data = rezip({**members, "case.json": json.dumps(case_json).encode()}, remanifest=True)
    assert any("no issued EHC plan" in p for p in problems(data))


def test_a_package_without_pdf_documents_still_brings_the_issued_plan_as_a_pdf(
        exported: Any, tenant_b: Any, make_user: Any) -> None:
    """A system that is not Sendbridge may send no PDF document per version: its plan.pdf
    becomes the PDF of the plan in force here."""
    members = unzip(exported[1])
    case_json = json.loads(members["case.json"])
    dropped = [d["path"] for d in case_json["documents"] if d["kind"] == "plan_pdf"]
    case_json["documents"] = [d for d in case_json["documents"] if d["kind"] != "plan_pdf"]
    kept = {k: v for k, v in members.items() if k not in dropped}
    data = rezip({**kept, "case.json": json.dumps(case_json).encode()}, remanifest=True)
    user = make_user(tenant_b, Role.CASEWORKER)
    with in_tenant(tenant_b):
        case_id = pkg.import_package(actor_for(user), data, transferred_on=ON, today=TODAY).id
    with in_tenant(tenant_b) as session:
        case = session.get(Case, case_id)
        current = plans.latest_issued(case)
        [pdf] = plans.pdf_documents(case).values()
        assert pdf.plan_version_id == current.id and current.number == 3
        assert pdf.sha256 == hashlib.sha256(members["plan.pdf"]).hexdigest()
        assert pdf.title == "EHC plan version 3 (as issued by Council A)"


def test_a_plan_pdf_that_is_not_a_pdf_is_refused(exported: Any) -> None:
    members = unzip(exported[1])
    data = rezip({**members, "plan.pdf": b"MZ not a pdf"}, remanifest=True)
    assert "The package's plan.pdf is not a PDF" in problems(data)
