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


def test_cooldown_is_a_sliding_window_per_user() -> None:
    """Three hits per 10 s for one user; the fourth waits; another user is unaffected; the window slides."""
    from korea_bot.discord_state import Cooldown

    cd = Cooldown(rate=3, per=10.0)
    assert [cd.hit(1, now=t) for t in (0.0, 1.0, 2.0)] == [0.0, 0.0, 0.0]
    assert cd.hit(1, now=3.0) == pytest.approx(7.0)
    assert cd.hit(2, now=3.0) == 0.0
    assert cd.hit(1, now=10.5) == 0.0


def test_redaction_hides_the_token_in_messages_and_tracebacks() -> None:
    """The log filter replaces the token in formatted messages and in exception text."""
    import io
    import logging

    from korea_bot.discord_state import Redact

    secret = "tok-SECRET-42"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redact(secret))
    logger = logging.getLogger("test.redact")
    logger.addHandler(handler)
    try:
        logger.error("token is %s", secret)
        try:
            raise RuntimeError(f"bad {secret}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert secret not in text and text.count("[redacted]") == 2 and "RuntimeError" in text
