"""FHIR R4 UK Core resources: building what we send, checking what we receive.

What a partner sends is checked before anything is read from it: ``resourceType``, the
elements the UK Core profiles make mandatory (and the few more we rely on), identifier
systems and coding systems. A resource that fails is refused with ``PermanentFailure`` naming
the first element at fault: sending the same request again would get the same resource, so
the council's admin has to hear of it (and the partner has to fix it).

Canonical URLs and systems are those of the UK Core implementation guide (HL7 UK, R4):
https://simplifier.net/hl7fhirukcorer4 .
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.plugin_api import PermanentFailure

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
NHS_VERIFICATION_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
NHS_VERIFICATION_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
SNOMED = "http://snomed.info/sct"

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-{}"

#: FHIR R4 value sets (required bindings) for the elements we read.
TASK_STATUSES = {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled", "in-progress",
                 "on-hold", "failed", "completed", "entered-in-error"}
DOCUMENT_STATUSES = {"current", "superseded", "entered-in-error"}
QR_STATUSES = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def invalid(resource: str, problem: str) -> PermanentFailure:
    return PermanentFailure(f"invalid {resource} from the FHIR server: {problem}")


def require_resource(body: Any, resource_type: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid(resource_type, "the answer is not a FHIR resource")
    if body.get("resourceType") != resource_type:
        raise invalid(resource_type, f"resourceType is {body.get('resourceType')!r}, expected {resource_type!r}")
    rid = body.get("id")
    if rid is not None and (not isinstance(rid, str) or not _ID.match(rid)):
        raise invalid(resource_type, "id is not a FHIR id")
    return body


def require_id(resource: Mapping[str, Any], resource_type: str) -> str:
    rid = resource.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        raise invalid(resource_type, "id is missing")
    return rid


def _list(resource: Mapping[str, Any], key: str, resource_type: str) -> list[Any]:
    value = resource.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(resource_type, f"{key} must be a list")
    return value


def bundle_entries(body: Any, resource_type: str) -> list[dict[str, Any]]:
    """The ``resource_type`` resources of a searchset Bundle (OperationOutcome entries, which
    servers add with search mode ``outcome``, are skipped)."""
    bundle = require_resource(body, "Bundle")
    if bundle.get("type") != "searchset":
        raise invalid("Bundle", f"type is {bundle.get('type')!r}, expected 'searchset'")
    out = []
    for entry in _list(bundle, "entry", "Bundle"):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise invalid("Bundle", "an entry has no resource")
        resource = entry["resource"]
        if (entry.get("search") or {}).get("mode") == "outcome" or resource.get("resourceType") == "OperationOutcome":
            continue
        out.append(require_resource(resource, resource_type))
    return out


def _date(value: Any, resource_type: str, element: str) -> dt.date:
    if not isinstance(value, str) or not _DATE.match(value) or len(value) != 10:
        raise invalid(resource_type, f"{element} is not a full date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise invalid(resource_type, f"{element} is not a real date") from None


def instant_date(value: Any, resource_type: str, element: str) -> dt.date | None:
    """The calendar date of a FHIR dateTime/instant (``None`` when absent)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _DATETIME.match(value):
        raise invalid(resource_type, f"{element} is not a FHIR dateTime")
    return dt.date.fromisoformat(value[:10])


def _check_codings(concept: Any, resource_type: str, element: str, allowed: set[str] | None = None) -> None:
    """Every coding has a system and a code; ``allowed`` limits the systems."""
    if concept is None:
        return
    if not isinstance(concept, dict):
        raise invalid(resource_type, f"{element} is not a CodeableConcept")
    for coding in _list(concept, "coding", resource_type):
        if not isinstance(coding, dict) or not coding.get("system") or not coding.get("code"):
            raise invalid(resource_type, f"{element}.coding needs a system and a code")
        if allowed is not None and coding["system"] not in allowed:
            raise invalid(resource_type, f"{element}.coding system {coding['system']!r} is not one of {sorted(allowed)}")


def decode_base64(data: Any, element: str) -> bytes:
    if not isinstance(data, str):
        raise PermanentFailure(f"invalid attachment from the FHIR server: {element} is not base64 text")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise PermanentFailure(f"invalid attachment from the FHIR server: {element} is not valid base64") from None


# ---------------------------------------------------------------------------------------
# Patient (UKCore-Patient)


def nhs_number_identifier(patient: Mapping[str, Any]) -> dict[str, Any] | None:
    for ident in _list(patient, "identifier", "Patient"):
        if not isinstance(ident, dict):
            raise invalid("Patient", "an identifier is not an Identifier")
        if ident.get("system") == NHS_NUMBER_SYSTEM:
            return ident
    return None


