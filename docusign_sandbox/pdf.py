"""The sandbox's PDFs: text pages it writes itself (stamp, certificate, stand-ins) and uploaded pages joined by pypdf.

`text_pdf` writes real, valid PDF 1.4 files of plain text pages; offsets in the cross-reference table are exact,
so any PDF reader (and the tests) can parse the file. `concatenate` joins PDFs page by page with pypdf, so the
combined document holds the pages the sender uploaded (docs/docusign.md §6.5).
"""

from __future__ import annotations

import io
import re
import zipfile

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

PAGE_WIDTH, PAGE_HEIGHT = 612, 792  # US Letter in points, DocuSign's default page size
MARGIN, LINE_HEIGHT, FONT_SIZE = 72, 16, 11
LINES_PER_PAGE = (PAGE_HEIGHT - 2 * MARGIN) // LINE_HEIGHT
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def _escape(text: str) -> bytes:
    """A PDF literal string body: Latin-1 (the standard Helvetica encoding), with \\, ( and ) escaped."""
    raw = text.encode("latin-1", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content_stream(lines: list[str]) -> bytes:
    out = [b"BT", b"/F1 %d Tf" % FONT_SIZE, b"%d TL" % LINE_HEIGHT, b"%d %d Td" % (MARGIN, PAGE_HEIGHT - MARGIN)]
    for line in lines:
        out.append(b"(" + _escape(line) + b") Tj T*")
    out.append(b"ET")
    return b"\n".join(out)


def text_pdf(pages: list[list[str]], title: str = "") -> bytes:
    """A PDF with one page per list of text lines; lines beyond a page's height flow onto extra pages."""
    flowed: list[list[str]] = []
    for lines in pages or [[]]:
        chunks = [lines[i:i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
        flowed.extend(chunks)

    # Object numbers: 1 catalog, 2 page tree, 3 font, 4 info, then a (page, content) pair per page.
    page_numbers = [5 + 2 * i for i in range(len(flowed))]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % n for n in page_numbers)
           + b"] /Count %d >>" % len(flowed),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        4: b"<< /Producer (DocuSign sandbox) /Title (" + _escape(title) + b") >>",
    }
    for number, lines in zip(page_numbers, flowed, strict=True):
        stream = _content_stream(lines)
        objects[number] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % (PAGE_WIDTH, PAGE_HEIGHT)
                           + b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (number + 1))
        objects[number + 1] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"

    buffer = io.BytesIO()
    # The binary comment line tells transfer tools the file is binary (PDF 1.4 §3.4.1).
    buffer.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = buffer.tell()
        buffer.write(b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n")
    xref_at = buffer.tell()
    size = max(objects) + 1
    buffer.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        buffer.write(b"%010d 00000 n \n" % offsets[number])
    buffer.write(b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at))
    return buffer.getvalue()


def readable_pages(content: bytes) -> PdfReader | None:
    """The uploaded PDF as pypdf reads it, or None when it has no pages pypdf can read (a malformed file)."""
    try:
        reader = PdfReader(io.BytesIO(content))
        return reader if len(reader.pages) else None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        return None


def concatenate(parts: list[bytes], title: str = "") -> bytes:
    """One PDF of every page of `parts`, in order (each part a PDF pypdf can read). Same input, same bytes."""
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    writer.add_metadata({"/Producer": "DocuSign sandbox", "/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def page_count(content: bytes) -> int:
    """Pages in an uploaded PDF, counted from its page objects (at least 1; non-PDF files count as 1)."""
    return max(1, len(_PAGE_OBJECT.findall(content))) if content.startswith(b"%PDF-") else 1


def zip_archive(files: list[tuple[str, bytes]]) -> bytes:
    """A ZIP of (name, bytes) entries, as the `archive` pseudo-document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return buffer.getvalue()
