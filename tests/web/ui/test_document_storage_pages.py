"""Documents in S3 through the pages (issue #5 items 4 and 7), against a real S3-compatible
endpoint on 127.0.0.1 (moto, RECIPES.md section 4): a download is a 303 to a 5-minute
presigned link made only after the access check; with the endpoint stopped, the pages that
list documents still work, a download says the document is unavailable, and an upload fails
with an error summary and nothing saved."""

from __future__ import annotations

import html
import io
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.cases.models import CaseEvent, Document
from core.documents.services import NOT_SAVED
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, csrf_token, in_tenant
from tests.core.storage.moto_s3 import BUCKET, S3, moto_endpoint, objects, s3, stoppable_s3  # noqa: F401

PDF = b"%PDF-1.7\nadvice\n%%EOF\n"


def _advice_case(make_case: Any, tenant: Any) -> Any:
    return make_case(tenant, [*JOURNEY_TO_PLAN[:2],
                              {"type": "advice_requested", "date": "2026-02-11", "advice": "medical", "advice_id": "med-1"},
                              {"type": "advice_requested", "date": "2026-02-12", "advice": "medical", "advice_id": "med-2"}])


def _upload(client: Any, case: Any, data: bytes = PDF, filename: str = "Medical advice.pdf",
            advice_id: str = "med-1") -> Any:
    path = f"/cases/{case.id}/events/new/advice_received"
    return client.post(path, data={"csrf_token": csrf_token(client, path), "date-day": "1", "date-month": "3",
                                   "date-year": "2026", "advice_id": advice_id,
                                   "advice_file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def _documents(tenant: Any, case: Any) -> list[Document]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(Document).where(Document.case_id == case.id)).scalars())


def _events(tenant: Any, case: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)).scalar_one()


def _reads(tenant: Any, doc: Document) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "document.read", AuditEvent.object_id == doc.id)).scalar_one()


def _summary(body: str) -> list[tuple[str, str]]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return [(h, html.unescape(t)) for h, t in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))]


@pytest.fixture
def cw(client_for: Any, tenant_a: Any, make_user: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.CASEWORKER))


def test_a_download_redirects_to_a_presigned_link_only_after_the_access_check(
        s3: S3, cw: Any, tenant_a: Any, tenant_b: Any, make_case: Any, make_user: Any, client_for: Any) -> None:
    case = _advice_case(make_case, tenant_a)
    assert _upload(cw, case).status_code == 302
    (doc,) = _documents(tenant_a, case)
    assert objects(s3) == [doc.storage_key] and doc.storage_key.startswith(f"tenants/{tenant_a.id}/documents/")
    head = s3.client.head_object(Bucket=BUCKET, Key=doc.storage_key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", s3.key_id)

    resp = cw.get(f"/documents/{doc.id}")
    assert resp.status_code == 303 and resp.headers["Cache-Control"] == "no-store"
    link = resp.headers["Location"]
    assert link.startswith(f"{s3.endpoint}/{BUCKET}/{doc.storage_key}?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["X-Amz-Expires"] == "300"
    assert query["response-content-disposition"].startswith("attachment; ")
    assert query["response-content-type"] == "application/pdf"
    got = requests.get(link, timeout=5)
    assert got.status_code == 200 and got.content == PDF
    assert _reads(tenant_a, doc) == 1

    # Another council's member asking for the document: the same 404 as for nothing, and no link.
    other = client_for(tenant_b, make_user(tenant_b, Role.CASEWORKER)).get(f"/documents/{doc.id}")
    assert other.status_code == 404 and "Location" not in other.headers
    assert s3.endpoint not in other.get_data(as_text=True) and "X-Amz" not in other.get_data(as_text=True)
    assert _reads(tenant_a, doc) == 1


def test_with_s3_stopped_pages_list_documents_downloads_are_unavailable_and_uploads_save_nothing(
        stoppable_s3: S3, cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = _advice_case(make_case, tenant_a)
    assert _upload(cw, case).status_code == 302
    (doc,) = _documents(tenant_a, case)
    events = _events(tenant_a, case)
    stoppable_s3.server.stop()  # this test's own endpoint (RECIPES.md section 11)

    # Listing needs no bytes: the case page still works and names the document.
    page = cw.get(f"/cases/{case.id}")
    assert page.status_code == 200 and doc.title in page.get_data(as_text=True)

    # Opening it does: a GOV.UK page saying so, not a link to a dead endpoint, and no read audited.
    resp = cw.get(f"/documents/{doc.id}")
    assert resp.status_code == 503 and "Location" not in resp.headers
    body = resp.get_data(as_text=True)
    assert "Sorry, the document is unavailable" in body and "Try again later" in body
    assert _reads(tenant_a, doc) == 0

    # An upload fails with the error summary, and neither the event nor a document is saved.
    resp = _upload(cw, case, filename="Second advice.pdf", advice_id="med-2")
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#advice_file", NOT_SAVED)]
    assert _events(tenant_a, case) == events
    assert [d.id for d in _documents(tenant_a, case)] == [doc.id]


def test_a_refused_put_leaves_no_object_and_no_row(s3: S3, cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = _advice_case(make_case, tenant_a)
    events = _events(tenant_a, case)
    s3.client.delete_bucket(Bucket=BUCKET)  # the endpoint answers, and refuses the put
    resp = _upload(cw, case)
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == [("#advice_file", NOT_SAVED)]
    s3.client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    assert objects(s3) == [] and _documents(tenant_a, case) == [] and _events(tenant_a, case) == events
