"""Liveness heartbeat: the bot touches a file while its event loop is healthy; `health` checks its age.

A sharded bot also writes its shards' gateway state into the file (a JSON line after the time), which `health`
reports. The exit code follows the event loop only: discord.py reconnects a dropped shard by itself, and a restart
would only spend IDENTIFYs from Discord's daily budget (docs/SCALING.md).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

UP = ("connected", "ready")  # shard states in which the shard's gateway session is live


def touch(path: Path, shards: dict[str, Any] | None = None) -> None:
    """Write the current time (and, for a sharded bot, the shards' state) into ``path``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    text = f"{time.time():.3f}\n"
    if shards is not None:
        text += json.dumps(shards, allow_nan=False) + "\n"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def age(path: Path) -> float | None:
    """Seconds since ``path`` was last touched, or None when it does not exist."""
    try:
        return max(0.0, time.time() - Path(path).stat().st_mtime)
    except OSError:
        return None


def shards_of(path: Path) -> dict[str, Any] | None:
    """The shard report a sharded bot wrote into ``path``, or None (unsharded bot, or no file)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 2:
        return None
    try:
        report = json.loads(lines[1])
    except ValueError:
        return None
    shards = report.get("shards") if isinstance(report, dict) else None
    if not isinstance(shards, list) or not all(map(_is_shard, shards)):
        return None
    return report


def _is_shard(entry: object) -> bool:
    """True for one well-formed shard entry: {"id": int, "state": str, "since": time, "guilds": int|None}."""
    if not isinstance(entry, dict):
        return False
    fields = (entry.get("id"), entry.get("state"), entry.get("since"), entry.get("guilds", 0))
    return all(isinstance(v, t) for v, t in zip(fields, (int, str, (int, float), (int, type(None))), strict=True))


def describe_shards(report: dict[str, Any], now: float | None = None) -> str:
    """One phrase for a shard report: `shards 0, 1 of 2: 0 ready (1 guild, 40 ms), 1 disconnected for 12s`."""
    now = time.time() if now is None else now
    shards, count = report["shards"], report.get("shard_count") or "?"
    if not shards:
        return f"shards of {count}: not started yet"
    parts = []
    for shard in shards:
        text = f"{shard['id']} {shard['state']}"
        if shard["state"] not in UP:
            text += f" for {max(0.0, now - shard['since']):.0f}s"
        details = []
        if shard.get("guilds") is not None:
            details.append(f"{shard['guilds']} guild{'' if shard['guilds'] == 1 else 's'}")
        if isinstance(shard.get("latency_ms"), (int, float)):
            details.append(f"{shard['latency_ms']:.0f} ms")
        parts.append(f"{text} ({', '.join(details)})" if details else text)
    ids = ", ".join(str(s["id"]) for s in shards)
    return f"shard{'s' if len(shards) != 1 else ''} {ids} of {count}: {', '.join(parts)}"


def check(path: Path, max_age: float) -> tuple[bool, str]:
    """(healthy, one-line message): healthy when the file exists and is at most ``max_age`` old; lists any shards."""
    seconds = age(path)
    if seconds is None:
        return False, f"unhealthy: no heartbeat file at {path} (is the bot running?)"
    report = shards_of(path)
    shards = f"; {describe_shards(report)}" if report else ""
    if seconds > max_age:
        return False, f"unhealthy: heartbeat is {seconds:.1f}s old (limit {max_age:g}s): event loop stuck{shards}"
    return True, f"healthy: heartbeat {seconds:.1f}s old{shards}"


def clear(path: Path) -> None:
    """Remove the heartbeat file (on clean shutdown), ignoring a missing one."""
    Path(path).unlink(missing_ok=True)
