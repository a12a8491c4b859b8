"""Feedback from 👍/👎 buttons: one JSON object per line, readable back as labelled data."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from .jsonl import append_jsonl, read_jsonl
from .models import Passage
from .user_ids import hashed

VOTES = ("up", "down")


def hash_user(user_id: int | str, path: Path) -> str:
    """A user id as stored in the feedback file `path`: hashed with that file's per-install salt, never raw."""
    return hashed(user_id, path)


def record(
    question: str, vote: str, passages: Sequence[Passage], index_version: str, user_id: int | str, path: Path
) -> dict:
    """Build one feedback record for the feedback file `path`."""
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
        "user": hash_user(user_id, path),
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
