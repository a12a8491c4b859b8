"""Find source files safely (discovery, path checks, size limit) and read each into a Document."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..config import MAX_FILE_MB
from ..errors import SourceError
from ..models import Document
from .chunking import text_runs
from .readers import READERS

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".pdf": "pdf"}
MAX_FILE_BYTES = int(MAX_FILE_MB * 1_000_000)  # the default of KOREA_BOT_MAX_FILE_MB
UNREADABLE = ""  # the digest recorded for a file whose bytes cannot be read at all


@dataclass(frozen=True)
class Scan:
    """What discovery found: the supported files, and the ones refused before reading (with the reason)."""

    names: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)


def collection_of(source: str) -> str:
    """The collection a source belongs to: its top-level folder under the sources folder ("" for files at the top)."""
    head, sep, _rest = source.partition("/")
    return head if sep else ""


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


def scan(root: Path) -> Scan:
    """List supported source files under root (recursive, sorted), skipping hidden files; links out are refused."""
    if not root.exists():
        raise SourceError(f"sources folder {root} does not exist")
    if not root.is_dir():
        raise SourceError(f"sources path {root} is not a folder")
    base = root.resolve()
    found = Scan()
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fname in sorted(filenames):
            if fname.startswith(".") or Path(fname).suffix.lower() not in SUFFIXES:
                continue
            rel = (Path(dirpath) / fname).relative_to(base).as_posix()
            try:
                path = resolve_inside(base, rel)
            except SourceError:
                found.rejected[rel] = "links outside the sources folder (never read)"
                continue
            if path.is_file():
                found.names.append(rel)
    return found


def discover(root: Path) -> list[str]:
    """The supported source files under root that may be read (see scan)."""
    return scan(root).names


def file_hash(data: bytes) -> str:
    """SHA-256 hex digest of raw file bytes."""
    return hashlib.sha256(data).hexdigest()


def source_digest(root: Path, name: str) -> str:
    """SHA-256 of a source's bytes, read in blocks (any size); UNREADABLE when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(resolve_inside(root, name), "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except (OSError, SourceError):
        return UNREADABLE
    return digest.hexdigest()


def read_bytes(root: Path, name: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read a source's raw bytes after the path-safety checks and the size limit."""
    path = resolve_inside(root, name)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                f"{name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB size limit (KOREA_BOT_MAX_FILE_MB): "
                "split the file or raise the limit"
            )
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{name}: cannot read it ({exc.strerror or exc})") from None


def load_document(root: Path, name: str, data: bytes | None = None, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read one source into a Document with its text and metadata; SourceError when it has nothing quotable."""
    if data is None:
        data = read_bytes(root, name, max_bytes)
    kind = SUFFIXES.get(Path(name).suffix.lower())
    if kind is None:
        raise SourceError(f"{name}: unsupported file type (use .txt, .md, .html or .pdf)")
    if not data.strip():
        raise SourceError(f"{name}: the file is empty")
    found = READERS[kind](data, name)
    doc = Document(
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
    if not text_runs(doc):
        what = "navigation" if kind == "html" else "titles"
        raise SourceError(f"{name}: no quotable text, only {what}, headings or boilerplate (nothing to quote)")
    return doc


def _stem_title(name: str) -> str:
    """A readable title made from the file name."""
    return PurePosixPath(name).stem.replace("_", " ").replace("-", " ").strip() or name
