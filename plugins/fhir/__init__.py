"""NHS FHIR R4 (UK Core): find a child by NHS number, ask the health body for advice, take the
advice back, and tell the health body what the law says it must hear (issue #5).

* ``patient_for_nhs_number``: ``GET Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|n``,
  the answer checked against UKCore-Patient.
* ``on_health_advice_requested``: the request for health advice of SEND Regulations 2014
  reg 6(1)(c), as a UKCore-ServiceRequest plus a UKCore-Task for the health body to work on.
  Both are conditional creates (``If-None-Exist: identifier=...``) keyed by the case and the
  advice id, so a retry after a lost answer, or the job running twice, creates nothing twice.
* ``health_advice_for_request``: finds the Task by that identifier; once it is ``completed``,
  reads its output, a DocumentReference (the advice as a document) or a
  QuestionnaireResponse (structured advice, turned into a PDF), and returns its bytes.
* ``on_health_body_notification``: a Communication to the health body (reg 16 on a transfer,
  reg 36 on mediation), conditional-created per (case, reason).

Everything received is validated (``plugins.fhir.resources``); invalid resources raise
``PermanentFailure`` (shown to the council's admin), a partner that is down or slow raises
``PartnerUnavailable`` (retried with backoff).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import base64
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from core.plugin_api import (
    AdviceRequest, AdviceReturn, PatientRecord, PermanentFailure, Setting, SettingsSchema, TenantInfo, hookimpl,
    int_range,
)
from plugins.fhir import resources as r
from plugins.fhir.http import FhirClient
from plugins.fhir.pdf import text_pdf

NAME = "fhir"
TITLE = "NHS records and health advice (FHIR UK Core)"
PLUGIN_API = ((1, 0), (2, 0))
__version__ = "1.0.0"

_SECURE_URL = re.compile(r"^(https://[^\s/$.?#][^\s]*|http://(127\.0\.0\.1|localhost)(:\d+)?(/[^\s]*)?)$")
_ODS = re.compile(r"^[A-Z0-9]{3,10}$")


def secure_url() -> Any:
    """https only: NHS data never crosses a network in clear. Plain http is accepted for the
    loopback interface alone (a local test endpoint or a TLS-terminating sidecar), where it
    never leaves the machine."""
    return lambda v: None if _SECURE_URL.match(v) else "must be an https:// web address"


def ods_code() -> Any:
    return lambda v: None if v == "" or _ODS.match(v) else "must be an ODS organisation code, like RX1 or 15N"


SETTINGS = SettingsSchema(NAME, {
    "base_url": Setting(str, "", "The FHIR R4 server's base address (its service root), https only",
                        validators=(secure_url(),)),
    "token": Setting(str, "", "Bearer token the FHIR server issued to the council", secret=True),
    "council_ods_code": Setting(str, "", "The council's own ODS code (who asks for advice)",
                                validators=(ods_code(),)),
    "health_body_ods_code": Setting(str, "", "The ODS code of the health body asked for advice and notified "
                                             "(the integrated care board, or the provider it names)",
                                    validators=(ods_code(),)),
    "identifier_system": Setting(str, "https://sendbridge.org.uk/Id/ehc-advice-request",
                                 "The identifier system of the council's requests on the FHIR server",
                                 validators=(secure_url(),)),
    "timeout_seconds": Setting(int, 10, "Seconds to wait for the FHIR server before trying again later",
                               validators=(int_range(1, 60),)),
})


@dataclass(frozen=True)
class _Config:
    client: FhirClient
    council_ods: str
    health_body_ods: str
    system: str


def _config(tenant: TenantInfo, *, orgs: bool = True) -> _Config:
    s = tenant.settings
    client = FhirClient(str(s.get("base_url") or ""), str(s.get("token") or ""),
                        float(s.get("timeout_seconds") or 10))
    council, health = str(s.get("council_ods_code") or ""), str(s.get("health_body_ods_code") or "")
    if orgs and not (council and health):
        raise PermanentFailure("set the council's and the health body's ODS codes in the fhir plugin's settings")
    return _Config(client, council, health, str(s.get("identifier_system") or SETTINGS.keys["identifier_system"].default))


def _condition(ident: dict[str, str]) -> str:
    """The ``If-None-Exist`` header: a search, as a query string (RFC 3986 encoded)."""
    return urlencode({"identifier": f"{ident['system']}|{ident['value']}"})


def advice_identifier(system: str, request: AdviceRequest) -> dict[str, str]:
    # advice_id is unique within a case only; the case id makes it unique in the council.
    return r.identifier(system, f"advice/{request.case_id}/{request.advice_id}")


def _create(client: FhirClient, resource: dict[str, Any], ident: dict[str, str]) -> str:
    """Conditional create: 201 (made now) or 200 (it existed). Returns the resource's id."""
    rtype = resource["resourceType"]
    status, body, response = client.request(
        "POST", rtype, json=resource,
        headers={"If-None-Exist": _condition(ident), "Prefer": "return=representation"})
    if status not in (200, 201):
        raise r.invalid(rtype, f"the server answered {status} to a create")
    if body is None:
        # Prefer is a preference: a server may still answer with headers only.
        location = response.headers.get("Location") or response.headers.get("Content-Location") or ""
        match = re.search(rf"{rtype}/([A-Za-z0-9\-.]{{1,64}})", location)
        if not match:
            raise r.invalid(rtype, "the server returned neither the resource nor its location")
        return match.group(1)
    return r.check_created(body, rtype, ident)


