"""Stage 4, collapse: windows overlap by design, so a hit overlapping or repeating a better one is dropped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..models import Chunk

_TOKEN = re.compile(r"\w+", re.U)


@dataclass(frozen=True, kw_only=True)
class Hit:
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
    words: list[set[str]] = []
    for hit in hits:
        c = chunks[hit.row]
        if any(c.start < e and s < c.end for s, e in spans.get(c.source, ())):
            continue
        bag = set(_TOKEN.findall(c.text.lower()))
        if any(len(bag & other) >= jaccard * max(1, len(bag | other)) for other in words):
            continue
        kept.append(hit)
        if limit is not None and len(kept) >= limit:
            break
        spans.setdefault(c.source, []).append((c.start, c.end))
        words.append(bag)
    return kept
