"""The question log and the gaps report: salted user hashes, retention, switched off, never costing an answer."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.passages import passage

from korea_bot import feedback
from korea_bot.errors import ConfigError
from korea_bot.models import Answer
from korea_bot.usage.questions import QuestionLog
from korea_bot.usage.report import gaps, parse_since


def answer(question: str, tier: str = "high") -> Answer:
    """An answer in a tier (with a passage unless no support)."""
    return Answer(
        question=question, answered=tier == "high", passages=() if tier == "none" else (passage(),), confidence=tier
    )


def test_entries_hash_users_with_a_per_install_salt(tmp_path: Path) -> None:
    """A line per question with its tier and top source; the user id only as a salted hash, salt file private."""
    log = QuestionLog(tmp_path / "q.jsonl")
    entry = log.record(answer("why?"), 1234, where="discord")
    assert entry is not None and entry["tier"] == "high" and entry["top_source"] == "seed/a.txt"
    raw = (tmp_path / "q.jsonl").read_text(encoding="utf-8")
    assert "1234" not in raw and json.loads(raw)["user"] == log.hash_user(1234)
    other = QuestionLog(tmp_path / "other" / "q.jsonl")
    assert other.hash_user(1234) != log.hash_user(1234)  # another install, another salt
    assert (os.stat(tmp_path / "q.jsonl.salt").st_mode & 0o777) == 0o600


def test_retention_drops_old_lines_and_off_logs_nothing(tmp_path: Path) -> None:
    """Lines older than the retention period are neither read nor kept; `off` writes nothing."""
    path = tmp_path / "q.jsonl"
    log = QuestionLog(path, days=30)
    log.record(answer("new"), 1)
    old = {"time": (datetime.now(UTC) - timedelta(days=40)).isoformat(), "question": "old", "tier": "none"}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(old) + "\n{broken\n")
    assert [e["question"] for e in log.entries()] == ["new"]
    assert log.prune() == 2 and len(path.read_text(encoding="utf-8").splitlines()) == 1
    off = QuestionLog.from_setting("off", 30)
    assert off.record(answer("q"), 1) is None and off.entries() == []


def test_an_unwritable_log_costs_no_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A log that cannot be written (here its path is a folder, which fails even for root) warns once, returns None."""
    (tmp_path / "q.jsonl").mkdir()
    log = QuestionLog(tmp_path / "q.jsonl")
    assert log.record(answer("a"), 1) is None and log.record(answer("b"), 1) is None
    assert caplog.text.count("cannot write the question log") == 1


def test_gaps_report_counts_unanswered_and_voted_down(tmp_path: Path) -> None:
    """Most asked (case and punctuation folded), no support, only closest passages, and 👎 answers."""
    log = QuestionLog(tmp_path / "q.jsonl")
    for question, tier in [("Why?", "high"), ("why", "high"), ("weather?", "none"), ("nukes?", "low")]:
        log.record(answer(question, tier), 7)
    votes = tmp_path / "fb.jsonl"
    feedback.append(votes, feedback.record("why?", "down", [passage()], "v1", 7, votes))
    feedback.append(votes, feedback.record("other", "up", [passage()], "v1", 7, votes))
    report = gaps(log, votes, parse_since("7d"))
    assert report.questions == 4 and report.most_asked[0] == ("Why?", 2)
    assert report.unanswered == [("weather?", 1)] and report.low_confidence == [("nukes?", 1)]
    assert report.voted_down == [("why?", [("seed/a.txt", 0, 5)])]


@pytest.mark.parametrize(("text", "hours"), [("24h", 24), ("7d", 168), ("2w", 336), (" 3 D ", 72)])
def test_since_accepts_hours_days_weeks(text: str, hours: int) -> None:
    """--since takes a number and h, d or w; anything else is a one-line error."""
    delta = datetime.now(UTC) - parse_since(text)
    assert abs(delta.total_seconds() - hours * 3600) < 60


def test_since_refuses_other_units() -> None:
    """A bad --since says what to write."""
    with pytest.raises(ConfigError, match="use a number and h, d or w"):
        parse_since("yesterday")
