"""Liveness heartbeat: the bot touches a file while its event loop is healthy; `health` checks its age."""

from __future__ import annotations

import os
import time
from pathlib import Path


def touch(path: Path) -> None:
    """Write the current time into ``path`` (creating parent folders), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{time.time():.3f}\n", encoding="utf-8")
    os.replace(tmp, path)


def age(path: Path) -> float | None:
    """Seconds since ``path`` was last touched, or None when it does not exist."""
    try:
        return max(0.0, time.time() - Path(path).stat().st_mtime)
    except OSError:
        return None


def check(path: Path, max_age: float) -> tuple[bool, str]:
    """(healthy, one-line message): healthy when the heartbeat file exists and is at most ``max_age`` old."""
    seconds = age(path)
    if seconds is None:
        return False, f"unhealthy: no heartbeat file at {path} (is the bot running?)"
    if seconds > max_age:
        return False, f"unhealthy: heartbeat is {seconds:.1f}s old (limit {max_age:g}s): event loop stuck"
    return True, f"healthy: heartbeat {seconds:.1f}s old"


def clear(path: Path) -> None:
    """Remove the heartbeat file (on clean shutdown), ignoring a missing one."""
    Path(path).unlink(missing_ok=True)
