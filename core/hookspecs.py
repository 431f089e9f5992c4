"""Hook specifications: what plugins can implement (STYLE.md section 4).

Names say the call style: ``on_<event>`` is a notification (return value ignored, every
enabled plugin called); ``<noun>_for_<purpose>`` is firstresult (the first enabled plugin
that returns something other than ``None`` wins). Every hook receives ``tenant`` and is called
only for plugins enabled for that tenant, with keyword arguments. Evolve additively: never
rename or remove an argument. ``docs/plugins/hooks.md`` documents each one with its exact
signature, and a test checks that it does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from core.plugin_api import (
        AdviceRequest,
        AdviceReturn,
        DeliveryReceipt,
        DocumentStore,
        IntegrationEvent,
        Notification,
        PatientRecord,
        PupilRecord,
        SenRegisterImport,
        SocialCareStatus,
        TenantInfo,
    )

hookspec = pluggy.HookspecMarker("sendbridge")


# ---------------------------------------------------------------------------------------
# School records (MIS, Common Transfer File)


@hookspec(firstresult=True)
def pupil_for_upn(tenant: TenantInfo, upn: str) -> PupilRecord | None:
    """Look a pupil up in the school records by UPN. firstresult.

    Called in a job (never in a request), outside the council's transaction. Return ``None``
    when this plugin does not know the pupil; raise ``PartnerUnavailable`` to be retried.
    """


@hookspec(firstresult=True)
def sen_register_for_file(tenant: TenantInfo, filename: str, data: bytes) -> SenRegisterImport | None:
    """Parse an uploaded SEN register file (a CTF, an MIS export) into entries. firstresult.

    Return ``None`` when the file is not a format this plugin reads. Parse only: core matches
    children by UPN and applies the entries, all or nothing, in the import job. A file with
    any bad record is returned with ``errors`` (line, reason) and nothing is imported.
    Called in a job.
    """


@hookspec(firstresult=True)
def sen_register_export_for_pupils(tenant: TenantInfo, pupils: Sequence[PupilRecord], destination_urn: str,
                                   format: str) -> tuple[str, bytes] | None:
    """Write pupils' SEN data in ``format`` (e.g. ``"ctf"``) for the receiving school
    ``destination_urn``. firstresult. Return ``(filename, bytes)``, or ``None`` when this
    plugin does not write that format. Called in a request or a job; must not do I/O.
    """


# ---------------------------------------------------------------------------------------
# Health


@hookspec(firstresult=True)
def patient_for_nhs_number(tenant: TenantInfo, nhs_number: str) -> PatientRecord | None:
    """Find a child in NHS records by NHS number (already check-digit valid). firstresult.

    Called in a job. ``None``: no such patient here. Raise ``PartnerUnavailable`` to retry.
    """


@hookspec
def on_health_advice_requested(tenant: TenantInfo, request: AdviceRequest) -> None:
    """The council asked the health body for advice (reg 6(1)(c)). Send the request on
    (FHIR ServiceRequest / Task ...). Called in a job once per request and plugin, retried on
    ``PartnerUnavailable``, so it must be idempotent (use ``request.advice_id``).
    """


@hookspec(firstresult=True)
def health_advice_for_request(tenant: TenantInfo, request: AdviceRequest) -> AdviceReturn | None:
    """Fetch the advice for an open request, if the partner has it yet. firstresult.

    Called in a polling job. ``None``: not yet. Core records the advice once per
    ``external_id`` (idempotent).
    """


@hookspec
def on_health_body_notification(tenant: TenantInfo, case_id: uuid.UUID, child_id: uuid.UUID, reason: str,
                                nhs_number: str | None) -> None:
    """Tell the health body something the law requires it to hear (``reason``: a deadline key
    such as ``health_body_notification_on_transfer`` or ``mediation_health_notification``).
    Called in a job; idempotent per (case_id, reason).
    """


# ---------------------------------------------------------------------------------------
# Social care


@hookspec(firstresult=True)
def social_care_status_for_child(tenant: TenantInfo, child_id: uuid.UUID,
                                 identifiers: Mapping[str, str]) -> SocialCareStatus | None:
    """Looked-after, child-in-need and protection status from the social care system.
    firstresult. ``identifiers`` carries what the council holds (``upn``, ``nhs_number``,
    ``local_id``). Called in a job. ``None``: not known there.
    """


@hookspec
def on_social_care_advice_requested(tenant: TenantInfo, request: AdviceRequest) -> None:
    """The council asked social care for advice (reg 6(1)(e)). Called in a job; idempotent."""


@hookspec(firstresult=True)
def social_care_advice_for_request(tenant: TenantInfo, request: AdviceRequest) -> AdviceReturn | None:
    """Fetch social care advice for an open request, if returned. firstresult. In a job."""


# ---------------------------------------------------------------------------------------
# Notifications


@hookspec(firstresult=True)
def delivery_for_notification(tenant: TenantInfo, notification: Notification) -> DeliveryReceipt | None:
    """Send an e-mail, text or letter. firstresult: the first plugin that sends it returns a
    receipt. Called in a job, retried on ``PartnerUnavailable``; ``notification.id`` is the
    idempotency reference. With no plugin answering, core writes the message to the log.
    """


# ---------------------------------------------------------------------------------------
# Documents, identity, integration events


@hookspec(firstresult=True)
def document_store_for_tenant(tenant: TenantInfo) -> DocumentStore | None:
    """A store for this council's document bytes instead of the platform's. firstresult.
    Called in requests and jobs; must not do I/O when called (only when used).
    """


@hookspec(firstresult=True)
def oidc_claims_for_user(tenant: TenantInfo, issuer: str, claims: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Rewrite an identity provider's claims before core maps them to a person and roles,
    during sign-in, in the request and before commit. firstresult. ``None``: use as given.
    """


@hookspec
def on_integration_event(tenant: TenantInfo, event: IntegrationEvent) -> None:
    """Something happened in the council (the transactional outbox relays it after commit).
    Called in a job per plugin, retried with backoff on any exception; must be idempotent
    by ``event.id``. One plugin failing never affects another.
    """
