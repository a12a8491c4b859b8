"""One reader per kind of source (text, Markdown, HTML, PDF): bytes in, text and metadata out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import SourceError
from .dates import iso_date
from .extract import read_html, read_pdf

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
TITLE_MAX = 200  # a first line longer than this is prose, not a title
DATE_MAX = 40  # a front-matter date that is not ISO is kept as written, up to this length


@dataclass(frozen=True, kw_only=True)
class Extracted:
    """What a reader found: the quotable text (offsets refer to it) and whatever metadata the file carries."""

    text: str
    meta: dict[str, str] = field(default_factory=dict)  # title, author, url, date
    page_starts: tuple[int, ...] = ()
    body_start: int = 0


def decode_utf8(data: bytes, name: str) -> str:
    """Decode strictly as UTF-8 the way Python's text mode does (universal newlines); name the file on error."""
    if b"\x00" in data[:8192]:
        raise SourceError(f"{name} is not text (it holds NUL bytes: a binary file with a text name?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{name} is not valid UTF-8 (byte {exc.start}): convert it to UTF-8, e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(data: bytes, name: str) -> Extracted:
    """A plain-text file: its first line is the title if it looks like one."""
    text = decode_utf8(data, name)
    return Extracted(text=text, meta={"title": first_line_title(text)})


def read_markdown(data: bytes, name: str) -> Extracted:
    """A Markdown file: YAML front matter (title, author, url, date), else the first line as title."""
    text = decode_utf8(data, name)
    meta, body = front_matter(text, name)
    if not meta.get("title"):
        meta["title"] = first_line_title(text[body:])
    return Extracted(text=text, meta=meta, body_start=body)


def read_html_file(data: bytes, name: str) -> Extracted:
    """An HTML page: its main text (no navigation or scripts) and its metadata."""
    text, meta = read_html(decode_utf8(data, name), name)
    return Extracted(text=text, meta=meta)


def read_pdf_file(data: bytes, name: str) -> Extracted:
    """A PDF: the text of every page, with each page's start offset."""
    text, meta, pages = read_pdf(data, name)
    return Extracted(text=text, meta=meta, page_starts=pages)


Reader = Callable[[bytes, str], Extracted]
READERS: dict[str, Reader] = {
    "text": read_text,
    "markdown": read_markdown,
    "html": read_html_file,
    "pdf": read_pdf_file,
}


def front_matter(text: str, name: str) -> tuple[dict[str, str], int]:
    """YAML front matter (title, author, url, date) of a Markdown text, and where its body starts (0 if none)."""
    match = _FRONT.match(text)
    if not match:
        return {}, 0
    import yaml

    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""  # the front matter starts on line 2
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceError(f"{name}: bad YAML front matter{where}: {problem}") from None
    if not isinstance(data, dict):
        return {}, match.end()
    keys = ("title", "author", "url", "date")
    meta = {k: str(data[k]).strip() for k in keys if data.get(k) not in (None, "")}
    if "date" in meta:
        meta["date"] = iso_date(meta["date"]) or meta["date"][:DATE_MAX]
    return meta, match.end()


def first_line_title(text: str) -> str:
    """The first non-empty line, without Markdown heading marks, if it looks like a title."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= TITLE_MAX else ""
    return ""
