"""Writing an index version: every file into a staging folder, checksummed, then published atomically."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..ingest.sources import file_hash
from ..jsonl import write_jsonl
from ..models import Chunk, Document
from .dense import DenseIndex
from .keyword import KeywordIndex
from .layout import CHUNKS, DENSE, DOCUMENTS, KEYWORD, MANIFEST, SENTENCES, VECTORS
from .store import checksums, next_version, publish, staging, write_json

log = logging.getLogger(__name__)


def write_version(
    index_dir: Path,
    *,
    docs: list[Document],
    chunks: list[Chunk],
    vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    dense: DenseIndex,
    keyword: KeywordIndex,
    params: dict,
) -> str:
    """Write every file of a new version into a staging folder, then publish it atomically; the version name."""
    built_at = datetime.now(UTC)
    digest = file_hash("".join(d.sha256 for d in docs).encode() + json.dumps(params).encode())[:6]
    version = next_version(index_dir, digest, built_at)
    with staging(index_dir, version) as staged:
        np.save(staged / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
        np.save(staged / SENTENCES, np.ascontiguousarray(sentence_vectors, np.float16), allow_pickle=False)
        dense.save(staged / DENSE)
        write_jsonl(staged / CHUNKS, (c.to_row(i) for i, c in enumerate(chunks)))
        write_jsonl(staged / DOCUMENTS, (d.to_row() for d in docs))
        keyword.save(staged / KEYWORD)
        counts = Counter(c.source for c in chunks)
        manifest = {
            "version": version,
            "built_at": built_at.isoformat(timespec="seconds"),
            "params": params,
            "model": params["model"],
            "dim": params["dim"],
            "ann": dense.describe(),
            "counts": {"documents": len(docs), "passages": len(chunks), "sentences": len(sentence_vectors)},
            "files": {
                d.source: {"sha256": d.sha256, "title": d.title, "kind": d.kind, "passages": counts.get(d.source, 0)}
                for d in docs
            },
            "checksums": checksums(staged),
        }
        write_json(staged / MANIFEST, manifest)
        publish(index_dir, staged, version)
    log.info("published index version %s (%d passages)", version, len(chunks))
    return version
