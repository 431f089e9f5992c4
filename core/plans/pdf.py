"""An accessible PDF of a plan version: tagged PDF/UA-1 from plain, semantic HTML (WeasyPrint).

Screen readers need the structure, not just the look: the document has a language and a
title, real headings (one ``h1``, a ``h2`` per section), and tables of provision and
outcomes with column headers and captions, which WeasyPrint turns into the PDF structure
tree (``/StructTreeRoot``, ``/MarkInfo``, ``/Lang``). Text is escaped here, never trusted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from core.cases.models import Case, Document, PlanVersion
from core.children.models import Child
from core.db import db
from core.documents.services import documents_of_case
from core.plans.content import (
    ADVICE_KINDS, AREAS, NEED_SECTIONS, PFA_AREAS, PRIMARY_NEEDS, PROVISION_SECTIONS, SECTION_DESCRIPTIONS,
    SECTION_TITLES, has_content, item_refs, items, placement_text, with_defaults,
)

STATE_WORDS = {"draft": "Working draft", "served": "Draft plan as served on the family", "issued": "Issued plan"}

_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm; @bottom-right { content: "Page " counter(page) " of " counter(pages);
        font: 9pt "DejaVu Sans", sans-serif; color: #505a5f; } }
body { font: 10.5pt/1.45 "DejaVu Sans", Arial, sans-serif; color: #0b0c0c; }
h1 { font-size: 20pt; margin: 0 0 4mm; }
h2 { font-size: 14pt; margin: 8mm 0 2mm; border-top: 2px solid #0b0c0c; padding-top: 2mm; break-after: avoid; }
h3 { font-size: 11.5pt; margin: 4mm 0 1mm; break-after: avoid; }
p { margin: 0 0 2mm; }
.caption { font-size: 11pt; color: #505a5f; margin: 0; }
.hint { color: #505a5f; font-size: 9.5pt; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0 4mm; font-size: 9.5pt; }
caption { text-align: left; font-weight: bold; padding-bottom: 1mm; }
th, td { border: 1px solid #b1b4b6; padding: 1.5mm; text-align: left; vertical-align: top; }
th { background: #f3f2f1; }
tr { break-inside: avoid; }
dl { margin: 0 0 4mm; }
dt { font-weight: bold; float: left; width: 45mm; clear: left; }
dd { margin: 0 0 1mm 47mm; }
"""


