"""The gaps report: the most asked questions, those with no supporting passage, and the answers voted down."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..errors import ConfigError
from ..feedback import read as read_votes
from .questions import QuestionLog, logged_at

_SINCE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.I)
TOP = 10  # rows per section


@dataclass(frozen=True)
class Gaps:
    """What admins should look at: questions by count, unanswered ones, and voted-down answers with their quotes."""

    since: datetime
    questions: int
    most_asked: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    low_confidence: list[tuple[str, int]] = field(default_factory=list)
    voted_down: list[tuple[str, list[tuple[str, int, int]]]] = field(default_factory=list)  # question, passages


def parse_since(text: str | None, default_days: int = 7) -> datetime:
    """`7d`, `24h`, `2w` (hours, days, weeks back from now); raise ConfigError otherwise."""
    if not text:
        return datetime.now(UTC) - timedelta(days=default_days)
    match = _SINCE.match(text)
    if not match:
        raise ConfigError(f"--since {text!r}: use a number and h, d or w, e.g. 24h, 7d, 2w")
    n, unit = int(match.group(1)), match.group(2).lower()
    hours = n * {"h": 1, "d": 24, "w": 24 * 7}[unit]
    return datetime.now(UTC) - timedelta(hours=hours)


def _key(question: str) -> str:
    """Questions counted together: case, spacing and final punctuation folded."""
    return " ".join(question.lower().split()).rstrip(" ?!.")


def gaps(log: QuestionLog, feedback_file, since: datetime) -> Gaps:  # type: ignore[no-untyped-def]
    """The gaps report over the log (and the votes in the feedback file) since a time."""
    rows = log.entries(since)
    asked: Counter[str] = Counter()
    shown: dict[str, str] = {}
    by_tier: dict[str, Counter[str]] = {"none": Counter(), "low": Counter()}
    for row in rows:
        key = _key(str(row.get("question", "")))
        asked[key] += 1
        shown.setdefault(key, str(row.get("question", "")))
        tier = row.get("tier")
        if tier in by_tier:
            by_tier[tier][key] += 1
    down = [
        (str(v["question"]), [(p["source"], int(p["start"]), int(p["end"])) for p in v.get("passages", [])])
        for v in read_votes(feedback_file)
        if v.get("vote") == "down" and logged_at(v) >= since
    ]
    return Gaps(
        since=since,
        questions=len(rows),
        most_asked=[(shown[k], n) for k, n in asked.most_common(TOP)],
        unanswered=[(shown[k], n) for k, n in by_tier["none"].most_common(TOP)],
        low_confidence=[(shown[k], n) for k, n in by_tier["low"].most_common(TOP)],
        voted_down=down[-TOP:][::-1],
    )
