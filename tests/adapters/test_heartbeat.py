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
