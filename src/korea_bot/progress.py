"""Build progress as lines of text: passages to embed, an estimated time, then a status line every few seconds."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

EVERY_SECONDS = 5.0  # at most one status line this often (container logs show a build that is alive)
LONG_BUILD = 2_000  # passages from which a build announces its size and an estimate before embedding
# Passages per second of the bundled all-MiniLM-L6-v2 on 2 cores (docs/BENCHMARKS.md, 660 passages in ~16 s); the
# first estimate assumes it, later ones use the rate the build is measuring.
ASSUMED_RATE = 40.0

Emit = Callable[[str], None]


def duration(seconds: float) -> str:
    """A rough, readable duration: `45 s`, `12 min`, `2 h 05 min`."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def announce(total: int) -> str:
    """The line before a long build: how many passages, and about how long they take."""
    return f"embedding {total:,} passages: about {duration(total / ASSUMED_RATE)} (the estimate improves as it runs)"


class ProgressLines:
    """A build progress callback (`progress(done, total)`) that writes words, not a bar: for logs and pipes."""

    def __init__(self, emit: Emit, every: float = EVERY_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        """Write each line with `emit`; at most one status line per `every` seconds."""
        self.emit, self.every, self.clock = emit, every, clock
        self.began: float | None = None  # when the build first reported: silent until a build runs
        self.embedding_since: float | None = None
        self.done, self.total = 0, 0
        self.last_line = 0.0
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        """The build reports `done` of `total` passages embedded (0 of 0 while it reads and cuts the sources)."""
        with self._lock:
            now = self.clock()
            if self.began is None:
                self.began = self.last_line = now
            first = total > 0 and self.embedding_since is None
            if first:
                self.embedding_since = now
            self.done, self.total = done, total
            if first and total >= LONG_BUILD:
                self._line(now, announce(total))
            elif first or not total:
                return
            elif done >= total and (total >= LONG_BUILD or now - self._since() >= self.every):
                self._line(now, self.status(now))  # the end of a build someone may have been waiting for
            elif done < total and now - self.last_line >= self.every:
                self._line(now, self.status(now))

    def tick(self) -> None:
        """Write the current status if a build runs and nothing was written for `every` seconds (a timer calls it)."""
        with self._lock:
            now = self.clock()
            if self.began is None:
                return
            if now - self.last_line >= self.every and not (self.total and self.done >= self.total):
                self._line(now, self.status(now))

    def announce(self, total: int) -> str:
        """The line before a long build: how many passages, and about how long they take."""
        return (
            f"embedding {total:,} passages: about {duration(total / ASSUMED_RATE)} (the estimate improves as it runs)"
        )

    def status(self, now: float) -> str:
        """Where the build is: reading the sources, or passages done with the time left at the measured rate."""
        if not self.total or self.embedding_since is None:
            return f"preparing: reading the sources, loading the model… ({duration(now - self._since())})"
        spent = now - self.embedding_since
        text = f"embedding passages: {self.done:,}/{self.total:,} ({100 * self.done // self.total}%)"
        if self.done >= self.total:
            return f"{text} in {duration(spent)}"
        text += f", {duration(spent)} so far"
        if self.done and spent > 0:
            text += f", about {duration((self.total - self.done) * spent / self.done)} left"
        return text

    def _since(self) -> float:
        """When the build began (now, if it has not reported yet)."""
        return self.clock() if self.began is None else self.began

    def _line(self, now: float, text: str) -> None:
        """Emit one line and remember when."""
        self.last_line = now
        self.emit(text)


@contextlib.contextmanager
def ticking(progress: ProgressLines, period: float = 1.0) -> Iterator[ProgressLines]:
    """Run `progress.tick()` every `period` seconds on a daemon thread while the block runs."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(period):
            progress.tick()

    thread = threading.Thread(target=loop, name="korea-bot-progress", daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        thread.join(timeout=period + 1)