# ---------------------------------------------------------------------------------------
# Hooks


@hookimpl
def patient_for_nhs_number(tenant: TenantInfo, nhs_number: str) -> PatientRecord | None:
    cfg = _config(tenant, orgs=False)
    status, body, _ = cfg.client.request("GET", "Patient", params={"identifier": f"{r.NHS_NUMBER_SYSTEM}|{nhs_number}"},
                                         allow=(404,))
    if status == 404:
        return None
    patients = r.bundle_entries(body, "Patient")
    if not patients:
        return None
    if len(patients) > 1:
        raise PermanentFailure("the FHIR server has more than one Patient with this NHS number")
    fields = r.check_patient(patients[0], nhs_number)
    return PatientRecord(nhs_number=nhs_number, **fields)


@hookimpl
def on_health_advice_requested(tenant: TenantInfo, request: AdviceRequest) -> None:
    cfg = _config(tenant)
    if not request.nhs_number:
        raise PermanentFailure("the child has no NHS number recorded: add it, then retry this call")
    ident = advice_identifier(cfg.system, request)
    sr_id = _create(cfg.client, r.service_request(
        ident=ident, nhs_number=request.nhs_number, requester_ods=cfg.council_ods, performer_ods=cfg.health_body_ods,
        requested_on=request.requested_on, due_on=request.due_on, la_name=tenant.name), ident)
    _create(cfg.client, r.task(
        ident=ident, service_request_id=sr_id, nhs_number=request.nhs_number, requester_ods=cfg.council_ods,
        owner_ods=cfg.health_body_ods, requested_on=request.requested_on, due_on=request.due_on), ident)


#: Task statuses meaning the health body will not answer through this Task.
_REFUSED = {"rejected", "cancelled", "failed", "entered-in-error"}


@hookimpl
def health_advice_for_request(tenant: TenantInfo, request: AdviceRequest) -> AdviceReturn | None:
    cfg = _config(tenant, orgs=False)
    ident = advice_identifier(cfg.system, request)
    _status, body, _ = cfg.client.request("GET", "Task", params={"identifier": f"{ident['system']}|{ident['value']}"})
    tasks = r.bundle_entries(body, "Task")
    if not tasks:
        return None
    if len(tasks) > 1:
        raise PermanentFailure("the FHIR server has more than one Task for this advice request")
    task = r.check_task(tasks[0])
    if task["status"] in _REFUSED:
        raise PermanentFailure(f"the health body marked the advice request {task['status']}: contact them")
    if task["status"] != "completed":
        return None
    refs = r.task_outputs(task)
    doc_ref = next((x for x in refs if "DocumentReference/" in x), None)
    qr_ref = next((x for x in refs if "QuestionnaireResponse/" in x), None)
    task_day = r.instant_date(task.get("lastModified"), "Task", "lastModified")
    if doc_ref:
        return _document_advice(cfg.client, request, doc_ref, task_day)
    if qr_ref:
        return _questionnaire_advice(cfg.client, request, qr_ref, task_day)
    raise r.invalid("Task", "it is completed but gives no DocumentReference or QuestionnaireResponse as output")


