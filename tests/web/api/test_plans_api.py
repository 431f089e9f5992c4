"""``/api/v1/cases/{id}/plan`` (api-v1.md): the plan, its versions, their PDFs, what changed, and
writing the working draft. Two councils in every test module; a 4xx changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core.cases.access import access_case
from core.cases.models import CaseEvent, PlanVersion
from core.plans import services as plans
from tests.conftest import JOURNEY_TO_PLAN, in_tenant, system_actor
from tests.core.plans.factories import complete_plan, inflate_pdf
from tests.web.api.conftest import MISSING_ID, assert_problem, audit_events, new_key

pytestmark = pytest.mark.smoke

TO_DRAFTING = JOURNEY_TO_PLAN[:-2]
READ = "plans:read"
WRITE = "plans:read plans:write"


@pytest.fixture(autouse=True)
def _inline_jobs() -> Iterator[None]:
    """Plan PDFs are rendered by a job run in-process after the commit (the embedded default).
    Some other tests build a production app that points the process-wide job backend at
    Redis and leave it there; put the default back for these tests."""
    from core.jobs import configure_jobs

    configure_jobs(None)
    yield
    configure_jobs(None)


@pytest.fixture
def case(tenant_a: Any, make_case: Any) -> Any:
    return make_case(tenant_a, TO_DRAFTING)


@pytest.fixture
def reader(tenant_a: Any, credentials: Any) -> Any:
    return credentials(tenant_a, READ)


@pytest.fixture
def writer(tenant_a: Any, credentials: Any) -> Any:
    return credentials(tenant_a, WRITE)


def _versions(tenant: Any, case: Any) -> list[tuple[int, str]]:
    with in_tenant(tenant):
        return [(v.number, v.state) for v in plans.versions(access_case(system_actor(tenant), case.id))]


def _issue(tenant: Any, case: Any, content: dict[str, Any] | None = None) -> None:
    from core.cases import services as cases
    from core.timescales import TimescalePolicy
    from tests.core.plans.conftest import TODAY

    with in_tenant(tenant):
        actor = system_actor(tenant)
        c = access_case(actor, case.id, for_write=True)
        if content is not None:
            plans.save_draft(actor, c, content)
        for event in JOURNEY_TO_PLAN[-2:]:
            cases.record_event(actor, c, event, policy=TimescalePolicy(), today=TODAY)


def test_a_case_with_no_plan_yet(api: Any, reader: Any, case: Any) -> None:
    resp = api.get(f"/api/v1/cases/{case.id}/plan", headers=reader.headers)
    assert resp.status_code == 200
    assert resp.get_json() == {"case_id": str(case.id), "issued": None, "draft": None}
    assert api.get(f"/api/v1/cases/{case.id}/plan/versions", headers=reader.headers).get_json() == {
        "items": [], "next_cursor": None}


def test_reading_the_plan_needs_the_plans_read_scope(api: Any, tenant_a: Any, credentials: Any, case: Any) -> None:
    token = credentials(tenant_a, "cases:read cases:write")
    for path in ("plan", "plan/versions", "plan/draft"):
        assert_problem(api.get(f"/api/v1/cases/{case.id}/{path}", headers=token.headers), 403, "insufficient-scope")
    assert_problem(api.get(f"/api/v1/cases/{case.id}/plan"), 401, "unauthorized")


def test_putting_a_draft_starts_it_then_changes_it(api: Any, tenant_a: Any, writer: Any, case: Any) -> None:
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": complete_plan()}, headers=writer.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    draft = resp.get_json()
    assert (draft["number"], draft["state"], draft["issued_on"], draft["based_on_id"]) == (1, "draft", None, None)
    assert draft["sections"]["F"]["provision"][0]["frequency"] == "weekly"
    assert list(draft["sections"]) == ["A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K"]
    # Section K is the case's own advice, filled in by the platform.
    assert draft["sections"]["K"]["advice"][0]["advice_id"] == "ep1"
    assert draft["pdf_url"] == f"/api/v1/cases/{case.id}/plan/versions/{draft['id']}/pdf"
    changed = complete_plan()
    changed["F"]["provision"][0]["frequency"] = "twice a week"
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": changed}, headers=writer.headers)
    assert resp.status_code == 200 and resp.get_json()["id"] == draft["id"]
    plan = api.get(f"/api/v1/cases/{case.id}/plan", headers=writer.headers).get_json()
    assert plan["issued"] is None and plan["draft"]["sections"]["F"]["provision"][0]["frequency"] == "twice a week"
    saved = audit_events(tenant_a, action="plan.draft_saved")
    assert [(a.subject_id, a.actor_type, a.fields) for a in saved][-1] == (case.child_id, "api_client", "F")


def test_an_invalid_draft_is_a_422_naming_each_field_and_changes_nothing(api: Any, tenant_a: Any, writer: Any,
                                                                         case: Any) -> None:
    plan = complete_plan()
    plan["E"]["outcomes"][0]["need_ids"] = ["b-404"]
    plan["F"]["provision"][1]["cost"] = 12
    plan["J"]["personal_budget"]["amount"] = "lots"
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": plan}, headers=writer.headers)
    body = assert_problem(resp, 422, "validation-error", fields={
        "sections.E.outcomes.0.need_ids", "sections.F.provision.1.cost", "sections.J.personal_budget.amount"})
    assert body["errors"]["sections.E.outcomes.0.need_ids"] == ["There is no need with id ‘b-404’ in section B, C or D"]
    assert _versions(tenant_a, case) == []
    assert audit_events(tenant_a, action="plan.draft_saved") == []


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"sections"}),
    ({"sections": []}, {"sections"}),
    ({"sections": {}, "extra": 1}, {"extra"}),
    ({"sections": {"Z": {}}}, {"sections.Z"}),
])
def test_a_draft_body_in_the_wrong_shape_is_a_422(api: Any, tenant_a: Any, writer: Any, case: Any,
                                                  body: dict[str, Any], fields: set[str]) -> None:
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", json=body, headers=writer.headers)
    assert_problem(resp, 422, "validation-error", fields=fields)
    assert _versions(tenant_a, case) == []


def test_a_draft_body_that_is_not_json_is_refused(api: Any, tenant_a: Any, writer: Any, case: Any) -> None:
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", data="sections=1", headers={
        **writer.headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(resp, 415, "unsupported-media-type")
    assert _versions(tenant_a, case) == []


def test_writing_needs_the_plans_write_scope(api: Any, tenant_a: Any, reader: Any, case: Any) -> None:
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": {}}, headers=reader.headers)
    assert_problem(resp, 403, "insufficient-scope")
    assert _versions(tenant_a, case) == []


def test_a_repeated_put_with_the_same_idempotency_key_replays_the_first(api: Any, tenant_a: Any, writer: Any,
                                                                        case: Any) -> None:
    key = new_key()
    headers = {**writer.headers, "Idempotency-Key": key}
    first = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": complete_plan()}, headers=headers)
    again = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": complete_plan()}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert len(audit_events(tenant_a, action="plan.draft_saved")) == 1


def test_a_ceased_case_takes_no_draft(api: Any, tenant_a: Any, writer: Any, case: Any) -> None:
    with in_tenant(tenant_a):
        access_case(system_actor(tenant_a), case.id).stage = "ceased"
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": {}}, headers=writer.headers)
    assert_problem(resp, 409, "conflict")
    assert _versions(tenant_a, case) == []


# ---------------------------------------------------------------------------------------
# Issued versions, PDFs, what changed


def test_versions_their_pdfs_and_what_changed(api: Any, tenant_a: Any, reader: Any, writer: Any, case: Any) -> None:
    _issue(tenant_a, case, complete_plan())
    items = api.get(f"/api/v1/cases/{case.id}/plan/versions", headers=reader.headers).get_json()["items"]
    assert [(v["number"], v["state"], v["issued_on"]) for v in items] == [(1, "served", None), (2, "issued", "2026-05-20")]
    served, issued = items
    plan = api.get(f"/api/v1/cases/{case.id}/plan", headers=reader.headers).get_json()
    assert plan["issued"] == issued and plan["draft"] is None
    assert api.get(f"/api/v1/cases/{case.id}/plan/versions/{issued['id']}", headers=reader.headers).get_json() == issued

    pdf = api.get(issued["pdf_url"], headers=reader.headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"].startswith('attachment; filename="EHC plan ')
    with in_tenant(tenant_a):
        stored = plans.pdf_documents(access_case(system_actor(tenant_a), case.id))
    assert [d.sha256 for d in stored.values()] and len(pdf.data) == list(stored.values())[0].size  # the kept one
    # A version with no kept PDF (the served draft) is rendered on request.
    rendered = api.get(served["pdf_url"], headers=reader.headers)
    assert rendered.status_code == 200 and rendered.data.startswith(b"%PDF-")

    changed = complete_plan()
    changed["F"]["provision"][0]["frequency"] = "twice a week"
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": changed}, headers=writer.headers)
    assert resp.status_code == 201 and resp.get_json()["based_on_id"] == issued["id"]
    draft = resp.get_json()
    diff = api.get(f"/api/v1/cases/{case.id}/plan/versions/{issued['id']}/diff/{draft['id']}", headers=reader.headers)
    assert diff.status_code == 200
    body = diff.get_json()
    assert body["from"]["number"] == 2 and body["to"]["number"] == 3
    assert body["changes"] == [{
        "section": "F", "kind": "changed", "item_id": "f-1", "label": "Speech and language therapy",
        "field": "frequency", "field_label": "how often", "before": "weekly", "after": "twice a week",
        "before_text": "weekly", "after_text": "twice a week",
        "summary": "Section F: Speech and language therapy — how often: 'weekly' → 'twice a week'"}]


def test_a_draft_pdf_is_rendered_on_request_and_says_it_is_a_draft(api: Any, writer: Any, case: Any) -> None:
    draft = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": complete_plan()},
                    headers=writer.headers).get_json()
    resp = api.get(draft["pdf_url"], headers=writer.headers)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    inflated = inflate_pdf(resp.data)
    assert b"/StructTreeRoot" in inflated and b"/Lang (en)" in inflated  # tagged
    assert b"(working draft)" in inflated or "(working draft)".encode("utf-16-be").hex().encode() in inflated


def test_get_draft_without_a_draft_shows_what_a_new_one_would_start_from(api: Any, tenant_a: Any, writer: Any,
                                                                         case: Any) -> None:
    _issue(tenant_a, case, complete_plan())
    issued = api.get(f"/api/v1/cases/{case.id}/plan", headers=writer.headers).get_json()["issued"]
    start = api.get(f"/api/v1/cases/{case.id}/plan/draft", headers=writer.headers).get_json()
    assert (start["id"], start["number"], start["state"], start["based_on_id"]) == (None, None, "draft", issued["id"])
    assert start["sections"] == issued["sections"]
    assert _versions(tenant_a, case) == [(1, "served"), (2, "issued")]  # reading started nothing
    start["sections"]["A"]["aspirations"] = "To be a vet"
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": start["sections"]}, headers=writer.headers)
    assert resp.status_code == 201 and resp.get_json()["sections"]["A"]["aspirations"] == "To be a vet"
    assert api.get(f"/api/v1/cases/{case.id}/plan/draft", headers=writer.headers).get_json()["id"] == resp.get_json()["id"]


def test_issuing_an_incomplete_plan_through_the_events_api_is_refused_and_stores_nothing(
        api: Any, tenant_a: Any, credentials: Any, case: Any) -> None:
    token = credentials(tenant_a, "cases:read cases:write plans:read plans:write")
    plan = complete_plan()
    plan["F"]["provision"] = []
    assert api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": plan}, headers=token.headers).status_code == 201
    served = api.post(f"/api/v1/cases/{case.id}/events", json=JOURNEY_TO_PLAN[-2], headers=token.headers)
    assert served.status_code in (200, 201), served.get_data(as_text=True)
    with in_tenant(tenant_a) as s:
        events = s.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)).scalar_one()
    resp = api.post(f"/api/v1/cases/{case.id}/events", json=JOURNEY_TO_PLAN[-1], headers=token.headers)
    body = assert_problem(resp, 409, "conflict")
    assert "Section F: add at least one item of special educational provision" in body["detail"]
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)).scalar_one() == events
        assert s.execute(select(func.count()).select_from(PlanVersion)
                         .where(PlanVersion.case_id == case.id, PlanVersion.state == "issued")).scalar_one() == 0
    assert _versions(tenant_a, case) == [(1, "served"), (2, "draft")]


def test_a_case_with_no_plan_content_still_issues_through_the_events_api(api: Any, tenant_a: Any, credentials: Any,
                                                                         case: Any) -> None:
    token = credentials(tenant_a, "cases:read cases:write plans:read")
    for event in JOURNEY_TO_PLAN[-2:]:
        resp = api.post(f"/api/v1/cases/{case.id}/events", json=event, headers=token.headers)
        assert resp.status_code in (200, 201), resp.get_data(as_text=True)
    issued = api.get(f"/api/v1/cases/{case.id}/plan", headers=token.headers).get_json()["issued"]
    assert issued["number"] == 2 and issued["sections"]["B"] == {"needs": []}
    with in_tenant(tenant_a):
        assert plans.pdf_documents(access_case(system_actor(tenant_a), case.id)) == {}  # nothing kept for no content
    pdf = api.get(issued["pdf_url"], headers=token.headers)  # rendered on request, saying there is no content
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


# ---------------------------------------------------------------------------------------
# Another council, missing things


def test_another_councils_client_gets_404_and_cannot_write_a_draft(api: Any, tenant_a: Any, tenant_b: Any,
                                                                   credentials: Any, case: Any) -> None:
    _issue(tenant_a, case, complete_plan())
    token_b = credentials(tenant_b, WRITE)
    with in_tenant(tenant_a):
        version = plans.latest_issued(access_case(system_actor(tenant_a), case.id)).id
    for path in ("plan", "plan/versions", "plan/draft", f"plan/versions/{version}", f"plan/versions/{version}/pdf",
                 f"plan/versions/{version}/diff/{version}"):
        found = api.get(f"/api/v1/cases/{case.id}/{path}", headers=token_b.headers)
        missing = api.get(f"/api/v1/cases/{MISSING_ID}/{path}", headers=token_b.headers)
        assert found.status_code == missing.status_code == 404, path
        assert {k: v for k, v in found.get_json().items() if k != "request_id"} == \
               {k: v for k, v in missing.get_json().items() if k != "request_id"}
    resp = api.put(f"/api/v1/cases/{case.id}/plan/draft", json={"sections": {}}, headers=token_b.headers)
    assert_problem(resp, 404, "not-found")
    assert _versions(tenant_a, case) == [(1, "served"), (2, "issued")]


def test_a_version_of_another_case_is_not_found_under_this_one(api: Any, tenant_a: Any, reader: Any, case: Any,
                                                               make_case: Any) -> None:
    other = make_case(tenant_a, JOURNEY_TO_PLAN)
    with in_tenant(tenant_a):
        theirs = plans.versions(access_case(system_actor(tenant_a), other.id))[0].id
    for path in (f"plan/versions/{theirs}", f"plan/versions/{theirs}/pdf", f"plan/versions/not-an-id",
                 f"plan/versions/{MISSING_ID}/diff/{theirs}"):
        assert_problem(api.get(f"/api/v1/cases/{case.id}/{path}", headers=reader.headers), 404, "not-found")
