"""Planning a build: which sources are kept, renamed, added, changed, removed or skipped, and when to rebuild fully."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ChunkSettings
from ..embedding import Embedder
from ..errors import EmptySources, IndexCorrupt, IndexMissing, IndexOutdated, SourceError
from ..formatting import skip_text
from ..ingest.sources import MAX_FILE_BYTES, Scan, load_document, read_bytes, scan, source_digest
from ..models import Document
from .layout import FORMAT
from .load import LoadedIndex, load_index

log = logging.getLogger(__name__)
SHOWN_SKIPS = 3  # how many skipped files an "all skipped" error names


def index_params(embedder: Embedder, chunking: ChunkSettings) -> dict:
    """The settings that, when changed, force a full rebuild."""
    return {"format": FORMAT, "model": embedder.name, "dim": embedder.dim, "chunking": chunking.as_dict()}


@dataclass
class Plan:
    """What a build does with each source: reuse old rows, chunk and embed it, or skip it (with the reason)."""

    docs: list[Document] = field(default_factory=list)
    reuse: dict[str, list[int]] = field(default_factory=dict)  # source -> rows of the old index
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)  # unchanged files re-embedded because the build is full
    kept: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: dict[str, dict] = field(default_factory=dict)  # source -> {"sha256", "reason", "max_bytes"}

    @property
    def unchanged(self) -> bool:
        """True when no source was added, changed, removed (or became unreadable), renamed or rebuilt."""
        return not (self.added or self.changed or self.removed or self.renamed or self.rebuilt)

    def skip_lines(self) -> tuple[tuple[str, str], ...]:
        """(source, reason) of every skipped source, for the build report."""
        return tuple((name, entry["reason"]) for name, entry in sorted(self.skipped.items()))


def skip_record(digest: str, reason: str, max_bytes: int) -> dict:
    """What a version remembers of a skipped file, so it is not retried until it (or the size limit) changes."""
    return {"sha256": digest, "reason": reason, "max_bytes": max_bytes}


def make_plan(
    sources_dir: Path,
    found: Scan,
    old: LoadedIndex | None,
    reuse: bool,
    *,
    skipped_before: dict[str, dict] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> Plan:
    """Sort each source into kept / renamed (reused rows), added / changed / rebuilt (to embed), or skipped.

    A file skipped before (`skipped_before`) with the same bytes under the same size limit is skipped again unread.
    """
    old_files: dict[str, dict] = {} if old is None else old.manifest["files"]
    plan = Plan()
    skipped_before = skipped_before or {}
    rows = old.rows_by_source() if old is not None and reuse else {}
    by_hash = {meta["sha256"]: src for src, meta in old_files.items() if src in rows}
    present = set(found.names)
    for name, reason in found.rejected.items():
        plan.skipped[name] = skip_record("", reason, max_bytes)
    for name in found.names:
        digest = source_digest(sources_dir, name)
        before = skipped_before.get(name)
        if before is not None and before == skip_record(digest, before["reason"], max_bytes):
            plan.skipped[name] = before  # the same bad file under the same limit: not retried
            continue
        prev = old_files.get(name)
        if old is not None and name in rows and prev["sha256"] == digest:
            plan.docs.append(old.documents[name])
            plan.reuse[name] = rows[name]
            plan.kept.append(name)
            continue
        try:
            doc = load_document(sources_dir, name, read_bytes(sources_dir, name, max_bytes), max_bytes)
        except SourceError as exc:
            plan.skipped[name] = skip_record(digest, str(exc), max_bytes)
            log.info("skipped %s", skip_text(name, str(exc)))
            continue
        plan.docs.append(doc)
        origin = by_hash.get(doc.sha256)
        if old is not None and origin is not None and old.documents[origin].title == doc.title:
            plan.reuse[name] = rows[origin]  # same bytes under another name: no re-embedding
            if origin not in present:
                plan.renamed.append((origin, name))
                continue
        if prev is None:
            plan.added.append(name)
        else:
            (plan.rebuilt if prev["sha256"] == doc.sha256 else plan.changed).append(name)
    moved = {a for a, _ in plan.renamed}
    indexed = {d.source for d in plan.docs}
    plan.removed = sorted(set(old_files) - indexed - moved)  # deleted, or now unreadable (then also skipped)
    return plan


def require_documents(plan: Plan) -> None:
    """Raise EmptySources, naming the first few skipped files and why, when no source is left to index."""
    if plan.docs:
        return
    lines = plan.skip_lines()
    shown = "; ".join(skip_text(name, reason) for name, reason in lines[:SHOWN_SKIPS])
    more = f"; and {len(lines) - SHOWN_SKIPS} more" if len(lines) > SHOWN_SKIPS else ""
    raise EmptySources(f"no quotable text in any source ({len(lines)} skipped): {shown}{more}")


def previous(index_dir: Path, params: dict) -> tuple[LoadedIndex | None, str]:
    """The live version to reuse from, and the reason a full rebuild is needed ('' if none)."""
    try:
        old = load_index(index_dir)
    except IndexMissing:
        return None, ""
    except IndexOutdated as exc:
        return None, f"index format changed from {exc.found!r} to {exc.wanted!r} since the last build"
    except IndexCorrupt as exc:
        log.warning("previous index unusable, rebuilding from scratch: %s", exc)
        return None, f"previous index unusable: {exc}"
    return old, settings_change(old.manifest.get("params", {}), params)


def settings_change(before: dict, params: dict) -> str:
    """What changed between the settings an index was built with and the current ones ('' if nothing)."""
    if before == params:
        return ""
    diff = [k for k in sorted(set(before) | set(params)) if before.get(k) != params.get(k)]
    what = "; ".join(f"{k} changed from {before.get(k)!r} to {params.get(k)!r}" for k in diff)
    return f"{what} since the last build"


def stale_reason(
    sources_dir: Path, manifest: dict, params: dict, skipped: dict[str, dict], max_bytes: int = MAX_FILE_BYTES
) -> str:
    """Why an index built with `manifest` no longer matches the sources and settings ('' when it is current).

    A file the last build skipped counts as current while its bytes and the size limit are those it was skipped
    under, so an unchanged bad file does not cause a rebuild on every question.
    """
    reason = settings_change(manifest.get("params", {}), params)
    if reason:
        return reason
    built = {name: meta["sha256"] for name, meta in manifest["files"].items()}
    skipped = {name: entry for name, entry in skipped.items() if name not in built}
    found = scan(sources_dir)
    if set(found.names) | set(found.rejected) != set(built) | set(skipped):
        return "sources were added or removed since the last build"
    for name in found.names:
        digest = source_digest(sources_dir, name)
        if name in built and digest != built[name]:
            return "sources changed since the last build"
        if name in skipped and skip_record(digest, skipped[name]["reason"], max_bytes) != skipped[name]:
            return f"{name}, skipped by the last build, changed since (or the size limit did)"
    return ""
