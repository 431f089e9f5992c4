"""Transfer packages: how an EHC plan moves to or from a council that is not on the platform.

A package is a ZIP file (regs 15(2)-(3): the plan, its versions, the advice the council
obtained and the documents)::

    manifest.json              format name and version, the sending council, when it was made,
                               and every other file's path, size and sha256
    case.json                  the api-v1 shapes: child, contacts, case (events, deadlines),
                               plan (the plan in force), plan_versions, advice, documents
    plan.pdf                   the plan in force as an accessible (tagged PDF/UA-1) document
    documents/<id>-<filename>  every document of the case, as case.json lists them

:func:`read_package` trusts nothing in an uploaded file: it refuses, listing every problem
in plain words, anything that is not such a package, with files missing, extra, altered
(size or checksum), outside the package (``../``, absolute paths), too many or too large
(zip bombs), of a format version it does not know, or a ``case.json`` of the wrong shape.
:func:`import_package` then materialises it in the importing council, all or nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from typing import Any

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases.models import Case, Document, PlanVersion
from core.children.models import Child, Sex
from core.db import db
from core.errors import Forbidden, ValidationFailed
from core.plans.content import validate_content
from core.transfers.snapshot import (
    FORMAT, FORMAT_VERSION, CaseSnapshot, SnapshotDocument, document_path, materialise,
)

PACKAGE_FORMAT = f"{FORMAT}-package"
MANIFEST = "manifest.json"
CASE_JSON = "case.json"
PLAN_PDF = "plan.pdf"

#: Limits that keep a hostile upload from exhausting the server (a "zip bomb").
MAX_PACKAGE_BYTES = 100 * 1024 * 1024
MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
MAX_FILES = 1000
MAX_CASE_JSON = 20 * 1024 * 1024
#: How many problems a refusal lists before "and N more".
_MAX_LISTED = 30

FIELD = "package"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LA_CODE = re.compile(r"^[0-9]{3}$")
_STATES = ("draft", "served", "issued")


# ---------------------------------------------------------------------------------------
# Building


def _plan_pdf(snapshot: CaseSnapshot) -> bytes | None:
    """The plan in force, rendered by the same code as every issued plan (core/plans/pdf.py)."""
    from core.plans.pdf import plan_html, render_pdf

    plan = snapshot.current_plan
    if plan is None:
        return None
    issued_on = plan.get("issued_on")
    # Transient objects: never added to the session, only read by the renderer.
    version = PlanVersion(number=plan["number"], state=plan["state"], content=dict(plan.get("content") or {}),
                          issued_on=dt.date.fromisoformat(issued_on) if issued_on else None)
    child = Child(given_name=snapshot.child.get("given_name") or "", family_name=snapshot.child.get("family_name") or "",
                  date_of_birth=dt.date.fromisoformat(snapshot.child["date_of_birth"]),
                  sex=Sex(snapshot.child["sex"]) if snapshot.child.get("sex") else None)
    docs = {d.id: Document(title=d.title, filename=d.filename, kind=d.kind) for d in snapshot.documents}
    try:
        return render_pdf(plan_html(version=version, child=child, documents=docs))
    finally:
        for obj in (version, child, *docs.values()):
            if obj in db.session:
                db.session.expunge(obj)


def build_package(snapshot: CaseSnapshot) -> bytes:
    """The ZIP transfer package of ``snapshot`` (see the module docstring)."""
    files: dict[str, bytes] = {CASE_JSON: json.dumps(snapshot.to_json(), indent=2, sort_keys=True).encode()}
    pdf = _plan_pdf(snapshot)
    if pdf is not None:
        files[PLAN_PDF] = pdf
    for doc in snapshot.documents:
        files[doc.path] = snapshot.files[doc.path]
    manifest = {
        "format": PACKAGE_FORMAT, "format_version": FORMAT_VERSION,
        "from_la_code": snapshot.from_la_code, "from_council": snapshot.from_council,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "files": [{"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for path, data in files.items()],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, indent=2).encode())
        for path, data in files.items():
            zf.writestr(path, data)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# Reading


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.items:
            self.items.append(message)

    def raise_if_any(self) -> None:
        if self.items:
            listed = self.items[:_MAX_LISTED]
            if len(self.items) > _MAX_LISTED:
                listed.append(f"And {len(self.items) - _MAX_LISTED} more problems")
            raise ValidationFailed({FIELD: listed})


def _unsafe_path(name: str) -> bool:
    """A name that would land outside the package if unpacked: absolute, a drive, ``..``."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part in ("..", ".") for part in name.split("/")) or "//" in name


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _read_members(zf: zipfile.ZipFile, problems: _Problems) -> dict[str, bytes]:
    infos = zf.infolist()
    if len(infos) > MAX_FILES:
        problems.add(f"The package holds {len(infos)} files; a transfer package may hold at most {MAX_FILES}")
        return {}
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL_UNCOMPRESSED:
        problems.add(f"The package unpacks to more than {MAX_TOTAL_UNCOMPRESSED // (1024 * 1024)}MB, which is more "
                     "than a transfer package may hold")
        return {}
    members: dict[str, bytes] = {}
    total = 0
    for info in infos:
        name = info.filename
        if _unsafe_path(name):
            problems.add(f"The package has a file with an unsafe name (“{name[:80]}”): files must stay inside the "
                         "package")
            continue
        if info.is_dir():
            continue
        if name in members:
            problems.add(f"The package has the file {name} more than once")
            continue
        if info.flag_bits & 0x1:
            problems.add(f"The file {name} is encrypted: send the package without a password")
            continue
        # Read no more than the declared size allows: a lying header cannot unpack a bomb.
        try:
            with zf.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, RuntimeError):
            problems.add(f"The file {name} in the package is damaged and cannot be read")
            continue
        except Exception:  # zlib.error and friends: a corrupt stream
            problems.add(f"The file {name} in the package is damaged and cannot be read")
            continue
        if len(data) > info.file_size:
            problems.add(f"The file {name} is larger than the package says")
            continue
        total += len(data)
        if total > MAX_TOTAL_UNCOMPRESSED:
            problems.add(f"The package unpacks to more than {MAX_TOTAL_UNCOMPRESSED // (1024 * 1024)}MB")
            return {}
        members[name] = data
    return members


