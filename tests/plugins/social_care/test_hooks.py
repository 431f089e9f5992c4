"""The social_care plugin's hooks against a social care API on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

import plugins.social_care as social_care
from core.plugin_api import AdviceRequest, PartnerUnavailable, PermanentFailure, TenantInfo
from core.schema import SchemaError
from tests.plugins.social_care.conftest import API_KEY, PDF, UPN, SocialCareStub, status_record, stop


@pytest.fixture
def tenant(social_care_settings: dict[str, Any]) -> TenantInfo:
    return TenantInfo(id=uuid.uuid4(), slug="council-a", name="Council A", la_code="901",
                      settings=social_care_settings)


def _request(advice_id: str = "sc1") -> AdviceRequest:
    return AdviceRequest(case_id=uuid.uuid4(), advice_id=advice_id, child_id=uuid.uuid4(), nhs_number=None,
                         requested_on=dt.date(2026, 2, 11), due_on=dt.date(2026, 3, 25), kind="social_care")


def test_hook_social_care_status_for_child(social_care_stub: SocialCareStub, tenant: TenantInfo) -> None:
    social_care_stub.statuses[UPN] = status_record()
    child_id = uuid.uuid4()

    status = social_care.social_care_status_for_child(tenant=tenant, child_id=child_id, identifiers={"upn": UPN})

    assert status is not None
    assert (status.child_id, status.looked_after, status.child_in_need, status.child_protection_plan) == \
        (child_id, True, False, False)
    assert status.social_worker == "Jo Bloggs"
    assert status.as_of == dt.date(2026, 11, 20)
    [(method, path, headers, _body)] = social_care_stub.requests
    assert (method, path, headers["x-api-key"]) == ("GET", f"/api/children/{UPN}/status", API_KEY)


def test_status_unknown_child_or_missing_identifier_is_none(social_care_stub: SocialCareStub,
                                                            tenant: TenantInfo) -> None:
    assert social_care.social_care_status_for_child(tenant=tenant, child_id=uuid.uuid4(),
                                                    identifiers={"upn": UPN}) is None
    # Looked up by UPN, and the council holds none: not asked at all.
    assert social_care.social_care_status_for_child(tenant=tenant, child_id=uuid.uuid4(),
                                                    identifiers={"nhs_number": "9434765919"}) is None
    assert len(social_care_stub.requests) == 1


def test_status_that_does_not_fit_the_mapping_is_a_permanent_failure(social_care_stub: SocialCareStub,
                                                                     tenant: TenantInfo) -> None:
    social_care_stub.statuses[UPN] = status_record(lac="sometimes")
    with pytest.raises(PermanentFailure, match="flags.lac"):
        social_care.social_care_status_for_child(tenant=tenant, child_id=uuid.uuid4(), identifiers={"upn": UPN})


def test_status_partner_down_is_retryable(social_care_stub: SocialCareStub, tenant: TenantInfo) -> None:
    social_care_stub.fail_with = 502
    with pytest.raises(PartnerUnavailable, match="502"):
        social_care.social_care_status_for_child(tenant=tenant, child_id=uuid.uuid4(), identifiers={"upn": UPN})
    stop(social_care_stub)
    with pytest.raises(PartnerUnavailable, match="did not answer"):
        social_care.social_care_status_for_child(tenant=tenant, child_id=uuid.uuid4(), identifiers={"upn": UPN})


def test_wrong_api_key_is_permanent(social_care_stub: SocialCareStub, tenant: TenantInfo) -> None:
    wrong = TenantInfo(id=tenant.id, slug=tenant.slug, name=tenant.name, la_code=tenant.la_code,
                       settings={**tenant.settings, "api_key": "nope"})
    with pytest.raises(PermanentFailure, match="401"):
        social_care.social_care_status_for_child(tenant=wrong, child_id=uuid.uuid4(), identifiers={"upn": UPN})


def test_hook_on_social_care_advice_requested(social_care_stub: SocialCareStub, tenant: TenantInfo) -> None:
    request = _request()

    social_care.on_social_care_advice_requested(tenant=tenant, request=request)
    social_care.on_social_care_advice_requested(tenant=tenant, request=request)  # a retry: 409, still fine

    reference = f"{request.case_id}-sc1"
    assert list(social_care_stub.advice_requests) == [reference]
    sent = social_care_stub.advice_requests[reference]
    assert sent["reference"] == reference and sent["due_on"] == "2026-03-25"
    assert sent["legal_basis"] == "SEND Regulations 2014 reg 6(1)(e)"
    assert [r[2]["idempotency-key"] for r in social_care_stub.requests] == [reference, reference]


def test_refused_advice_request_is_permanent(social_care_stub: SocialCareStub, tenant: TenantInfo) -> None:
    social_care_stub.refuse_posts_with = 422
    with pytest.raises(PermanentFailure, match="422"):
        social_care.on_social_care_advice_requested(tenant=tenant, request=_request())


def test_hook_social_care_advice_for_request(social_care_stub: SocialCareStub, tenant: TenantInfo) -> None:
    request = _request()
    assert social_care.social_care_advice_for_request(tenant=tenant, request=request) is None  # never sent
    social_care.on_social_care_advice_requested(tenant=tenant, request=request)
    assert social_care.social_care_advice_for_request(tenant=tenant, request=request) is None  # pending
    social_care_stub.return_advice(f"{request.case_id}-sc1")

    advice = social_care.social_care_advice_for_request(tenant=tenant, request=request)

    assert advice is not None
    assert (advice.content, advice.filename, advice.external_id) == (PDF, "Social care advice.pdf",
                                                                     "social_care:LCS-77")
    assert advice.received_on == dt.date(2026, 3, 4)


def test_advice_without_content_is_a_permanent_failure(social_care_stub: SocialCareStub, tenant: TenantInfo) -> None:
    request = _request()
    social_care.on_social_care_advice_requested(tenant=tenant, request=request)
    social_care_stub.advice[f"{request.case_id}-sc1"] = {"id": "LCS-1", "status": "returned", "content": "%%%"}
    with pytest.raises(PermanentFailure, match="base64"):
        social_care.social_care_advice_for_request(tenant=tenant, request=request)


def test_settings_check_paths_and_field_names() -> None:
    with pytest.raises(SchemaError) as caught:
        social_care.SETTINGS.validate({"status_path": "/children/{surname}", "field_looked_after": "a b",
                                       "base_url": "http://social-care.example.gov.uk"})
    assert set(caught.value.errors) == {"status_path", "field_looked_after", "base_url"}
    assert social_care.SETTINGS.keys["api_key"].secret
