"""Text extraction for HTML (main content via trafilatura) and PDF (pypdf, page offsets kept)."""

from __future__ import annotations

import io
import re

from ..errors import SourceError

PAGE_BREAK = "\n\n"


def read_html(html: str, name: str) -> tuple[str, dict[str, str]]:
    """Extract the main text and metadata of an HTML page, without navigation or scripts."""
    import trafilatura

    text = (
        trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=True, deduplicate=True)
        or ""
    )
    meta: dict[str, str] = {}
    doc = trafilatura.extract_metadata(html)
    if doc is not None:
        for key in ("title", "author", "url", "date"):
            value = getattr(doc, key, None)
            if value:
                meta[key] = str(value).strip()
    if not meta.get("title"):
        match = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
        if match:
            meta["title"] = re.sub(r"\s+", " ", match.group(1)).strip()
    if not text.strip():
        raise SourceError(f"{name}: no readable main text found in the HTML")
    return _tidy_text(text), meta


def read_pdf(data: bytes, name: str) -> tuple[str, dict[str, str], tuple[int, ...]]:
    """Extract the text of every page of a PDF; return text, metadata and each page's start offset."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise SourceError(f"{name}: unreadable PDF ({exc})") from None
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
    meta = {}
    title = info.get("/Title") if hasattr(info, "get") else None
    author = info.get("/Author") if hasattr(info, "get") else None
    if title and str(title).strip():
        meta["title"] = str(title).strip()
    if author and str(author).strip():
        meta["author"] = str(author).strip()
    return text, meta, tuple(starts)


def _tidy_text(text: str) -> str:
    """Unify newlines and drop NULs and trailing spaces so offsets stay stable."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
