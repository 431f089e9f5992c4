"""The SEN register: uploading a register file for import, reading imports back, a child's
register entry, and exporting it as a file for a receiving school.

An upload is checked (size, type by content, checksum), its bytes stored under the council's
prefix by ``core.storage`` (never at a path from the request), and an :class:`SenImport`
row queued; the import itself runs in ``core.sen.jobs.import_sen_register`` after commit.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from sqlalchemy import select

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.children.access import access_child
from core.db import db
from core.errors import Forbidden, NotFound, ValidationFailed
from core.ids import parse_id
from core.jobs import enqueue_after_commit
from core.plugin_api import PupilRecord
from core.plugins.manager import implementers
from core.plugins.services import call_enabled, enabled_plugins
from core.sen.models import ChildSen, ImportStatus, SenImport
from core.storage import new_document_key, put_in_transaction, storage

#: A 50,000-pupil CTF is about 13MB. Requests are capped a little above this (MAX_CONTENT_LENGTH).
MAX_BYTES = 20 * 1024 * 1024
IMPORT_HOOK = "sen_register_for_file"
EXPORT_HOOK = "sen_register_export_for_pupils"
_BOM = b"\xef\xbb\xbf"


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(permission)


def _safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9 ._-]+", "", base).strip(" .")[:200] or "register.xml"


def import_formats_enabled() -> bool:
    """Whether some plugin enabled for the current council reads SEN register files."""
    return bool(implementers(IMPORT_HOOK, enabled_plugins()))


def start_import(actor: Actor, *, filename: str, data: bytes) -> SenImport:
    """Store an uploaded SEN register file and queue its import (after commit).

    Raises :class:`ValidationFailed` (key ``file``) for an empty, oversized or non-XML file,
    or when no enabled plugin reads register files; nothing is stored then.
    """
    _require(actor, permissions.CHILDREN_WRITE)
    errors: list[str] = []
    head = data[:64].lstrip(_BOM).lstrip()
    if not data:
        errors.append("The selected file is empty")
    elif len(data) > MAX_BYTES:
        errors.append(f"The selected file must be smaller than {MAX_BYTES // (1024 * 1024)}MB")
    elif not head.startswith(b"<"):
        # Type by content: every register format we read is XML (the CTF).
        errors.append("The selected file must be a Common Transfer File (XML)")
    elif not import_formats_enabled():
        errors.append("No SEN register file format is enabled for your council: ask your administrator "
                      "to enable the Common Transfer File integration")
    if errors:
        raise ValidationFailed({"file": errors})
    from core.sen.jobs import import_sen_register  # the job module imports this one

    key = new_document_key()
    # Deleted again if this transaction does not commit: no bytes without their row.
    put_in_transaction(db.session(), storage(), key, data)
    row = SenImport(filename=_safe_filename(filename), checksum=hashlib.sha256(data).hexdigest(), size=len(data),
                    storage_key=key, created_by=actor.id)
    db.session.add(row)
    db.session.flush()
    enqueue_after_commit(import_sen_register, str(row.tenant_id), str(row.id))
    return row


def access_import(actor: Actor, import_id: uuid.UUID | str) -> SenImport:
    """An import the actor may see (``children.write``: those who may import); the same
    :class:`NotFound` for a malformed id, a missing import and another council's."""
    iid = parse_id(import_id)
    if iid is None:
        raise NotFound("import")
    if not actor.can(permissions.CHILDREN_WRITE):
        raise NotFound("import")
    row = db.session.get(SenImport, iid)  # tenant-filtered by the ORM criterion and by RLS
    if row is None:
        raise NotFound("import")
    if row.tenant_id != actor.tenant_id:  # unreachable while layers 2 and 3 hold
        raise AssertionError("tenant mismatch")
    return row


def recent_imports(actor: Actor, *, limit: int = 20) -> list[SenImport]:
    """The council's newest imports (no personal data: names of files and counts)."""
    _require(actor, permissions.CHILDREN_WRITE)
    return list(db.session.execute(
        select(SenImport).order_by(SenImport.created_at.desc(), SenImport.id.desc()).limit(limit)).scalars())


def can_retry(row: SenImport) -> bool:
    """A stopped import may be retried; a file with bad records may not (fix the file)."""
    return row.status != ImportStatus.SUCCEEDED and not row.error_report


def retry_import(actor: Actor, row: SenImport) -> None:
    """Queue the import again (after commit): it resumes from its checkpoint.

    For an import whose worker died (killed, out of memory, a deploy): nothing it
    committed is done twice, and nothing it had not committed is lost.
    """
    _require(actor, permissions.CHILDREN_WRITE)
    if not can_retry(row):
        raise ValidationFailed({"import": ["This import cannot be retried: upload a corrected file instead"]})
    from core.sen.jobs import import_sen_register

    if row.status == ImportStatus.FAILED:
        row.status = ImportStatus.QUEUED
        row.failure = ""
    db.session.flush()
    enqueue_after_commit(import_sen_register, str(row.tenant_id), str(row.id))


def sen_entry_for(child_id: uuid.UUID) -> ChildSen | None:
    """A child's SEN register entry (the caller has already accessed the child)."""
    return db.session.execute(select(ChildSen).where(ChildSen.child_id == child_id)).scalar_one_or_none()


def export_child(actor: Actor, child_id: uuid.UUID | str, *, destination_urn: str) -> tuple[str, bytes]:
    """A child's SEN data as a CTF for the receiving school ``destination_urn``.

    Audited as ``child.exported`` (what left the council, and for which school). Raises
    :class:`ValidationFailed` for a bad URN, a child with no UPN, or no enabled CTF plugin.
    """
    child = access_child(actor, child_id)
    urn = destination_urn.strip()
    errors: dict[str, list[str]] = {}
    if not re.fullmatch(r"[0-9]{6,7}", urn):
        errors["destination_urn"] = ["Enter the receiving school's URN, a 6 or 7 digit number like 100001"]
    if child.upn is None:
        errors["upn"] = ["Add the child's UPN before exporting: a Common Transfer File needs one"]
    if not errors and not implementers(EXPORT_HOOK, enabled_plugins()):
        errors["destination_urn"] = ["The Common Transfer File integration is not enabled for your council"]
    if errors:
        raise ValidationFailed(errors)
    entry = sen_entry_for(child.id)
    pupil = PupilRecord(upn=child.upn or "", given_name=child.given_name, family_name=child.family_name,
                        date_of_birth=child.date_of_birth,
                        sen_provision=entry.provision if entry else None,  # type: ignore[arg-type]
                        sen_needs=tuple(entry.needs) if entry else ())
    answer = call_enabled(EXPORT_HOOK, pupils=[pupil], destination_urn=urn, format="ctf")
    if answer is None:
        raise ValidationFailed({"destination_urn": ["No enabled integration writes Common Transfer Files"]})
    audit.record(actor, "child.exported", subject_type="child", subject_ids=[child.id],
                 fields=["upn", "given_name", "family_name", "date_of_birth", "sen_provision", "sen_needs"])
    filename, body = answer
    return filename, body
