"""A deterministic bag-of-words hashing embedder for fast tests (no model, no torch)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from .base import Done, Spans, normalise

_WORD = re.compile(r"\w+", re.U)


class HashEmbedder:
    """A deterministic bag-of-words hashing embedder for fast tests (no model, no torch)."""

    def __init__(self, dim: int = 64) -> None:
        """Create a fake embedder of the given dimension."""
        self.dim = dim
        self.name = f"hash:{dim}"
        self.calls = 0
        self.texts_embedded = 0

    def embed(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Hash lower-cased words into buckets and normalise."""
        self.calls += 1
        self.texts_embedded += len(texts)
        return self._hash(texts)

    def embed_passages(
        self, texts: list[str], spans: list[Spans], batch_size: int = 64, done: Done | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The texts' vectors, and each span hashed on its own (counted as one call of len(texts) texts)."""
        self.calls += 1
        self.texts_embedded += len(texts)
        pieces = [text[s:e] for text, ranges in zip(texts, spans, strict=True) for s, e in ranges]
        out = self._hash(texts), self._hash(pieces)
        if done and texts:
            done(len(texts))
        return out

    def _hash(self, texts: list[str]) -> np.ndarray:
        """The hashing itself."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        return normalise(out)
