"""Building an index version: incremental by content hash, written to a staging folder, published atomically."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .chunking import ChunkSettings, chunk_document
from .embedding import Embedder
from .index_load import LoadedIndex, load_index
from .keyword import KeywordIndex
from .models import BuildReport, Chunk, Document
from .sources import SourceError, discover, file_hash, load_document, read_bytes
from .store import IndexCorrupt, build_lock, checksums, cleanup, next_version, publish, staging, write_json
from .vectors import build_ann, describe

log = logging.getLogger("korea_bot.index")
FORMAT = 1


class EmptySources(SourceError):
    """The sources folder has nothing to index."""


def embed_text(title: str, chunk_text: str) -> str:
    """What is embedded and keyword-indexed for a passage: its document title, then its text."""
    return f"{title}\n{chunk_text}" if title else chunk_text


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
        chunks, vectors, embedded = _assemble(plan, old, embedder, chunking, batch_size, progress)
        version = _write_version(index_dir, plan.docs, chunks, vectors, params)
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


def _assemble(plan, old, embedder, chunking, batch_size, progress) -> tuple[list[Chunk], np.ndarray, int]:  # type: ignore[no-untyped-def]
    """Chunk and embed the new sources, reuse the rows of the others, in source order."""
    parts: list[tuple[list[Chunk], np.ndarray | None]] = []
    texts: list[str] = []
    for doc in plan.docs:
        ids = plan.reuse.get(doc.source)
        if ids is not None:
            chunks = [_moved(old.chunks[i], doc.source) for i in ids]
            parts.append((chunks, np.asarray(old.vectors[ids], dtype=np.float32)))
        else:
            chunks = chunk_document(doc, chunking)
            texts.extend(embed_text(doc.title, c.text) for c in chunks)
            parts.append((chunks, None))
    all_chunks = [c for chunks, _ in parts for c in chunks]
    if not all_chunks:
        raise EmptySources("the sources contain no quotable text (only headings or boilerplate?)")
    if progress:
        progress(0, len(texts))
    fresh = _embed_all(embedder, texts, batch_size, progress)
    if fresh.shape != (len(texts), embedder.dim):
        raise ValueError(f"embedder {embedder.name} returned {fresh.shape} vectors for {len(texts)} texts")
    blocks, offset = [], 0
    for chunks, vecs in parts:
        if vecs is None:
            vecs, offset = fresh[offset : offset + len(chunks)], offset + len(chunks)
        blocks.append(vecs)
    vectors = np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
    return all_chunks, vectors, len(texts)


def _embed_all(embedder, texts, batch_size, progress) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Embed in slices so a progress bar can advance."""
    parts = []
    step = max(batch_size * 8, 256)
    for i in range(0, len(texts), step):
        parts.append(np.asarray(embedder.embed(texts[i : i + step], batch_size=batch_size), dtype=np.float32))
        if progress:
            progress(min(i + step, len(texts)), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)


def _write_version(
    index_dir: Path, docs: list[Document], chunks: list[Chunk], vectors: np.ndarray, params: dict
) -> str:
    """Write every file of a new version into a staging folder, then publish it atomically."""
    built_at = datetime.now(UTC)
    digest = file_hash("".join(d.sha256 for d in docs).encode() + json.dumps(params).encode())[:6]
    version = next_version(index_dir, digest, built_at)
    titles = {d.source: d.title for d in docs}
    with staging(index_dir, version) as staged:
        np.save(staged / "vectors.npy", vectors, allow_pickle=False)
        ann = build_ann(vectors)
        _write_bytes(staged / "vectors.faiss", _serialize(ann))
        _write_jsonl(staged / "chunks.jsonl", (_chunk_row(i, c) for i, c in enumerate(chunks)))
        _write_jsonl(staged / "documents.jsonl", (_document_row(d) for d in docs))
        KeywordIndex.build([embed_text(titles[c.source], c.text) for c in chunks]).save(staged / "keyword")
        counts: dict[str, int] = {}
        for c in chunks:
            counts[c.source] = counts.get(c.source, 0) + 1
        manifest = {
            "version": version,
            "built_at": built_at.isoformat(timespec="seconds"),
            "params": params,
            "model": params["model"],
            "dim": params["dim"],
            "ann": describe(ann),
            "counts": {"documents": len(docs), "passages": len(chunks)},
            "files": {
                d.source: {"sha256": d.sha256, "title": d.title, "kind": d.kind, "passages": counts.get(d.source, 0)}
                for d in docs
            },
            "checksums": checksums(staged),
        }
        write_json(staged / "manifest.json", manifest)
        publish(index_dir, staged, version)
    cleanup(index_dir)
    log.info("published index version %s (%d passages)", version, len(chunks))
    return version


def _serialize(ann) -> bytes:  # type: ignore[no-untyped-def]
    """The FAISS index as bytes (written by Python, so a full disk raises a real OSError)."""
    import faiss

    return faiss.serialize_index(ann).tobytes()


def _write_bytes(path: Path, data: bytes) -> None:
    """Write bytes to a new file."""
    with open(path, "wb") as fh:
        fh.write(data)


def _write_jsonl(path: Path, rows) -> None:  # type: ignore[no-untyped-def]
    """Write one JSON object per line, UTF-8."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _chunk_row(i: int, c: Chunk) -> dict:
    """The chunks.jsonl row of a passage."""
    return {
        "id": i,
        "source": c.source,
        "start": c.start,
        "end": c.end,
        "paragraph": c.paragraph,
        "page": c.page,
        "sentences": [list(s) for s in c.sentences],
        "text": c.text,
    }


def _document_row(d: Document) -> dict:
    """The documents.jsonl row of a source."""
    return {
        "source": d.source,
        "title": d.title,
        "url": d.url,
        "author": d.author,
        "date": d.date,
        "kind": d.kind,
        "sha256": d.sha256,
        "page_starts": list(d.page_starts),
        "text": d.text,
    }


def _previous(index_dir: Path, params: dict) -> tuple[LoadedIndex | None, str]:
    """The live version to reuse from, and the reason a full rebuild is needed ('' if none)."""
    try:
        old = load_index(index_dir)
    except FileNotFoundError:
        return None, ""
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
