"""Documents about a child: stored, checked, listed and read back.

Uploads are limited in size, typed by their content (never by their name or the browser's
claim), and checksummed; the row and the bytes are written together, with nothing left
half-written: bytes first (a failed put raises :class:`DocumentNotSaved` before any row is
added, and the caller's 4xx rolls its transaction back), and an object whose transaction
then fails to commit is deleted again (``core.storage.put_in_transaction``).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases.models import Case, Document
from core.db import db
from core.errors import Forbidden, NotFound, ValidationFailed
from core.identity.scope import document_in_scope
from core.ids import parse_id
from core.storage import (StorageUnavailable, attachment_disposition, new_document_key, put_in_transaction, storage,
                          supports_presigning)

MAX_BYTES = 20 * 1024 * 1024
#: Files the platform makes itself (a transfer package holds every document of a case) may
#: be larger than an upload.
MAX_MADE_BYTES = 250 * 1024 * 1024
KINDS = ("advice", "plan_pdf", "review_paper", "review_report", "evidence", "other",
         # A family's views for Section A of the plan, sent through the portal (issue #4).
         "views",
         # Issue 6: decision letters with appeal rights; a transfer package for a council not
         # on the platform; the previous council's record of a transferred case.
         "decision_letter", "transfer_package", "transfer_record")


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    label: str


def sniff(data: bytes) -> FileType | None:
    """What a file really is, from its first bytes. ``None``: a type we do not accept."""
    if data.startswith(b"%PDF-"):
        return FileType("application/pdf", "pdf", "PDF")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType("image/png", "png", "PNG image")
    if data.startswith(b"\xff\xd8\xff"):
        return FileType("image/jpeg", "jpg", "JPEG image")
    if data.startswith(b"PK\x03\x04"):
        head = data[:4096]
        if b"word/" in head:
            return FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "Word document")
        if b"mimetypeapplication/vnd.oasis.opendocument.text" in head:
            return FileType("application/vnd.oasis.opendocument.text", "odt", "OpenDocument text")
    return None


ACCEPTED = "PDF, Word (.docx), OpenDocument text (.odt), PNG or JPEG"

NOT_SAVED = "The document could not be saved because document storage is unavailable. Try again later"


class DocumentNotSaved(ValidationFailed, StorageUnavailable):
    """The store refused or could not be reached: nothing was saved. A validation error for
    the upload forms (the message shows against the file field, in the error summary, and the
    4xx rolls the whole form back); ``StorageUnavailable`` for the API (503)."""

    def __init__(self, field: str = "file") -> None:
        ValidationFailed.__init__(self, {field: [NOT_SAVED]})


def _safe_filename(name: str, ftype: FileType) -> str:
    """The name to offer on download: no directories, plain characters, the real extension."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = re.sub(r"[^A-Za-z0-9 ._-]+", "", base.rsplit(".", 1)[0]).strip(" .")[:80] or "document"
    return f"{stem}.{ftype.extension}"


