"""Find source files safely (discovery, path checks, size limit) and read each into a Document."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path, PurePosixPath

from ..errors import SourceError
from ..models import Document
from .readers import READERS

log = logging.getLogger(__name__)

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".pdf": "pdf"}
MAX_FILE_BYTES = 50_000_000


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


def load_document(root: Path, name: str, data: bytes | None = None) -> Document:
    """Read one source into a Document with its text and metadata, using the reader of its kind."""
    if data is None:
        data = read_bytes(root, name)
    kind = SUFFIXES.get(Path(name).suffix.lower())
    if kind is None:
        raise SourceError(f"{name}: unsupported file type (use .txt, .md, .html or .pdf)")
    found = READERS[kind](data, name)
    return Document(
        source=name,
        text=found.text,
        title=found.meta.get("title") or _stem_title(name),
        kind=kind,
        sha256=file_hash(data),
        url=found.meta.get("url"),
        author=found.meta.get("author"),
        date=found.meta.get("date"),
        page_starts=found.page_starts,
        body_start=found.body_start,
    )


def _stem_title(name: str) -> str:
    """A readable title made from the file name."""
    return PurePosixPath(name).stem.replace("_", " ").replace("-", " ").strip() or name
