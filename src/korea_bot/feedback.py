"""Feedback from 👍/👎 buttons: one JSON object per line, readable back as labelled data."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from .jsonl import append_jsonl, read_jsonl
from .models import Passage

VOTES = ("up", "down")


def hash_user(user_id: int | str) -> str:
    """The sha256 hex digest of a user id (the raw id is never stored)."""
    return hashlib.sha256(str(user_id).encode("utf-8")).hexdigest()


def record(question: str, vote: str, passages: Sequence[Passage], index_version: str, user_id: int | str) -> dict:
    """Build one feedback record."""
    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, not {vote!r}")
    return {
        "question": question,
        "vote": vote,
        "passages": [
            {"source": p.source, "start": p.start, "end": p.end, "rank": p.rank, "chunk_id": p.chunk_id}
            for p in passages
        ],
        "index_version": index_version,
        "user": hash_user(user_id),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def append(path: Path, entry: dict) -> None:
    """Append one record as a single JSON line, flushed and fsynced, safe across threads."""
    append_jsonl(path, entry)


def read(path: Path) -> Iterator[dict]:
    """Yield the valid records of a feedback file, skipping blank or damaged lines."""
    path = Path(path)
    if not path.exists():
        return
    for _line, entry in read_jsonl(path, skip_bad=True):
        if entry.get("vote") in VOTES and "question" in entry:
            yield entry
