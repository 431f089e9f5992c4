"""The family portal's downloads with documents in S3 (issue #5 item 4): a 303 to a
5-minute presigned link, made only after the portal's own access check; another child's
document is the same 404 as nothing, with no link."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from core.cases.models import Document
from core.documents.services import store_document
from tests.conftest import in_tenant, system_actor
from core.documents.services import NOT_SAVED
from core.submissions.models import Submission
from tests.core.storage.moto_s3 import BUCKET, S3, moto_endpoint, s3, stoppable_s3  # noqa: F401
from tests.web.portal.test_family_pages import PDF, _post, family, today  # noqa: F401


def test_the_family_is_redirected_to_a_presigned_link_for_their_own_document_only(
        s3: S3, tenant_a: Any, family: Any, make_child: Any) -> None:  # noqa: F811
    f = family([])
    _post(f["client"], f"{f['base']}/views", {"files": (io.BytesIO(PDF), "mine.pdf")},
          content_type="multipart/form-data")
    other = make_child(tenant_a)
    with in_tenant(tenant_a) as s:
        mine = s.execute(select(Document).where(Document.child_id == f["child"].id)).scalar_one()
        theirs = store_document(system_actor(tenant_a), child_id=other.id, kind="advice", title="Other",
                                filename="other.pdf", data=PDF).id
    resp = f["client"].get(f"{f['base']}/documents/{mine.id}")
    assert resp.status_code == 303 and resp.headers["Cache-Control"] == "no-store"
    link = resp.headers["Location"]
    assert link.startswith(f"{s3.endpoint}/{BUCKET}/tenants/{tenant_a.id}/documents/")
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["X-Amz-Expires"] == "300"
    assert query["response-content-disposition"] == "attachment; filename=\"mine.pdf\"; filename*=UTF-8''mine.pdf"
    got = requests.get(link, timeout=5)
    assert got.status_code == 200 and got.content == PDF
    refused = f["client"].get(f"{f['base']}/documents/{theirs}")
    assert refused.status_code == 404 and "Location" not in refused.headers


def test_views_with_a_file_are_not_sent_while_s3_is_down(stoppable_s3: S3, tenant_a: Any, family: Any) -> None:  # noqa: F811
    f = family([])
    stoppable_s3.server.stop()
    resp = _post(f["client"], f"{f['base']}/views", {"about": "Ella loves trains", "files": (io.BytesIO(PDF), "mine.pdf")},
                 content_type="multipart/form-data")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    # The error summary links to the form's own file field, and the words say what to do.
    assert re.search(r'<a href="#files">\s*' + re.escape(NOT_SAVED), body)
    assert "Ella loves trains" in body
    with in_tenant(tenant_a) as s:
        assert s.execute(select(Submission).where(Submission.child_id == f["child"].id)).first() is None
        assert s.execute(select(Document).where(Document.child_id == f["child"].id)).first() is None
