"""What moves with an EHC plan from one council to another, and making it arrive.

SEND Regs 2014 reg 15(2)-(3) and CoP 9.157-9.161: when a child or young person with a plan
moves to another council, the old council transfers the plan (and the new council maintains
it "as if it had made it" on the original date), and the old council supplies the advice it
obtained, so the new council can reuse it where everyone agrees it is sufficient (15(3)(b)).

* :func:`snapshot_case` reads, in the SENDING council's context, everything that must move:
  the child (api-v1 child shape) and the contacts with parental responsibility, the case
  (api-v1 case shape: status, events in date order, deadlines), every plan version (number,
  state, issue date, sections A-K), the advice (Section K, with the portal submissions and
  documents behind it) and every document of the case (metadata and bytes, checked against
  their sha256). The result is a frozen :class:`CaseSnapshot`; ``to_json()`` gives the
  api-v1 shapes with documents referenced by their manifest path, the bytes kept apart.
* :func:`materialise` writes a snapshot into the RECEIVING council (the caller is already in
  its context: ``core.transfers.services`` crosses into it for a transfer on the platform; an
  imported package is read in the importing council). It finds the child by UPN, then NHS
  number, then ULN (never by name), or creates it; opens a case whose first event is
  ``plan_transferred`` (which starts ``new_la_notification`` and ``new_la_review``, regs
  15(4)-(5)); copies the plan versions, keeping their numbers, states and issue dates (an
  issued version is a legal document the family holds: it is copied as it was, never
  re-issued); stores every document again under this council's storage keys; and keeps the
  old council's case history as a read-only JSON document on the new case. The old events
  are never put on the new case: they would restart the old council's clocks here.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import column, select, table

from core import clock, permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases import services as cases
from core.cases.models import Case, CaseEvent, Document, PlanVersion
from core.children import services as children
from core.children.models import Child, Contact
from core.db import db, default_id
from core.documents import services as documents
from core.errors import Conflict, Forbidden, ValidationFailed
from core.plans import services as plans
from core.submissions.models import Submission, SubmissionKind
from core.tenancy import require_tenant_id
from core.timescales import apply_corrections

#: The name and version of the snapshot format (also the transfer package's format).
FORMAT = "sendbridge-transfer"
FORMAT_VERSION = 1

# The council's own row (name, LA code, timescale settings): read as core.plugins.services does.
_tenant = table("tenant", column("id"), column("name"), column("la_code"), column("settings"))

#: What the receiving council's system actor may do while writing a transferred plan.
_RECEIVER_PERMISSIONS = frozenset({
    permissions.CHILDREN_READ, permissions.CHILDREN_WRITE, permissions.CASES_READ, permissions.CASES_WRITE,
    permissions.PLANS_READ, permissions.PLANS_WRITE, permissions.TRANSFERS_READ, permissions.TRANSFERS_WRITE,
})
#: Any one of these lets an actor take a snapshot (a transfer, an export, a read-only look).
_SNAPSHOT_PERMISSIONS = (permissions.TRANSFERS_WRITE, permissions.TRANSFERS_READ, permissions.CASES_READ)

HISTORY_FILENAME = "previous-council-history.json"
_JSON = documents.FileType("application/json", "json", "JSON")


@dataclass(frozen=True)
class Council:
    id: uuid.UUID
    name: str
    la_code: str
    settings: Mapping[str, Any]


def current_council() -> Council:
    """The council the current context acts in."""
    tid = require_tenant_id()
    row = db.session.execute(select(_tenant.c.name, _tenant.c.la_code, _tenant.c.settings)
                             .where(_tenant.c.id == tid)).one()
    return Council(id=tid, name=row.name, la_code=row.la_code, settings=row.settings or {})


# ---------------------------------------------------------------------------------------
# The snapshot


@dataclass(frozen=True)
class SnapshotDocument:
    """One document that moves with the plan; its bytes are ``CaseSnapshot.files[path]``."""

    id: str
    kind: str
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    #: ``documents/<id>-<filename>``: where the bytes are in a transfer package.
    path: str
    advice_id: str | None = None
    plan_version_id: str | None = None
    submission_id: str | None = None
    created_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "title": self.title, "filename": self.filename,
                "content_type": self.content_type, "size": self.size, "sha256": self.sha256, "path": self.path,
                "advice_id": self.advice_id, "plan_version_id": self.plan_version_id,
                "submission_id": self.submission_id, "created_at": self.created_at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SnapshotDocument:
        return cls(id=str(data["id"]), kind=str(data["kind"]), title=str(data["title"]),
                   filename=str(data["filename"]), content_type=str(data["content_type"]), size=int(data["size"]),
                   sha256=str(data["sha256"]), path=str(data["path"]), advice_id=data.get("advice_id"),
                   plan_version_id=data.get("plan_version_id"), submission_id=data.get("submission_id"),
                   created_at=data.get("created_at"))


@dataclass(frozen=True)
class CaseSnapshot:
    """Everything that moves with a plan, in the api-v1 shapes (dates as ISO strings)."""

    from_la_code: str
    from_council: str
    #: RFC 3339, UTC: when the sending council's record was read.
    taken_at: str
    #: api-v1 child: given_name, family_name, date_of_birth, upn, uln, nhs_number, sex, postcode.
    child: Mapping[str, Any]
    #: Contacts with parental responsibility (CONTACT_FIELDS).
    contacts: tuple[Mapping[str, Any], ...]
    #: api-v1 case: id, status, opened_on, events (date order), deadlines.
    case: Mapping[str, Any]
    #: Every version, oldest first: id, number, state, issued_on, based_on_id, content (A-K).
    plan_versions: tuple[Mapping[str, Any], ...]
    #: Section K as ``core.plans.services.advice_list`` gives it, each with its submissions.
    advice: tuple[Mapping[str, Any], ...]
    documents: tuple[SnapshotDocument, ...]
    #: The first final plan's issue date (reg 15(5)(a): "made").
    plan_made_on: str | None
    #: The last review decision, if any (reg 15(5)(a): "last reviewed").
    last_reviewed_on: str | None
    #: The bytes of each document, by manifest path (not part of ``to_json``).
    files: Mapping[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def current_plan(self) -> Mapping[str, Any] | None:
        """The plan in force: the latest issued version."""
        issued = [v for v in self.plan_versions if v.get("state") == "issued"]
        return issued[-1] if issued else None

    @property
    def child_name(self) -> str:
        return f"{self.child.get('given_name', '')} {self.child.get('family_name', '')}".strip()

    def summary(self) -> dict[str, int]:
        """Counts of what moves (no personal data): for both councils' transfer history."""
        return {"plan_versions": len(self.plan_versions),
                "issued_versions": sum(1 for v in self.plan_versions if v.get("state") == "issued"),
                "advice": len(self.advice), "documents": len(self.documents), "contacts": len(self.contacts),
                "events": len(self.case.get("events") or ())}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "from_la_code": self.from_la_code, "from_council": self.from_council, "taken_at": self.taken_at,
            "child": dict(self.child), "contacts": [dict(c) for c in self.contacts], "case": dict(self.case),
            "plan": dict(self.current_plan) if self.current_plan else None,
            "plan_versions": [dict(v) for v in self.plan_versions], "advice": [dict(a) for a in self.advice],
            "documents": [d.to_json() for d in self.documents],
            "plan_made_on": self.plan_made_on, "last_reviewed_on": self.last_reviewed_on,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], files: Mapping[str, bytes] | None = None) -> CaseSnapshot:
        """The snapshot back from :meth:`to_json` (shapes already checked by the caller)."""
        return cls(
            from_la_code=str(data["from_la_code"]), from_council=str(data.get("from_council") or ""),
            taken_at=str(data.get("taken_at") or ""), child=dict(data["child"]),
            contacts=tuple(dict(c) for c in data.get("contacts") or ()), case=dict(data["case"]),
            plan_versions=tuple(dict(v) for v in data.get("plan_versions") or ()),
            advice=tuple(dict(a) for a in data.get("advice") or ()),
            documents=tuple(SnapshotDocument.from_json(d) for d in data.get("documents") or ()),
            plan_made_on=data.get("plan_made_on"), last_reviewed_on=data.get("last_reviewed_on"),
            files=dict(files or {}),
        )


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z") if value.tzinfo else \
            value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _iso(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_iso(v) for v in value]
    return value