def _manifest(members: Mapping[str, bytes], problems: _Problems) -> dict[str, Any] | None:
    raw = members.get(MANIFEST)
    if raw is None:
        problems.add("The package has no manifest.json, so it is not a transfer package")
        return None
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        problems.add("The package's manifest.json is not valid JSON")
        return None
    if not isinstance(manifest, dict):
        problems.add("The package's manifest.json must be a JSON object")
        return None
    if manifest.get("format") != PACKAGE_FORMAT:
        problems.add(f"The manifest does not name the transfer package format (“{PACKAGE_FORMAT}”)")
        return None
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.add(f"The package is in format version {manifest.get('format_version')!s}; this platform reads "
                     f"version {FORMAT_VERSION}")
        return None
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        problems.add("The manifest must list the package's files")
        return None
    return manifest


def _check_files(manifest: Mapping[str, Any], members: Mapping[str, bytes], problems: _Problems) -> set[str]:
    listed: set[str] = set()
    for index, entry in enumerate(manifest["files"]):
        path, size, sha = entry.get("path"), entry.get("size"), entry.get("sha256")
        if not isinstance(path, str) or _unsafe_path(path):
            problems.add(f"File {index + 1} of the manifest has no path, or an unsafe one")
            continue
        if path == MANIFEST or path in listed:
            problems.add(f"The manifest lists {path} more than once")
            continue
        listed.add(path)
        if not isinstance(size, int) or isinstance(size, bool) or not isinstance(sha, str) or not _SHA256.match(sha):
            problems.add(f"The manifest entry for {path} needs a size and a sha256 checksum")
            continue
        data = members.get(path)
        if data is None:
            problems.add(f"The file {path} is listed in the manifest but missing from the package")
            continue
        if len(data) != size:
            problems.add(f"The file {path} is {len(data)} bytes, but the manifest says {size}: it has been changed")
        elif hashlib.sha256(data).hexdigest() != sha:
            problems.add(f"The file {path} does not match its checksum in the manifest: it has been changed")
    for name in members:
        if name != MANIFEST and name not in listed:
            problems.add(f"The file {name} is in the package but not in its manifest")
    return listed


