"""JSON Lines files: one reader (strict or skipping damaged lines, with real line numbers), a writer, an appender."""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

_append_lock = threading.Lock()


class BadLine(ValueError):
    """A line that is not a JSON object; carries the file and the 1-based line number."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        """Remember where the problem is."""
        super().__init__(f"{path} line {line}: {problem}")
        self.path, self.line, self.problem = path, line, problem


def _open(path: Path) -> IO[str]:
    """Open a JSONL file as strict UTF-8 text (gzip when it ends in .gz), newlines untranslated."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def read_jsonl(path: Path, skip_bad: bool = False) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-blank line; a bad line raises BadLine, or is skipped if skip_bad.

    OSError (a missing file) and UnicodeDecodeError (not UTF-8) propagate for the caller to name.
    """
    path = Path(path)
    with _open(path) as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                if skip_bad:
                    continue
                raise BadLine(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(row, dict):
                if skip_bad:
                    continue
                raise BadLine(path, number, "not a JSON object")
            yield number, row


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Write one JSON object per line, UTF-8, to a new file."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def append_jsonl(path: Path, row: dict) -> None:
    """Append one object as a single line, flushed and fsynced, safe across threads; creates the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
    with _append_lock, path.open("a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
