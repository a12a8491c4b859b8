"""Stage 6, highlight: the sentence of a quoted passage that best answers the question (shown in bold)."""

from __future__ import annotations

import re

import numpy as np

from ..index import LoadedIndex
from ..models import Chunk, Span

_TOKEN = re.compile(r"\w+", re.U)
WORD_BONUS = 0.3  # a sentence holding all the question's words gains this much cosine (a third of a typical gap)
MIN_WORD_CHARS = 4  # shorter words ("the", "was", "how") say little about which sentence answers


def highlight(index: LoadedIndex, row: int, vector: np.ndarray, question: str) -> Span:
    """The sentence of passage `row` closest to the question, from its stored sentence vectors."""
    vecs, _offsets = index.sentence_vectors_of(np.asarray([row], dtype=np.int64))
    return best_sentence(index.chunks[row], vecs @ vector, question)


def best_sentence(chunk: Chunk, sims: np.ndarray, question: str) -> Span:
    """The sentence of the chunk with the best cosine `sims` to the question, plus a bonus for the question's words."""
    q_words = {w for w in _TOKEN.findall(question.lower()) if len(w) >= MIN_WORD_CHARS}
    best, best_score = chunk.sentences[0], -9.0
    for (s, e), sim in zip(chunk.sentences, sims, strict=True):
        words = set(_TOKEN.findall(chunk.text[s - chunk.start : e - chunk.start].lower()))
        score = float(sim) + WORD_BONUS * len(q_words & words) / max(1, len(q_words))
        if score > best_score:
            best, best_score = (s, e), score
    return best