def _document_advice(client: FhirClient, request: AdviceRequest, ref: str, task_day: dt.date | None) -> AdviceReturn:
    _status, body, _ = client.request("GET", ref)
    doc = r.check_document_reference(body)
    if doc["status"] != "current":
        raise PermanentFailure(f"the advice document is {doc['status']}: ask the health body for the current one")
    attachment = doc["content"][0]["attachment"]
    data = r.decode_base64(attachment["data"], "attachment.data") if attachment.get("data") \
        else client.binary(str(attachment["url"]))
    if isinstance(attachment.get("size"), int) and attachment["size"] != len(data):
        raise r.invalid("DocumentReference", "the attachment's size does not match its data")
    if attachment.get("hash"):
        # FHIR R4: base64 of the SHA-1 of the data. A mismatch is a damaged or wrong file.
        if base64.b64encode(hashlib.sha1(data).digest()).decode() != attachment["hash"]:  # noqa: S324
            raise r.invalid("DocumentReference", "the attachment's hash does not match its data")
    filename = str(attachment.get("title") or f"health-advice-{request.advice_id}")
    received = r.instant_date(doc.get("date"), "DocumentReference", "date") or task_day or dt.date.today()
    return AdviceReturn(advice_id=request.advice_id, received_on=received, filename=filename, content=data,
                        external_id=f"DocumentReference/{doc['id']}")


def _questionnaire_advice(client: FhirClient, request: AdviceRequest, ref: str,
                          task_day: dt.date | None) -> AdviceReturn | None:
    _status, body, _ = client.request("GET", ref)
    qr = r.check_questionnaire_response(body)
    if qr["status"] not in ("completed", "amended"):
        return None  # still being written
    lines = r.questionnaire_lines(qr)
    if not lines:
        raise r.invalid("QuestionnaireResponse", "it has no answers")
    content = text_pdf("Health advice for an EHC needs assessment (SEND Regulations 2014 reg 6(1)(c))", lines)
    received = r.instant_date(qr.get("authored"), "QuestionnaireResponse", "authored") or task_day or dt.date.today()
    return AdviceReturn(advice_id=request.advice_id, received_on=received,
                        filename=f"health-advice-{request.advice_id}.pdf", content=content,
                        external_id=f"QuestionnaireResponse/{qr['id']}")


#: What each notification says, and the law that requires it (statutory-rules.md).
NOTIFICATION_TEXT = {
    "health_body_notification_on_transfer":
        "A child or young person with an EHC plan is moving, which changes the responsible commissioning body "
        "(SEND Regulations 2014 reg 16).",
    "mediation_health_notification":
        "A mediation about an EHC plan includes health issues; the council will send the issues and the health "
        "provision sought (SEND Regulations 2014 reg 36).",
}


@hookimpl
def on_health_body_notification(tenant: TenantInfo, case_id: uuid.UUID, child_id: uuid.UUID, reason: str,
                                nhs_number: str | None) -> None:
    cfg = _config(tenant)
    ident = r.identifier(cfg.system, f"notification/{case_id}/{reason}")
    text = NOTIFICATION_TEXT.get(reason, f"Statutory notification: {reason}.")
    _create(cfg.client, r.communication(ident=ident, nhs_number=nhs_number, sender_ods=cfg.council_ods,
                                        recipient_ods=cfg.health_body_ods, reason=reason, sent_on=dt.date.today(),
                                        text=f"{text} Council reference: {case_id}."), ident)
