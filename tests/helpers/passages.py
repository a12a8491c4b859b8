"""A quoted Passage for tests that need one without an index (votes, the question log, Discord conversations)."""

from __future__ import annotations

from typing import Any

from korea_bot.models import Passage


def passage(source: str = "seed/a.txt", start: int = 0, end: int = 5, **fields: Any) -> Passage:
    """A rank-1 passage of `source` covering [start, end), its highlight the whole of it; `fields` override any."""
    values: dict[str, Any] = {
        "rank": 1,
        "source": source,
        "title": "A",
        "url": None,
        "paragraph": 1,
        "start": start,
        "end": end,
        "highlight": (start, end),
        "score": 0.9,
        "text": "x" * (end - start),
    }
    return Passage(**{**values, **fields})
