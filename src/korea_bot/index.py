"""The on-disk index: build (index_build), verified load (index_load); this module re-exports both."""

from __future__ import annotations

from .index_build import FORMAT, EmptySources, build_index, embed_text, index_params
from .index_load import LoadedIndex, load_index, load_version

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
