"""Building an index version: plan by content hash, embed only new text, build the dense and keyword indexes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..config import ChunkSettings
from ..embedding import Embedder
from ..errors import EmptySources
from ..ingest.chunking import chunk_document
from ..ingest.sources import MAX_FILE_BYTES, scan
from ..models import BuildReport, Chunk
from .dense import DenseIndex
from .keyword import KeywordIndex
from .layout import embed_text
from .load import LoadedIndex
from .plan import Plan, index_params, make_plan, previous, require_documents
from .store import build_lock, cleanup, read_skipped, write_skipped
from .write import write_version

log = logging.getLogger(__name__)
PROGRESS_BATCHES = 8  # embed this many batches between progress updates (fewer calls, a bar that still moves)
MIN_PROGRESS_STEP = 256

Progress = Callable[[int, int], None]


def build_index(
    sources_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    chunking: ChunkSettings | None = None,
    full: bool = False,
    batch_size: int = 64,
    progress: Progress | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> BuildReport:
    """Bring the index up to date with the sources; publish a new version only when something changed.

    Files that cannot be indexed are skipped, and recorded with their reason beside the versions (store.SKIPPED).
    """
    started = time.monotonic()
    chunking = chunking or ChunkSettings()
    params = index_params(embedder, chunking)
    with build_lock(index_dir):
        cleanup(index_dir)  # leftovers of a build that was killed
        found = scan(sources_dir)
        if not found.names and not found.rejected:
            raise EmptySources(f"no .txt, .md, .html or .pdf files in {sources_dir}: add a source text first")
        old, reason = previous(index_dir, params)
        if full and not reason:
            reason = "asked for (--full)"
        before = read_skipped(index_dir)
        plan = make_plan(
            sources_dir, found, old, old is not None and not reason, skipped_before=before, max_bytes=max_file_bytes
        )
        if plan.skipped != before:
            write_skipped(index_dir, plan.skipped)
        require_documents(plan)
        if old is not None and not reason and plan.unchanged and not old.notes:
            seconds = time.monotonic() - started
            return BuildReport(
                version=old.version,
                kept=tuple(plan.kept),
                passages=len(old.chunks),
                seconds=seconds,
                skipped=plan.skip_lines(),
            )
        if old is not None and old.notes:
            log.warning("republishing because %s", old.notes[0])
        chunks, vectors, sentence_vectors, embedded = _assemble(plan, old, embedder, chunking, batch_size, progress)
        titles = {d.source: d.title for d in plan.docs}
        version = write_version(
            index_dir,
            docs=plan.docs,
            chunks=chunks,
            vectors=vectors,
            sentence_vectors=sentence_vectors,
            dense=DenseIndex.build(vectors),
            keyword=KeywordIndex.build([embed_text(titles[c.source], c.text) for c in chunks]),
            params=params,
        )
        cleanup(index_dir)  # the versions the new one made obsolete
        return BuildReport(
            version=version,
            added=tuple(plan.added),
            changed=tuple(plan.changed),
            removed=tuple(plan.removed),
            kept=tuple(plan.kept),
            renamed=tuple(plan.renamed),
            full=bool(reason) or old is None,
            reason=reason,
            passages=len(chunks),
            embedded=embedded,
            seconds=time.monotonic() - started,
            rebuilt=tuple(plan.rebuilt),
            skipped=plan.skip_lines(),
        )


def _assemble(
    plan: Plan,
    old: LoadedIndex | None,
    embedder: Embedder,
    chunking: ChunkSettings,
    batch_size: int,
    progress: Progress | None,
) -> tuple[list[Chunk], np.ndarray, np.ndarray, int]:
    """Chunk and embed the new sources, reuse the rows (and sentence vectors) of the others, in source order."""
    blocks: list[tuple[list[Chunk], np.ndarray | None, np.ndarray | None]] = []
    texts: list[str] = []
    spans: list[list[tuple[int, int]]] = []
    for doc in plan.docs:
        ids = plan.reuse.get(doc.source)
        if ids is not None and old is not None:
            chunks = [replace(old.chunks[i], source=doc.source) for i in ids]
            rows = np.asarray(ids, dtype=np.int64)
            blocks.append((chunks, np.asarray(old.vectors[rows], np.float32), old.sentence_vectors_of(rows)[0]))
        else:
            chunks = chunk_document(doc, chunking)
            for c in chunks:
                texts.append(embed_text(doc.title, c.text))
                base = len(texts[-1]) - len(c.text)
                spans.append([(base + s - c.start, base + e - c.start) for s, e in c.sentences])
            blocks.append((chunks, None, None))
    all_chunks = [c for chunks, _, _ in blocks for c in chunks]
    if not all_chunks:
        raise EmptySources("the sources contain no quotable text (only headings or boilerplate?)")
    fresh, fresh_sentences = _embed_all(embedder, texts, spans, batch_size, progress)
    if fresh.shape != (len(texts), embedder.dim) or len(fresh_sentences) != sum(map(len, spans)):
        raise ValueError(
            f"embedder {embedder.name} returned {fresh.shape} passage and {len(fresh_sentences)} sentence vectors "
            f"for {len(texts)} passages of {sum(map(len, spans))} sentences"
        )
    vecs, sents, row, sent = [], [], 0, 0
    for chunks, old_vecs, old_sents in blocks:
        if old_vecs is None or old_sents is None:
            count = sum(len(c.sentences) for c in chunks)
            old_vecs, old_sents = fresh[row : row + len(chunks)], fresh_sentences[sent : sent + count]
            row, sent = row + len(chunks), sent + count
        vecs.append(old_vecs)
        sents.append(old_sents)
    return all_chunks, np.concatenate(vecs), np.concatenate(sents), len(texts)


def _embed_all(
    embedder: Embedder, texts: list[str], spans: list[list[tuple[int, int]]], batch_size: int, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray]:
    """Embed passages and their sentences in slices so a progress bar can advance."""
    if progress:
        progress(0, len(texts))
    vecs, sents = [np.zeros((0, embedder.dim), np.float32)], [np.zeros((0, embedder.dim), np.float32)]
    step = max(batch_size * PROGRESS_BATCHES, MIN_PROGRESS_STEP)
    for i in range(0, len(texts), step):
        v, s = embedder.embed_passages(texts[i : i + step], spans[i : i + step], batch_size=batch_size)
        vecs.append(np.asarray(v, dtype=np.float32))
        sents.append(np.asarray(s, dtype=np.float32))
        if progress:
            progress(min(i + step, len(texts)), len(texts))
    return np.concatenate(vecs), np.concatenate(sents)
