"""Stage 4, collapse: windows overlap by design, so a hit overlapping or repeating a better one is dropped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from ..models import Chunk

_TOKEN = re.compile(r"\w+", re.U)


class Hit(NamedTuple):
    """A ranked candidate before it becomes a Passage: its row, fused score and the two scores fused."""

    row: int
    score: float
    dense: float
    keyword: float


def collapse(chunks: Sequence[Chunk], hits: list[Hit], jaccard: float, limit: int | None = None) -> list[Hit]:
    """Drop hits overlapping a better hit of the same source, or sharing `jaccard` of its words; stop at `limit`.

    A window starts at every sentence, so the best few windows are often the same sentences shifted by one; showing
    them all would repeat one quote. Word overlap also catches the same text in two files.
    """
    kept: list[Hit] = []
    spans: dict[str, list[tuple[int, int]]] = {}
    words: list[frozenset[str]] = []
    for hit in hits:
        c = chunks[hit.row]
        if any(c.start < e and s < c.end for s, e in spans.get(c.source, ())):
            continue
        bag = word_set(c.text)
        if any(len(bag & other) >= jaccard * max(1, len(bag | other)) for other in words):
            continue
        kept.append(hit)
        if limit is not None and len(kept) >= limit:
            break
        spans.setdefault(c.source, []).append((c.start, c.end))
        words.append(bag)
    return kept


@lru_cache(maxsize=8192)
def word_set(text: str) -> frozenset[str]:
    """The lower-cased words of a text (kept for the texts seen last: the same passages come back question after
    question)."""
    return frozenset(_TOKEN.findall(text.lower()))
