"""The keyword index: BM25 (bm25s) over the passages, English stop words and Snowball stemming."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Self

import numpy as np

from ..errors import IndexCorrupt
from .base import SearchIndex

BM25_K1 = 1.2  # the common defaults; other k1/b did no better on the dev sets (docs/EVALUATION.md)
BM25_B = 0.75
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token pattern


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    """The Snowball English stemmer (PyStemmer), or None when it is not installed."""
    try:
        import Stemmer
    except ImportError:  # pragma: no cover - optional speed-up
        return None
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _bm25s():  # type: ignore[no-untyped-def]
    """Import bm25s, undoing the DEBUG level it sets on its logger at import time (once: setLevel clears caches)."""
    import bm25s

    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize(texts: list[str]):  # type: ignore[no-untyped-def]
    """Tokenise texts the same way for indexing and querying."""
    return _bm25s().tokenize(texts, lower=True, stopwords="en", stemmer=_stemmer(), show_progress=False)


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    """The stop words `tokenize` drops (bm25s' English list)."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def query_terms(text: str) -> list[str]:
    """The stemmed tokens of one query, in order, as `tokenize` makes them (without its per-call vocabulary and
    progress-bar set-up, which cost more than the tokens for a question)."""
    words = [t for t in _TOKEN.findall(text.lower()) if t not in _stop_words()]
    stemmer = _stemmer()
    return list(stemmer.stemWords(words)) if stemmer is not None and words else words


class KeywordIndex(SearchIndex):
    """BM25 over passages: build, save to a folder (JSON + .npy, no pickle), load, score, search."""

    def __init__(self, retriever: Any) -> None:
        """Wrap a bm25s.BM25 retriever."""
        self.retriever = retriever

    @classmethod
    def build(cls, items: list[str]) -> Self:
        """Index the given passage texts."""
        retriever = _bm25s().BM25(k1=BM25_K1, b=BM25_B)
        if items:
            retriever.index(tokenize(items), show_progress=False)
        return cls(retriever)

    def save(self, path: Path) -> None:
        """Write the index files into the folder path."""
        path.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(path), allow_pickle=False)

    @classmethod
    def load(cls, path: Path, count: int) -> Self:
        """Read an index saved by save(), failing loudly if it is damaged or holds another number of passages."""
        try:
            retriever = _bm25s().BM25.load(str(path), mmap=False, allow_pickle=False, load_corpus=False)
        except Exception as exc:
            raise IndexCorrupt(f"{path}: keyword index unreadable ({type(exc).__name__}: {exc})") from None
        index = cls(retriever)
        if index.count() != count:
            raise IndexCorrupt(f"{path}: holds {index.count()} passages, manifest says {count}")
        return index

    def count(self) -> int:
        """How many passages are indexed (-1 when the index carries no count)."""
        scores = getattr(self.retriever, "scores", None)
        return int(scores.get("num_docs", -1)) if isinstance(scores, dict) else -1

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no query term is known)."""
        vocab = getattr(self.retriever, "vocab_dict", None) or {}
        n_docs = max(self.count(), 0)
        ids = [vocab[w] for w in query_terms(query) if w in vocab]
        if not ids or not n_docs:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(self.retriever.get_scores_from_ids(ids), dtype=np.float32)

    def doc_freqs(self, terms: list[str]) -> dict[str, int]:
        """How many passages hold each (already stemmed) term; 0 for terms the index never saw."""
        vocab = getattr(self.retriever, "vocab_dict", None) or {}
        indptr = self.retriever.scores["indptr"] if isinstance(getattr(self.retriever, "scores", None), dict) else None
        out = {}
        for term in terms:
            tid = vocab.get(term)
            out[term] = 0 if tid is None or indptr is None else int(indptr[tid + 1] - indptr[tid])
        return out

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best-scoring passages with a positive score, as (scores, rows), best first."""
        return top_positive(self.scores(query), k)


def top_positive(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The (up to) k highest positive scores and their rows, best first."""
    n = scores.size
    if n == 0 or k <= 0 or float(scores.max()) <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    take = min(k, n)
    rows = np.argpartition(-scores, take - 1)[:take] if take < n else np.arange(n)
    rows = rows[scores[rows] > 0]
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    return scores[rows], rows.astype(np.int64)
