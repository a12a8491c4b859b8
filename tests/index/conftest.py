"""Fixtures of the index tests: a fresh Milvus Lite file for the Milvus backend's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def uri(tmp_path: Path) -> Iterator[str]:
    """A fresh Milvus Lite file, its engine stopped (and the file lock freed) afterwards."""
    from korea_bot.backends import milvus_client  # only the Milvus tests ask for it (pymilvus is an extra)

    path = str(tmp_path / "milvus.db")
    yield path
    milvus_client.release(path)
