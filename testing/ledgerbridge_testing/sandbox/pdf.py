"""A one-page PDF of plain text lines, for the sandboxes' invoice-PDF endpoints.

Every provider serves an invoice as a PDF and the official client libraries download it; a client only
checks that it got a real PDF whose text matches the invoice. A hand-written PDF 1.4 file (one page,
Helvetica, byte offsets in the cross-reference table) is enough and needs no rendering library.
"""

from __future__ import annotations

from collections.abc import Sequence

_PAGE_TOP = 800
_LINE_HEIGHT = 16
_MAX_LINES = 45


def _escape(text: str) -> str:
    """PDF string literal escaping; characters outside Latin-1 become '?' (Helvetica's encoding)."""
    safe = text.encode("latin-1", errors="replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A valid single-page PDF showing ``title`` in bold and then ``lines`` (at most 45 are shown)."""
    commands = [f"BT /F2 16 Tf 50 {_PAGE_TOP} Td ({_escape(title)}) Tj ET"]
    for index, line in enumerate(lines[:_MAX_LINES]):
        y = _PAGE_TOP - 30 - index * _LINE_HEIGHT
        commands.append(f"BT /F1 11 Tf 50 {y} Td ({_escape(line)}) Tj ET")
    stream = "\n".join(commands).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