def document_path(doc_id: str, filename: str) -> str:
    """Where a document sits in a transfer package: plain characters only, never a folder."""
    safe = re.sub(r"[^A-Za-z0-9._ -]+", "", filename.replace("/", " ").replace("\\", " ")).strip(" .") or "document"
    return f"documents/{doc_id}-{safe}"


def _child_json(child: Child) -> dict[str, Any]:
    return {"given_name": child.given_name, "family_name": child.family_name,
            "date_of_birth": child.date_of_birth.isoformat(), "upn": child.upn, "uln": child.uln,
            "nhs_number": child.nhs_number, "sex": child.sex.value if child.sex else None, "postcode": child.postcode}


def _contact_json(contact: Contact) -> dict[str, Any]:
    return {"given_name": contact.given_name, "family_name": contact.family_name,
            "relationship": contact.relationship_to_child.value,
            "parental_responsibility": contact.parental_responsibility, "email": contact.email,
            "phone": contact.phone, "postcode": contact.postcode}


def _event_json(row: CaseEvent) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(row.id), "type": row.type, "date": row.date.isoformat()}
    body.update({k: _iso(v) for k, v in (row.attributes or {}).items() if k not in body})
    if row.corrects_event_id is not None:
        body["corrects"] = str(row.corrects_event_id)
    body["recorded_at"] = _iso(row.recorded_at)
    return body


