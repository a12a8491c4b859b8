"""Feedback votes: one JSON line per vote, user ids hashed, read back as labelled data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.passages import passage

from korea_bot import feedback


def test_feedback_round_trip(tmp_path: Path) -> None:
    """Records are appended one per line, hash the user, and read back as labelled data."""
    p = passage(start=10, end=50, paragraph=3, highlight=(12, 30), score=0.8, chunk_id=7)
    path = tmp_path / "fb.jsonl"
    feedback.append(path, feedback.record("why?", "up", [p], "v1", 1234))
    feedback.append(path, feedback.record("how?", "down", [], "v1", 99))
    path.open("a").write("{broken\n")
    rows = list(feedback.read(path))
    assert [r["vote"] for r in rows] == ["up", "down"]
    assert rows[0]["passages"] == [{"source": "seed/a.txt", "start": 10, "end": 50, "rank": 1, "chunk_id": 7}]
    assert rows[0]["user"] == feedback.hash_user(1234) and "1234" not in json.dumps(rows[0])
    assert rows[0]["time"].endswith("+00:00")
    with pytest.raises(ValueError):
        feedback.record("q", "meh", [], "v", 1)
