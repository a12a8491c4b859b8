"""The on-disk index: build (incremental by content hash), atomic publish, verified load."""

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
from .keyword import KeywordIndex
from .models import BuildReport, Chunk, Document
from .sources import SourceError, discover, file_hash, load_document, read_bytes
from .store import (
    VERSIONS,
    IndexCorrupt,
    build_lock,
    checksums,
    cleanup,
    current_version,
    list_versions,
    publish,
    read_json,
    verify_checksums,
    write_json,
)
from .vectors import build_ann, load_ann, save_ann

log = logging.getLogger(__name__)
FORMAT = 1


class EmptySources(SourceError):
    """The sources folder has nothing to index."""


@dataclass
class LoadedIndex:
    """One whole, verified index version held in memory."""

    path: Path
    manifest: dict
    chunks: list[Chunk]
    documents: dict[str, dict]
    vectors: np.ndarray
    ann: object
    keyword: KeywordIndex
    notes: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        """The version name, e.g. 20261129T193000-1a2b3c."""
        return str(self.manifest["version"])


def embed_text(title: str, chunk_text: str) -> str:
    """What is embedded and keyword-indexed for a passage: its document title, then its text."""
    return f"{title}\n{chunk_text}" if title else chunk_text


def index_params(embedder: Embedder, chunking: ChunkSettings) -> dict:
    """The settings that, when changed, force a full rebuild."""
    return {"format": FORMAT, "model": embedder.name, "dim": embedder.dim, "chunking": chunking.as_dict()}


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
        names = discover(sources_dir)
        if not names:
            raise EmptySources(f"no .txt, .md, .html or .pdf files in {sources_dir}: add a source text first")
        old, reason = _previous(index_dir, params)
        if full and not reason:
            reason = "asked for (--full)"
        reuse_by_hash = {} if (full or old is None) else _by_hash(old)
        old_files = {} if old is None else old.manifest["files"]
        docs: list[Document] = []
        for name in names:
            data = read_bytes(sources_dir, name)
            digest = file_hash(data)
            if digest in reuse_by_hash and old_files.get(name, {}).get("sha256") == digest:
                docs.append(_stored_document(old, name, digest))
            else:
                docs.append(load_document(sources_dir, name, data))
        report = _assemble(index_dir, docs, old, reuse_by_hash, embedder, chunking, params, batch_size, progress)
        seconds = time.monotonic() - started
        return BuildReport(**{**report, "full": bool(reason) or old is None, "reason": reason, "seconds": seconds})


def _assemble(index_dir, docs, old, reuse, embedder, chunking, params, batch_size, progress) -> dict:  # type: ignore[no-untyped-def]
    """Chunk and embed what is new, reuse the rest, write and publish a version; return report fields."""
    old_files = {} if old is None else old.manifest["files"]
    old_hash_to_name = {v["sha256"]: k for k, v in old_files.items()}
    added, changed, kept, renamed = [], [], [], []
    all_chunks: list[Chunk] = []
    vec_parts: list[np.ndarray] = []
    to_embed: list[tuple[int, Document, list[Chunk]]] = []
    for doc in docs:
        prev = old_files.get(doc.source)
        if doc.sha256 in reuse:
            ids = reuse[doc.sha256]
            chunks = [_moved(old.chunks[i], doc.source) for i in ids]
            vec_parts.append(old.vectors[ids])
            if prev and prev["sha256"] == doc.sha256:
                kept.append(doc.source)
            else:
                renamed.append((old_hash_to_name[doc.sha256], doc.source))
        else:
            chunks = chunk_document(doc, chunking)
            to_embed.append((len(vec_parts), doc, chunks))
            vec_parts.append(np.zeros((0, embedder.dim), dtype=np.float32))
            (changed if prev else added).append(doc.source)
        all_chunks.extend(chunks)
    renamed_from = {a for a, _ in renamed}
    removed = sorted(set(old_files) - {d.source for d in docs} - renamed_from)
    if old is not None and not (added or changed or removed or renamed) and old.manifest["params"] == params:
        return {"version": old.version, "kept": tuple(kept), "passages": len(old.chunks)}
    texts = [embed_text(doc.title, c.text) for _, doc, chunks in to_embed for c in chunks]
    if progress:
        progress(0, len(texts))
    vecs = _embed_all(embedder, texts, batch_size, progress)
    offset = 0
    for slot, _doc, chunks in to_embed:
        vec_parts[slot] = vecs[offset : offset + len(chunks)]
        offset += len(chunks)
    vectors = np.concatenate(vec_parts) if vec_parts else np.zeros((0, embedder.dim), np.float32)
    if not all_chunks:
        raise EmptySources("the sources contain no quotable text (only headings or boilerplate?)")
    titles = {d.source: d.title for d in docs}
    version = _write_version(index_dir, docs, all_chunks, vectors, titles, params)
    return {
        "version": version,
        "added": tuple(added),
        "changed": tuple(changed),
        "removed": tuple(removed),
        "kept": tuple(kept),
        "renamed": tuple(renamed),
        "passages": len(all_chunks),
        "embedded": len(texts),
    }


