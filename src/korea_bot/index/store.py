"""On-disk plumbing for index versions: fsync'd writes, checksums, the CURRENT pointer and the build lock."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ..errors import BuildLocked, IndexCorrupt, IndexReadOnly

CURRENT = "CURRENT"
VERSIONS = "versions"
LOCK = ".build.lock"
SKIPPED = "skipped.json"  # the files the last build could not index: {source: {sha256, reason, max_bytes}}
STAGING = ".tmp-"
TRASH = ".del-"
_NAME = re.compile(r"^(\d+)-\d{8}T\d{6}-")


def fsync_dir(path: Path) -> None:
    """Flush a directory entry so renames inside it survive a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file and folder under path to disk."""
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(Path(dirpath) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(folder: Path, skip: str = "manifest.json") -> dict[str, str]:
    """Checksums of every file under folder (relative names), except the manifest itself."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel != skip:
            out[rel] = sha256_file(path)
    return out


def verify_checksums(folder: Path, expected: dict[str, str]) -> None:
    """Raise IndexCorrupt naming the first file that is missing or whose checksum differs."""
    for rel, digest in expected.items():
        path = folder / rel
        if not path.is_file():
            raise IndexCorrupt(f"{path}: missing from the index")
        if sha256_file(path) != digest:
            raise IndexCorrupt(f"{path}: checksum mismatch (truncated or modified)")


def write_json(path: Path, data: object) -> None:
    """Write JSON as UTF-8."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")


def read_json(path: Path) -> dict:
    """Read a JSON object, raising IndexCorrupt with the file name on any problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise IndexCorrupt(f"{path}: not a JSON object")
    return data


def read_skipped(index_dir: Path) -> dict[str, dict]:
    """The skipped files the last build recorded ({} when none, or when the record is unreadable: then retried)."""
    try:
        data = json.loads((index_dir / SKIPPED).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and {"sha256", "reason"} <= set(v)}


def write_skipped(index_dir: Path, skipped: dict[str, dict]) -> None:
    """Under the build lock: record the skipped files atomically (a side file, so no version is republished)."""
    tmp = index_dir / f".{SKIPPED}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(skipped, ensure_ascii=False, indent=1, sort_keys=True))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / SKIPPED)
    fsync_dir(index_dir)


def current_version(index_dir: Path) -> str | None:
    """The version the CURRENT pointer names, or None when there is no index yet."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{index_dir / CURRENT}: unreadable ({exc})") from None
    if not name or "/" in name or name.startswith("."):
        raise IndexCorrupt(f"{index_dir / CURRENT}: does not name a version")
    return name


def version_key(name: str) -> tuple[int, str]:
    """Sort key of a version name: its sequence number first (0 for old-style names), then the name."""
    match = _NAME.match(name)
    return (int(match.group(1)) if match else 0, name)


def next_version(index_dir: Path, digest: str, now: datetime | None = None) -> str:
    """A fresh version name: a sequence number above every existing one, the UTC time, a content digest."""
    folder = index_dir / VERSIONS
    names = [p.name.removeprefix(STAGING).removeprefix(TRASH) for p in folder.iterdir()] if folder.is_dir() else []
    with contextlib.suppress(IndexCorrupt):
        names.append(current_version(index_dir) or "")
    seq = max((version_key(n)[0] for n in names), default=0) + 1
    return f"{seq:06d}-{(now or datetime.now(UTC)):%Y%m%dT%H%M%S}-{digest}"


@contextlib.contextmanager
def staging(index_dir: Path, version: str) -> Iterator[Path]:
    """A fresh staging folder for a version; removed again if writing it fails (a full disk is named)."""
    staged = index_dir / VERSIONS / f"{STAGING}{version}"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    try:
        yield staged
    except BaseException as exc:
        shutil.rmtree(staged, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(staged)) from exc
        raise


def publish(index_dir: Path, staged: Path, version: str) -> Path:
    """Move a fully written staging folder into place and switch CURRENT to it atomically."""
    fsync_tree(staged)
    final = index_dir / VERSIONS / version
    os.replace(staged, final)
    fsync_dir(final.parent)
    tmp = index_dir / f".{CURRENT}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(version + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, index_dir / CURRENT)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if current_version_or_none(index_dir) != version:
            _remove(final)
        raise
    fsync_dir(index_dir)
    return final


def current_version_or_none(index_dir: Path) -> str | None:
    """Like current_version, but None when CURRENT is missing or unreadable."""
    try:
        return current_version(index_dir)
    except IndexCorrupt:
        return None


def list_versions(index_dir: Path) -> list[str]:
    """Published version names, newest first."""
    folder = index_dir / VERSIONS
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), key=version_key)[
        ::-1
    ]


def _remove(path: Path) -> None:
    """Delete a version folder crash-safely: rename it out of the way first, then delete it."""
    trash = path.with_name(f"{TRASH}{path.name}")
    try:
        os.replace(path, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def cleanup(index_dir: Path, keep: int = 2) -> None:
    """Under the build lock: drop crash leftovers and all but the live version and the `keep - 1` before it."""
    folder = index_dir / VERSIONS
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name.startswith((STAGING, TRASH)):
            shutil.rmtree(path, ignore_errors=True)
    live = current_version_or_none(index_dir)
    names = list_versions(index_dir)
    if live is None or live not in names:
        return  # without a readable live version, deleting anything could make things worse
    for name in names:
        if version_key(name) > version_key(live):
            _remove(folder / name)  # published but never switched to: a build died between the two renames
    older = [n for n in names if version_key(n) < version_key(live)]
    for name in older[max(keep - 1, 0) :]:
        _remove(folder / name)
    fsync_dir(folder)


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on the index folder for the duration of a build."""
    path = index_dir / LOCK
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        raise IndexReadOnly(
            f"cannot write to the index folder {index_dir} ({os.strerror(exc.errno)}): make it writable "
            "(a read-write volume, or owned by the bot's user), or set KOREA_BOT_INDEX_DIR / --index to a writable folder"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                raise BuildLocked(
                    f"another build of {index_dir} is running (pid {holder}); wait for it to finish"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
