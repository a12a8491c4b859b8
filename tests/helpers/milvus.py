"""Helpers for the Milvus backend tests: Services over a Milvus Lite file, and a Lite engine run as a server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from korea_bot.config import load_settings
from korea_bot.embedding import HashEmbedder
from korea_bot.service import Service


def service(sources: Path, index: Path, backend: str, uri: str, dim: int = 64) -> Service:
    """A Service with the hashing embedder (quoting anything) over `sources`, searching the given backend."""
    settings = load_settings(
        sources_dir=sources,
        index_dir=index,
        model=f"hash:{dim}",
        min_score=-1.0,
        search_backend=backend,
        milvus_uri=uri,
    )
    return Service(settings, embedder=HashEmbedder(dim))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """A Milvus Lite engine in its own process, serving gRPC like a Milvus server; (process, http URI)."""
    port = free_port()
    cmd = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"milvus_lite server exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("milvus_lite server did not start within 60 s")
