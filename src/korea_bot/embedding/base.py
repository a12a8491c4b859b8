"""The Embedder interface and the vector helpers every embedder shares (normalising, pooling token spans)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

Spans = list[tuple[int, int]]  # character ranges (sentences) inside one text
Done = Callable[[int], None]  # told how many more texts are embedded (a build's progress)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def embed(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Return an (n, dim) float32 array of unit vectors."""
        ...

    def embed_passages(
        self, texts: list[str], spans: list[Spans], batch_size: int = 64, done: Done | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors of the texts, and of each span of each text (in order): one (n, dim), one (sum spans, dim);
        `done(k)` is called as each k more texts are embedded (k summing to len(texts))."""
        ...


def pool_spans(tokens: np.ndarray, offsets: np.ndarray, spans: Spans, fallback: np.ndarray) -> list[np.ndarray]:
    """Mean of the token vectors starting inside each character span (fallback when none does, e.g. truncated)."""
    starts, ends = offsets[:, 0], offsets[:, 1]
    real = ends > starts  # special tokens have empty offsets
    out = []
    for s, e in spans:
        take = real & (starts >= s) & (starts < e)
        out.append(tokens[take].mean(axis=0) if take.any() else fallback)
    return out


def normalise(vecs: np.ndarray) -> np.ndarray:
    """Scale each row to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vecs / norms, dtype=np.float32)
