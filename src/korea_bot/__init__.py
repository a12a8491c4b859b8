"""korea_bot: answer questions about source texts by quoting verbatim passages with citations."""

# The public API (__all__) is loaded on first use, so that importing the package (or `korea-bot --help`) stays
# instant: Service, Settings, load_settings, the models and the KoreaBotError family.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "Service": "service",
    "Settings": "config",
    "load_settings": "config",
    "Answer": "models",
    "BuildReport": "models",
    "Chunk": "models",
    "Document": "models",
    "IndexStats": "models",
    "Passage": "models",
    "KoreaBotError": "errors",
}
__all__ = [
    "Answer",
    "BuildReport",
    "Chunk",
    "Document",
    "IndexStats",
    "KoreaBotError",
    "Passage",
    "Service",
    "Settings",
    "load_settings",
]

if TYPE_CHECKING:
    from .config import Settings, load_settings
    from .errors import KoreaBotError
    from .models import Answer, BuildReport, Chunk, Document, IndexStats, Passage
    from .service import Service


def __getattr__(name: str) -> Any:
    """Import the module holding a public name when it is first asked for."""
    if name not in _WHERE:
        raise AttributeError(f"module 'korea_bot' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
