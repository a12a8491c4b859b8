"""Stages 2 and 3, scoring and fusion: each candidate's closest-sentence cosine, fused with its BM25 score."""

from __future__ import annotations

import numpy as np

from ..index import LoadedIndex


def closest_sentence(index: LoadedIndex, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Each passage's dense score: the cosine of its closest sentence to the question.

    A window of several sentences gets one vector, but a question usually matches one of its sentences and the rest
    dilutes the cosine; the contextual sentence vectors stored with the index score the sentence that matches.
    """
    vecs, offsets = index.sentence_vectors_of(rows)
    sims = vecs @ vector.astype(np.float32)
    return np.maximum.reduceat(sims, offsets) if len(rows) else sims


def fuse(dense: np.ndarray, keyword: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """The fused score `w·cosine + (1−w)·(BM25 / best BM25)·best cosine`, and the normalised BM25.

    BM25 scores have no fixed scale, so they are divided by the best candidate's; multiplying by the best cosine puts
    them on the cosine's scale, so a question whose best sentence is only weakly similar cannot be lifted to a
    confident-looking score by keywords alone. Plain RRF, min-max and z-score fusion all did worse on the dev sets
    (docs/EVALUATION.md).
    """
    kw_max = float(keyword.max()) if keyword.size else 0.0
    kw_norm = keyword / kw_max if kw_max > 0 else np.zeros_like(keyword)
    fused = weight * dense + (1.0 - weight) * kw_norm * max(float(dense.max()), 0.0)
    return fused, kw_norm
