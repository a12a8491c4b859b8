"""The one exception family: every failure a user can act on is a KoreaBotError whose message says what to do."""

from __future__ import annotations

import errno
from pathlib import Path


class KoreaBotError(Exception):
    """An expected failure; str() is one line a user can act on (no traceback needed)."""


class ConfigError(KoreaBotError):
    """A bad configuration value or command-line option."""


class SourceError(KoreaBotError):
    """A source file or folder that cannot be used; the message names it."""


class EmptySources(SourceError):
    """The sources folder has nothing to index."""


class EmbedderError(KoreaBotError):
    """The model cannot be loaded or used; the message says what to install or configure."""


class IndexCorrupt(KoreaBotError):
    """An index version on disk is missing, damaged or incompatible; the message names the file."""


class IndexOutdated(KoreaBotError):
    """An index written by a korea_bot with another on-disk format: it is rebuilt, not repaired."""

    def __init__(self, path: Path, found: object, wanted: int) -> None:
        """Remember which format was found and which one this version reads."""
        super().__init__(
            f"{path}: index format {found} was written by another korea_bot version; this one reads format "
            f"{wanted}: run `korea-bot index` to rebuild it"
        )
        self.found, self.wanted = found, wanted


class IndexMissing(KoreaBotError):
    """There is no index yet."""


class IndexMismatch(KoreaBotError):
    """The index on disk was built with another model or dimension than the one configured."""


class SearchBackendError(KoreaBotError):
    """The configured search engine (Milvus) cannot be reached or used; the message names the URI."""


class BuildLocked(KoreaBotError):
    """Another process is building this index right now."""


class IndexReadOnly(KoreaBotError):
    """The index folder cannot be written (a read-only volume or missing permission); the message says what to fix."""


class BadQuestion(KoreaBotError):
    """A question that cannot be searched; str() is a message for the user."""


class UnknownCollection(BadQuestion):
    """A collection name the live index does not have; the message lists the ones it has."""


class NotInIndex(KoreaBotError):
    """A source or offset that the live index does not hold."""


class EvalError(KoreaBotError):
    """A question file that cannot be read; the message names the file and line."""


def user_message(exc: BaseException) -> str | None:
    """One line for an expected failure (ours or a file-system one), or None for a bug (which keeps its traceback)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full while writing {exc.filename or 'the index'}; the previous index is unchanged"
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return f"read-only file system: cannot write {exc.filename or 'the index'}"
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
        return f"{exc.strerror}: {exc.filename}" if exc.filename else (str(exc) or type(exc).__name__)
    if isinstance(exc, KoreaBotError):
        text = str(exc).strip() or type(exc).__name__
        return text.splitlines()[0]
    return None
