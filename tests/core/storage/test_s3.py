"""Documents in S3 (issue #5 item 4) and the S3 fault test (item 7), against a real
S3-compatible endpoint on 127.0.0.1 (moto's ThreadedMotoServer, RECIPES.md section 4).

moto accepts any presigned URL however old and whatever its signature, so expiry and
disposition are checked on the URL our code makes, not by asking moto to refuse.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import types
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import event, select

from core.cases.models import Document
from core.db import db
from core.documents.services import (NOT_SAVED, DocumentNotSaved, access_document, download_link, read_document,
                                     store_document)
from core.errors import ValidationFailed
from core.plugin_api import PLUGIN_API_VERSION, SettingsSchema, TenantInfo, hookimpl
from core.storage import PRESIGNED_SECONDS, S3Storage, StorageUnavailable, attachment_disposition
from tests.conftest import in_tenant, system_actor
from tests.core.storage.moto_s3 import BUCKET, S3, moto_endpoint, objects, s3, stoppable_s3  # noqa: F401

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _store(tenant: Any, child: Any, data: bytes = PDF, filename: str = "EP advice.pdf") -> Document:
    return store_document(system_actor(tenant), child_id=child.id, kind="advice", title="Educational psychology advice",
                          filename=filename, data=data, advice_id="ep1")


def _rows(tenant: Any, child: Any) -> list[Document]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(Document).where(Document.child_id == child.id)).scalars())


def test_a_document_round_trips_through_s3_encrypted_with_the_kms_key(s3: S3, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        doc = _store(tenant_a, child)
        key = doc.storage_key
    assert key.startswith(f"tenants/{tenant_a.id}/documents/")
    assert objects(s3) == [key]
    head = s3.client.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == s3.key_id
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        assert read_document(actor, access_document(actor, doc.id)) == PDF


def test_each_council_writes_only_under_its_own_prefix(s3: S3, tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    child_a, child_b = make_child(tenant_a), make_child(tenant_b)
    with in_tenant(tenant_a):
        _store(tenant_a, child_a)
    with in_tenant(tenant_b):
        _store(tenant_b, child_b)
    assert len(objects(s3, f"tenants/{tenant_a.id}/")) == 1
    assert len(objects(s3, f"tenants/{tenant_b.id}/")) == 1
    assert len(objects(s3)) == 2


def test_the_put_carries_a_sha256_checksum_of_the_bytes(s3: S3) -> None:
    # S3 refuses a put whose bytes do not match x-amz-checksum-sha256 (BadDigest); moto does
    # not check, so check that we send the right one.
    sent: list[dict[str, str]] = []
    s3.store.client.meta.events.register("before-send.s3.PutObject",
                                         lambda request, **_: sent.append(
                                             {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))
    s3.store.put("tenants/t/documents/1", PDF)
    expected = base64.b64encode(hashlib.sha256(PDF).digest()).decode()
    assert [h.get("x-amz-checksum-sha256") for h in sent] == [expected]
    assert sent[0].get("x-amz-server-side-encryption") == "aws:kms"


def test_the_disposition_is_always_an_attachment_with_a_safe_name() -> None:
    assert attachment_disposition("plan.pdf") == 'attachment; filename="plan.pdf"'
    assert attachment_disposition("plan.pdf", extended=True) == \
        "attachment; filename=\"plan.pdf\"; filename*=UTF-8''plan.pdf"
    # A name that cannot go in a quoted string as it is: an ASCII fallback, and the exact name per RFC 8187.
    assert attachment_disposition('Zoë "final";.pdf') == \
        "attachment; filename=\"Zo final.pdf\"; filename*=UTF-8''Zo%C3%AB%20%22final%22%3B.pdf"


def test_s3_storage_refuses_to_exist_without_a_kms_key() -> None:
    with pytest.raises(ValueError, match="KMS"):
        S3Storage("docs", kms_key_id="")


def test_a_presigned_download_lasts_five_minutes_and_is_an_attachment(s3: S3, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        doc = _store(tenant_a, child, filename="Advice für Zoë.pdf")
        actor = system_actor(tenant_a)
        before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        url = download_link(actor, access_document(actor, doc.id))
    assert url is not None
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    # The properties moto does not enforce, checked on the URL we hand out.
    assert PRESIGNED_SECONDS == 300 and query["X-Amz-Expires"] == "300"
    signed_at = dt.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    assert signed_at >= before - dt.timedelta(seconds=1)
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Signature"]
    assert query["response-content-disposition"] == \
        "attachment; filename=\"Advice fr Zo.pdf\"; filename*=UTF-8''Advice%20fr%20Zo.pdf"
    assert query["response-content-type"] == "application/pdf"
    assert urlsplit(url).path == f"/{BUCKET}/{doc.storage_key}"
    got = requests.get(url, timeout=5)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["Content-Type"] == "application/pdf"
    # Making the link is the read: audited.
    from core.audit.models import AuditEvent
    with in_tenant(tenant_a) as s:
        actions = list(s.execute(select(AuditEvent.action).where(AuditEvent.object_id == doc.id)).scalars())
    assert sorted(actions) == ["document.added", "document.read"]


def test_a_lost_object_reads_as_unavailable(s3: S3, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        doc = _store(tenant_a, child)
    s3.client.delete_object(Bucket=BUCKET, Key=doc.storage_key)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        with pytest.raises(StorageUnavailable):
            read_document(actor, doc)
        with pytest.raises(StorageUnavailable):
            download_link(actor, doc)


# ---------------------------------------------------------------------------------------
# Nothing half-written


def test_a_failed_put_adds_no_row_and_no_object(s3: S3, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    s3.client.delete_bucket(Bucket=BUCKET)  # the store answers, but refuses (NoSuchBucket)
    with in_tenant(tenant_a):
        with pytest.raises(DocumentNotSaved) as exc:
            _store(tenant_a, child)
        db.session.rollback()  # what the request does on the 4xx the forms answer with
    assert isinstance(exc.value, ValidationFailed) and isinstance(exc.value, StorageUnavailable)
    assert exc.value.errors == {"file": [NOT_SAVED]}
    assert _rows(tenant_a, child) == []
    s3.client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    assert objects(s3) == []


def test_a_rolled_back_transaction_deletes_the_object_it_wrote(s3: S3, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        doc = _store(tenant_a, child)
        assert objects(s3) == [doc.storage_key]
        db.session.rollback()
    assert objects(s3) == []
    assert _rows(tenant_a, child) == []


def test_a_failed_commit_after_the_put_deletes_the_orphan(s3: S3, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    kept_child = make_child(tenant_a)
    with in_tenant(tenant_a):
        kept = _store(tenant_a, kept_child)
    with in_tenant(tenant_a):
        session = db.session()
        doc = _store(tenant_a, child)
        assert sorted(objects(s3)) == sorted([kept.storage_key, doc.storage_key])

        def refuse(session: Any) -> None:
            raise RuntimeError("the database refused the commit")

        event.listen(session, "before_commit", refuse)
        try:
            with pytest.raises(RuntimeError, match="refused the commit"):
                session.commit()
        finally:
            event.remove(session, "before_commit", refuse)
        session.rollback()
    # The object of the commit that failed is gone; the committed one stays.
    assert objects(s3) == [kept.storage_key]
    assert _rows(tenant_a, child) == []


def test_an_object_written_before_any_query_goes_when_the_session_closes_uncommitted(s3: S3, tenant_a: Any) -> None:
    from core.storage import put_in_transaction
    from core.tenancy import tenant_context

    key = f"tenants/{tenant_a.id}/documents/early"
    with tenant_context(tenant_a.id):
        db.session.remove()
        put_in_transaction(db.session(), s3.store, key, PDF)
        assert objects(s3) == [key]
        db.session.remove()  # the request's teardown after an error: closed, never committed
    assert objects(s3) == []


def test_a_committed_document_keeps_its_object(s3: S3, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        doc = _store(tenant_a, child)
    with in_tenant(tenant_a):
        db.session.rollback()  # a later, unrelated rollback deletes nothing
    assert objects(s3) == [doc.storage_key]


# ---------------------------------------------------------------------------------------
# The S3 endpoint stopped (issue #5 item 7)


def test_with_the_endpoint_stopped_reads_are_unavailable_and_uploads_change_nothing(
        stoppable_s3: S3, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        doc = _store(tenant_a, child)
    stoppable_s3.server.stop()  # this test's own endpoint, not the shared one

    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        accessed = access_document(actor, doc.id)  # the row is there: lists still work
        with pytest.raises(StorageUnavailable):
            read_document(actor, accessed)
        with pytest.raises(StorageUnavailable):
            download_link(actor, accessed)
        with pytest.raises(DocumentNotSaved):
            _store(tenant_a, child, filename="second.pdf")
        db.session.rollback()
    assert [d.id for d in _rows(tenant_a, child)] == [doc.id]


# ---------------------------------------------------------------------------------------
# A council's own store (hook document_store_for_tenant)


class MemoryStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.objects[key] = data

    def get(self, key: str) -> bytes:
        return self.objects[key]

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)


def _own_store_plugin(store: MemoryStore, asked: list[str]) -> types.ModuleType:
    plugin = types.ModuleType("own_store")
    plugin.NAME = "own_store"  # type: ignore[attr-defined]
    plugin.TITLE = "The council's own document store"  # type: ignore[attr-defined]
    plugin.PLUGIN_API = (PLUGIN_API_VERSION, (PLUGIN_API_VERSION[0] + 1, 0))  # type: ignore[attr-defined]
    plugin.SETTINGS = SettingsSchema("own_store", {})  # type: ignore[attr-defined]

    @hookimpl
    def document_store_for_tenant(tenant: TenantInfo) -> Any:
        asked.append(tenant.slug)
        return store

    plugin.document_store_for_tenant = document_store_for_tenant  # type: ignore[attr-defined]
    return plugin


def test_hook_document_store_for_tenant(s3: S3, tenant_a: Any, tenant_b: Any, make_child: Any,
                                        use_plugins: Any) -> None:
    from core.plugins.services import set_enabled

    own, asked = MemoryStore(), []
    use_plugins(own_store=_own_store_plugin(own, asked))
    with in_tenant(tenant_a):
        set_enabled("own_store", True)
    child_a, child_b = make_child(tenant_a), make_child(tenant_b)
    with in_tenant(tenant_a):
        doc_a = _store(tenant_a, child_a)
    with in_tenant(tenant_b):
        doc_b = _store(tenant_b, child_b)
    # Council A's bytes went to its own store (under the key core built), B's to the platform's.
    assert list(own.objects) == [doc_a.storage_key] and doc_a.storage_key.startswith(f"tenants/{tenant_a.id}/")
    assert objects(s3) == [doc_b.storage_key]
    assert "council-a" in asked and "council-b" not in asked
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        assert read_document(actor, access_document(actor, doc_a.id)) == PDF
        # The plugin's store cannot presign: downloads stream after the access check.
        assert download_link(actor, doc_a) is None
        # A rollback removes what the transaction wrote to the council's store too.
        _store(tenant_a, child_a, filename="second.pdf")
        assert len(own.objects) == 2
        db.session.rollback()
    assert list(own.objects) == [doc_a.storage_key]


def test_a_failing_council_store_is_unavailable_not_an_error_page(tenant_a: Any, make_child: Any,
                                                                  use_plugins: Any) -> None:
    from core.plugins.services import set_enabled

    class Broken(MemoryStore):
        def put(self, key: str, data: bytes) -> None:
            raise ConnectionError("the council's store is down")

    use_plugins(own_store=_own_store_plugin(Broken(), []))
    with in_tenant(tenant_a):
        set_enabled("own_store", True)
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        with pytest.raises(DocumentNotSaved):
            _store(tenant_a, child)
        db.session.rollback()
    assert _rows(tenant_a, child) == []