def _text(value: Any, *, required: bool = True) -> bool:
    return isinstance(value, str) and (bool(value.strip()) or not required)


def _check_case_json(data: Any, problems: _Problems) -> None:
    """The shape of case.json: api-v1 child, case, plan versions, advice, documents."""
    def bad(where: str, what: str) -> None:
        problems.add(f"case.json: {where} {what}")

    if not isinstance(data, dict):
        bad("the file", "must be a JSON object")
        return
    if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
        bad("format", f"must be “{FORMAT}” version {FORMAT_VERSION}")
    if not isinstance(data.get("from_la_code"), str) or not _LA_CODE.match(data["from_la_code"]):
        bad("from_la_code", "must be the sending council's 3-digit LA code")
    child = data.get("child")
    if not isinstance(child, dict):
        bad("child", "is missing")
    else:
        for key in ("given_name", "family_name"):
            if not _text(child.get(key)):
                bad(f"child.{key}", "is missing")
        if not _is_date(child.get("date_of_birth")):
            bad("child.date_of_birth", "must be a date (YYYY-MM-DD)")
        for key in ("upn", "uln", "nhs_number", "sex", "postcode"):
            if child.get(key) is not None and not isinstance(child.get(key), str):
                bad(f"child.{key}", "must be text or null")
    contacts = data.get("contacts", [])
    if not isinstance(contacts, list):
        bad("contacts", "must be a list")
    else:
        for i, c in enumerate(contacts):
            if not isinstance(c, dict) or not _text(c.get("given_name")) or not _text(c.get("family_name")) \
                    or not isinstance(c.get("parental_responsibility"), bool) or not _text(c.get("relationship")):
                bad(f"contacts.{i}", "needs given_name, family_name, relationship and parental_responsibility")
    case = data.get("case")
    if not isinstance(case, dict):
        bad("case", "is missing")
    else:
        if not _text(case.get("status")):
            bad("case.status", "is missing")
        events = case.get("events")
        if not isinstance(events, list):
            bad("case.events", "must be a list")
        else:
            for i, e in enumerate(events):
                if not isinstance(e, dict) or not _text(e.get("type")) or not _is_date(e.get("date")):
                    bad(f"case.events.{i}", "needs a type and a date (YYYY-MM-DD)")
        if not isinstance(case.get("deadlines", []), list):
            bad("case.deadlines", "must be a list")
    versions = data.get("plan_versions")
    ids: set[str] = set()
    if not isinstance(versions, list):
        bad("plan_versions", "must be a list")
    else:
        numbers: set[int] = set()
        for i, v in enumerate(versions):
            where = f"plan_versions.{i}"
            if not isinstance(v, dict):
                bad(where, "must be an object")
                continue
            if not _text(v.get("id")) or v["id"] in ids:
                bad(f"{where}.id", "must be a unique id")
            else:
                ids.add(v["id"])
            number = v.get("number")
            if not isinstance(number, int) or isinstance(number, bool) or number < 1 or number in numbers:
                bad(f"{where}.number", "must be a unique whole number from 1")
            else:
                numbers.add(number)
            if v.get("state") not in _STATES:
                bad(f"{where}.state", f"must be one of {', '.join(_STATES)}")
            if v.get("state") == "issued" and not _is_date(v.get("issued_on")):
                bad(f"{where}.issued_on", "must be the date the version was issued (YYYY-MM-DD)")
            elif v.get("issued_on") is not None and not _is_date(v.get("issued_on")):
                bad(f"{where}.issued_on", "must be a date (YYYY-MM-DD) or null")
            content = v.get("content")
            if not isinstance(content, dict):
                bad(f"{where}.content", "must be the plan's sections A to K")
            else:
                try:
                    validate_content(content, final=False)
                except ValidationFailed as exc:
                    for path, messages in list(exc.errors.items())[:5]:
                        bad(f"{where}.content.{path}", "— " + "; ".join(messages))
        for i, v in enumerate(versions):
            if isinstance(v, dict) and v.get("based_on_id") is not None and v.get("based_on_id") not in ids:
                bad(f"plan_versions.{i}.based_on_id", "must be the id of another version in the package")
        if not any(isinstance(v, dict) and v.get("state") == "issued" for v in versions):
            bad("plan_versions", "has no issued EHC plan: only an issued plan can be transferred")
    if not isinstance(data.get("advice", []), list) or not all(isinstance(a, dict) for a in data.get("advice", [])):
        bad("advice", "must be a list of objects")
    for key in ("plan_made_on", "last_reviewed_on"):
        if data.get(key) is not None and not _is_date(data.get(key)):
            bad(key, "must be a date (YYYY-MM-DD) or null")
    docs = data.get("documents")
    if not isinstance(docs, list):
        bad("documents", "must be a list")
        return
    paths: set[str] = set()
    for i, d in enumerate(docs):
        where = f"documents.{i}"
        if not isinstance(d, dict):
            bad(where, "must be an object")
            continue
        ok = all(_text(d.get(k)) for k in ("id", "kind", "title", "filename", "content_type", "path"))
        size = d.get("size")
        if not ok or not isinstance(size, int) or isinstance(size, bool) or not isinstance(d.get("sha256"), str) \
                or not _SHA256.match(d["sha256"]):
            bad(where, "needs id, kind, title, filename, content_type, size, sha256 and path")
            continue
        if d["path"] != document_path(d["id"], d["filename"]) or d["path"] in paths:
            bad(f"{where}.path", f"must be {document_path(d['id'], d['filename'])} and unique")
        paths.add(d["path"])
        if d.get("plan_version_id") is not None and d.get("plan_version_id") not in ids:
            bad(f"{where}.plan_version_id", "must be the id of a version in the package")


