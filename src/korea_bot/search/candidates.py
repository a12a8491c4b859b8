"""Stage 1, candidates: the passages either retriever puts near the top (dense top-k united with BM25 top-k)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..index import LoadedIndex
from ..index.keyword import top_positive
from .question import Query


@dataclass(frozen=True, kw_only=True)
class Candidates:
    """Passage rows to score (sorted, unique), each one's raw BM25 score, and which retriever proposed it."""

    rows: np.ndarray
    keyword: np.ndarray  # raw BM25 of the alias-expanded question (0 when no query word occurs)
    keyword_plain: np.ndarray  # raw BM25 of the question as typed
    by_dense: np.ndarray  # bool: among the nearest k by vector
    by_keyword: np.ndarray  # bool: among the best k by BM25


def gather(index: LoadedIndex, query: Query, k: int) -> Candidates:
    """Union of the k nearest passages by vector (for each of the query's vectors) and the k best by BM25.

    Either retriever alone misses answers the other finds (dense misses rare names and numbers, BM25 misses
    paraphrases), so both lists are scored together instead of trusting one ranking.
    """
    dense_rows = [index.dense.search(vector, k, query.rows)[1] for vector in query.vectors]
    keyword = _only(index.keyword.scores(query.keywords), query.rows)
    plain = keyword if query.keywords == query.text else _only(index.keyword.scores(query.text), query.rows)
    _kw_scores, kw_rows = top_positive(keyword, k)
    rows = np.unique(np.concatenate([*dense_rows, kw_rows]).astype(np.int64))
    empty = np.zeros(len(rows), np.float32)
    return Candidates(
        rows=rows,
        keyword=keyword[rows] if keyword.size else empty,
        keyword_plain=plain[rows] if plain.size else empty,
        by_dense=_among(rows, np.concatenate(dense_rows)),
        by_keyword=_among(rows, kw_rows),
    )


def _among(rows: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """For sorted unique `rows` holding every row of `chosen`: which rows are chosen (np.isin without its sort)."""
    out = np.zeros(len(rows), dtype=bool)
    out[np.searchsorted(rows, chosen.astype(np.int64))] = True
    return out


def _only(scores: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Keyword scores with every passage outside `rows` zeroed (so it is never a candidate)."""
    if rows is None or not scores.size:
        return scores
    kept = np.zeros_like(scores)
    kept[rows] = scores[rows]
    return kept
