"""The export-onnx sub-command: export the configured model to ONNX once, for the torch-free encoder."""

from __future__ import annotations

import argparse
from pathlib import Path

from ...config import Settings
from ...embedding.onnx_files import default_dir, export_folder, exportable, onnx_file
from ...errors import EmbedderError


def cmd_export_onnx(args: argparse.Namespace, settings: Settings) -> int:
    """Export the model (fp32, or int8 with --int8) into KOREA_BOT_ONNX_DIR and print the file written."""
    from ...embedding.onnx_export import export
    from ...embedding.transformer import resolve_model_path

    model_path = Path(resolve_model_path(settings.model))
    reason = exportable(model_path) if model_path.is_dir() else "not a local model folder"
    if reason is not None:
        raise EmbedderError(f"cannot export {settings.model!r} to ONNX: {reason}")
    folder = export_folder(settings.onnx_dir or default_dir(), model_path)
    variant = "int8" if args.int8 else "fp32"
    export(model_path, folder, variant)
    print(onnx_file(folder, variant))
    return 0
