"""The interface both search indexes share (dense vectors, keywords): build, save, load, search, count."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Self

import numpy as np


class SearchIndex(ABC):
    """A searchable index over passage rows 0..count-1, stored as a file or folder of one index version."""

    @classmethod
    @abstractmethod
    def build(cls, items: Any) -> Self:
        """Index the passages' representations (vectors or texts), row i for passage i."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the index to path (a file or a folder, never pickle)."""

    @classmethod
    @abstractmethod
    def load(cls, path: Path, count: int) -> Self:
        """Read an index written by save(), raising IndexCorrupt unless it holds exactly `count` passages."""

    @abstractmethod
    def search(self, query: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best k rows for the query as (scores, rows), best first."""

    @abstractmethod
    def count(self) -> int:
        """How many passages the index holds."""
