"""One reader per kind of source (text, Markdown, HTML, PDF): bytes in, text and metadata out."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import SourceError
from .dates import iso_date
from .extract import read_html, read_pdf

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_WHATWG = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}
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
    """Decode strictly as UTF-8 (a leading BOM dropped, universal newlines); name the file and the fix on error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(f"{name} is UTF-16 text: convert it to UTF-8, e.g. `iconv -f utf-16 -t utf-8`")
    if b"\x00" in data[:8192]:
        raise SourceError(f"{name} is not text (it holds NUL bytes: a binary file with a text name?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{name} is not valid UTF-8 (byte {exc.start}): convert it to UTF-8, e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    return newlines(text)


def newlines(text: str) -> str:
    """Universal newlines, as Python's text mode reads them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_html(data: bytes, name: str) -> str:
    """An HTML page's text: UTF-8, or the charset its <meta> declares (decoded strictly, as browsers label it)."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):  # a byte order mark wins over <meta>, as in browsers
        return decode_utf8(data, name)
    declared = _CHARSET.search(data[:4096])
    label = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    label = _WHATWG.get(label, label)  # browsers read latin-1 and ascii labels as windows-1252
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        raise SourceError(f"{name} declares an unknown charset {label!r}: convert it to UTF-8") from None
    if codec in ("utf-8", "utf-16", "utf-16-le", "utf-16-be"):  # a UTF-16 <meta> in ASCII bytes cannot be true
        return decode_utf8(data, name)
    try:
        return newlines(data.decode(codec))
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{name} is not valid {label} as its <meta> declares (byte {exc.start}): fix the charset or convert "
            "it to UTF-8"
        ) from None


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
    text, meta = read_html(decode_html(data, name), name)
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
