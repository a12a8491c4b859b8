"""Watch mode: rebuild the index when source files change (debounced) until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import BuildLocked, SourceError, user_message
from ...formatting import summary
from ...index import current_version_or_none
from ...ingest.sources import SUFFIXES

if TYPE_CHECKING:
    from ...service import Service

log = logging.getLogger(__name__)
DEBOUNCE_MS = 1000
TICK_MS = 500
RETRY_S = 5.0


class _Stopped(BaseException):
    """Raised inside a running rebuild by SIGTERM so the process stops promptly (the build is crash-safe)."""


def source_filter(root: Path) -> Callable[[object, str], bool]:
    """Changes worth a rebuild: supported, non-hidden files under root, or folders (a moved folder moves files)."""
    base = root.resolve()

    def keep(change: object, path: str) -> bool:
        try:
            rel = Path(path).resolve().relative_to(base)
        except ValueError:
            return False
        if any(part.startswith(".") for part in rel.parts):
            return False
        return rel.suffix.lower() in SUFFIXES or rel.suffix == ""

    return keep


def watch(
    service: Service, full_first: bool = False, debounce_ms: int = DEBOUNCE_MS, stop: threading.Event | None = None
) -> int:
    """Build once, then rebuild after every burst of source changes; return 0 on Ctrl-C or SIGTERM."""
    sources = Path(service.settings.sources_dir)
    if not sources.is_dir():
        raise SourceError(f"sources folder {sources} does not exist: nothing to watch")
    if logging.getLogger("korea_bot").getEffectiveLevel() > logging.INFO:
        logging.getLogger("korea_bot").setLevel(logging.INFO)
    stop = stop or threading.Event()
    building = threading.Event()
    with _on_sigterm(stop, building), contextlib.suppress(KeyboardInterrupt, _Stopped):
        _loop(service, sources, full_first, debounce_ms, stop, building)
    log.info("watch stopped; serving version %s", current_version_or_none(service.settings.index_dir))
    return 0


def _loop(
    service: Service, sources: Path, full: bool, debounce_ms: int, stop: threading.Event, building: threading.Event
) -> None:
    """Start watching, then build (so edits made during the first build are seen); rebuild after each burst."""
    import watchfiles

    first, pending, last_try = True, True, 0.0
    for changes in watchfiles.watch(
        sources,
        watch_filter=source_filter(sources),
        debounce=debounce_ms,
        stop_event=stop,
        rust_timeout=TICK_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        if stop.is_set():
            return
        if first:
            log.info("watching %s for changes (Ctrl-C to stop)", sources)
        if changes:
            names = sorted({_relative(sources, path) for _, path in changes})
            log.info("%d change(s): %s", len(names), ", ".join(names[:5]) + (" …" if len(names) > 5 else ""))
        if changes or first or (pending and time.monotonic() - last_try >= RETRY_S):
            first, last_try = False, time.monotonic()
            pending = not rebuild(service, building, full=full)
            full = full and pending  # --full applies to the first build that gets to run


def rebuild(service: Service, building: threading.Event | None = None, full: bool = False) -> bool:
    """One rebuild, its summary logged; False (logged, to retry later) when another build holds the lock."""
    if building is not None:
        building.set()
    try:
        report = service.reindex(full=full)
    except BuildLocked as exc:
        log.warning("%s; will retry", exc)
        return False
    except Exception as exc:
        live = current_version_or_none(service.settings.index_dir)
        message = user_message(exc)
        if message is None:
            log.exception("rebuild failed; still serving version %s", live)
        else:
            log.error("rebuild failed, still serving version %s: %s", live, message)
        return True  # a bad file is not retried until something changes again
    finally:
        if building is not None:
            building.clear()
    if report.unchanged:
        log.info("index %s is up to date", report.version)
    else:
        log.info("%s", summary(report))
    return True


@contextlib.contextmanager
def _on_sigterm(stop: threading.Event, building: threading.Event) -> Iterator[None]:
    """Make SIGTERM stop the watch (interrupting a running rebuild); restore the old handler afterwards."""

    def handler(signum: int, frame: object) -> None:
        stop.set()
        if building.is_set():
            raise _Stopped()

    try:
        previous: Callable | int | None = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: the caller stops us with `stop`
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _relative(root: Path, path: str) -> str:
    """A changed path relative to the sources folder."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path
