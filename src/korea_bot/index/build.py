"""Building an index version: incremental by content hash, written to a staging folder, published atomically."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunking import ChunkSettings, chunk_document
from .embedding import Embedder
from .index_load import FORMAT, LoadedIndex, load_index, part_rows
from .index_write import embed_text, write_version
from .models import BuildReport, Chunk, Document
from .sources import SourceError, discover, file_hash, load_document, read_bytes
from .store import IndexCorrupt, IndexOutdated, build_lock, cleanup

log = logging.getLogger("korea_bot.index")


class EmptySources(SourceError):
    """The sources folder has nothing to index."""


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


def build_index(
    sources_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    chunking: ChunkSettings | None = None,
    full: bool = False,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Bring the index up to date with the sources; publish a new version only when something changed."""
    started = time.monotonic()
    chunking = chunking or ChunkSettings()
    params = index_params(embedder, chunking)
    with build_lock(index_dir):
        cleanup(index_dir)  # leftovers of a build that was killed
        names = discover(sources_dir)
        if not names:
            raise EmptySources(f"no .txt, .md, .html or .pdf files in {sources_dir}: add a source text first")
        old, reason = _previous(index_dir, params)
        if full and not reason:
            reason = "asked for (--full)"
        plan = _plan(sources_dir, names, old, reuse=old is not None and not reason)
        unchanged = not (plan.added or plan.changed or plan.removed or plan.renamed)
        if old is not None and not reason and unchanged and not old.notes:
            seconds = time.monotonic() - started
            return BuildReport(old.version, kept=tuple(plan.kept), passages=len(old.chunks), seconds=seconds)
        if old is not None and old.notes:
            log.warning("republishing because %s", old.notes[0])
        chunks, vectors, parts, embedded = _assemble(plan, old, embedder, chunking, batch_size, progress)
        version = write_version(index_dir, plan.docs, chunks, vectors, parts, params)
        return BuildReport(
            version,
            tuple(plan.added),
            tuple(plan.changed),
            tuple(plan.removed),
            tuple(plan.kept),
            tuple(plan.renamed),
            full=bool(reason) or old is None,
            reason=reason,
            passages=len(chunks),
            embedded=embedded,
            seconds=time.monotonic() - started,
        )


def _plan(sources_dir: Path, names: list[str], old: LoadedIndex | None, reuse: bool) -> Plan:
    """Sort each source into kept / renamed (reused rows) or added / changed (to embed); list removed ones."""
    plan = Plan()
    old_files: dict[str, dict] = {} if old is None else old.manifest["files"]
    rows = _rows_by_source(old) if old is not None and reuse else {}
    by_hash = {meta["sha256"]: src for src, meta in old_files.items() if src in rows}
    present = set(names)
    for name in names:
        data = read_bytes(sources_dir, name)
        digest = file_hash(data)
        prev = old_files.get(name)
        if old is not None and name in rows and prev["sha256"] == digest:
            plan.docs.append(_stored_document(old, name, digest))
            plan.reuse[name] = rows[name]
            plan.kept.append(name)
            continue
        doc = load_document(sources_dir, name, data)
        plan.docs.append(doc)
        origin = by_hash.get(digest)
        if old is not None and origin is not None and old.documents[origin].get("title") == doc.title:
            plan.reuse[name] = rows[origin]  # same bytes under another name: no re-embedding
            if origin not in present:
                plan.renamed.append((origin, name))
                continue
        (plan.changed if prev else plan.added).append(name)
    moved = {a for a, _ in plan.renamed}
    plan.removed = sorted(set(old_files) - present - moved)
    return plan


