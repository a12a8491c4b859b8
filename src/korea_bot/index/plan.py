"""Planning a build: which sources are kept, renamed, added, changed or removed, and when a full rebuild is due."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ChunkSettings
from ..embedding import Embedder
from ..errors import IndexCorrupt, IndexMissing, IndexOutdated
from ..ingest.sources import discover, file_hash, load_document, read_bytes
from ..models import Document
from .layout import FORMAT
from .load import LoadedIndex, load_index

log = logging.getLogger(__name__)


def index_params(embedder: Embedder, chunking: ChunkSettings) -> dict:
    """The settings that, when changed, force a full rebuild."""
    return {"format": FORMAT, "model": embedder.name, "dim": embedder.dim, "chunking": chunking.as_dict()}


@dataclass
class Plan:
    """What a build does with each source: reuse old rows, or chunk and embed it."""

    docs: list[Document] = field(default_factory=list)
    reuse: dict[str, list[int]] = field(default_factory=dict)  # source -> rows of the old index
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        """True when no source was added, changed, removed or renamed."""
        return not (self.added or self.changed or self.removed or self.renamed)


def make_plan(sources_dir: Path, names: list[str], old: LoadedIndex | None, reuse: bool) -> Plan:
    """Sort each source into kept / renamed (reused rows) or added / changed (to embed); list removed ones."""
    plan = Plan()
    old_files: dict[str, dict] = {} if old is None else old.manifest["files"]
    rows = old.rows_by_source() if old is not None and reuse else {}
    by_hash = {meta["sha256"]: src for src, meta in old_files.items() if src in rows}
    present = set(names)
    for name in names:
        data = read_bytes(sources_dir, name)
        digest = file_hash(data)
        prev = old_files.get(name)
        if old is not None and name in rows and prev["sha256"] == digest:
            plan.docs.append(old.documents[name])
            plan.reuse[name] = rows[name]
            plan.kept.append(name)
            continue
        doc = load_document(sources_dir, name, data)
        plan.docs.append(doc)
        origin = by_hash.get(digest)
        if old is not None and origin is not None and old.documents[origin].title == doc.title:
            plan.reuse[name] = rows[origin]  # same bytes under another name: no re-embedding
            if origin not in present:
                plan.renamed.append((origin, name))
                continue
        (plan.changed if prev else plan.added).append(name)
    moved = {a for a, _ in plan.renamed}
    plan.removed = sorted(set(old_files) - present - moved)
    return plan


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


def stale_reason(sources_dir: Path, manifest: dict, params: dict) -> str:
    """Why an index built with `manifest` no longer matches the sources and settings ('' when it is current)."""
    reason = settings_change(manifest.get("params", {}), params)
    if reason:
        return reason
    built = {name: meta["sha256"] for name, meta in manifest["files"].items()}
    names = discover(sources_dir)
    if set(names) != set(built):
        return "sources were added or removed since the last build"
    if any(file_hash(read_bytes(sources_dir, name)) != built[name] for name in names):
        return "sources changed since the last build"
    return ""
