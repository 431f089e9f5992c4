"""A minimal text-only PDF (PDF 1.4, Helvetica) for advice that arrives as a
QuestionnaireResponse: the platform files advice as a document, and accepts PDFs, not FHIR
JSON. No dependency: a plugin may not use core's PDF rendering, and this is a few lines."""

from __future__ import annotations

import textwrap

_LINES_PER_PAGE = 50


def _escape(text: str) -> str:
    # Helvetica in a PDF string is Latin-1; anything else becomes "?" rather than garbage.
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(title: str, lines: list[str]) -> bytes:
    wrapped: list[str] = [title, ""]
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        wrapped.extend(textwrap.wrap(line, width=95, initial_indent="", subsequent_indent=" " * indent) or [""])
    pages = [wrapped[i:i + _LINES_PER_PAGE] for i in range(0, len(wrapped), _LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"<< /Type /Pages /Kids [" + " ".join(f"{p} 0 R" for p in page_ids).encode()
                   + b"] /Count " + str(len(pages)).encode() + b" >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, page in enumerate(pages):
        stream = "BT /F1 10 Tf 50 800 Td 14 TL\n" + "".join(f"({_escape(line)}) '\n" for line in page) + "ET"
        data = stream.encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {page_ids[i] + 1} 0 R >>".encode())
        objects.append(b"<< /Length " + str(len(data)).encode() + b" >>\nstream\n" + data + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
