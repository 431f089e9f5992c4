"""The PDF of an issued plan: tagged for screen readers (PDF/UA-1), with the child's name and every
section, rendered by a job that stores it once however often it runs."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from core.cases.access import access_case
from core.cases.models import Document
from core.documents.services import read_document
from core.plans import services as plans
from core.plans.content import SECTION_TITLES, validate_content
from core.plans.jobs import render_plan_pdf
from core.plans.pdf import plan_html, render_pdf, render_version_pdf
from tests.conftest import in_tenant, system_actor
from tests.core.plans.conftest import ISSUED, SERVED
from tests.core.plans.factories import complete_plan, fake_lookup, pdf_text

pytestmark = pytest.mark.smoke


def _version(content: dict[str, Any], state: str = "issued") -> Any:
    return SimpleNamespace(content=content, state=state, number=2, issued_on=dt.date(2026, 5, 20) if state == "issued" else None)


CHILD = SimpleNamespace(full_name="Sam O'Brien-Évans", date_of_birth=dt.date(2017, 3, 4))


def test_the_pdf_is_tagged_with_a_language_a_title_and_a_structure_tree() -> None:
    content = validate_content(complete_plan(), final=True, lookup=fake_lookup())
    data = render_pdf(plan_html(version=_version(content), child=CHILD), uncompressed=True)
    assert data.startswith(b"%PDF-")
    for marker in (b"/StructTreeRoot", b"/MarkInfo <</Marked true>>", b"/Lang (en)", b"/DisplayDocTitle true"):
        assert marker in data, marker
    # Headings and table headers are in the structure tree (what a screen reader navigates by).
    assert b"/S /H1" in data and b"/S /H2" in data and b"/S /TH" in data and b"/S /Table" in data
    # The document title (shown instead of the file name: /DisplayDocTitle), in UTF-16 for the "É".
    title = "Education, health and care plan for Sam O'Brien-Évans".encode("utf-16-be").hex()
    assert f"/Title <feff{title}>".encode() in data


def test_the_pdf_holds_the_childs_name_every_section_and_the_provision() -> None:
    content = validate_content(complete_plan(), final=True, lookup=fake_lookup())
    text = pdf_text(render_pdf(plan_html(version=_version(content), child=CHILD), uncompressed=True))
    assert "Sam O'Brien-Évans" in text and "4 March 2017" in text and "Issued on 20 May 2026" in text
    for section, title in SECTION_TITLES.items():
        assert f"Section {section}: {title}"[:40] in text.replace("\n", " "), section
    for header in ("What", "Who", "How often", "How long", "Outcomes"):
        assert f"\n{header}\n" in text
    flat = " ".join(text.split())  # table cells wrap over several lines
    assert "4 sessions of 20 minutes a week" in flat and "A speech and language therapist" in flat


def test_text_from_the_plan_is_escaped_not_trusted() -> None:
    plan = complete_plan()
    plan["A"]["views"] = "<script>alert(1)</script> & <b>bold</b>"
    html = plan_html(version=_version(validate_content(plan, final=True, lookup=fake_lookup())), child=CHILD)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in html
    assert html.startswith('<!DOCTYPE html><html lang="en">') and "<title>Education, health and care plan for " in html


def test_a_draft_says_so_and_a_version_without_content_says_there_is_none() -> None:
    html = plan_html(version=_version({}, state="draft"), child=CHILD)
    assert "(working draft)</title>" in html
    assert "No plan content has been recorded in this system" in html


# ---------------------------------------------------------------------------------------
# The job


@pytest.fixture
def issued(tenant_a: Any, drafting_case: Any, record: Any) -> Any:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = access_case(actor, drafting_case.id, for_write=True)
        plans.save_draft(actor, case, complete_plan())
        record(actor, case, SERVED)
        record(actor, case, ISSUED)
        return plans.latest_issued(case)


def _pdfs(tenant: Any, version_id: Any) -> list[Any]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(Document).where(Document.plan_version_id == version_id)).scalars())


def test_the_job_stores_one_pdf_however_often_it_runs(tenant_a: Any, issued: Any) -> None:
    [first] = _pdfs(tenant_a, issued.id)  # rendered after the issuing transaction committed
    assert render_plan_pdf(str(tenant_a.id), str(issued.id)) == str(first.id)
    assert render_plan_pdf(str(tenant_a.id), str(issued.id)) == str(first.id)
    assert [d.id for d in _pdfs(tenant_a, issued.id)] == [first.id]
    with in_tenant(tenant_a):
        data = read_document(system_actor(tenant_a), first)
    assert data.startswith(b"%PDF-") and first.size == len(data)
    assert first.filename.endswith(".pdf") and first.kind == "plan_pdf" and first.created_by == "render_plan_pdf"


def test_the_job_renders_a_pdf_that_is_missing(tenant_a: Any, issued: Any, owner_engine: Any) -> None:
    with in_tenant(tenant_a) as s:
        [doc] = s.execute(select(Document).where(Document.plan_version_id == issued.id)).scalars()
        s.delete(doc)  # as if the first run had failed
    doc_id = render_plan_pdf(str(tenant_a.id), str(issued.id))
    assert [str(d.id) for d in _pdfs(tenant_a, issued.id)] == [doc_id]


def test_the_job_ignores_versions_that_are_not_issued_or_do_not_exist(tenant_a: Any, drafting_case: Any) -> None:
    with in_tenant(tenant_a):
        draft = plans.save_draft(system_actor(tenant_a), access_case(system_actor(tenant_a), drafting_case.id), {})
        draft_id = draft.id
    assert render_plan_pdf(str(tenant_a.id), str(draft_id)) is None
    assert render_plan_pdf(str(tenant_a.id), "01a21ea2-0000-7000-8000-000000000000") is None
    assert render_plan_pdf(str(tenant_a.id), "nonsense") is None
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(Document).where(Document.kind == "plan_pdf")).scalar_one() == 0


def test_another_council_cannot_render_or_see_the_version(tenant_a: Any, tenant_b: Any, issued: Any) -> None:
    assert render_plan_pdf(str(tenant_b.id), str(issued.id)) is None
    assert len(_pdfs(tenant_a, issued.id)) == 1


def test_render_version_pdf_reads_the_child_and_advice_of_the_case(tenant_a: Any, issued: Any) -> None:
    with in_tenant(tenant_a):
        text = pdf_text(render_version_pdf(issued, uncompressed=True))
    assert "Psychological advice" in text and "11 February 2026" in text and "20 March 2026" in text
