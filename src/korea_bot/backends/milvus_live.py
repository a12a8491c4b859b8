"""What a live process asks of the Milvus backend: the published version, loading it, publishing a files build."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ..config import Settings
from ..errors import SearchBackendError
from ..index import LoadedIndex, load_index
from .milvus_client import connect, guarded, live_collection, version_of

PUBLISH_LOCK = ".publish.lock"  # in the index folder: processes sharing it publish one at a time
PUBLISH_WAIT_SECONDS = 900.0


def _client(settings: Settings):  # type: ignore[no-untyped-def]
    """The shared client for the configured URI (token from KOREA_BOT_MILVUS_TOKEN or the secrets folder)."""
    token = settings.milvus_token.get_secret_value() if settings.milvus_token else None
    return connect(settings.milvus_uri, token)


def published(settings: Settings) -> str | None:
    """The version the alias names (as a files version name), None before the first publish."""
    client = _client(settings)
    passages = guarded(settings.milvus_uri, "reading the alias", lambda: live_collection(client))
    tag = version_of(passages) if passages else None
    return tag.replace("_", "-") if tag else None  # version names are digits, a time and hex joined by '-'


def load(settings: Settings) -> LoadedIndex:
    """The live version, served from Milvus."""
    from .milvus_serve import load_live

    return load_live(_client(settings), settings.milvus_uri)


def publish_files(settings: Settings, index_dir: Path | None = None) -> bool:
    """Mirror the files' live version into Milvus (False when Milvus already serves it)."""
    from .milvus_publish import publish

    folder = index_dir or settings.index_dir
    with publish_lock(folder):  # taken after the build lock is released: another process may be publishing
        loaded = load_index(folder)
        return publish(_client(settings), settings.milvus_uri, loaded)


@contextlib.contextmanager
def publish_lock(folder: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the index folder's publish lock, waiting for another process's publish (at most `wait` seconds)."""
    fd = os.open(folder / PUBLISH_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    seconds = PUBLISH_WAIT_SECONDS if wait is None else wait
    deadline = time.monotonic() + seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SearchBackendError(
                        f"another process has been publishing {folder} for over {seconds:g} s "
                        f"(it holds the lock {folder / PUBLISH_LOCK}): try again once it is done"
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)