def _embed_all(embedder, texts, batch_size, progress) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Embed in slices so a progress bar can advance."""
    parts = []
    step = max(batch_size * 8, 256)
    for i in range(0, len(texts), step):
        parts.append(embedder.embed(texts[i : i + step], batch_size=batch_size))
        if progress:
            progress(min(i + step, len(texts)), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)


def _write_version(index_dir, docs, chunks, vectors, titles, params) -> str:  # type: ignore[no-untyped-def]
    """Write every file of a new version into a staging folder, then publish it atomically."""
    built_at = datetime.now(UTC)
    digest = file_hash("".join(d.sha256 for d in docs).encode() + json.dumps(params).encode())[:6]
    version = f"{built_at:%Y%m%dT%H%M%S}-{digest}"
    while version in list_versions(index_dir):
        version += "x"
    staged = index_dir / VERSIONS / f".tmp-{version}"
    staged.mkdir(parents=True)
    np.save(staged / "vectors.npy", vectors, allow_pickle=False)
    ann_info = save_ann(build_ann(vectors), staged / "vectors.faiss")
    with open(staged / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for i, c in enumerate(chunks):
            row = {
                "id": i,
                "source": c.source,
                "start": c.start,
                "end": c.end,
                "paragraph": c.paragraph,
                "page": c.page,
                "sentences": [list(s) for s in c.sentences],
                "text": c.text,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for c in chunks:
        counts[c.source] = counts.get(c.source, 0) + 1
    with open(staged / "documents.jsonl", "w", encoding="utf-8") as fh:
        for d in docs:
            row = {
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
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    KeywordIndex.build([embed_text(titles[c.source], c.text) for c in chunks]).save(staged / "keyword")
    manifest = {
        "version": version,
        "built_at": built_at.isoformat(timespec="seconds"),
        "params": params,
        "model": params["model"],
        "dim": params["dim"],
        "ann": ann_info,
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


def _previous(index_dir: Path, params: dict) -> tuple[LoadedIndex | None, str]:
    """The live version to reuse from, and the reason a full rebuild is needed ('' if none)."""
    try:
        old = load_index(index_dir)
    except FileNotFoundError:
        return None, ""
    except IndexCorrupt as exc:
        log.warning("previous index unusable, rebuilding from scratch: %s", exc)
        return None, f"previous index unusable: {exc}"
    if old.manifest.get("params") != params:
        before = old.manifest.get("params", {})
        diff = [k for k in sorted(set(before) | set(params)) if before.get(k) != params.get(k)]
        return old, f"{', '.join(diff)} changed since the last build"
    return old, ""


def _by_hash(old: LoadedIndex) -> dict[str, list[int]]:
    """Map each file hash in the old index to the row numbers of its passages."""
    by_source: dict[str, list[int]] = {}
    for i, c in enumerate(old.chunks):
        by_source.setdefault(c.source, []).append(i)
    return {meta["sha256"]: by_source.get(src, []) for src, meta in old.manifest["files"].items()}


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


def load_index(index_dir: Path, verify: bool = True) -> LoadedIndex:
    """Load the live version, falling back to an older whole version (and saying so) if it is damaged."""
    live = current_version(index_dir)
    if live is None:
        raise FileNotFoundError(f"no index in {index_dir}: run `korea-bot index` first")
    candidates = [live] + [v for v in list_versions(index_dir) if v < live]
    first_error: IndexCorrupt | None = None
    for name in candidates:
        try:
            loaded = load_version(index_dir / VERSIONS / name, verify)
        except IndexCorrupt as exc:
            log.error("index version %s is damaged: %s", name, exc)
            first_error = first_error or exc
            continue
        if first_error is not None:
            note = f"live index {live} is damaged ({first_error}); serving older version {name}"
            log.warning(note)
            loaded.notes.append(note)
        return loaded
    assert first_error is not None
    raise first_error


def load_version(path: Path, verify: bool = True) -> LoadedIndex:
    """Load and check one version folder; raise IndexCorrupt naming the bad file."""
    manifest = read_json(path / "manifest.json")
    for key in ("version", "params", "files", "counts", "checksums", "dim"):
        if key not in manifest:
            raise IndexCorrupt(f"{path / 'manifest.json'}: missing field {key!r}")
    if verify:
        verify_checksums(path, manifest["checksums"])
    chunks = [_chunk_from_row(row) for row in _read_jsonl(path / "chunks.jsonl")]
    documents = {row["source"]: row for row in _read_jsonl(path / "documents.jsonl")}
    try:
        vectors = np.load(path / "vectors.npy", allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path / 'vectors.npy'}: unreadable ({exc})") from None
    n, dim = manifest["counts"]["passages"], manifest["dim"]
    if vectors.ndim != 2 or vectors.shape != (n, dim) or len(chunks) != n:
        raise IndexCorrupt(
            f"{path}: count/dimension mismatch: manifest {n}x{dim}, vectors {tuple(vectors.shape)}, "
            f"chunks.jsonl {len(chunks)} rows"
        )
    ann = load_ann(path / "vectors.faiss", n, dim)
    keyword = KeywordIndex.load(path / "keyword")
    return LoadedIndex(path, manifest, chunks, documents, vectors, ann, keyword)


def _read_jsonl(path: Path) -> list[dict]:
    """Read a JSONL file strictly (UTF-8, every line an object)."""
    rows = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
                rows.append(row)
    except FileNotFoundError:
        raise IndexCorrupt(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise IndexCorrupt(f"{path}: unreadable ({exc})") from None
    return rows


def _chunk_from_row(row: dict) -> Chunk:
    """A Chunk from its JSONL row."""
    sentences = tuple((int(a), int(b)) for a, b in row.get("sentences", ()))
    return Chunk(row["source"], row["start"], row["end"], row["paragraph"], row["text"], sentences, row.get("page"))