def store_document(actor: Actor, *, child_id: uuid.UUID, kind: str, title: str, filename: str, data: bytes,
                   case_id: uuid.UUID | None = None, advice_id: str | None = None,
                   plan_version_id: uuid.UUID | None = None, review_meeting_id: uuid.UUID | None = None,
                   submission_id: uuid.UUID | None = None, trusted_type: FileType | None = None,
                   permission: str = permissions.CASES_WRITE, field: str = "file") -> Document:
    """Store a file about a child (already accessed for write). Audited as ``document.added``.

    ``trusted_type`` is for files the platform made itself (plan PDFs); uploads are sniffed.
    ``permission``: what the actor must hold: council staff write cases; the portals pass
    their own (a parent's views, a professional's advice), having checked the actor's scope.
    ``field``: the form field a :class:`DocumentNotSaved` (storage unavailable) names.
    """
    if not actor.can(permission):
        raise Forbidden(permission)
    if actor.scope is not None and not document_in_scope(actor, case_id, child_id):
        raise NotFound("child")
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = [f"Choose one of: {', '.join(KINDS)}"]
    if not title.strip() or len(title) > 200:
        errors["title"] = ["Give the document a title of up to 200 characters"]
    ftype = trusted_type or sniff(data)
    if not data:
        errors["file"] = ["The selected file is empty"]
    elif len(data) > (MAX_MADE_BYTES if trusted_type else MAX_BYTES):
        limit = MAX_MADE_BYTES if trusted_type else MAX_BYTES
        errors["file"] = [f"The selected file must be smaller than {limit // (1024 * 1024)}MB"]
    elif ftype is None:
        errors["file"] = [f"The selected file must be a {ACCEPTED}"]
    if case_id is not None and not errors:
        case = db.session.get(Case, case_id)
        if case is not None and case.stage == "transferred":
            # Reg 15(3): from the transfer the new council maintains the plan; the old
            # council's case is a read-only record, so nothing more is filed on it.
            errors["file"] = ["This plan has been transferred to another council; files can no longer be added here"]
    if errors:
        raise ValidationFailed(errors)
    assert ftype is not None
    key = new_document_key()
    try:
        put_in_transaction(db.session(), storage(), key, data)
    except StorageUnavailable as exc:
        raise DocumentNotSaved(field) from exc
    doc = Document(child_id=child_id, case_id=case_id, kind=kind, title=title.strip(), filename=_safe_filename(filename, ftype),
                   content_type=ftype.content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                   storage_key=key, advice_id=advice_id, plan_version_id=plan_version_id,
                   review_meeting_id=review_meeting_id, submission_id=submission_id, created_by=actor.id)
    db.session.add(doc)
    db.session.flush()
    audit.record(actor, "document.added", subject_type="child", subject_ids=[child_id], object_type="document",
                 object_id=doc.id, fields=[kind])
    return doc


def access_document(actor: Actor, document_id: uuid.UUID | str) -> Document:
    """A document the actor may read; the same :class:`NotFound` for missing and forbidden."""
    did = parse_id(document_id)
    if did is None or not actor.can(permissions.CASES_READ):
        raise NotFound("document")
    doc = db.session.get(Document, did)
    if doc is None:
        raise NotFound("document")
    if doc.tenant_id != actor.tenant_id:  # unreachable while layers 2 and 3 hold
        raise AssertionError("tenant mismatch")
    if not document_in_scope(actor, doc.case_id, doc.child_id):
        raise NotFound("document")
    return doc


def read_document(actor: Actor, doc: Document) -> bytes:
    """The bytes of an accessed document, checked against the stored checksum. Audited.

    Raises :class:`StorageUnavailable` when the store cannot be reached (or has lost the
    object): the page says the document is unavailable."""
    try:
        data = storage().get(doc.storage_key)
    except FileNotFoundError as exc:
        raise StorageUnavailable(f"document {doc.id} is missing from storage") from exc
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        raise RuntimeError(f"document {doc.id} does not match its checksum")
    audit.record(actor, "document.read", subject_type="child", subject_ids=[doc.child_id], object_type="document",
                 object_id=doc.id)
    return data


def download_link(actor: Actor, doc: Document) -> str | None:
    """A short-lived link straight to the store for an accessed document (audited as
    ``document.read`` now, as the link gives the bytes), or ``None`` when the store cannot
    make one: then stream :func:`read_document` instead.

    Call only after ``access_document`` (or a portal's own access check): the link is a
    bearer credential for 5 minutes (``core.storage.PRESIGNED_SECONDS``), made for this
    reader's request only, and always downloads as an attachment of the stored type.
    """
    store = storage()
    if not supports_presigning(store):
        return None
    try:
        url = store.presigned_download(doc.storage_key, doc.filename, doc.content_type)  # type: ignore[attr-defined]
    except FileNotFoundError as exc:
        raise StorageUnavailable(f"document {doc.id} is missing from storage") from exc
    audit.record(actor, "document.read", subject_type="child", subject_ids=[doc.child_id], object_type="document",
                 object_id=doc.id)
    return str(url)


def download_headers(doc: Document) -> dict[str, str]:
    """Headers for streaming a document: an attachment of its stored type, never inline,
    never sniffed, never cached (personal data)."""
    return {"Content-Disposition": attachment_disposition(doc.filename), "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store"}


def documents_of_case(case_id: uuid.UUID) -> list[Document]:
    return list(db.session.execute(
        select(Document).where(Document.case_id == case_id).order_by(Document.created_at)).scalars())
