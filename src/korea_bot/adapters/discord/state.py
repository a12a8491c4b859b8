"""Plain state the Discord adapter keeps: per-user cooldowns, recent answers for buttons, log redaction."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from ...models import Answer

_KEY = re.compile(r"^[0-9a-f]{16}$")


class Cooldown:
    """At most ``rate`` uses per ``per`` seconds for each key (a sliding window)."""

    def __init__(self, rate: int, per: float) -> None:
        """Allow ``rate`` hits in any ``per``-second window."""
        self.rate, self.per = rate, per
        self._hits: dict[int, deque[float]] = {}

    def hit(self, key: int, now: float | None = None) -> float:
        """Record a use and return 0, or return the seconds to wait when ``key`` is over its rate."""
        if self.per <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.per:
            hits.popleft()
        if len(hits) >= self.rate:
            return max(0.1, self.per - (now - hits[0]))
        hits.append(now)
        if len(self._hits) > 10_000:
            self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] < self.per}
        return 0.0


@dataclass(frozen=True)
class Shown:
    """An answer as shown in a message, kept so its buttons can act on it."""

    answer: Answer
    private: bool = False
    collection: str | None = None  # the collection it searched ("More passages" searches it again)


class RecentAnswers:
    """A bounded map from a random key (used in button custom ids) to the answer it belongs to."""

    def __init__(self, size: int = 2000) -> None:
        """Keep at most ``size`` answers, dropping the oldest."""
        self.size = size
        self._items: OrderedDict[str, Shown] = OrderedDict()

    def add(self, shown: Shown) -> str:
        """Store ``shown`` and return its new key."""
        key = secrets.token_hex(8)
        self._items[key] = shown
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Shown | None:
        """The answer for ``key``, or None when unknown or expired."""
        return self._items.get(key) if _KEY.match(key) else None


def strip_mentions(content: str, bot_id: int) -> str:
    """The question in a message: the bot's own mention tokens removed."""
    return re.sub(rf"<@!?{bot_id}>", " ", content).strip()


class Redact(logging.Filter):
    """Replace a secret with ``[redacted]`` in every log record that passes through."""

    def __init__(self, secret: str) -> None:
        """Redact ``secret`` (ignored when empty)."""
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message and any traceback text; never drop the record."""
        if not self.secret:
            return True
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "[redacted]"), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.secret in record.exc_text:
            record.exc_text = record.exc_text.replace(self.secret, "[redacted]")
        return True


def install_redaction(secret: str) -> Redact:
    """Attach a Redact filter to every handler of the root logger (and return it)."""
    flt = Redact(secret)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        handler.addFilter(flt)
    return flt
