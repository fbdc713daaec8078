"""Document conversion: what DocuSign turns into PDF on upload (HTML, plain text, DOCX), rendered plainly.

DocuSign converts every non-PDF document to PDF when the envelope is created and refuses one it cannot read with
FORMAT_CONVERSION_ERROR. The sandbox does the same with a plain rendering: the document's text, one line after
another, under a first line saying the sandbox converted it (no layout, fonts or images; Latin-1 only, as the
standard Helvetica of pdf.text_pdf). A PDF is kept byte for byte.
Reference: https://support.docusign.com/s/document-item?bundleId=gbo1643332197980&topicId=bcf1578456610296.html
(supported file formats).
"""

from __future__ import annotations

import io
import re
import textwrap
import zipfile
from html.parser import HTMLParser

from . import pdf
from .api import ApiError

CONVERTED_BY = "Converted to PDF by the DocuSign sandbox (a plain text rendering, not DocuSign's conversion)."
WRAP = 90  # characters per line of US Letter at 11 pt Helvetica, within the margins
MAX_DOCX_XML_BYTES = 20 * 1024 * 1024  # word/document.xml unpacked: a ZIP bomb is refused, not inflated
HTML_EXTENSIONS = ("html", "htm")
TEXT_EXTENSIONS = ("txt",)
# Elements after which a browser starts a new line.
_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "title",
                     "section", "article", "header", "footer", "blockquote", "pre", "hr"})


def _conversion_error(document_id: str, why: str) -> ApiError:
    return ApiError("FORMAT_CONVERSION_ERROR", f"The data could not be converted: document {document_id} {why}")


class _HtmlText(HTMLParser):
    """The text a reader sees: no scripts or styles, a line break after each block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def html_text(content: bytes) -> list[str]:
    parser = _HtmlText()
    parser.feed(_decode(content))
    parser.close()
    return [line.strip() for line in "".join(parser.parts).split("\n")]


def docx_text(document_id: str, content: bytes) -> list[str]:
    """The paragraphs of a DOCX's main part (word/document.xml), read as text runs: no XML entities expanded."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_DOCX_XML_BYTES:
                raise _conversion_error(document_id, "is too large to convert.")
            with archive.open(info) as part:
                xml = part.read(MAX_DOCX_XML_BYTES + 1).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError) as exc:
        raise _conversion_error(document_id, "is not a readable Word (.docx) file.") from exc
    lines = []
    for paragraph in re.findall(r"<w:p[ >].*?</w:p>|<w:p/>", xml, flags=re.DOTALL):
        runs = re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", paragraph)
        text = "".join(runs)
        for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
            text = text.replace(entity, char)
        lines.append(text)
    return lines


def _wrapped(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        out.extend(textwrap.wrap(line, WRAP) or [""])
    # Runs of blank lines collapse to one, as a rendered page shows them.
    return [line for i, line in enumerate(out) if line or (i and out[i - 1])]


def to_pdf(document_id: str, extension: str, content: bytes) -> bytes:
    """The PDF DocuSign would hold for an uploaded document, or FORMAT_CONVERSION_ERROR."""
    if extension == "pdf":
        if not content.startswith(b"%PDF-"):
            raise _conversion_error(document_id, "is not a PDF file.")
        return content
    if extension in HTML_EXTENSIONS:
        lines = html_text(content)
    elif extension in TEXT_EXTENSIONS:
        lines = _decode(content).splitlines()
    elif extension == "docx":
        lines = docx_text(document_id, content)
    else:
        raise _conversion_error(document_id, "must be a PDF, DOCX, HTML or plain text file (the formats the sandbox "
                                "converts).")
    return pdf.text_pdf([[CONVERTED_BY, "", *_wrapped(lines)]], title=f"Document {document_id}")
