"""Writing an index version: every file into a staging folder, checksummed, then published atomically."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .keyword import KeywordIndex
from .models import Chunk, Document
from .sources import file_hash
from .store import checksums, cleanup, next_version, publish, staging, write_json
from .vectors import build_ann, describe

log = logging.getLogger("korea_bot.index")


def embed_text(title: str, chunk_text: str) -> str:
    """What is embedded and keyword-indexed for a passage: its document title, then its text."""
    return f"{title}\n{chunk_text}" if title else chunk_text


def write_version(
    index_dir: Path, docs: list[Document], chunks: list[Chunk], vectors: np.ndarray, parts: np.ndarray, params: dict
) -> str:
    """Write every file of a new version into a staging folder, then publish it atomically."""
    built_at = datetime.now(UTC)
    digest = file_hash("".join(d.sha256 for d in docs).encode() + json.dumps(params).encode())[:6]
    version = next_version(index_dir, digest, built_at)
    titles = {d.source: d.title for d in docs}
    with staging(index_dir, version) as staged:
        np.save(staged / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
        np.save(staged / "sentences.npy", np.ascontiguousarray(parts, dtype=np.float16), allow_pickle=False)
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
            "counts": {"documents": len(docs), "passages": len(chunks), "sentences": len(parts)},
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
