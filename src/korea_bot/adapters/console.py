"""What a korea-bot process prints on its terminal when it cannot go on: one line, one prefix."""

from __future__ import annotations

import sys

PREFIX = "korea-bot: error: "


def fail(message: str, code: int = 1) -> int:
    """Print a one-line error to stderr and return the exit code."""
    print(PREFIX + " ".join(str(message).split()), file=sys.stderr, flush=True)
    return code
