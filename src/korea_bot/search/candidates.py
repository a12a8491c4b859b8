"""Stage 1, candidates: the passages either retriever puts near the top (dense top-k united with BM25 top-k)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..index import LoadedIndex
from ..index.keyword import top_positive
from .question import Query


@dataclass(frozen=True)
class Candidates:
    """Passage rows to score (sorted, unique) and each one's raw BM25 score (0 when no query word occurs)."""

    rows: np.ndarray
    keyword: np.ndarray


def gather(index: LoadedIndex, query: Query, k: int) -> Candidates:
    """Union of the k nearest passages by vector and the k best by BM25.

    Either retriever alone misses answers the other finds (dense misses rare names and numbers, BM25 misses
    paraphrases), so both lists are scored together instead of trusting one ranking.
    """
    _scores, dense_rows = index.dense.search(query.vector, k)
    keyword = index.keyword.scores(query.text)
    _kw_scores, kw_rows = top_positive(keyword, k)
    rows = np.unique(np.concatenate([dense_rows.astype(np.int64), kw_rows]))
    return Candidates(rows, keyword[rows] if keyword.size else np.zeros(len(rows), np.float32))
