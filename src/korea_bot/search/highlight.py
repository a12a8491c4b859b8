"""Stage 6, highlight: the sentence of a quoted passage that best answers the question (shown in bold)."""

from __future__ import annotations

import re

import numpy as np

from ..index import LoadedIndex
from ..models import Chunk, Span
from .collapse import word_set

_TOKEN = re.compile(r"\w+", re.U)
WORD_BONUS = 0.3  # a sentence holding all the question's words gains this much cosine (a third of a typical gap)
MIN_WORD_CHARS = 4  # shorter words ("the", "was", "how") say little about which sentence answers


def highlight(index: LoadedIndex, row: int, vector: np.ndarray, question: str) -> Span:
    """The sentence of passage `row` closest to the question, from its stored sentence vectors (no learned stage)."""
    vecs, _offsets = index.sentence_vectors_of(np.asarray([row], dtype=np.int64))
    return best_sentence(index.chunks[row], vecs @ vector, question)


def best_sentence(chunk: Chunk, sims: np.ndarray, question: str) -> Span:
    """The sentence of the chunk with the best cosine `sims` to the question, plus a bonus for the question's words."""
    scores = word_bonus_scores(chunk, sims, question)
    return chunk.sentences[int(np.argmax(scores))]


def word_bonus_scores(chunk: Chunk, sims: np.ndarray, question: str) -> np.ndarray:
    """Each sentence's cosine plus WORD_BONUS times the share of the question's longer words it holds."""
    q_words = {w for w in _TOKEN.findall(question.lower()) if len(w) >= MIN_WORD_CHARS}
    out = np.empty(len(chunk.sentences))
    for i, ((s, e), sim) in enumerate(zip(chunk.sentences, sims, strict=True)):
        words = word_set(chunk.text[s - chunk.start : e - chunk.start])
        out[i] = float(sim) + WORD_BONUS * len(q_words & words) / max(1, len(q_words))
    return out
