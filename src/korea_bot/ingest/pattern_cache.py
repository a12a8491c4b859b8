"""A large compiled-pattern cache for pysbd, whose per-abbreviation patterns overflow re's own 512-entry cache."""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from typing import Any

PATTERNS = 16_384  # pysbd builds its patterns from its abbreviation list: bounded anyway, so is the cache
_PYSBD_MODULES = (
    "pysbd.abbreviation_replacer",
    "pysbd.between_punctuation",
    "pysbd.cleaner",
    "pysbd.exclamation_words",
    "pysbd.lists_item_replacer",
    "pysbd.processor",
    "pysbd.punctuation_replacer",
    "pysbd.segmenter",
    "pysbd.utils",
)


@lru_cache(maxsize=PATTERNS)
def _compile(pattern: str | bytes, flags: int) -> re.Pattern[Any]:
    """Compile a pattern once per (pattern, flags)."""
    return re.compile(pattern, flags)


def compiled(pattern: Any, flags: int) -> re.Pattern[Any]:
    """The compiled pattern for a string or an already compiled pattern."""
    if isinstance(pattern, re.Pattern):
        return pattern
    return _compile(pattern, int(flags))


class CachedRe:
    """A stand-in for the `re` module whose module-level functions reuse compiled patterns."""

    def __getattr__(self, name: str) -> Any:
        """Everything not overridden is the real `re` attribute."""
        return getattr(re, name)

    def compile(self, pattern: Any, flags: int = 0) -> re.Pattern[Any]:
        """re.compile through the cache."""
        return compiled(pattern, flags)

    def sub(self, pattern: Any, repl: Any, string: str, count: int = 0, flags: int = 0) -> str:
        """re.sub through the cache."""
        return compiled(pattern, flags).sub(repl, string, count)

    def subn(self, pattern: Any, repl: Any, string: str, count: int = 0, flags: int = 0) -> tuple[str, int]:
        """re.subn through the cache."""
        return compiled(pattern, flags).subn(repl, string, count)

    def search(self, pattern: Any, string: str, flags: int = 0) -> re.Match[str] | None:
        """re.search through the cache."""
        return compiled(pattern, flags).search(string)

    def match(self, pattern: Any, string: str, flags: int = 0) -> re.Match[str] | None:
        """re.match through the cache."""
        return compiled(pattern, flags).match(string)

    def fullmatch(self, pattern: Any, string: str, flags: int = 0) -> re.Match[str] | None:
        """re.fullmatch through the cache."""
        return compiled(pattern, flags).fullmatch(string)

    def findall(self, pattern: Any, string: str, flags: int = 0) -> list[Any]:
        """re.findall through the cache."""
        return compiled(pattern, flags).findall(string)

    def finditer(self, pattern: Any, string: str, flags: int = 0) -> Any:
        """re.finditer through the cache."""
        return compiled(pattern, flags).finditer(string)

    def split(self, pattern: Any, string: str, maxsplit: int = 0, flags: int = 0) -> list[Any]:
        """re.split through the cache."""
        return compiled(pattern, flags).split(string, maxsplit)


def install() -> None:
    """Point pysbd's modules at the caching `re` (idempotent; call after importing pysbd)."""
    import importlib

    cached = CachedRe()
    for name in _PYSBD_MODULES:
        module = sys.modules.get(name) or importlib.import_module(name)
        if getattr(module, "re", None) is re:
            module.re = cached  # type: ignore[attr-defined]


def uninstall() -> None:
    """Give pysbd's modules the real `re` back."""
    for name in _PYSBD_MODULES:
        module = sys.modules.get(name)
        if module is not None and isinstance(getattr(module, "re", None), CachedRe):
            module.re = re  # type: ignore[attr-defined]
