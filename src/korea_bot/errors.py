"""Map the core's expected failures to one-line messages for the command line."""

from __future__ import annotations


def explain(exc: BaseException) -> str | None:
    """A one-line message for an expected error, or None for a real bug (which keeps its traceback)."""
    from .embedding import EmbedderError
    from .evaluation import EvalError
    from .service import BadQuestion, IndexMismatch
    from .sources import SourceError
    from .store import BuildLocked, IndexCorrupt, IndexOutdated

    expected = (
        EmbedderError,
        EvalError,
        BadQuestion,
        IndexMismatch,
        SourceError,
        BuildLocked,
        IndexCorrupt,
        IndexOutdated,
        FileNotFoundError,
        PermissionError,
        IsADirectoryError,
    )
    if isinstance(exc, OSError) and exc.errno == 28:
        return f"disk full while writing {exc.filename or 'the index'}; the previous index is unchanged"
    if isinstance(exc, expected):
        text = str(exc).strip() or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename:
            text = f"{exc.strerror}: {exc.filename}"
        return text.splitlines()[0]
    return None
