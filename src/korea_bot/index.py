"""The on-disk index: build (index_build, index_write), verified load (index_load); this module re-exports them."""

from __future__ import annotations

from .index_build import FORMAT, EmptySources, build_index, index_params
from .index_load import LoadedIndex, load_index, load_version
from .index_write import embed_text

__all__ = [
    "FORMAT",
    "EmptySources",
    "LoadedIndex",
    "build_index",
    "embed_text",
    "index_params",
    "load_index",
    "load_version",
]