def check_patient(patient: Mapping[str, Any], nhs_number: str) -> dict[str, Any]:
    """A UK Core Patient for ``nhs_number``: the identifier, a name, a birth date. Returns the
    fields a :class:`PatientRecord` needs."""
    require_resource(patient, "Patient")
    ident = nhs_number_identifier(patient)
    if ident is None:
        raise invalid("Patient", f"no identifier with system {NHS_NUMBER_SYSTEM}")
    if ident.get("value") != nhs_number:
        # A server answering a search with someone else: never take it for the child.
        raise invalid("Patient", "its NHS number is not the one searched for")
    for ext in _list(ident, "extension", "Patient"):
        if isinstance(ext, dict) and ext.get("url") == NHS_VERIFICATION_EXTENSION:
            _check_codings(ext.get("valueCodeableConcept"), "Patient", "identifier.extension(verification status)",
                           {NHS_VERIFICATION_SYSTEM})
    names = [n for n in _list(patient, "name", "Patient") if isinstance(n, dict)]
    current = [n for n in names if n.get("use") not in ("old", "anonymous")]
    name = next((n for n in current if n.get("use") == "official"), current[0] if current else None)
    if name is None or not isinstance(name.get("family"), str) or not name.get("family"):
        raise invalid("Patient", "no current name with a family name")
    given = name.get("given") or []
    if not isinstance(given, list) or not given or not all(isinstance(g, str) for g in given):
        raise invalid("Patient", "the name has no given name")
    birth = _date(patient.get("birthDate"), "Patient", "birthDate")
    gp = None
    for ref in _list(patient, "generalPractitioner", "Patient"):
        ref_ident = ref.get("identifier") if isinstance(ref, dict) else None
        if isinstance(ref_ident, dict) and ref_ident.get("system") == ODS_SYSTEM and ref_ident.get("value"):
            gp = str(ref_ident["value"])
            break
    return {"given_name": " ".join(given), "family_name": name["family"], "date_of_birth": birth,
            "gp_ods_code": gp}


# ---------------------------------------------------------------------------------------
# What we send: ServiceRequest, Task, Communication


def identifier(system: str, value: str) -> dict[str, str]:
    return {"system": system, "value": value}


def patient_reference(nhs_number: str) -> dict[str, Any]:
    """A logical reference by NHS number: the council never holds the server's Patient id."""
    return {"type": "Patient", "identifier": identifier(NHS_NUMBER_SYSTEM, nhs_number)}


def organisation_reference(ods_code: str) -> dict[str, Any]:
    return {"type": "Organization", "identifier": identifier(ODS_SYSTEM, ods_code)}


ADVICE_TEXT = ("Health advice and information for an EHC needs assessment "
               "(Children and Families Act 2014 s36; SEND Regulations 2014 reg 6(1)(c))")


def service_request(*, ident: dict[str, str], nhs_number: str, requester_ods: str, performer_ods: str,
                    requested_on: dt.date, due_on: dt.date, la_name: str) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "meta": {"profile": [PROFILE.format("ServiceRequest")]},
        "identifier": [ident],
        "status": "active",
        "intent": "order",
        "code": {"text": ADVICE_TEXT},
        "subject": patient_reference(nhs_number),
        "authoredOn": requested_on.isoformat(),
        "occurrencePeriod": {"start": requested_on.isoformat(), "end": due_on.isoformat()},
        "requester": {**organisation_reference(requester_ods), "display": la_name},
        "performer": [organisation_reference(performer_ods)],
        # Reg 8(1): advice must be given within six weeks of the request.
        "note": [{"text": f"Please return your advice by {due_on.isoformat()} (SEND Regulations 2014 reg 8(1))."}],
    }


def task(*, ident: dict[str, str], service_request_id: str, nhs_number: str, requester_ods: str,
         owner_ods: str, requested_on: dt.date, due_on: dt.date) -> dict[str, Any]:
    ref = f"ServiceRequest/{service_request_id}"
    return {
        "resourceType": "Task",
        "meta": {"profile": [PROFILE.format("Task")]},
        "identifier": [ident],
        "basedOn": [{"reference": ref}],
        "status": "requested",
        "intent": "order",
        "code": {"text": ADVICE_TEXT},
        "focus": {"reference": ref},
        "for": patient_reference(nhs_number),
        "authoredOn": requested_on.isoformat(),
        "requester": organisation_reference(requester_ods),
        "owner": organisation_reference(owner_ods),
        "restriction": {"period": {"end": due_on.isoformat()}},
    }


