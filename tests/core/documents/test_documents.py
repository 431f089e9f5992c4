"""Documents: typed by content, size-limited, checksummed, kept under the council's prefix."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.cases.models import Document
from core.documents.services import MAX_BYTES, access_document, read_document, sniff, store_document
from core.errors import NotFound, ValidationFailed
from core.storage import storage
from tests.conftest import in_tenant, system_actor

pytestmark = pytest.mark.smoke

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize("data, content_type", [
    (PDF, "application/pdf"), (b"\x89PNG\r\n\x1a\n...", "image/png"), (b"\xff\xd8\xff\xe0..", "image/jpeg"),
    (_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_files_are_typed_by_their_content(data: bytes, content_type: str) -> None:
    assert sniff(data).content_type == content_type  # type: ignore[union-attr]


@pytest.mark.parametrize("data", [b"MZ\x90\x00 an exe", b"<html><script>", b"PK\x03\x04 not an office file", b"plain"])
def test_other_files_are_refused(data: bytes) -> None:
    assert sniff(data) is None


def test_a_document_is_stored_under_the_councils_prefix_and_read_back(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        doc = store_document(actor, child_id=child.id, kind="advice", title="Educational psychology advice",
                             filename="../../etc/EP advice (final).exe.pdf", data=PDF, advice_id="ep1")
        assert doc.storage_key.startswith(f"tenants/{tenant_a.id}/documents/")
        assert doc.filename == "EP advice final.exe.pdf" and doc.content_type == "application/pdf" and doc.size == len(PDF)
        assert read_document(actor, access_document(actor, doc.id)) == PDF
    with in_tenant(tenant_a) as s:
        actions = set(s.execute(select(AuditEvent.action).where(AuditEvent.object_id == doc.id)).scalars())
    assert actions == {"document.added", "document.read"}


@pytest.mark.parametrize("data, message", [
    (b"", "empty"), (b"%PDF-" + b"x" * MAX_BYTES, "smaller than 20MB"), (b"GIF89a", "must be a PDF"),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(tenant_a: Any, make_child: Any, data: bytes, message: str) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a) as s:
        with pytest.raises(ValidationFailed, match=message):
            store_document(system_actor(tenant_a), child_id=child.id, kind="evidence", title="X", filename="x", data=data)
        assert s.execute(select(Document).where(Document.child_id == child.id)).first() is None


def test_a_tampered_file_is_detected_on_reading(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        doc = store_document(actor, child_id=child.id, kind="evidence", title="Report", filename="r.pdf", data=PDF)
        storage().put(doc.storage_key, PDF + b"tampered")
        with pytest.raises(RuntimeError, match="checksum"):
            read_document(actor, doc)


def test_another_councils_document_is_not_found(tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        doc = store_document(system_actor(tenant_a), child_id=child.id, kind="evidence", title="R", filename="r.pdf", data=PDF)
    with in_tenant(tenant_b), pytest.raises(NotFound):
        access_document(system_actor(tenant_b), doc.id)


def test_storage_keys_cannot_escape_the_root(tmp_path: Any) -> None:
    from core.storage import LocalStorage

    with pytest.raises(ValueError):
        LocalStorage(tmp_path).put("../outside", b"x")
