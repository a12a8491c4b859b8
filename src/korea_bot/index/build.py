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
from ..models import BuildReport, Chunk, Document
from .blocks import Block, estimate_tokens, pack, short_title, unique_sentences, window_vectors
from .dense import DenseIndex
from .keyword import KeywordIndex
from .layout import embed_text
from .load import LoadedIndex
from .plan import Plan, index_params, make_plan, previous, require_documents
from .store import build_lock, cleanup, read_skipped, write_skipped
from .write import write_version

log = logging.getLogger(__name__)
GROUP_BLOCKS = 4_096  # blocks per embedder call: the ONNX encoder holds 18 KiB of tokenizer output per 100-piece block
TITLE_WEIGHT = 1.0  # the title counts in a window vector as its word pieces would in a mean over "title\nwindow"

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
    """Chunk the new sources and embed each sentence once (in blocks); reuse the old rows of the others, in order."""
    parts: list[tuple[list[Chunk], np.ndarray | None, np.ndarray | None]] = []
    fresh: list[tuple[Document, list[Chunk], list[Block]]] = []
    for doc in plan.docs:
        ids = plan.reuse.get(doc.source)
        if ids is not None and old is not None:
            chunks = [replace(old.chunks[i], source=doc.source) for i in ids]
            rows = np.asarray(ids, dtype=np.int64)
            parts.append((chunks, np.asarray(old.vectors[rows], np.float32), old.sentence_vectors_of(rows)[0]))
        else:
            chunks = chunk_document(doc, chunking)
            fresh.append((doc, chunks, pack(doc.text, doc.title, unique_sentences(chunks))))
            parts.append((chunks, None, None))
    all_chunks = [c for chunks, _, _ in parts for c in chunks]
    if not all_chunks:
        raise EmptySources("the sources contain no quotable text (only headings or boilerplate?)")
    blocks = [b for _, _, doc_blocks in fresh for b in doc_blocks]
    pooled = _embed_all(embedder, blocks, sum(len(c) for _, c, _ in fresh), batch_size, progress)
    embedded = iter(_embedded_windows(fresh, pooled, embedder.dim))
    vecs, sents = [], []
    for _chunks, old_vecs, old_sents in parts:
        if old_vecs is None or old_sents is None:
            old_vecs, old_sents = next(embedded)
        vecs.append(old_vecs)
        sents.append(old_sents)
    return all_chunks, np.concatenate(vecs), np.concatenate(sents), sum(len(c) for _, c, _ in fresh)


def _embedded_windows(
    fresh: list[tuple[Document, list[Chunk], list[Block]]], pooled: np.ndarray, dim: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each fresh document's window vectors (assembled from its sentences) and sentence rows, passage after passage."""
    out, row = [], 0
    for doc, chunks, doc_blocks in fresh:
        sentence_vecs: dict[tuple[int, int], np.ndarray] = {}
        titles: dict[tuple[int, int], np.ndarray] = {}
        weights: dict[tuple[int, int], float] = {}
        for block in doc_blocks:
            title = pooled[row] if block.titled else None
            row += block.titled
            for s, cost in zip(block.sentences, block.costs, strict=True):
                sentence_vecs[s] = pooled[row]
                weights[s] = float(cost)
                if title is not None:
                    titles[s] = title
                row += 1
        title_weight = TITLE_WEIGHT * estimate_tokens(short_title(doc.title))
        windows = window_vectors(chunks, sentence_vecs, weights, titles, title_weight)
        per_passage = [sentence_vecs[s] for c in chunks for s in c.sentences]
        rows = np.stack(per_passage) if per_passage else np.zeros((0, dim))
        out.append((windows.reshape(len(chunks), dim), rows.astype(np.float32)))
    return out


def _embed_all(
    embedder: Embedder, blocks: list[Block], passages: int, batch_size: int, progress: Progress | None
) -> np.ndarray:
    """The pooled span vectors of every block, in block order; a progress bar (in passages) moves as batches finish.

    Blocks go to the embedder longest first, in groups of at most GROUP_BLOCKS (the tokens of a group are held
    at once). Handing it 512 blocks at a time in document order took 1.20x the time of one call with every block
    (padding inside each slice's batches, and a core idle at each slice's end; docs/BENCHMARKS.md).
    """
    if progress:
        progress(0, passages)
    if not blocks:
        return np.zeros((0, embedder.dim), np.float32)
    order = sorted(range(len(blocks)), key=lambda i: -sum(blocks[i].costs))
    size = -(-len(order) // -(-len(order) // GROUP_BLOCKS))  # equal groups
    counts = [len(b.spans) for b in blocks]
    firsts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out = np.zeros((int(firsts[-1]), embedder.dim), np.float32)
    finished = 0

    def done(count: int) -> None:
        nonlocal finished
        finished += count
        if progress:
            progress(passages * min(finished, len(blocks)) // len(blocks), passages)

    for start in range(0, len(order), size):
        chosen = order[start : start + size]
        spans = [blocks[i].spans for i in chosen]
        _, pooled = embedder.embed_passages([blocks[i].text for i in chosen], spans, batch_size=batch_size, done=done)
        pooled = np.asarray(pooled, dtype=np.float32)
        if pooled.shape != (sum(map(len, spans)), embedder.dim):
            raise ValueError(
                f"embedder {embedder.name} returned {pooled.shape} span vectors for {len(chosen)} blocks "
                f"of {sum(map(len, spans))} spans"
            )
        row = 0
        for i in chosen:
            out[firsts[i] : firsts[i + 1]] = pooled[row : row + counts[i]]
            row += counts[i]
    if progress and finished < len(blocks):  # an embedder that never reported
        progress(passages, passages)
    return out