def _assemble(plan, old, embedder, chunking, batch_size, progress):  # type: ignore[no-untyped-def]
    """Chunk and embed the new sources, reuse the rows (and sentence vectors) of the others, in source order."""
    blocks: list[tuple[list[Chunk], np.ndarray | None, np.ndarray | None]] = []
    texts: list[str] = []
    spans: list[list[tuple[int, int]]] = []
    for doc in plan.docs:
        ids = plan.reuse.get(doc.source)
        if ids is not None:
            chunks = [_moved(old.chunks[i], doc.source) for i in ids]
            flat, _ = part_rows(old.part_start, np.asarray(ids, dtype=np.int64))
            blocks.append((chunks, np.asarray(old.vectors[ids], np.float32), np.asarray(old.parts[flat], np.float32)))
        else:
            chunks = chunk_document(doc, chunking)
            for c in chunks:
                texts.append(embed_text(doc.title, c.text))
                base = len(texts[-1]) - len(c.text)
                spans.append([(base + s - c.start, base + e - c.start) for s, e in c.parts])
            blocks.append((chunks, None, None))
    all_chunks = [c for chunks, _, _ in blocks for c in chunks]
    if not all_chunks:
        raise EmptySources("the sources contain no quotable text (only headings or boilerplate?)")
    fresh, fresh_parts = _embed_all(embedder, texts, spans, batch_size, progress)
    if fresh.shape != (len(texts), embedder.dim) or len(fresh_parts) != sum(map(len, spans)):
        raise ValueError(
            f"embedder {embedder.name} returned {fresh.shape} passage and {len(fresh_parts)} sentence vectors "
            f"for {len(texts)} passages of {sum(map(len, spans))} sentences"
        )
    vecs, parts, row, part = [], [], 0, 0
    for chunks, old_vecs, old_parts in blocks:
        if old_vecs is None:
            count = sum(len(c.parts) for c in chunks)
            old_vecs, old_parts = fresh[row : row + len(chunks)], fresh_parts[part : part + count]
            row, part = row + len(chunks), part + count
        vecs.append(old_vecs)
        parts.append(old_parts)
    return all_chunks, np.concatenate(vecs), np.concatenate(parts), len(texts)


def _embed_all(embedder, texts, spans, batch_size, progress) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Embed passages and their sentences in slices so a progress bar can advance."""
    if progress:
        progress(0, len(texts))
    vecs, parts = [np.zeros((0, embedder.dim), np.float32)], [np.zeros((0, embedder.dim), np.float32)]
    step = max(batch_size * 8, 256)
    for i in range(0, len(texts), step):
        v, p = embedder.embed_passages(texts[i : i + step], spans[i : i + step], batch_size=batch_size)
        vecs.append(np.asarray(v, dtype=np.float32))
        parts.append(np.asarray(p, dtype=np.float32))
        if progress:
            progress(min(i + step, len(texts)), len(texts))
    return np.concatenate(vecs), np.concatenate(parts)


def _previous(index_dir: Path, params: dict) -> tuple[LoadedIndex | None, str]:
    """The live version to reuse from, and the reason a full rebuild is needed ('' if none)."""
    try:
        old = load_index(index_dir)
    except FileNotFoundError:
        return None, ""
    except IndexOutdated as exc:
        return None, f"index format changed from {exc.found!r} to {exc.wanted!r} since the last build"
    except IndexCorrupt as exc:
        log.warning("previous index unusable, rebuilding from scratch: %s", exc)
        return None, f"previous index unusable: {exc}"
    before = old.manifest.get("params", {})
    if before != params:
        diff = [k for k in sorted(set(before) | set(params)) if before.get(k) != params.get(k)]
        what = "; ".join(f"{k} changed from {before.get(k)!r} to {params.get(k)!r}" for k in diff)
        return old, f"{what} since the last build"
    return old, ""


def _rows_by_source(old: LoadedIndex) -> dict[str, list[int]]:
    """Row numbers of each source's passages in the old index."""
    rows: dict[str, list[int]] = {src: [] for src in old.manifest["files"]}
    for i, c in enumerate(old.chunks):
        rows.setdefault(c.source, []).append(i)
    return rows


def _moved(chunk: Chunk, source: str) -> Chunk:
    """The same chunk under a (possibly new) source name."""
    if chunk.source == source:
        return chunk
    return Chunk(source, chunk.start, chunk.end, chunk.paragraph, chunk.text, chunk.sentences, chunk.page)


def _stored_document(old: LoadedIndex, name: str, digest: str) -> Document:
    """Rebuild a Document from the old index's record instead of re-reading and re-extracting the file."""
    row = old.documents[name]
    return Document(
        name,
        row["text"],
        row["title"],
        row["kind"],
        digest,
        row.get("url"),
        row.get("author"),
        row.get("date"),
        tuple(row.get("page_starts") or ()),
    )
