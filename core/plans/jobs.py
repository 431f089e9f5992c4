"""Plan jobs: the PDF of each issued version, kept by the documents service."""

from __future__ import annotations

from sqlalchemy import select

from core import permissions
from core.actors import Actor
from core.cases.models import Case, Document, PlanVersion
from core.children.models import Child
from core.db import db
from core.documents.services import FileType, store_document
from core.ids import parse_id
from core.jobs import job
from core.plans.pdf import STATE_WORDS, pdf_filename, render_version_pdf
from core.tenancy import require_tenant_id

PDF = FileType("application/pdf", "pdf", "PDF")


def _stored_pdf(version: PlanVersion) -> Document | None:
    return db.session.execute(
        select(Document).where(Document.plan_version_id == version.id, Document.kind == "plan_pdf")
        .order_by(Document.created_at).limit(1)).scalar_one_or_none()


@job(queue="default", timeout=120)
def render_plan_pdf(version_id: str) -> str | None:
    """Render the tagged PDF of an issued plan version and store it (``kind="plan_pdf"``).

    Called as ``render_plan_pdf(tenant_id, version_id)``. Idempotent: a version that has its
    PDF already keeps it (retries and duplicate enqueues store nothing more). Returns the
    document id, or None for a version that is missing or not issued.
    """
    vid = parse_id(version_id)
    version = db.session.get(PlanVersion, vid) if vid else None
    if version is None or version.state != "issued":
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        # Two workers on one version (a retry racing a slow first run) must not both store:
        # the second waits here, then finds the first one's document. SELECT ... FOR UPDATE
        # takes a row lock without writing, so the frozen-version trigger is not involved.
        db.session.execute(select(PlanVersion.id).where(PlanVersion.id == version.id).with_for_update())
    existing = _stored_pdf(version)
    if existing is not None:
        return str(existing.id)
    case = db.session.get(Case, version.case_id)
    child = db.session.get(Child, case.child_id) if case else None
    if case is None or child is None:
        return None
    actor = Actor(tenant_id=require_tenant_id(), kind="system", id="render_plan_pdf",
                  permissions=frozenset({permissions.CASES_READ, permissions.CASES_WRITE, permissions.PLANS_READ}))
    data = render_version_pdf(version)
    on = f", {version.issued_on.day} {version.issued_on.strftime('%B %Y')}" if version.issued_on else ""
    doc = store_document(actor, child_id=child.id, case_id=case.id, kind="plan_pdf",
                         title=f"EHC plan version {version.number} ({STATE_WORDS[version.state].lower()}{on})",
                         filename=pdf_filename(version, child), data=data, plan_version_id=version.id,
                         trusted_type=PDF)
    return str(doc.id)