def _text(value: Any) -> str:
    """Escaped text; blank lines start new paragraphs, single line breaks are kept."""
    paragraphs = [p.strip() for p in str(value or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _cell(value: Any) -> str:
    return escape(" ".join(str(value or "").split())) or "Not stated"


def _long_date(value: str | dt.date | None) -> str:
    if not value:
        return ""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day.strftime('%B %Y')}"


def _table(caption: str, headers: Iterable[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def plan_html(*, version: PlanVersion, child: Child, documents: Mapping[str, Document] | None = None) -> str:
    """The plan as an HTML document, ready for WeasyPrint."""
    content = with_defaults(version.content)
    refs = item_refs(content)
    name = child.full_name
    title = f"Education, health and care plan for {name}"
    if version.state != "issued":
        title += f" ({STATE_WORDS[version.state].lower()})"
    when = (f"Issued on {_long_date(version.issued_on)}" if version.state == "issued" and version.issued_on
            else STATE_WORDS[version.state])
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f'<meta name="author" content="{escape(name)}"><meta name="description" content="{escape(title)}">',
        f"<style>{_CSS}</style></head><body>",
        '<header><p class="caption">Education, health and care plan</p>',
        f"<h1>{escape(name)}</h1>",
        "<dl>",
        f"<dt>Date of birth</dt><dd>{_long_date(child.date_of_birth)}</dd>",
        f"<dt>Version</dt><dd>{version.number}</dd>",
        f"<dt>Status</dt><dd>{escape(when)}</dd>",
        "</dl></header><main>",
    ]
    if not has_content(version.content):
        parts.append("<p>No plan content has been recorded in this system for this version. The plan may be held "
                     "in the council's other records.</p>")
    for section in ("A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K"):
        parts.append(f'<section><h2>Section {section}: {escape(SECTION_TITLES[section])}</h2>')
        parts.append(f'<p class="hint">{escape(SECTION_DESCRIPTIONS[section])}</p>')
        parts.append(_section(section, content, refs, documents or {}))
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "".join(parts)


def _section(section: str, content: dict[str, Any], refs: Mapping[str, str], documents: Mapping[str, Document]) -> str:
    if section == "A":
        a = content["A"]
        return "".join(f"<h3>{label}</h3>{_text(a[key]) or '<p>Not recorded.</p>'}" for key, label in (
            ("views", "Views"), ("interests", "Interests"), ("aspirations", "Aspirations")))
    if section in NEED_SECTIONS:
        needs = items(content, section)
        if not needs:
            return "<p>None recorded.</p>"
        if section == "B":
            rows = [[escape(refs.get(n["id"], "")), escape(AREAS.get(n.get("area") or "", "Not stated")),
                     escape(PRIMARY_NEEDS.get(n.get("primary_need") or "", "")), _cell(n["description"])] for n in needs]
            return _table("Special educational needs", ("Ref", "Area of need", "Primary need", "Description"), rows)
        rows = [[escape(refs.get(n["id"], "")), _cell(n["description"])] for n in needs]
        return _table(SECTION_TITLES[section], ("Ref", "Description"), rows)
    if section == "E":
        outcomes = items(content, "E")
        if not outcomes:
            return "<p>None recorded.</p>"
        rows = [[escape(refs.get(o["id"], "")), _cell(o["description"]), _cell(o.get("timeframe")),
                 escape(", ".join(refs.get(n, n) for n in o.get("need_ids") or [])) or "None",
                 escape(PFA_AREAS.get(o.get("pfa_area") or "", "No"))] for o in outcomes]
        return _table("Outcomes", ("Ref", "Outcome", "By when", "Needs it answers", "Preparing for adulthood"), rows)
    if section in PROVISION_SECTIONS:
        provision = items(content, section)
        if not provision:
            return "<p>None recorded.</p>"
        rows = [[escape(refs.get(p["id"], "")), _cell(p["description"]), _cell(p.get("provider")),
                 _cell(p.get("frequency")), _cell(p.get("duration")),
                 escape(", ".join(refs.get(o, o) for o in p.get("outcome_ids") or [])) or "None"] for p in provision]
        return _table(SECTION_TITLES[section], ("Ref", "What", "Who", "How often", "How long", "Outcomes"), rows)
    if section == "I":
        return f"<p>{escape(placement_text(content['I']['placement']) or 'Not yet decided.')}</p>"
    if section == "J":
        b = content["J"]["personal_budget"]
        if not b.get("requested"):
            return "<p>No personal budget has been requested.</p>"
        amount = f"£{b['amount']:,.2f}" if b.get("amount") is not None else "Not yet agreed"
        return ("<dl>"
                f"<dt>Amount</dt><dd>{escape(amount)}</dd>"
                f"<dt>Direct payment</dt><dd>{'Yes' if b.get('direct_payment') else 'No'}</dd>"
                f"<dt>Arrangements</dt><dd>{_cell(b.get('arrangements'))}</dd></dl>")
    advice = content["K"]["advice"]
    if not advice:
        return "<p>None recorded.</p>"
    rows = []
    for a in advice:
        titles = [documents[d].title for d in a.get("document_ids") or [] if d in documents]
        rows.append([escape(ADVICE_KINDS.get(a.get("advice") or "", "Advice")), escape(_long_date(a.get("requested_on"))),
                     escape(_long_date(a.get("received_on"))) or "Not yet received",
                     escape("; ".join(titles)) or "None filed"])
    return _table("Advice and information", ("Advice", "Requested", "Received", "Documents"), rows)


def render_pdf(html: str, *, uncompressed: bool = False) -> bytes:
    """Tagged PDF/UA-1 bytes of ``html``."""
    # WeasyPrint logs every step (even of its import) at INFO: noise in the job log, not news.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    # Imported here: WeasyPrint takes half a second to import, and only jobs render.
    from weasyprint import HTML

    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1", uncompressed_pdf=uncompressed)  # type: ignore[no-any-return]


def render_version_pdf(version: PlanVersion, *, uncompressed: bool = False) -> bytes:
    """The PDF of ``version`` (in the current tenant), with its child and advice documents."""
    case = db.session.get(Case, version.case_id)
    assert case is not None
    child = db.session.get(Child, case.child_id)
    assert child is not None
    documents = {str(d.id): d for d in documents_of_case(case.id)}
    return render_pdf(plan_html(version=version, child=child, documents=documents), uncompressed=uncompressed)


def pdf_filename(version: PlanVersion, child: Child) -> str:
    return f"EHC plan {child.full_name} version {version.number}.pdf"
