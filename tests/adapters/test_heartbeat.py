"""The heartbeat file the bot touches and `korea-bot health` checks."""

from __future__ import annotations

import os
import time
from pathlib import Path

from korea_bot.adapters import heartbeat


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


def report(*shards: tuple[int, str, float], count: int = 4) -> dict:
    """A shard report as a sharded bot writes it: (id, state, seconds in that state) per shard."""
    now = time.time()
    entries = [{"id": i, "state": s, "since": now - ago, "guilds": 3, "latency_ms": 41.7} for i, s, ago in shards]
    return {"shard_count": count, "shards": entries}


def test_an_unsharded_bot_writes_only_the_time(tmp_path: Path) -> None:
    """Without shards the file is one line, as before, and health says nothing about shards."""
    path = tmp_path / "beat"
    heartbeat.touch(path)
    (line,) = path.read_text(encoding="utf-8").splitlines()
    assert abs(float(line) - time.time()) < 60
    ok, msg = heartbeat.check(path, 10)
    assert ok and "shard" not in msg and heartbeat.shards_of(path) is None


def test_health_reports_each_shard_of_the_process(tmp_path: Path) -> None:
    """A sharded bot's report is listed shard by shard; a shard away from the gateway says for how long."""
    path = tmp_path / "beat"
    heartbeat.touch(path, report((2, "ready", 100), (3, "disconnected", 30)))
    ok, msg = heartbeat.check(path, 10)
    assert ok, msg
    assert msg.endswith("; shards 2, 3 of 4: 2 ready (3 guilds, 42 ms), 3 disconnected for 30s (3 guilds, 42 ms)")


def test_a_dropped_shard_does_not_fail_health_but_a_stuck_loop_does(tmp_path: Path) -> None:
    """The exit code follows the event loop: discord.py reconnects shards itself, a restart would re-IDENTIFY."""
    path = tmp_path / "beat"
    heartbeat.touch(path, report((0, "disconnected", 3600), count=1))
    ok, msg = heartbeat.check(path, 10)
    assert ok and "shard 0 of 1: 0 disconnected for 3600s" in msg
    old = time.time() - 30
    os.utime(path, (old, old))
    ok, msg = heartbeat.check(path, 10)
    assert not ok and "stuck" in msg and "0 disconnected" in msg


def test_a_shard_count_still_to_be_asked_for(tmp_path: Path) -> None:
    """`auto` before Discord has said how many shards: the report says they have not started."""
    path = tmp_path / "beat"
    heartbeat.touch(path, {"shard_count": None, "shards": []})
    assert heartbeat.check(path, 10)[1].endswith("; shards of ?: not started yet")


def test_a_damaged_shard_report_is_ignored(tmp_path: Path) -> None:
    """Bad JSON, a wrong shape or bad bytes after the time line: health still answers, from the file's age alone."""
    path = tmp_path / "beat"
    for tail in (b"{not json\n", b'{"shards": [{"id": "0"}]}\n', b'{"shards": 3}\n', b"\xff\xfe\n"):
        path.write_bytes(f"{time.time():.3f}\n".encode() + tail)
        ok, msg = heartbeat.check(path, 10)
        assert ok and "shard" not in msg, tail
