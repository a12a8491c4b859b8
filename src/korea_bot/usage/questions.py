"""The question log: one JSON line per question asked, user ids hashed with a per-install salt, old lines pruned."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..jsonl import append_jsonl, read_jsonl, write_jsonl
from ..models import Answer
from ..user_ids import hashed

OFF = "off"
_lock = threading.Lock()
_warned: set[Path] = set()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuestionLog:
    """Where questions are logged and for how long; `path is None` when logging is switched off."""

    path: Path | None
    days: int = 90

    @classmethod
    def from_setting(cls, value: str | Path, days: int) -> QuestionLog:
        """A log at the configured path, or a switched-off one for `off`."""
        return cls(None if str(value).strip().lower() == OFF else Path(value), days)

    def hash_user(self, user_id: int | str) -> str:
        """A user id hashed with this install's salt (the raw id is never stored, nor the same hash elsewhere)."""
        assert self.path is not None
        return hashed(user_id, self.path)

    def record(self, answer: Answer, user_id: int | str, where: str = "cli", key: str = "") -> dict | None:
        """Log one question and how it was answered (tier, top source); None when logging is off or fails.

        A log that cannot be written (a read-only volume, a full disk) never costs an answer: it is logged once.
        """
        if self.path is None:
            return None
        try:
            return self._record(answer, user_id, where, key)
        except OSError as exc:
            if self.path not in _warned:
                _warned.add(self.path)
                log.warning("cannot write the question log %s (%s); answers go on, unlogged", self.path, exc)
            return None

    def _record(self, answer: Answer, user_id: int | str, where: str, key: str) -> dict:
        """record, which may raise OSError."""
        assert self.path is not None
        top = answer.passages[0] if answer.passages else None
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "question": answer.question,
            "tier": answer.confidence,
            "top_source": top.source if top else None,
            "top_span": [top.start, top.end] if top else None,
            "followup": answer.followup,
            "user": self.hash_user(user_id),
            "where": where,
            "answer": key,
            "index_version": answer.index_version,
        }
        append_jsonl(self.path, entry)
        return entry

    def entries(self, since: datetime | None = None) -> list[dict]:
        """The logged questions within the retention period (and since `since`), oldest first."""
        if self.path is None or not self.path.exists():
            return []
        floor = max(filter(None, [since, datetime.now(UTC) - timedelta(days=self.days)]))
        return [row for _line, row in read_jsonl(self.path, skip_bad=True) if logged_at(row) >= floor]

    def prune(self) -> int:
        """Drop the lines older than the retention period (rewriting the file atomically); how many went."""
        if self.path is None or not self.path.exists():
            return 0
        with _lock:
            lines = sum(1 for line in self.path.open(encoding="utf-8") if line.strip())
            floor = datetime.now(UTC) - timedelta(days=self.days)
            kept = [row for _line, row in read_jsonl(self.path, skip_bad=True) if logged_at(row) >= floor]
            if len(kept) != lines:  # old lines, and damaged ones, go
                tmp = self.path.with_name(f".{self.path.name}.tmp")
                write_jsonl(tmp, kept)
                os.replace(tmp, self.path)
        return lines - len(kept)


def logged_at(row: dict) -> datetime:
    """The time of a log line (the epoch for a line without a readable one, so it is pruned)."""
    try:
        when = datetime.fromisoformat(str(row.get("time")))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
