"""Stages 2 and 3, scoring and fusion: each candidate's closest-sentence cosine, fused with its BM25 score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..index import LoadedIndex
from .candidates import Candidates


@dataclass(frozen=True, kw_only=True)
class Scored:
    """The candidates after scoring and fusion, in candidate order (rows sorted); what later stages work from."""

    found: Candidates
    dense: np.ndarray  # cosine of each passage's closest sentence
    sentence: np.ndarray  # which of its sentences that is (0-based)
    keyword: np.ndarray  # BM25 over the best candidate's (0..1)
    fused: np.ndarray  # the fused score

    def order(self) -> np.ndarray:
        """Candidate positions by fused score, best first (ties keep row order)."""
        return np.argsort(-self.fused, kind="stable")


def closest_sentence(index: LoadedIndex, rows: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each passage's dense score, the cosine of its closest sentence to the question, and which sentence that is.

    A window of several sentences gets one vector, but a question usually matches one of its sentences and the rest
    dilutes the cosine; the contextual sentence vectors stored with the index score the sentence that matches.
    `vectors` holds one or more forms of the question (as typed, alias-rewritten): a sentence counts its best match.
    """
    vecs, offsets = index.sentence_vectors_of(rows)
    sims = (vecs @ np.atleast_2d(vectors).astype(np.float32).T).max(axis=1)
    if not len(rows):
        return sims, np.zeros(0, np.int64)
    best = np.maximum.reduceat(sims, offsets)
    # the first sentence of each passage reaching its passage's best score: the lowest such flat index per owner
    owner = np.repeat(np.arange(len(rows)), np.diff(np.append(offsets, len(sims))))
    first = np.full(len(rows), len(sims), dtype=np.int64)
    np.minimum.at(first, owner, np.where(sims >= best[owner], np.arange(len(sims)), len(sims)))
    return best, first - offsets


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

