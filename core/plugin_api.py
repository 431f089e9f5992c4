"""What a plugin imports: the only module of ``core`` a plugin should need (STYLE.md section 4).

A plugin is a module (or an object) registered under the entry-point group
``sendbridge.plugins``. Besides its ``@hookimpl`` functions it declares:

* ``NAME``: its name, the same as its entry-point name (lower case, letters, digits, ``_``);
* ``TITLE``: what tenant admins see;
* ``SETTINGS``: a :class:`SettingsSchema` of its per-tenant settings, with defaults. Keys
  marked ``secret=True`` are sealed at rest and never shown back. Unknown keys are refused.
* ``PLUGIN_API``: the range of :data:`PLUGIN_API_VERSION` it was written for, as
  ``(lowest, highest_exclusive)`` major.minor tuples; a plugin outside it is not loaded.

Hooks are called only for plugins enabled for the tenant in question, always with keyword
arguments; every hook gets ``tenant`` (a :class:`TenantInfo`). Hooks that talk to partner
systems run inside rq jobs, never in a web request (see ``docs/plugins/hooks.md``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pluggy

from core.schema import Setting, SettingsSchema, email, https_url, int_range, max_length

#: Bumped in the minor for additions (new hooks, new optional arguments, new fields with
#: defaults), in the major for anything a plugin could notice breaking (never so far).
PLUGIN_API_VERSION = (1, 0)

hookimpl = pluggy.HookimplMarker("sendbridge")

__all__ = [
    "PLUGIN_API_VERSION", "hookimpl", "Setting", "SettingsSchema", "email", "https_url", "int_range",
    "max_length", "TenantInfo", "PluginSettings", "PupilRecord", "SenRegisterEntry", "SenRegisterImport",
    "PatientRecord", "AdviceRequest", "AdviceReturn", "SocialCareStatus", "Notification", "DeliveryReceipt",
    "IntegrationEvent", "DocumentStore", "PartnerUnavailable", "PermanentFailure",
]


class PartnerUnavailable(RuntimeError):
    """Raise when a partner system is down or slow: the job is retried with backoff."""


class PermanentFailure(RuntimeError):
    """Raise when retrying cannot help (the partner refused the request as invalid): the call
    is marked failed at once and shown to the tenant admin."""


@dataclass(frozen=True)
class TenantInfo:
    """The council a hook is called for, and that plugin's settings there."""

    id: uuid.UUID
    slug: str
    name: str
    la_code: str
    #: This plugin's settings for this council, secrets included (decrypted for the call).
    settings: Mapping[str, Any] = field(default_factory=dict)


PluginSettings = Mapping[str, Any]


# ---------------------------------------------------------------------------------------
# School records


@dataclass(frozen=True)
class PupilRecord:
    upn: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    #: The school's URN, when known.
    urn: str | None = None
    #: N (none), K (SEN support) or E (EHC plan), per the DfE code set.
    sen_provision: Literal["N", "K", "E"] | None = None
    #: DfE SEN primary/secondary need codes (SPLD, MLD, SLCN, ASD ...), ranked, first is primary.
    sen_needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class SenRegisterEntry:
    """One pupil's row of an SEN register import (what a CTF or MIS export says)."""

    line: int
    upn: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sen_provision: Literal["N", "K", "E"]
    sen_needs: tuple[str, ...] = ()
    urn: str | None = None


@dataclass(frozen=True)
class SenRegisterImport:
    """A parsed register: every good entry and, for each bad record, its line and reason.

    The import applies nothing when ``errors`` is not empty.
    """

    source_urn: str | None
    entries: tuple[SenRegisterEntry, ...]
    errors: tuple[tuple[int, str], ...] = ()


# ---------------------------------------------------------------------------------------
# Health and social care


@dataclass(frozen=True)
class PatientRecord:
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    #: ODS code of the registered GP practice, when the partner says.
    gp_ods_code: str | None = None


@dataclass(frozen=True)
class AdviceRequest:
    """Advice the council asks of a partner (reg 6(1)(c)/(d)/(e) advice), with its due date."""

    case_id: uuid.UUID
    advice_id: str
    child_id: uuid.UUID
    nhs_number: str | None
    requested_on: dt.date
    due_on: dt.date
    kind: str


@dataclass(frozen=True)
class AdviceReturn:
    advice_id: str
    received_on: dt.date
    #: The advice as a document: bytes and its file name (type is checked by content).
    filename: str
    content: bytes
    #: The partner's own reference (e.g. a FHIR DocumentReference id), for idempotency.
    external_id: str


@dataclass(frozen=True)
class SocialCareStatus:
    child_id: uuid.UUID
    looked_after: bool
    child_in_need: bool
    child_protection_plan: bool
    #: Named social worker, when the partner says (shown to caseworkers only).
    social_worker: str | None = None
    as_of: dt.date | None = None


# ---------------------------------------------------------------------------------------
# Notifications


@dataclass(frozen=True)
class Notification:
    """A message to send. ``template`` names the council's template for it (the plugin maps
    it to its own, e.g. a Notify template id); ``personalisation`` fills it."""

    id: uuid.UUID
    channel: Literal["email", "sms", "letter"]
    template: str
    #: E-mail address, mobile number, or for letters the address lines joined by newlines.
    to: str
    personalisation: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryReceipt:
    notification_id: uuid.UUID
    provider: str
    provider_reference: str


# ---------------------------------------------------------------------------------------
# Integration events and documents


@dataclass(frozen=True)
class IntegrationEvent:
    """Something that happened in a council, as it leaves through the outbox: ids, never
    personal data. ``topic`` is dotted (``case.event_recorded``, ``child.updated`` ...)."""

    id: uuid.UUID
    topic: str
    occurred_at: dt.datetime
    payload: Mapping[str, Any]


class DocumentStore(Protocol):
    """Where document bytes live (``core.storage``). Keys are built by core, never by plugins.

    A store may also offer ``presigned_download(key, filename, content_type) -> str`` (a
    short-lived link, made only after core's access check). Any exception a store raises is
    shown to people as "document storage is unavailable"; nothing falls back to another store.
    """

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