def communication(*, ident: dict[str, str], nhs_number: str | None, sender_ods: str, recipient_ods: str,
                  reason: str, sent_on: dt.date, text: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "identifier": [ident],
        "status": "completed",
        "category": [{"text": reason}],
        "sent": sent_on.isoformat(),
        "sender": organisation_reference(sender_ods),
        "recipient": [organisation_reference(recipient_ods)],
        "payload": [{"contentString": text}],
    }
    if nhs_number:
        resource["subject"] = patient_reference(nhs_number)
    return resource


def check_created(body: Any, resource_type: str, ident: Mapping[str, str]) -> str:
    """The server's answer to a (conditional) create: the resource, with our identifier."""
    resource = require_resource(body, resource_type)
    rid = require_id(resource, resource_type)
    idents = _list(resource, "identifier", resource_type)
    if not any(isinstance(i, dict) and i.get("system") == ident["system"] and i.get("value") == ident["value"]
               for i in idents):
        raise invalid(resource_type, "it does not carry the identifier it was created with")
    return rid


# ---------------------------------------------------------------------------------------
# What we receive: Task (the answer's status), DocumentReference, QuestionnaireResponse


def check_task(resource: Mapping[str, Any]) -> dict[str, Any]:
    require_resource(resource, "Task")
    require_id(resource, "Task")
    if resource.get("status") not in TASK_STATUSES:
        raise invalid("Task", f"status {resource.get('status')!r} is not a FHIR task status")
    if resource.get("intent") is None:
        raise invalid("Task", "intent is missing")
    _check_codings(resource.get("businessStatus"), "Task", "businessStatus")
    for output in _list(resource, "output", "Task"):
        if not isinstance(output, dict) or not isinstance(output.get("type"), dict):
            raise invalid("Task", "an output has no type")
        _check_codings(output["type"], "Task", "output.type")
    return dict(resource)


def task_outputs(resource: Mapping[str, Any]) -> list[str]:
    """References (``DocumentReference/x``, ``QuestionnaireResponse/y``) a Task gives as output."""
    refs = []
    for output in _list(resource, "output", "Task"):
        ref = output.get("valueReference")
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            refs.append(ref["reference"])
    return refs


def check_document_reference(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A UK Core DocumentReference: status, at least one attachment with a content type and
    data or a url; type coded in SNOMED CT when coded at all."""
    require_resource(resource, "DocumentReference")
    require_id(resource, "DocumentReference")
    if resource.get("status") not in DOCUMENT_STATUSES:
        raise invalid("DocumentReference", f"status {resource.get('status')!r} is not a document reference status")
    _check_codings(resource.get("type"), "DocumentReference", "type", {SNOMED})
    contents = _list(resource, "content", "DocumentReference")
    if not contents:
        raise invalid("DocumentReference", "content is missing")
    attachment = contents[0].get("attachment") if isinstance(contents[0], dict) else None
    if not isinstance(attachment, dict):
        raise invalid("DocumentReference", "content.attachment is missing")
    if not attachment.get("contentType"):
        raise invalid("DocumentReference", "content.attachment.contentType is missing")
    if not attachment.get("data") and not attachment.get("url"):
        raise invalid("DocumentReference", "content.attachment has neither data nor url")
    instant_date(resource.get("date"), "DocumentReference", "date")
    return dict(resource)


def check_questionnaire_response(resource: Mapping[str, Any]) -> dict[str, Any]:
    require_resource(resource, "QuestionnaireResponse")
    require_id(resource, "QuestionnaireResponse")
    if resource.get("status") not in QR_STATUSES:
        raise invalid("QuestionnaireResponse", f"status {resource.get('status')!r} is not a response status")
    for item in _list(resource, "item", "QuestionnaireResponse"):
        if not isinstance(item, dict) or not item.get("linkId"):
            raise invalid("QuestionnaireResponse", "an item has no linkId")
    instant_date(resource.get("authored"), "QuestionnaireResponse", "authored")
    return dict(resource)


def questionnaire_lines(resource: Mapping[str, Any]) -> list[str]:
    """The answers as text lines: question, then each answer indented (nested items too)."""
    lines: list[str] = []

    def answer_text(answer: Mapping[str, Any]) -> str:
        for key, value in answer.items():
            if key.startswith("value"):
                if isinstance(value, dict):
                    return str(value.get("display") or value.get("code") or value.get("title") or "")
                return str(value)
        return ""

    def walk(items: Sequence[Any], depth: int) -> None:
        for item in items:
            if not isinstance(item, dict):
                continue
            lines.append("  " * depth + str(item.get("text") or item["linkId"]))
            for answer in item.get("answer") or []:
                if isinstance(answer, dict):
                    text = answer_text(answer)
                    if text:
                        lines.append("  " * depth + "    " + text)
                    walk(answer.get("item") or [], depth + 2)
            walk(item.get("item") or [], depth + 1)

    walk(resource.get("item") or [], 0)
    return lines
