"""Find and read source texts (txt, md, html, pdf) safely, with their metadata."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from .models import Document

log = logging.getLogger(__name__)

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".pdf": "pdf"}
MAX_FILE_BYTES = 50_000_000
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


class SourceError(Exception):
    """A source file or folder that cannot be used, with a message naming it."""


def safe_relative(name: str) -> str:
    """Validate a source name relative to the sources folder; raise SourceError if it could escape it."""
    if not name or "\x00" in name or "\\" in name:
        raise SourceError(f"invalid source name {name!r}")
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or name.startswith("~"):
        raise SourceError(f"source name {name!r} must be a relative path inside the sources folder")
    return path.as_posix()


def resolve_inside(root: Path, name: str) -> Path:
    """Return root/name after checking that it resolves (symlinks included) inside root."""
    rel = safe_relative(name)
    base = root.resolve()
    target = (base / rel).resolve()
    if target != base and base not in target.parents:
        raise SourceError(f"source {name!r} resolves outside the sources folder")
    return target


def discover(root: Path) -> list[str]:
    """List supported source files under root (recursive, sorted), skipping hidden files and links out."""
    if not root.exists():
        raise SourceError(f"sources folder {root} does not exist")
    if not root.is_dir():
        raise SourceError(f"sources path {root} is not a folder")
    base = root.resolve()
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fname in sorted(filenames):
            if fname.startswith(".") or Path(fname).suffix.lower() not in SUFFIXES:
                continue
            rel = (Path(dirpath) / fname).relative_to(base).as_posix()
            try:
                path = resolve_inside(base, rel)
            except SourceError as exc:
                log.warning("skipping %s: %s", rel, exc)
                continue
            if path.is_file():
                found.append(rel)
    return found


def file_hash(data: bytes) -> str:
    """SHA-256 hex digest of raw file bytes."""
    return hashlib.sha256(data).hexdigest()


def read_bytes(root: Path, name: str) -> bytes:
    """Read a source's raw bytes after the path-safety checks."""
    path = resolve_inside(root, name)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(f"{name}: {size} bytes is over the {MAX_FILE_BYTES}-byte limit")
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {name}: {exc.strerror or exc}") from None


def decode_utf8(data: bytes, name: str) -> str:
    """Decode strictly as UTF-8 the way Python's text mode does (universal newlines); name the file on error."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{name} is not valid UTF-8 (byte {exc.start}): convert it to UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_document(root: Path, name: str, data: bytes | None = None) -> Document:
    """Read one source into a Document with its text and metadata."""
    if data is None:
        data = read_bytes(root, name)
    kind = SUFFIXES.get(Path(name).suffix.lower())
    if kind is None:
        raise SourceError(f"{name}: unsupported file type (use .txt, .md, .html or .pdf)")
    digest = file_hash(data)
    if kind == "pdf":
        from .extract import read_pdf

        text, meta, pages = read_pdf(data, name)
        return Document(
            name,
            text,
            meta.get("title") or _stem_title(name),
            kind,
            digest,
            meta.get("url"),
            meta.get("author"),
            meta.get("date"),
            pages,
        )
    text = decode_utf8(data, name)
    if kind == "html":
        from .extract import read_html

        text, meta = read_html(text, name)
    elif kind == "markdown":
        meta = front_matter(text, name)
        if not meta.get("title"):
            meta["title"] = _first_line_title(text[front_matter_end(text) :])
    else:
        meta = {"title": _first_line_title(text)}
    title = meta.get("title") or _stem_title(name)
    return Document(name, text, title, kind, digest, meta.get("url"), meta.get("author"), meta.get("date"))


def front_matter_end(text: str) -> int:
    """Offset where the body starts after YAML front matter (0 when there is none)."""
    match = _FRONT.match(text)
    return match.end() if match else 0


def front_matter(text: str, name: str) -> dict[str, str]:
    """Parse YAML front matter (title, author, url, date) from a Markdown text."""
    match = _FRONT.match(text)
    if not match:
        return {}
    import yaml

    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise SourceError(f"{name}: bad YAML front matter: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        return {}
    keys = ("title", "author", "url", "date")
    return {k: str(data[k]).strip() for k in keys if data.get(k) not in (None, "")}


def _first_line_title(text: str) -> str:
    """The first non-empty line, without Markdown heading marks, if it looks like a title."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200] if len(line) <= 200 else ""
    return ""


def _stem_title(name: str) -> str:
    """A readable title made from the file name."""
    return PurePosixPath(name).stem.replace("_", " ").replace("-", " ").strip() or name


def iter_documents(root: Path, names: list[str]) -> Iterator[Document]:
    """Load each named source in turn."""
    for name in names:
        yield load_document(root, name)
