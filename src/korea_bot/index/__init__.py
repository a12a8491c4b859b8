"""The on-disk index: plan and build versions, write and publish them atomically, load them verified."""

from __future__ import annotations

from .build import build_index
from .layout import FORMAT, embed_text
from .load import LoadedIndex, load_index, load_version
from .plan import index_params, stale_reason
from .store import current_version, current_version_or_none, read_skipped

__all__ = [
    "FORMAT",
    "LoadedIndex",
    "build_index",
    "current_version",
    "current_version_or_none",
    "embed_text",
    "index_params",
    "load_index",
    "load_version",
    "read_skipped",
    "stale_reason",
]
