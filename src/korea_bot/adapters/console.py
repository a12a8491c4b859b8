"""What a korea-bot process prints on stderr: one error line (one prefix), warnings and progress notes."""

from __future__ import annotations

import sys

PREFIX = "korea-bot: error: "
WARNING = "korea-bot: warning: "


def fail(message: str, code: int = 1) -> int:
    """Print a one-line error to stderr and return the exit code."""
    print(PREFIX + " ".join(str(message).split()), file=sys.stderr, flush=True)
    return code


def warn(message: str) -> None:
    """Print a one-line warning to stderr (the command goes on)."""
    print(WARNING + " ".join(str(message).split()), file=sys.stderr, flush=True)


def note(message: str) -> None:
    """Print one line of progress or information to stderr (never mixed into stdout, which may be JSON)."""
    print(f"korea-bot: {message}", file=sys.stderr, flush=True)
