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
    feedback.append(path, feedback.record("why?", "up", [p], "v1", 1234, path))
    feedback.append(path, feedback.record("how?", "down", [], "v1", 99, path))
    path.open("a").write("{broken\n")
    rows = list(feedback.read(path))
    assert [r["vote"] for r in rows] == ["up", "down"]
    assert rows[0]["passages"] == [{"source": "seed/a.txt", "start": 10, "end": 50, "rank": 1, "chunk_id": 7}]
    assert rows[0]["user"] == feedback.hash_user(1234, path) and "1234" not in json.dumps(rows[0])
    assert rows[0]["time"].endswith("+00:00")
    with pytest.raises(ValueError):
        feedback.record("q", "meh", [], "v", 1, path)


def test_votes_hash_users_with_a_per_install_salt(tmp_path: Path) -> None:
    """The stored hash is not sha256 of the id, differs between installs, and the salt is owner-readable only."""
    import hashlib
    import os

    mine, other = tmp_path / "a" / "fb.jsonl", tmp_path / "b" / "fb.jsonl"
    stored = feedback.record("q", "up", [], "v1", 1234, mine)["user"]
    assert stored == feedback.hash_user(1234, mine)  # stable within an install
    assert stored != feedback.hash_user(1234, other)  # another install, another salt
    assert hashlib.sha256(b"1234").hexdigest()[: len(stored)] != stored
    assert (os.stat(mine.with_name("fb.jsonl.salt")).st_mode & 0o777) == 0o600
