"""Plan content for tests, and a small text extractor for the PDFs WeasyPrint writes.

A plain module (not a conftest), so that the page and API tests can use it too.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

SLT = "Speech and language therapy: one-to-one sessions to build Sam's expressive language"


def complete_plan(*, urn: int | None = None) -> dict[str, Any]:
    """A plan that can be issued: needs, outcomes linked to them, quantified provision linked
    to the outcomes, and a placement (by type, or named by ``urn``)."""
    placement = ({"kind": "named", "urn": urn, "name": None, "type_description": None} if urn else
                 {"kind": "type", "urn": None, "name": None, "type_description": "A mainstream primary school"})
    return copy.deepcopy({
        "A": {"views": "Sam says school is best when it is quiet.", "interests": "Trains and drawing.",
              "aspirations": "To drive a train one day."},
        "B": {"needs": [
            {"id": "b-1", "area": "communication_interaction", "primary_need": "SLCN",
             "description": "Sam finds it hard to put ideas into sentences and to follow long instructions."},
            {"id": "b-2", "area": "cognition_learning", "primary_need": None,
             "description": "Sam's reading is about two years behind his peers."},
        ]},
        "C": {"needs": [{"id": "c-1", "description": "Sam has asthma, managed with an inhaler."}]},
        "D": {"needs": []},
        "E": {"outcomes": [
            {"id": "e-1", "description": "Sam will tell a short story of five sentences to a friend.",
             "timeframe": "By the end of Year 4", "need_ids": ["b-1"], "pfa_area": None},
            {"id": "e-2", "description": "Sam will read a book for his age on his own.",
             "timeframe": "By the end of Year 5", "need_ids": ["b-2"], "pfa_area": None},
        ]},
        "F": {"provision": [
            {"id": "f-1", "description": SLT, "provider": "A speech and language therapist", "frequency": "weekly",
             "duration": "45 minutes a session, until the next annual review", "outcome_ids": ["e-1"]},
            {"id": "f-2", "description": "Small-group phonics teaching", "provider": "A trained teaching assistant",
             "frequency": "4 sessions of 20 minutes a week", "duration": "For the school year", "outcome_ids": ["e-2"]},
        ]},
        "G": {"provision": [
            {"id": "g-1", "description": "Asthma care plan reviewed by the school nurse", "provider": "School nurse",
             "frequency": "Once a term", "duration": "While Sam is at the school", "outcome_ids": ["e-1"]},
        ]},
        "H1": {"provision": []},
        "H2": {"provision": []},
        "I": {"placement": placement},
        "J": {"personal_budget": {"requested": False, "amount": None, "direct_payment": False, "arrangements": ""}},
        "K": {"advice": []},
    })


@dataclass(frozen=True)
class FakeInstitution:
    name: str
    open: bool = True


def fake_lookup(known: dict[int, FakeInstitution] | None = None) -> Any:
    known = known or {991002: FakeInstitution("Oakfield Primary School"), 991009: FakeInstitution("Closed School", False)}
    return lambda urn: known.get(urn)


# ---------------------------------------------------------------------------------------
# PDF text


def _unicode_maps(data: bytes) -> dict[bytes, dict[str, str]]:
    """Each font's glyph-to-text map (its ToUnicode CMap), by the font's resource name."""
    objects = {m.group(1): m.group(2) for m in re.finditer(rb"(?m)^(\d+) 0 obj\s*(.*?)\s*endobj", data, re.S)}
    maps: dict[bytes, dict[str, str]] = {}
    for body in objects.values():
        font = re.search(rb"/Subtype /Type0/BaseFont /([A-Z]{6})\+\S*?/ToUnicode (\d+) 0 R", body)
        if not font:
            continue
        cmap = objects[font.group(2)]
        table: dict[str, str] = {}
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
            for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                table[src.decode().lower()] = bytes.fromhex(dst.decode()).decode("utf-16-be")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
            for lo, hi, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                start = int(dst, 16)
                for n, cid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    table[f"{cid:0{len(lo)}x}"] = chr(start + n)
        maps[font.group(1)] = table
    return maps


def pdf_text(data: bytes) -> str:
    """The text of an *uncompressed* WeasyPrint PDF, one line per text run."""
    maps = _unicode_maps(data)
    lines: list[str] = []
    font: dict[str, str] = {}
    for token in re.finditer(rb"/([A-Z]{6}) [\d.]+ Tf|\[([^\]]*)\]\s*TJ", data):
        if token.group(1):
            font = maps.get(token.group(1), {})
            continue
        glyphs = "".join(h.decode() for h in re.findall(rb"<([0-9a-fA-F]+)>", token.group(2)))
        lines.append("".join(font.get(glyphs[i:i + 4].lower(), "?") for i in range(0, len(glyphs), 4)))
    return "\n".join(lines)


def inflate_pdf(data: bytes) -> bytes:
    """The PDF with every Flate stream decompressed and appended, so that markers kept in
    compressed object streams (``/StructTreeRoot``, ``/Lang``) can be looked for."""
    import zlib

    out = [data]
    for m in re.finditer(rb"/Filter /FlateDecode[^>]*>>\s*stream\r?\n", data):
        end = data.find(b"endstream", m.end())
        try:
            out.append(zlib.decompress(data[m.end():end]))
        except zlib.error:
            continue
    return b"\n".join(out)
