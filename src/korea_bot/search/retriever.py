"""Hybrid retrieval: dense + BM25 fused, near-duplicates collapsed, abstain threshold, best-sentence highlight."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .index import LoadedIndex
from .index_load import part_rows
from .models import Chunk, Passage
from .vectors import search as ann_search

_TOKEN = re.compile(r"\w+", re.U)


@dataclass(frozen=True)
class RetrievalSettings:
    """Knobs of the ranking; the defaults are tuned on ../shared/eval (see docs/EVALUATION.md)."""

    dense_weight: float = 0.5
    candidates: int = 100
    min_score: float = 0.25
    dedupe_jaccard: float = 0.7
    support_depth: int = 3


@dataclass(frozen=True)
class Hit:
    """A ranked candidate before it becomes a Passage."""

    row: int
    score: float
    dense: float
    keyword: float


def rank(
    index: LoadedIndex, query_vec: np.ndarray, question: str, cfg: RetrievalSettings, limit: int | None = None
) -> list[Hit]:
    """Candidates of both retrievers by fused score, best first, near-duplicates removed (the first `limit`)."""
    n = len(index.chunks)
    if n == 0:
        return []
    _dense_scores, dense_ids = ann_search(index.ann, query_vec, cfg.candidates)
    kw_all = index.keyword.scores(question)
    kw_ids = np.zeros(0, dtype=np.int64)
    if kw_all.size and float(kw_all.max()) > 0:
        take = min(cfg.candidates, n)
        kw_ids = np.argpartition(-kw_all, take - 1)[:take] if take < n else np.arange(n)
        kw_ids = kw_ids[kw_all[kw_ids] > 0]
    rows = np.unique(np.concatenate([dense_ids.astype(np.int64), kw_ids.astype(np.int64)]))
    dense = sentence_max(index, rows, query_vec)
    kw = kw_all[rows] if kw_all.size else np.zeros(len(rows), np.float32)
    kw_max = float(kw.max()) if kw.size else 0.0
    kw_norm = kw / kw_max if kw_max > 0 else np.zeros_like(kw)
    fused = cfg.dense_weight * dense + (1.0 - cfg.dense_weight) * kw_norm * max(float(dense.max()), 0.0)
    order = np.argsort(-fused, kind="stable")
    hits = [Hit(int(rows[i]), float(fused[i]), float(dense[i]), float(kw_norm[i])) for i in order]
    return collapse(index.chunks, hits, cfg.dedupe_jaccard, limit)


def sentence_max(index: LoadedIndex, rows: np.ndarray, query_vec: np.ndarray) -> np.ndarray:
    """Each passage's dense score: the cosine of its closest sentence (contextual sentence vectors) to the question."""
    flat, firsts = part_rows(index.part_start, rows)
    sims = np.asarray(index.parts[flat], dtype=np.float32) @ query_vec.astype(np.float32)
    return np.maximum.reduceat(sims, firsts) if len(rows) else sims


def collapse(chunks: list[Chunk], hits: list[Hit], jaccard: float, limit: int | None = None) -> list[Hit]:
    """Drop hits overlapping a better hit of the same source, or nearly repeating its words; stop at `limit`."""
    kept: list[Hit] = []
    spans: dict[str, list[tuple[int, int]]] = {}
    words: list[set[str]] = []
    for hit in hits:
        c = chunks[hit.row]
        if any(c.start < e and s < c.end for s, e in spans.get(c.source, ())):
            continue
        bag = set(_TOKEN.findall(c.text.lower()))
        if any(len(bag & other) >= jaccard * max(1, len(bag | other)) for other in words):
            continue
        kept.append(hit)
        if limit is not None and len(kept) >= limit:
            break
        spans.setdefault(c.source, []).append((c.start, c.end))
        words.append(bag)
    return kept


def supported(hits: list[Hit], cfg: RetrievalSettings) -> bool:
    """Whether one of the best few hits has a sentence similar enough to the question to quote at all."""
    return any(h.dense >= cfg.min_score for h in hits[: cfg.support_depth])


def highlight(index: LoadedIndex, row: int, query_vec: np.ndarray, question: str) -> tuple[int, int]:
    """The sentence of passage `row` closest to the question, from its stored sentence vectors."""
    vecs = index.parts[index.part_start[row] : index.part_start[row + 1]]
    return best_sentence(index.chunks[row], np.asarray(vecs, dtype=np.float32) @ query_vec, question)


def best_sentence(chunk: Chunk, sims: np.ndarray, question: str) -> tuple[int, int]:
    """The part of the chunk with the best cosine `sims` to the question, plus a bonus for the question's words."""
    q_words = {w for w in _TOKEN.findall(question.lower()) if len(w) > 3}
    best, best_score = chunk.parts[0], -9.0
    for (s, e), sim in zip(chunk.parts, sims, strict=True):
        words = set(_TOKEN.findall(chunk.text[s - chunk.start : e - chunk.start].lower()))
        score = float(sim) + 0.3 * len(q_words & words) / max(1, len(q_words))
        if score > best_score:
            best, best_score = (s, e), score
    return best


def to_passages(
    index: LoadedIndex, hits: list[Hit], query_vec: np.ndarray, question: str, first_rank: int = 1
) -> list[Passage]:
    """Turn hits into Passages with citation data and a highlighted sentence."""
    out: list[Passage] = []
    for offset, hit in enumerate(hits):
        c = index.chunks[hit.row]
        doc = index.documents.get(c.source, {})
        out.append(
            Passage(
                rank=first_rank + offset,
                source=c.source,
                title=doc.get("title") or c.source,
                url=doc.get("url"),
                paragraph=c.paragraph,
                start=c.start,
                end=c.end,
                highlight=highlight(index, hit.row, query_vec, question),
                score=round(hit.score, 4),
                text=c.text,
                page=c.page,
                chunk_id=hit.row,
            )
        )
    return out
