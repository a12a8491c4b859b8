"""The keyword side of retrieval: a bm25s index with English stop words and stemming."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from .store import IndexCorrupt


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    """The Snowball English stemmer (PyStemmer), or None when it is not installed."""
    try:
        import Stemmer
    except ImportError:  # pragma: no cover - optional speed-up
        return None
    return Stemmer.Stemmer("english")


def _bm25s():  # type: ignore[no-untyped-def]
    """Import bm25s, undoing the DEBUG level it sets on its logger at import time."""
    import bm25s

    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize(texts: list[str]):  # type: ignore[no-untyped-def]
    """Tokenise texts the same way for indexing and querying."""
    bm25s = _bm25s()

    return bm25s.tokenize(texts, lower=True, stopwords="en", stemmer=_stemmer(), show_progress=False)


class KeywordIndex:
    """BM25 over passages: build, save to a folder (JSON + .npy, no pickle), load, score."""

    def __init__(self, retriever) -> None:  # type: ignore[no-untyped-def]
        """Wrap a bm25s.BM25 retriever."""
        self.retriever = retriever

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        """Index the given passage texts."""
        bm25s = _bm25s()

        retriever = bm25s.BM25(k1=1.2, b=0.75)
        if texts:
            retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        """Write the index files into folder."""
        folder.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        """Read an index saved by save(), failing loudly if it is damaged."""
        bm25s = _bm25s()

        try:
            retriever = bm25s.BM25.load(str(folder), mmap=False, allow_pickle=False, load_corpus=False)
        except Exception as exc:
            raise IndexCorrupt(f"{folder}: keyword index unreadable ({type(exc).__name__}: {exc})") from None
        return cls(retriever)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no query term is known)."""
        vocab = getattr(self.retriever, "vocab_dict", None) or {}
        n_docs = int(self.retriever.scores.get("num_docs", 0)) if hasattr(self.retriever, "scores") else 0
        tokens = tokenize([query])
        inv = {i: t for t, i in tokens.vocab.items()}
        words = [inv[i] for i in tokens.ids[0] if inv.get(i) in vocab]
        if not words or not n_docs:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(words), dtype=np.float32)
