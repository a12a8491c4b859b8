"""Tests for the heartbeat file and the feedback JSONL (no discord involved)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from korea_bot import feedback, heartbeat
from korea_bot.models import Passage


def test_heartbeat_fresh_stale_missing(tmp_path: Path) -> None:
    """A fresh heartbeat is healthy; an old one or a missing file is not."""
    path = tmp_path / "hb" / "beat"
    ok, msg = heartbeat.check(path, 10)
    assert not ok and "no heartbeat file" in msg
    heartbeat.touch(path)
    assert heartbeat.check(path, 10)[0]
    old = time.time() - 30
    os.utime(path, (old, old))
    ok, msg = heartbeat.check(path, 10)
    assert not ok and "stuck" in msg
    heartbeat.clear(path)
    assert not path.exists()


def test_feedback_round_trip(tmp_path: Path) -> None:
    """Records are appended one per line, hash the user, and read back as labelled data."""
    p = Passage(1, "seed/a.txt", "A", None, 3, 10, 50, (12, 30), 0.8, "x" * 40, chunk_id=7)
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
