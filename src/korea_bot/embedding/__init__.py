"""Embedding: the Embedder interface and its implementations (ONNX Runtime, sentence-transformers, a hashing fake)."""

from __future__ import annotations

from pathlib import Path

from ..errors import EmbedderError
from .base import Embedder, Spans, normalise, pool_spans
from .hashing import HashEmbedder

__all__ = ["Embedder", "HashEmbedder", "Spans", "make_embedder", "normalise", "pool_spans"]


def make_embedder(name: str, encoder: str = "auto", onnx_dir: Path | None = None) -> Embedder:
    """Build the embedder named in the settings: 'hash:DIM' for the fake, else the model on the chosen encoder."""
    if name.startswith("hash:"):
        try:
            dim = int(name.split(":", 1)[1])
        except ValueError:
            raise EmbedderError(f"bad fake model name {name!r}: use hash:<dimension>") from None
        return HashEmbedder(dim)
    from .choose import choose

    return choose(name, encoder, onnx_dir)
