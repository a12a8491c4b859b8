"""Sources added or removed from Discord: safe names, the index's own reading rules, atomic no-clobber writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path, PurePosixPath

from ...errors import SourceError
from ...ingest.sources import SUFFIXES, load_document, resolve_inside, safe_relative

TYPES = ", ".join(sorted(SUFFIXES))


def upload_name(filename: str, collection: str = "") -> str:
    """The source name an upload is stored under (``collection/filename``); SourceError for an unsafe name."""
    if not filename or any(c in filename for c in "/\\\x00") or filename.startswith((".", "~")):
        raise SourceError(f"{filename!r} is not a plain file name (no folders, no hidden names)")
    folder = collection.strip().strip("/")
    parts = folder.split("/") if folder else []
    if any(not p or p.startswith((".", "~")) or "\\" in p for p in parts):
        raise SourceError(f"{collection!r} is not a collection name (a folder name, not hidden, no `..`)")
    if PurePosixPath(filename).suffix.lower() not in SUFFIXES:
        raise SourceError(f"{filename}: unsupported file type (use {TYPES})")
    return safe_relative("/".join([*parts, filename]))


def check_size(name: str, size: int, max_bytes: int) -> None:
    """Refuse a file over the index's size limit (KOREA_BOT_MAX_FILE_MB) before it is downloaded or written."""
    if size > max_bytes:
        raise SourceError(
            f"{name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB size limit (KOREA_BOT_MAX_FILE_MB)"
        )


def add_source(root: Path, name: str, data: bytes, replace: bool, max_bytes: int) -> bool:
    """Check ``data`` as the index would read it, then write it atomically as source ``name``; True if it replaced
    a file. Never writes outside ``root``, never over another file unless ``replace``."""
    try:
        return _add(root, name, data, replace, max_bytes)
    except OSError as exc:
        raise _unwritable(name, exc) from None


def _unwritable(name: str, exc: OSError) -> SourceError:
    """The failure to write or delete a source, e.g. on a read-only sources volume."""
    return SourceError(
        f"cannot change {name} in the sources folder ({exc.strerror or exc}); "
        "is it mounted read-only? (docs/CONTAINER.md, writable sources folder)"
    )


def _add(root: Path, name: str, data: bytes, replace: bool, max_bytes: int) -> bool:
    """add_source, which may raise OSError."""
    check_size(name, len(data), max_bytes)
    load_document(root, name, data, max_bytes)  # type, encoding, something quotable: the index's own rules
    if (root / name).is_symlink():  # replacing through a link would overwrite the file it points to
        raise SourceError(f"{name} is a link to another file: remove it first (/sources remove)")
    target = resolve_inside(root, name)
    existed = target.exists()
    if existed and not replace:
        raise SourceError(f"{name} already exists; use replace:true to overwrite it")
    if existed and not target.is_file():
        raise SourceError(f"{name} exists and is not a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    target = resolve_inside(root, name)  # the folders just made may not lead anywhere else either
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")  # hidden: never indexed
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the name was taken meanwhile: no clobbering
            except FileExistsError:
                raise SourceError(f"{name} already exists; use replace:true to overwrite it") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _sync_dir(target.parent)
    return existed


def remove_source(root: Path, name: str) -> None:
    """Delete source ``name`` (a supported file inside ``root``); SourceError when there is no such source."""
    rel = safe_relative(name.strip().strip("/"))
    if any(part.startswith(".") for part in PurePosixPath(rel).parts):
        raise SourceError(f"{name!r} is a hidden name, not a source")
    target = resolve_inside(root, rel)
    if PurePosixPath(rel).suffix.lower() not in SUFFIXES or not target.is_file():
        raise SourceError(f"there is no source {rel!r} (see /sources list for the names)")
    link = root / rel  # a link inside the folder is removed itself, never the file it points to
    try:
        (link if link.is_symlink() else target).unlink()
    except OSError as exc:
        raise _unwritable(rel, exc) from None
    _sync_dir(link.parent)


def _sync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
