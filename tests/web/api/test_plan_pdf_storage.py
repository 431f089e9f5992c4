"""The API with document storage down (issue #5 item 7): a kept plan PDF is streamed from S3
while it answers, and is a 503 problem (RFC 9457) while it does not, with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import JOURNEY_TO_PLAN
from tests.core.plans.factories import complete_plan
from tests.core.storage.moto_s3 import S3, objects, stoppable_s3  # noqa: F401
from tests.web.api.conftest import assert_problem
from tests.web.api.test_plans_api import _inline_jobs, _issue  # noqa: F401


@pytest.mark.usefixtures("_inline_jobs")
def test_a_kept_plan_pdf_is_a_503_problem_while_s3_is_down(stoppable_s3: S3, api: Any, tenant_a: Any,  # noqa: F811
                                                           make_case: Any, credentials: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN[:-2])
    _issue(tenant_a, case, complete_plan())  # the render job keeps the issued version's PDF, in S3
    assert [k for k in objects(stoppable_s3) if k.startswith(f"tenants/{tenant_a.id}/documents/")]
    reader = credentials(tenant_a, "plans:read")
    items = api.get(f"/api/v1/cases/{case.id}/plan/versions", headers=reader.headers).get_json()["items"]
    issued = next(v for v in items if v["state"] == "issued")
    pdf = api.get(issued["pdf_url"], headers=reader.headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")

    stoppable_s3.server.stop()
    resp = api.get(issued["pdf_url"], headers=reader.headers)
    assert_problem(resp, 503, "service-unavailable")
    assert resp.headers["Retry-After"] == "30"