def read_package(data: bytes) -> CaseSnapshot:
    """The snapshot inside a transfer package, or :class:`ValidationFailed` (``{"package":
    [every problem]}``) for anything else. Reads nothing from, and writes nothing to, the
    database except to check the plan's named schools against the register."""
    problems = _Problems()
    if not data:
        problems.add("The selected file is empty")
        problems.raise_if_any()
    if len(data) > MAX_PACKAGE_BYTES:
        problems.add(f"The selected file must be smaller than {MAX_PACKAGE_BYTES // (1024 * 1024)}MB")
        problems.raise_if_any()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        problems.add("The selected file is not a transfer package: it must be the ZIP file the other council sent")
        problems.raise_if_any()
        raise AssertionError("unreachable")
    with zf:
        members = _read_members(zf, problems)
    manifest = _manifest(members, problems) if members or not problems.items else None
    if manifest is None:
        problems.raise_if_any()
        raise AssertionError("unreachable")
    listed = _check_files(manifest, members, problems)
    if CASE_JSON not in members or CASE_JSON not in listed:
        problems.add("The package has no case.json (the child, case and plan)")
        problems.raise_if_any()
    raw = members[CASE_JSON]
    if len(raw) > MAX_CASE_JSON:
        problems.add("The package's case.json is too large")
        problems.raise_if_any()
    try:
        case_json = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        problems.add("The package's case.json is not valid JSON")
        problems.raise_if_any()
        raise AssertionError("unreachable")
    _check_case_json(case_json, problems)
    if isinstance(case_json, dict) and isinstance(case_json.get("documents"), list):
        documents = [d for d in case_json["documents"] if isinstance(d, dict)]
        referenced = {d.get("path") for d in documents}
        for d in documents:
            path = d.get("path")
            if isinstance(path, str) and path in members and (
                    len(members[path]) != d.get("size") or hashlib.sha256(members[path]).hexdigest() != d.get("sha256")):
                problems.add(f"The document {path} does not match its size and checksum in case.json")
            elif isinstance(path, str) and path not in members:
                problems.add(f"The document {path} listed in case.json is missing from the package")
        for name in members:
            if name.startswith("documents/") and name not in referenced:
                problems.add(f"The file {name} is not one of the documents listed in case.json")
            elif not name.startswith("documents/") and name not in (MANIFEST, CASE_JSON, PLAN_PDF):
                problems.add(f"The file {name} does not belong in a transfer package")
    if isinstance(case_json, dict) and manifest.get("from_la_code") != case_json.get("from_la_code"):
        problems.add("The manifest and case.json name different sending councils")
    pdf = members.get(PLAN_PDF)
    if pdf is not None and not pdf.startswith(b"%PDF-"):
        problems.add("The package's plan.pdf is not a PDF")
    problems.raise_if_any()
    files = {d["path"]: members[d["path"]] for d in case_json["documents"]}
    snapshot = CaseSnapshot.from_json(case_json, files)
    return _with_plan_pdf(snapshot, pdf)


