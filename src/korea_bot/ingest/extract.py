"""Text extraction for HTML (main content via trafilatura) and PDF (pypdf, page offsets kept)."""

from __future__ import annotations

import io
import re

from ..errors import SourceError
from .dates import html_date

PAGE_BREAK = "\n\n"
PARAGRAPH_BREAK = "\n\n"


def read_html(html: str, name: str) -> tuple[str, dict[str, str]]:
    """Extract the main text (one paragraph per block) and metadata of an HTML page, without navigation or scripts."""
    import trafilatura

    try:
        # no deduplicate=True: its cache is process-wide, so a page read a second time (a rebuild in the same
        # process: --watch, /reindex, --full) came out empty
        text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=True)
        found = trafilatura.extract_metadata(html, extensive=False)
    except Exception as exc:  # a third-party parser on arbitrary bytes: any failure means "cannot read this page"
        raise SourceError(f"{name}: cannot parse the HTML ({type(exc).__name__}: {exc})") from None
    meta: dict[str, str] = {}
    for key in ("title", "author", "url"):
        value = getattr(found, key, None) if found is not None else None
        if value:
            meta[key] = " ".join(str(value).split())
    if not meta.get("title"):
        match = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
        if match:
            meta["title"] = re.sub(r"\s+", " ", match.group(1)).strip()
    date = html_date(html)
    if date:
        meta["date"] = date
    if not (text or "").strip():
        raise SourceError(f"{name}: no main text found in the HTML (a page with only navigation, links or scripts?)")
    blocks = (line.strip() for line in _tidy_text(text).split("\n"))
    return PARAGRAPH_BREAK.join(b for b in blocks if b), meta


def read_pdf(data: bytes, name: str) -> tuple[str, dict[str, str], tuple[int, ...]]:
    """Extract the text of every page of a PDF; return text, metadata and each page's start offset."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise FileNotDecryptedError("encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        meta = _pdf_meta(info) if info is not None else {}
    except FileNotDecryptedError:
        raise SourceError(f"{name}: the PDF is encrypted: save a copy without a password") from None
    except Exception as exc:  # pypdf on arbitrary bytes raises many kinds of errors; all mean "not a usable PDF"
        raise SourceError(f"{name}: unreadable PDF ({type(exc).__name__}: {exc})") from None
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page in pages:
        body = _tidy_text(page)
        starts.append(offset)
        parts.append(body)
        offset += len(body) + len(PAGE_BREAK)
    text = PAGE_BREAK.join(parts)
    if not text.strip():
        raise SourceError(f"{name}: the PDF has no extractable text (scanned images need OCR first)")
    return text, meta, tuple(starts)


def _pdf_meta(info: object) -> dict[str, str]:
    """Title, author and creation date from a PDF's document information."""
    meta: dict[str, str] = {}
    for key, attr in (("title", "title"), ("author", "author")):
        value = getattr(info, attr, None)
        if value and str(value).strip():
            meta[key] = " ".join(str(value).split())
    try:
        created = getattr(info, "creation_date", None)
    except ValueError:  # a malformed /CreationDate
        created = None
    if created is not None:
        meta["date"] = created.date().isoformat()
    return meta


def _tidy_text(text: str) -> str:
    """Unify newlines and drop NULs and trailing spaces so offsets stay stable."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
