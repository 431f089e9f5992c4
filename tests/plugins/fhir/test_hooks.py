"""The fhir plugin's hooks against a FHIR server on 127.0.0.1 (tests/plugins/fhir/conftest.py)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

import plugins.fhir as fhir
from core.plugin_api import PartnerUnavailable, PermanentFailure
from core.schema import SchemaError
from plugins.fhir import resources as r
from tests.plugins.fhir.conftest import (
    NHS_NUMBER, PDF, FhirStub, complete_with_document, outcome, request_for, start, stop, uk_core_patient,
)


@pytest.fixture
def tenant(fhir_settings: dict[str, Any], tenant_info_for: Any) -> Any:
    return tenant_info_for(fhir_settings)


# ---------------------------------------------------------------------------------------
# patient_for_nhs_number


def test_hook_patient_for_nhs_number(fhir_stub: FhirStub, tenant: Any) -> None:
    fhir_stub.add(uk_core_patient())
    fhir_stub.add(uk_core_patient("9000000009", name=[{"use": "official", "family": "Other", "given": ["Someone"]}]))

    patient = fhir.patient_for_nhs_number(tenant=tenant, nhs_number=NHS_NUMBER)

    assert patient is not None
    assert (patient.nhs_number, patient.given_name, patient.family_name) == (NHS_NUMBER, "Ada Grace", "Okafor")
    assert patient.date_of_birth.isoformat() == "2016-04-12"
    assert patient.gp_ods_code == "Y12345"
    [seen] = fhir_stub.requests
    assert seen.path == "/fhir/Patient"
    assert seen.query["identifier"] == [f"https://fhir.nhs.uk/Id/nhs-number|{NHS_NUMBER}"]
    assert seen.headers["authorization"] == "Bearer test-token"


def test_patient_not_found_is_none(fhir_stub: FhirStub, tenant: Any) -> None:
    assert fhir.patient_for_nhs_number(tenant=tenant, nhs_number=NHS_NUMBER) is None


@pytest.mark.parametrize(("change", "message"), [
    ({"resourceType": "Practitioner"}, "resourceType"),
    ({"identifier": [{"system": "https://example.org/Id/local", "value": NHS_NUMBER}]}, "nhs-number"),
    ({"birthDate": "2016-04"}, "birthDate"),
    ({"name": [{"use": "official", "given": ["Ada"]}]}, "family name"),
    ({"identifier": [{"system": r.NHS_NUMBER_SYSTEM, "value": NHS_NUMBER, "extension": [
        {"url": r.NHS_VERIFICATION_EXTENSION,
         "valueCodeableConcept": {"coding": [{"system": "https://example.org/status", "code": "01"}]}}]}]},
     "coding system"),
])
def test_invalid_patient_is_a_permanent_failure(fhir_stub: FhirStub, tenant: Any, change: dict[str, Any],
                                                message: str) -> None:
    patient = uk_core_patient()
    patient.update(change)
    fhir_stub.overrides[("GET", "/fhir/Patient")] = (200, {"resourceType": "Bundle", "type": "searchset",
                                                           "entry": [{"resource": patient}]})
    with pytest.raises(PermanentFailure, match=message):
        fhir.patient_for_nhs_number(tenant=tenant, nhs_number=NHS_NUMBER)


def test_a_patient_with_another_nhs_number_is_never_taken_for_the_child(fhir_stub: FhirStub, tenant: Any) -> None:
    fhir_stub.overrides[("GET", "/fhir/Patient")] = (200, {"resourceType": "Bundle", "type": "searchset",
                                                           "entry": [{"resource": uk_core_patient("9000000009")}]})
    with pytest.raises(PermanentFailure, match="not the one searched for"):
        fhir.patient_for_nhs_number(tenant=tenant, nhs_number=NHS_NUMBER)


def test_server_errors_and_no_server_are_retryable(fhir_stub: FhirStub, tenant: Any) -> None:
    fhir_stub.fail_with = 503
    with pytest.raises(PartnerUnavailable, match="503"):
        fhir.patient_for_nhs_number(tenant=tenant, nhs_number=NHS_NUMBER)
    stop(fhir_stub)
    with pytest.raises(PartnerUnavailable, match="did not answer"):
        fhir.patient_for_nhs_number(tenant=tenant, nhs_number=NHS_NUMBER)


def test_refusals_are_permanent_and_name_the_server_diagnostics(fhir_stub: FhirStub, tenant: Any) -> None:
    fhir_stub.overrides[("GET", "/fhir/Patient")] = (401, outcome("security", "token expired"))
    with pytest.raises(PermanentFailure, match="401: token expired"):
        fhir.patient_for_nhs_number(tenant=tenant, nhs_number=NHS_NUMBER)


# ---------------------------------------------------------------------------------------
# on_health_advice_requested


def test_hook_on_health_advice_requested(fhir_stub: FhirStub, tenant: Any) -> None:
    request = request_for()

    fhir.on_health_advice_requested(tenant=tenant, request=request)
    fhir.on_health_advice_requested(tenant=tenant, request=request)  # a retry after a lost answer

    [sr] = fhir_stub.of_type("ServiceRequest")
    [task] = fhir_stub.of_type("Task")
    ident = {"system": "https://sendbridge.org.uk/Id/ehc-advice-request",
             "value": f"advice/{request.case_id}/health1"}
    assert sr["identifier"] == [ident] and task["identifier"] == [ident]
    assert sr["meta"]["profile"] == ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"]
    assert (sr["status"], sr["intent"]) == ("active", "order")
    assert sr["subject"]["identifier"] == {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER}
    assert sr["requester"]["identifier"] == {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "X9A1"}
    assert sr["occurrencePeriod"]["end"] == "2026-03-25"
    assert (task["status"], task["intent"]) == ("requested", "order")
    assert task["focus"] == {"reference": f"ServiceRequest/{sr['id']}"}
    assert task["owner"]["identifier"]["value"] == "QWO"
    assert task["restriction"]["period"]["end"] == "2026-03-25"
    posts = [s for s in fhir_stub.requests if s.method == "POST"]
    assert len(posts) == 4
    assert all(s.headers["if-none-exist"].startswith("identifier=https%3A%2F%2Fsendbridge.org.uk") for s in posts)


def test_advice_request_without_nhs_number_is_refused_before_sending(fhir_stub: FhirStub, tenant: Any) -> None:
    with pytest.raises(PermanentFailure, match="no NHS number"):
        fhir.on_health_advice_requested(tenant=tenant, request=request_for(nhs_number=None))
    assert fhir_stub.requests == []


def test_created_resource_without_our_identifier_is_invalid(fhir_stub: FhirStub, tenant: Any) -> None:
    fhir_stub.overrides[("POST", "/fhir/ServiceRequest")] = (201, {"resourceType": "ServiceRequest", "id": "x1",
                                                                  "status": "active", "intent": "order"})
    with pytest.raises(PermanentFailure, match="invalid ServiceRequest.*identifier"):
        fhir.on_health_advice_requested(tenant=tenant, request=request_for())


def test_unconfigured_plugin_fails_permanently(tenant_info_for: Any) -> None:
    with pytest.raises(PermanentFailure, match="base_url"):
        fhir.on_health_advice_requested(tenant=tenant_info_for(fhir.SETTINGS.defaults()), request=request_for())


def test_settings_refuse_plain_http_to_another_host_and_bad_ods_codes() -> None:
    with pytest.raises(SchemaError) as caught:
        fhir.SETTINGS.validate({"base_url": "http://fhir.example.nhs.uk/", "council_ods_code": "not an ods"})
    assert set(caught.value.errors) == {"base_url", "council_ods_code"}
    assert fhir.SETTINGS.validate({"base_url": "https://fhir.example.nhs.uk/R4"})["base_url"].startswith("https://")
    assert fhir.SETTINGS.keys["token"].secret


# ---------------------------------------------------------------------------------------
# health_advice_for_request


def test_hook_health_advice_for_request(fhir_stub: FhirStub, tenant: Any) -> None:
    request = request_for()
    fhir.on_health_advice_requested(tenant=tenant, request=request)
    assert fhir.health_advice_for_request(tenant=tenant, request=request) is None  # not answered yet
    [task] = fhir_stub.of_type("Task")
    doc = complete_with_document(fhir_stub, task)

    advice = fhir.health_advice_for_request(tenant=tenant, request=request)

    assert advice is not None
    assert advice.content == PDF
    assert (advice.filename, advice.external_id) == ("Health advice.pdf", f"DocumentReference/{doc['id']}")
    assert advice.received_on.isoformat() == "2026-03-02"
    assert advice.advice_id == "health1"


def test_advice_attachment_by_url_is_fetched_from_the_same_server(fhir_stub: FhirStub, tenant: Any) -> None:
    request = request_for()
    fhir.on_health_advice_requested(tenant=tenant, request=request)
    [task] = fhir_stub.of_type("Task")
    fhir_stub.binaries["b1"] = ("application/pdf", PDF)
    doc = complete_with_document(fhir_stub, task)
    doc["content"][0]["attachment"] = {"contentType": "application/pdf", "url": "Binary/b1", "title": "advice.pdf"}

    advice = fhir.health_advice_for_request(tenant=tenant, request=request)
    assert advice is not None and advice.content == PDF

    doc["content"][0]["attachment"]["url"] = "https://elsewhere.example.org/Binary/b1"
    with pytest.raises(PermanentFailure, match="another server"):
        fhir.health_advice_for_request(tenant=tenant, request=request)


def test_advice_as_questionnaire_response_becomes_a_pdf(fhir_stub: FhirStub, tenant: Any) -> None:
    request = request_for()
    fhir.on_health_advice_requested(tenant=tenant, request=request)
    [task] = fhir_stub.of_type("Task")
    qr = fhir_stub.add({"resourceType": "QuestionnaireResponse", "status": "completed",
                        "authored": "2026-03-03T09:00:00Z", "item": [
                            {"linkId": "needs", "text": "Health needs", "answer": [{"valueString": "Asthma"}]},
                            {"linkId": "provision", "text": "Provision",
                             "answer": [{"valueString": "Inhaler at school"}]}]})
    task.update(status="completed", output=[{"type": {"text": "advice"},
                                             "valueReference": {"reference": f"QuestionnaireResponse/{qr['id']}"}}])

    advice = fhir.health_advice_for_request(tenant=tenant, request=request)

    assert advice is not None
    assert advice.content.startswith(b"%PDF-1.4") and b"Inhaler at school" in advice.content
    assert advice.external_id == f"QuestionnaireResponse/{qr['id']}"
    assert advice.received_on.isoformat() == "2026-03-03"


@pytest.mark.parametrize(("damage", "message"), [
    (lambda doc, task: doc.update(status="draft"), "status"),
    (lambda doc, task: doc.update(type={"coding": [{"system": "http://loinc.org", "code": "11488-4"}]}),
     "coding system"),
    (lambda doc, task: doc["content"][0]["attachment"].update(data="not base64!"), "base64"),
    (lambda doc, task: doc["content"][0]["attachment"].update(hash=base64.b64encode(b"x" * 20).decode()), "hash"),
    (lambda doc, task: task.update(status="sleeping"), "task status"),
    (lambda doc, task: task.update(output=[]), "no DocumentReference"),
])
def test_invalid_advice_resources_are_permanent_failures(fhir_stub: FhirStub, tenant: Any, damage: Any,
                                                         message: str) -> None:
    request = request_for()
    fhir.on_health_advice_requested(tenant=tenant, request=request)
    [task] = fhir_stub.of_type("Task")
    doc = complete_with_document(fhir_stub, task)
    damage(doc, task)
    with pytest.raises(PermanentFailure, match=message):
        fhir.health_advice_for_request(tenant=tenant, request=request)


def test_rejected_request_is_reported(fhir_stub: FhirStub, tenant: Any) -> None:
    request = request_for()
    fhir.on_health_advice_requested(tenant=tenant, request=request)
    [task] = fhir_stub.of_type("Task")
    task["status"] = "rejected"
    with pytest.raises(PermanentFailure, match="rejected"):
        fhir.health_advice_for_request(tenant=tenant, request=request)


# ---------------------------------------------------------------------------------------
# on_health_body_notification


def test_hook_on_health_body_notification(fhir_stub: FhirStub, tenant: Any) -> None:
    case_id, child_id = uuid.uuid4(), uuid.uuid4()
    for _ in range(2):  # idempotent per (case, reason)
        fhir.on_health_body_notification(tenant=tenant, case_id=case_id, child_id=child_id,
                                         reason="health_body_notification_on_transfer", nhs_number=NHS_NUMBER)
    fhir.on_health_body_notification(tenant=tenant, case_id=case_id, child_id=child_id,
                                     reason="mediation_health_notification", nhs_number=None)

    sent = fhir_stub.of_type("Communication")
    assert len(sent) == 2
    transfer = next(c for c in sent if c["category"] == [{"text": "health_body_notification_on_transfer"}])
    assert "reg 16" in transfer["payload"][0]["contentString"]
    assert transfer["subject"]["identifier"]["value"] == NHS_NUMBER
    assert transfer["recipient"][0]["identifier"] == {"system": r.ODS_SYSTEM, "value": "QWO"}
    assert str(child_id) not in str(sent)  # the platform's child id never leaves


def test_stub_restarted_on_the_same_port_serves_again(fhir_stub: FhirStub, tenant: Any) -> None:
    # The flow tests rely on a stopped stub refusing connections and a restarted one answering.
    port = fhir_stub.server.server_address[1]  # type: ignore[union-attr]
    stop(fhir_stub)
    with pytest.raises(PartnerUnavailable):
        fhir.patient_for_nhs_number(tenant=tenant, nhs_number=NHS_NUMBER)
    start(fhir_stub, port)
    assert fhir.patient_for_nhs_number(tenant=tenant, nhs_number=NHS_NUMBER) is None