def _made_and_reviewed(events: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """Reg 15(5)(a): the date the plan was made (the first final plan issued; for a plan that
    came here by an earlier transfer, the date it carried) and last reviewed (the latest
    review decision; a review is complete when its decision is sent, reg 22 / CoP 9.176)."""
    current = [e for _, e in apply_corrections(events)]
    made = next((e["date"] for e in sorted(current, key=lambda e: e["date"]) if e["type"] == "final_plan_issued"), None)
    reviewed = max((e["date"] for e in current if e["type"] == "review_decision_sent"), default=None)
    arrived = next((e for e in current if e["type"] == "plan_transferred"), None)
    if arrived is not None:
        made = made or arrived.get("plan_made_on") or arrived["date"]
        reviewed = reviewed or arrived.get("last_reviewed_on")
    return made, reviewed


def snapshot_case(actor: Actor, case: Case) -> CaseSnapshot:
    """Read everything that moves with ``case``'s plan (already accessed), in the sending
    council's context. Audited as ``transfer.snapshot_taken`` against the child (and each
    document as ``document.read``).

    Raises :class:`StorageUnavailable` when a document's bytes cannot be read, and
    ``RuntimeError`` when they no longer match their checksum: a transfer must never move a
    damaged record silently.
    """
    if not any(actor.can(p) for p in _SNAPSHOT_PERMISSIONS):
        raise Forbidden(permissions.TRANSFERS_READ)
    council = current_council()
    child = db.session.get(Child, case.child_id)
    assert child is not None
    rows = cases.event_rows(case)
    events = [row.as_event() for row in rows]
    deadlines = cases.deadlines_of(case, policy=cases.policy_from_settings(council.settings), events=events)
    made, reviewed = _made_and_reviewed(events)
    contacts = db.session.execute(select(Contact).where(Contact.child_id == child.id, Contact.parental_responsibility.is_(True))
                                  .order_by(Contact.created_at)).scalars()
    versions = [{"id": str(v.id), "number": v.number, "state": v.state,
                 "issued_on": v.issued_on.isoformat() if v.issued_on else None,
                 "based_on_id": str(v.based_on_id) if v.based_on_id else None,
                 "content": _iso(copy.deepcopy(v.content or {}))} for v in plans.versions(case)]
    submissions = [s for s in db.session.execute(
        select(Submission).where(Submission.case_id == case.id, Submission.kind == SubmissionKind.ADVICE,
                                 Submission.withdrawn_at.is_(None)).order_by(Submission.submitted_at)).scalars()]
    advice = []
    for item in plans.advice_list(case):
        entry = _iso(dict(item))
        entry["submissions"] = [{"id": str(s.id), "submitted_by_name": s.submitted_by_name,
                                 "submitted_as": s.submitted_as, "submitted_at": _iso(s.submitted_at),
                                 "text": s.text, "body": _iso(s.body or {})}
                                for s in submissions if s.section == item["advice_id"]]
        advice.append(entry)
    docs: list[SnapshotDocument] = []
    files: dict[str, bytes] = {}
    for doc in documents.documents_of_case(case.id):
        data = documents.read_document(actor, doc)
        path = document_path(str(doc.id), doc.filename)
        docs.append(SnapshotDocument(
            id=str(doc.id), kind=doc.kind, title=doc.title, filename=doc.filename, content_type=doc.content_type,
            size=len(data), sha256=hashlib.sha256(data).hexdigest(), path=path, advice_id=doc.advice_id,
            plan_version_id=str(doc.plan_version_id) if doc.plan_version_id else None,
            submission_id=str(doc.submission_id) if doc.submission_id else None, created_at=_iso(doc.created_at)))
        files[path] = data
    case_json = {
        "id": str(case.id), "status": case.stage, "opened_on": case.opened_on.isoformat(),
        # api-v1: events in date order; within one day, the order they were recorded in.
        "events": [_event_json(r) for r in sorted(rows, key=lambda r: (r.date, r.seq))],
        "deadlines": [_iso(d.to_dict()) for d in deadlines],
    }
    snapshot = CaseSnapshot(
        from_la_code=council.la_code, from_council=council.name, taken_at=_iso(dt.datetime.now(dt.timezone.utc)),
        child=_child_json(child), contacts=tuple(_contact_json(c) for c in contacts), case=case_json,
        plan_versions=tuple(versions), advice=tuple(advice), documents=tuple(docs), plan_made_on=made,
        last_reviewed_on=reviewed, files=files)
    audit.record(actor, "transfer.snapshot_taken", subject_type="child", subject_ids=[child.id], object_type="case",
                 object_id=case.id)
    return snapshot


# ---------------------------------------------------------------------------------------
# Making it arrive


def receiving_actor(label: str) -> Actor:
    """The receiving council's system actor that writes a transferred plan (audited by label)."""
    return Actor(tenant_id=require_tenant_id(), kind="system", id=label[:120], permissions=_RECEIVER_PERMISSIONS)


def _find_child(found: Mapping[str, Any]) -> Child | None:
    """The child already known here, by national identifier only (UPN, then NHS number, then
    ULN): never by name, which would merge two different children. Identifiers that point
    at two different children are refused: a person must sort that out, not a guess."""
    matches: list[Child] = []
    for key in ("upn", "nhs_number", "uln"):
        value = found.get(key)
        if value:
            child = db.session.execute(select(Child).where(getattr(Child, key) == value)).scalar_one_or_none()
            if child is not None and all(child.id != m.id for m in matches):
                matches.append(child)
    if len(matches) > 1:
        raise Conflict("The child's identifiers (UPN, NHS number, ULN) match more than one child already recorded "
                       "here. Correct the records before the plan can be received", field="child")
    return matches[0] if matches else None


def _child_values(snapshot: CaseSnapshot) -> dict[str, Any]:
    values = {k: snapshot.child.get(k) for k in children.CHILD_FIELDS if snapshot.child.get(k) not in (None, "")}
    dob = values.get("date_of_birth")
    if isinstance(dob, str):
        try:
            values["date_of_birth"] = dt.date.fromisoformat(dob)
        except ValueError:
            raise ValidationFailed({"child.date_of_birth": ["The date of birth must be a real date"]}) from None
    return values


def _child_here(actor: Actor, snapshot: CaseSnapshot) -> Child:
    values = _child_values(snapshot)
    try:
        normalised = children.validate_child(values)
    except ValidationFailed as exc:
        raise ValidationFailed({f"child.{k}": v for k, v in exc.errors.items()}) from None
    child = _find_child(normalised)
    if child is not None:
        audit.record(actor, "child.matched_on_transfer", subject_type="child", subject_ids=[child.id],
                     fields=[k for k in ("upn", "nhs_number", "uln") if normalised.get(k)])
        return child
    return children.create_child(actor, values)


def _add_contacts(actor: Actor, child: Child, snapshot: CaseSnapshot) -> None:
    known = {(c.given_name.casefold(), c.family_name.casefold()) for c in db.session.execute(
        select(Contact).where(Contact.child_id == child.id)).scalars()}
    for index, raw in enumerate(snapshot.contacts):
        data = {k: raw.get(k) for k in children.CONTACT_FIELDS if raw.get(k) is not None}
        name = (str(data.get("given_name", "")).strip().casefold(), str(data.get("family_name", "")).strip().casefold())
        if name in known:
            continue
        try:
            children.add_contact(actor, child, data)
        except ValidationFailed as exc:
            raise ValidationFailed({f"contacts.{index}.{k}": v for k, v in exc.errors.items()}) from None
        known.add(name)


def _remap_advice(content: dict[str, Any], doc_ids: Mapping[str, str]) -> dict[str, Any]:
    out = copy.deepcopy(content)
    advice = (out.get("K") or {}).get("advice")
    if isinstance(advice, list):
        for item in advice:
            if isinstance(item, dict) and isinstance(item.get("document_ids"), list):
                item["document_ids"] = [doc_ids.get(str(d), str(d)) for d in item["document_ids"]]
    return out


def _store_documents(actor: Actor, case: Case, snapshot: CaseSnapshot,
                     version_ids: Mapping[str, uuid.UUID]) -> dict[str, str]:
    """Every document again, under this council's storage keys (written with the transaction)."""
    mapped: dict[str, str] = {}
    for index, meta in enumerate(snapshot.documents):
        data = snapshot.files.get(meta.path)
        if data is None or hashlib.sha256(data).hexdigest() != meta.sha256:
            raise ValidationFailed({f"documents.{index}": [f"The file of “{meta.title}” is missing or damaged"]})
        # A platform-made PDF keeps its type; anything else is judged by its bytes again.
        trusted = documents.FileType(meta.content_type, "pdf", "PDF") if (
            meta.kind == "plan_pdf" and data.startswith(b"%PDF-")) else None
        if trusted is None and documents.sniff(data) is None:
            raise ValidationFailed({f"documents.{index}": [
                f"“{meta.title}” is not a {documents.ACCEPTED} file, so it cannot be received"]})
        doc = documents.store_document(
            actor, child_id=case.child_id, case_id=case.id, kind=meta.kind if meta.kind in documents.KINDS else "other",
            title=meta.title[:200] or "Document", filename=meta.filename, data=data,
            advice_id=meta.advice_id, plan_version_id=version_ids.get(meta.plan_version_id or ""),
            trusted_type=trusted, field=f"documents.{index}")
        mapped[meta.id] = str(doc.id)
    return mapped


def _copy_versions(actor: Actor, case: Case, snapshot: CaseSnapshot, version_ids: Mapping[str, uuid.UUID],
                   doc_ids: Mapping[str, str]) -> list[PlanVersion]:
    made = []
    for raw in sorted(snapshot.plan_versions, key=lambda v: int(v["number"])):
        based_on = version_ids.get(str(raw.get("based_on_id") or ""))
        issued_on = raw.get("issued_on")
        version = PlanVersion(id=version_ids[str(raw["id"])], case_id=case.id, number=int(raw["number"]),
                              state=str(raw["state"]), content=_remap_advice(dict(raw.get("content") or {}), doc_ids),
                              based_on_id=based_on, event_id=None,
                              issued_on=dt.date.fromisoformat(issued_on) if issued_on else None, updated_by=actor.id)
        db.session.add(version)
        made.append(version)
    db.session.flush()
    for version in made:
        audit.record(actor, "plan.version_received", subject_type="child", subject_ids=[case.child_id],
                     object_type="plan_version", object_id=version.id, fields=[version.state])
    return made


def _keep_history(actor: Actor, case: Case, snapshot: CaseSnapshot) -> Document:
    """The old council's record as it stood, read-only, on the new case (never as events)."""
    history = {"format": FORMAT, "format_version": FORMAT_VERSION, "from_la_code": snapshot.from_la_code,
               "from_council": snapshot.from_council, "taken_at": snapshot.taken_at, "case": dict(snapshot.case),
               "advice": [dict(a) for a in snapshot.advice], "plan_made_on": snapshot.plan_made_on,
               "last_reviewed_on": snapshot.last_reviewed_on}
    council = snapshot.from_council or f"LA {snapshot.from_la_code}"
    return documents.store_document(
        actor, child_id=case.child_id, case_id=case.id, kind="transfer_record",
        title=f"Case history from the previous council ({council})"[:200], filename=HISTORY_FILENAME,
        data=json.dumps(history, indent=2, sort_keys=True).encode(), trusted_type=_JSON)


def previous_history(actor: Actor, case: Case) -> dict[str, Any] | None:
    """The previous council's case history kept on ``case`` (already accessed), if any.
    Read through the documents service (checksum checked, audited as ``document.read``)."""
    doc = db.session.execute(
        select(Document).where(Document.case_id == case.id, Document.kind == "transfer_record",
                               Document.filename == HISTORY_FILENAME).order_by(Document.created_at.desc()).limit(1)
    ).scalar_one_or_none()
    if doc is None:
        return None
    return json.loads(documents.read_document(actor, doc))  # type: ignore[no-any-return]


def materialise(snapshot: CaseSnapshot, *, transferred_on: dt.date, transfer_id: uuid.UUID | str | None,
                from_la_code: str, actor_label: str | None = None, today: dt.date | None = None) -> Case:
    """Write ``snapshot`` into the current (receiving) council and return the new case.

    All of it happens in the caller's transaction; any refusal raises before the caller
    commits (:class:`ValidationFailed` for a snapshot this council cannot accept,
    :class:`Conflict` when the child already has an open case here or its identifiers are
    ambiguous), and the caller must roll back. Written by a system actor of this council
    (``actor_label``, default ``transfer:<transfer_id>``), audited here.
    """
    actor = receiving_actor(actor_label or f"transfer:{transfer_id}")
    council = current_council()
    policy = cases.policy_from_settings(council.settings)
    child = _child_here(actor, snapshot)
    _add_contacts(actor, child, snapshot)
    # Reg 15(3)-(5): the plan is treated as made by this council on its original date; the
    # transfer starts new_la_notification (6 weeks) and new_la_review (the later of 12 months
    # from made / last reviewed and 3 months from the transfer).
    first: dict[str, Any] = {"type": "plan_transferred", "date": transferred_on.isoformat(),
                             "from_la_code": from_la_code, "to_la_code": council.la_code}
    if snapshot.plan_made_on:
        first["plan_made_on"] = snapshot.plan_made_on
    if snapshot.last_reviewed_on:
        first["last_reviewed_on"] = snapshot.last_reviewed_on
    case = cases.open_case(actor, child, first, policy=policy, today=today or clock.today())
    version_ids = {str(v["id"]): default_id() for v in snapshot.plan_versions}
    doc_ids = _store_documents(actor, case, snapshot, version_ids)
    _copy_versions(actor, case, snapshot, version_ids, doc_ids)
    _keep_history(actor, case, snapshot)
    audit.record(actor, "case.transferred_in", subject_type="child", subject_ids=[child.id], object_type="case",
                 object_id=case.id, fields=[from_la_code])
    return case
