"""The live index of a process: loaded on first use, checked against the model, rebuilt, swapped and reloaded."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import threading
import time
from collections.abc import Callable, Iterator

from .backends import milvus_live
from .config import Settings
from .embedding import Embedder, make_embedder
from .errors import (
    BuildLocked,
    IndexCorrupt,
    IndexMismatch,
    IndexOutdated,
    KoreaBotError,
    SearchBackendError,
    user_message,
)
from .index import LoadedIndex, build_index, current_version, index_params, load_index, read_skipped, stale_reason
from .index.store import version_key
from .models import BuildReport
from .progress import ProgressLines, ticking

log = logging.getLogger(__name__)
LOCK_WAIT_SECONDS = 900.0  # how long a process waits for another one's build before giving up
LOCK_POLL_SECONDS = 2.0  # how often it looks again
# File-system failures of an update that leave the live version fine to serve: read-only, full, no permission.
SERVABLE_OS_ERRORS = (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM)
Progress = Callable[[int, int], None]


class LiveIndex:
    """The index version a process serves: loaded on first use, checked, rebuilt, swapped and reloaded safely."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        """Keep the settings; the embedder and index are loaded on first use."""
        self.settings = settings
        self._embedder = embedder
        self._index: LoadedIndex | None = None
        self._tried: str | None = None  # the last published version reload_if_changed tried
        self._swap = threading.Lock()
        self._build = threading.Lock()
        self.chunking = settings.chunking()

    @property
    def embedder(self) -> Embedder:
        """The embedder, built on first use."""
        if self._embedder is None:
            self._embedder = make_embedder(self.settings.model, self.settings.encoder, self.settings.onnx_dir)
        return self._embedder

    @property
    def index(self) -> LoadedIndex:
        """The live index (loaded on first use)."""
        if self._index is None:
            self._set(self._load())
        assert self._index is not None
        return self._index

    @property
    def version(self) -> str:
        """The live index version."""
        return self.index.version

    def _load(self) -> LoadedIndex:
        """Load the index from disk and check it matches the configured model."""
        milvus = self.settings.search_backend == "milvus"
        loaded = milvus_live.load(self.settings) if milvus else load_index(self.settings.index_dir)
        self._check_model(loaded)
        if milvus:  # the name -> rows map is one O(n) pass: build it here, not on the event loop at the first question
            loaded.collections()
        return loaded

    def _check_model(self, loaded: LoadedIndex) -> None:
        """Refuse an index built with another model or dimension."""
        emb = self.embedder
        if loaded.manifest.get("model") != emb.name or loaded.manifest.get("dim") != emb.dim:
            raise IndexMismatch(
                f"the index in {self.settings.index_dir} was built with model {loaded.manifest.get('model')!r} "
                f"(dimension {loaded.manifest.get('dim')}), but the configured model is {emb.name!r} "
                f"(dimension {emb.dim}): run `korea-bot index --full` to rebuild it"
            )

    def _set(self, loaded: LoadedIndex) -> None:
        """Swap in a new live index; questions in flight keep their own reference to the old one."""
        with self._swap:
            self._index = loaded

    def is_stale(self) -> bool:
        """True when the index is missing, the sources or settings differ from it, or Milvus serves an older version."""
        files = current_version(self.settings.index_dir)
        if self.settings.search_backend == "milvus":
            published = milvus_live.published(self.settings)  # asked once: it is a call to the engine
            if files is None:  # a reader: it serves what others publish
                return published is None
            if published is None or (published != files and version_key(published) < version_key(files)):
                return True  # Milvus does not serve the files' live version yet (a newer one there is fine)
        elif files is None:
            return True
        try:
            manifest = self.index.manifest
        except (IndexMismatch, IndexOutdated):
            return True
        params, skipped = index_params(self.embedder, self.chunking), read_skipped(self.settings.index_dir)
        return bool(stale_reason(self.settings.sources_dir, manifest, params, skipped, self.settings.max_file_bytes))

    def ensure_index(
        self, progress: Progress | None = None, warn: Callable[[str], None] | None = None
    ) -> BuildReport | None:
        """Build or update the index when it is missing or stale, then load it; None if it was current.

        When the update fails (a read-only index folder, no readable source, a full disk) but a version exists, that
        version keeps serving and `warn` (default: a logged warning) says so in one line.
        """
        try:
            return self._update(progress)
        except (KoreaBotError, OSError) as exc:
            message = user_message(exc)
            if message is None or (isinstance(exc, OSError) and exc.errno not in SERVABLE_OS_ERRORS):
                raise
            if not self._servable():
                raise exc from None
            (warn or log.warning)(f"cannot update the index ({message}); answering from version {self.version}")
            return None

    def _servable(self) -> bool:
        """True when a version on disk can be served (loaded now if it was not yet)."""
        try:
            return self.index is not None
        except KoreaBotError:
            return False

    def _update(self, progress: Progress | None) -> BuildReport | None:
        """ensure_index without the fallback: build when stale, waiting for another process's build."""
        if not self.is_stale() and self._index is not None:
            return None
        if self._reader() and not self.is_stale():  # it serves what another process published: nothing to build
            self._set(self._load())
            return None
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                return self.reindex(progress=progress)
            except BuildLocked as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("%s; waiting for it before serving", exc)
                time.sleep(LOCK_POLL_SECONDS)
                self.reload_if_changed()
                if not self.is_stale():
                    return None

    def reindex(self, full: bool = False, progress: Progress | None = None) -> BuildReport:
        """Rebuild incrementally (or fully), then swap the new version in; progress is logged unless given."""
        with self._build, self._progress(progress) as report_progress:
            report_progress(0, 0)  # a build starts: sources are read and cut before anything is embedded
            report = build_index(
                self.settings.sources_dir,
                self.settings.index_dir,
                self.embedder,
                self.chunking,
                full=full,
                batch_size=self.settings.batch_size,
                progress=report_progress,
                max_file_bytes=self.settings.max_file_bytes,
            )
            failure = self._publish() if self.settings.search_backend == "milvus" else None
            if failure is not None:
                report = dataclasses.replace(report, notes=(*report.notes, failure))
            if failure is None and (self._index is None or self._index.version != report.version):
                self._set(self._load())
        return report

    def _publish(self) -> str | None:
        """Mirror the files' live version into Milvus; None when done, else one line saying what failed."""
        try:
            milvus_live.publish_files(self.settings)
        except SearchBackendError as exc:
            served = self._index.version if self._index is not None else "the one Milvus serves"
            log.error("the files index is built but publishing it failed: %s", exc)
            return (
                f"the files index is built, but publishing it to Milvus failed ({exc}); still answering from version "
                f"{served}: the next /reindex, `korea-bot index` or restart retries the publish"
            )
        return None

    @contextlib.contextmanager
    def _progress(self, progress: Progress | None) -> Iterator[Progress]:
        """The caller's progress callback, or lines logged at INFO every few seconds (container logs)."""
        if progress is not None:
            yield progress
            return
        with ticking(ProgressLines(log.info)) as lines:
            yield lines

    def _reader(self) -> bool:
        """True for a Milvus-backend process with no files index of its own (it only reads what others publish)."""
        return self.settings.search_backend == "milvus" and current_version(self.settings.index_dir) is None

    def _published(self) -> str | None:
        """The version this process should serve: the files' CURRENT, or the Milvus alias's under that backend."""
        if self.settings.search_backend == "milvus":
            return milvus_live.published(self.settings)
        return current_version(self.settings.index_dir)

    def reload_if_changed(self) -> bool:
        """Pick up a version published by another process; keep serving the old one if it is unusable."""
        try:
            live = self._published()
        except (IndexCorrupt, SearchBackendError) as exc:
            log.error("cannot read the live index version, still serving the previous one: %s", exc)
            return False
        if live is None or live == self._tried or (self._index is not None and self._index.version == live):
            return False
        self._tried = live  # try each published version once, not on every poll
        try:
            loaded = self._load()
        except Exception as exc:
            log.error("new index version %s not loaded, still serving the previous one: %s", live, exc)
            return False
        if self._index is not None and loaded.version == self._index.version:
            log.error("new index version %s not loaded, still serving %s: %s", live, loaded.version, loaded.notes)
            return False
        self._set(loaded)
        log.info("now serving index version %s", loaded.version)
        return True