def _with_plan_pdf(snapshot: CaseSnapshot, pdf: bytes | None) -> CaseSnapshot:
    """A package from a system that sent no PDF document of the plan in force still brings
    the plan as the old council issued it: its plan.pdf is kept as that version's PDF."""
    plan = snapshot.current_plan
    if pdf is None or plan is None or any(
            d.kind == "plan_pdf" and d.plan_version_id == plan["id"] for d in snapshot.documents):
        return snapshot
    council = snapshot.from_council or f"LA {snapshot.from_la_code}"
    doc = SnapshotDocument(
        id=f"plan-pdf-{plan['id']}", kind="plan_pdf", title=f"EHC plan version {plan['number']} (as issued by {council})"[:200],
        filename=f"EHC plan version {plan['number']}.pdf", content_type="application/pdf", size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(), path=PLAN_PDF, plan_version_id=plan["id"])
    return dataclasses.replace(snapshot, documents=(*snapshot.documents, doc),
                               files={**snapshot.files, PLAN_PDF: pdf})


# ---------------------------------------------------------------------------------------
# Importing


def import_package(actor: Actor, data: bytes, *, transferred_on: dt.date, today: dt.date | None = None) -> Case:
    """Receive a plan from a council not on the platform: read the package, materialise it
    here, and record the incoming, completed transfer. All or nothing: any refusal raises
    (:class:`ValidationFailed`, :class:`Conflict`) with nothing kept, even for a caller that
    goes on to commit. Audited as ``transfer.package_imported`` against the child."""
    # transfers.write is the permission for receiving a plan (it opens the child's case here,
    # written by this council's system actor for the transfer, as an on-platform transfer is).
    if not actor.can(permissions.TRANSFERS_WRITE):
        raise Forbidden(permissions.TRANSFERS_WRITE)
    snapshot = read_package(data)
    # Imported late: the transfers service imports this module for off-platform completions.
    from core.transfers.services import register_imported_transfer

    try:
        with db.session.begin_nested():
            case = materialise(snapshot, transferred_on=transferred_on, transfer_id=None,
                               from_la_code=snapshot.from_la_code,
                               actor_label=f"transfer-package:{actor.kind}:{actor.id}", today=today)
            register_imported_transfer(actor, snapshot=snapshot, case=case, from_la_code=snapshot.from_la_code,
                                       transferred_on=transferred_on)
            audit.record(actor, "transfer.package_imported", subject_type="child", subject_ids=[case.child_id],
                         object_type="case", object_id=case.id, fields=[snapshot.from_la_code])
    except ValidationFailed as exc:
        if set(exc.errors) <= {FIELD, "transferred_on"}:
            raise
        # What this council cannot accept from the package (a child's identifier that fails
        # its check, a document of a type not taken here): said against the upload.
        raise ValidationFailed({FIELD: [f"case.json: {key} — {'; '.join(messages)}"
                                        for key, messages in exc.errors.items()]}) from None
    return case
