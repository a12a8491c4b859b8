"""Choosing the encoder of a model: its ONNX export (made once when missing) or sentence-transformers."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import EmbedderError
from .base import Embedder
from .onnx_files import default_dir, export_folder, exportable, onnx_file, read_meta

log = logging.getLogger(__name__)
ENCODERS = ("auto", "onnx", "onnx-int8", "torch")


def choose(name: str, encoder: str = "auto", onnx_dir: Path | None = None) -> Embedder:
    """auto: ONNX when an export exists or can be made, else sentence-transformers; onnx(-int8)/torch: only that."""
    if encoder not in ENCODERS:
        raise EmbedderError(f"unknown encoder {encoder!r}: use one of {', '.join(ENCODERS)}")
    from .transformer import resolve_model_path

    if encoder == "torch":
        return _torch(name)
    variant = "int8" if encoder == "onnx-int8" else "fp32"
    model_path = Path(resolve_model_path(name))
    reason = exportable(model_path) if model_path.is_dir() else "not a local model folder"
    if reason is not None:
        if encoder == "auto":
            log.info("model %s has no ONNX export (%s): using sentence-transformers", name, reason)
            return _torch(name)
        raise EmbedderError(f"KOREA_BOT_ENCODER={encoder} cannot run model {name!r}: {reason}")
    folder = export_folder(onnx_dir or default_dir(), model_path)
    if read_meta(folder, variant) is not None and onnx_file(folder, variant).is_file():
        try:
            return _onnx(name, model_path, folder, variant)
        except EmbedderError as exc:
            if encoder != "auto":
                raise
            log.warning("%s; exporting it again", exc)
    try:
        from .onnx_export import export

        log.warning("exporting %s to ONNX in %s (once; about 10 s)", name, folder)
        export(model_path, folder, variant)
        return _onnx(name, model_path, folder, variant)
    except (EmbedderError, OSError) as exc:
        if encoder != "auto":
            raise EmbedderError(f"no usable ONNX export of {name!r} in {folder}: {exc}") from None
        log.warning("no ONNX export of %s (%s): using sentence-transformers", name, exc)
        return _torch(name)


def _onnx(name: str, model_path: Path, folder: Path, variant: str) -> Embedder:
    """The ONNX Runtime embedder."""
    from .onnx import OnnxEmbedder

    return OnnxEmbedder(name, model_path, folder, variant)


def _torch(name: str) -> Embedder:
    """The sentence-transformers embedder (imports torch: seconds)."""
    from .transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name)
