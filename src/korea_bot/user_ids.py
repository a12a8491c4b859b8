"""User ids as salted hashes: one random salt per install, kept beside the file the hashes are written to."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from pathlib import Path

_lock = threading.Lock()


def salt_file(data_file: Path) -> Path:
    """Where the salt for hashes stored in `data_file` lives (`<name>.salt` beside it)."""
    return data_file.with_name(data_file.name + ".salt")


def hashed(user_id: int | str, data_file: Path) -> str:
    """A user id hashed with the install's salt for `data_file` (created, owner-readable only, on first use)."""
    return hashlib.sha256(_salt(salt_file(Path(data_file))) + str(user_id).encode("utf-8")).hexdigest()[:32]


def _salt(path: Path) -> bytes:
    """The salt in `path`, made with 32 random bytes when missing (never overwritten: old hashes stay comparable)."""
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text(encoding="utf-8").strip().encode("ascii")
