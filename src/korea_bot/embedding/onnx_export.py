"""Exporting a sentence-transformers model to ONNX, offline, once (needs torch; never on the serving path)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

from ..errors import EmbedderError
from .onnx_files import FORMAT, READABLE, exportable, max_length, meta_file, model_key, onnx_file, write_atomic

log = logging.getLogger(__name__)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "token_embeddings"
OPSET = 17
FUSABLE = ("bert",)  # model types whose graph the bert fusions were checked on (others stay unfused)
FUSE_TOLERANCE = 1e-4  # largest token-vector difference between the fused and the plain graph


def export(model_path: Path, folder: Path, variant: str = "fp32") -> Path:
    """Export the model's transformer to folder/model-<variant>.onnx (int8: dynamically quantised), atomically."""
    reason = exportable(model_path)
    if reason is not None:
        raise EmbedderError(f"cannot export {model_path} to ONNX: {reason}")
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".export.", suffix=".onnx")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _export_fp32(model_path, tmp)
        if variant == "int8":
            _quantise(tmp)  # of the plain graph: quantize_dynamic cannot infer the fused graph's types
        else:
            _fuse(model_path, tmp)
        dim = _output_dim(tmp)
        os.chmod(tmp, READABLE)
        os.replace(tmp, onnx_file(folder, variant))
    except EmbedderError:
        raise
    except Exception as exc:
        raise EmbedderError(f"ONNX export of {model_path} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    out = onnx_file(folder, variant)
    meta = {
        "format": FORMAT,
        "variant": variant,
        "model_key": model_key(model_path),
        "model_path": str(model_path),
        "dim": dim,
        "max_length": max_length(model_path),
        "inputs": list(INPUTS),
        "output": OUTPUT,
        "bytes": out.stat().st_size,
    }
    write_atomic(meta_file(folder, variant), json.dumps(meta, indent=1).encode("utf-8"))
    log.info("exported %s to %s (%s) in %.1f s", model_path, out, variant, time.perf_counter() - started)
    return out


def _export_fp32(model_path: Path, out: Path) -> None:
    """torch.onnx.export of the Hugging Face model: three int64 inputs, the token vectors as output."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise EmbedderError(f"exporting to ONNX needs torch and transformers ({exc}): pip install korea-bot") from None
    from .transformer import _quiet_transformers

    _quiet_transformers()
    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager")  # a graph _fuse recognises
    model.eval()

    class Tokens(torch.nn.Module):
        """The transformer's last hidden state, nothing else."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.int64)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, OUTPUT)}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            Tokens(),
            (sample, sample, torch.zeros_like(sample)),
            str(out),
            input_names=list(INPUTS),
            output_names=[OUTPUT],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _fuse(model_path: Path, path: Path) -> None:
    """Fuse a BERT-style graph's attention, embedding and layer norms (onnxruntime.transformers), in place.

    On this project's 2-core machine the fused graph embeds a build's blocks in 0.78x the time and a question in
    0.89x (docs/BENCHMARKS.md). Kept only when every layer's attention fused and its vectors match the plain graph's.
    """
    config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") not in FUSABLE:
        log.info("not fusing the ONNX graph of %s: model type %r", model_path, config.get("model_type"))
        return
    from onnxruntime.transformers import optimizer

    heads, hidden, layers = (int(config[k]) for k in ("num_attention_heads", "hidden_size", "num_hidden_layers"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fused = optimizer.optimize_model(str(path), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1)
    found = fused.get_fused_operator_statistics().get("Attention", 0)
    if found != layers:
        log.info("not fusing the ONNX graph of %s: %d of %d attention layers matched", model_path, found, layers)
        return
    out = path.with_name(path.name + ".fused")
    try:
        fused.save_model_to_file(str(out))
        drift = _drift(path, out)
        if drift > FUSE_TOLERANCE:
            log.warning("not fusing the ONNX graph of %s: its vectors differ by %.1e", model_path, drift)
            return
        os.replace(out, path)
    finally:
        out.unlink(missing_ok=True)


def _drift(plain: Path, fused: Path) -> float:
    """The largest difference between two graphs' token vectors on a padded sample batch."""
    import numpy as np
    import onnxruntime as ort

    ids = np.array([[101, 7592, 2088, 1010, 2023, 2003, 1037, 3231, 102], [101, 2748, 102] + [0] * 6], dtype=np.int64)
    mask = (ids != 0).astype(np.int64)
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    outs = []
    for path in (plain, fused):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = {i.name for i in session.get_inputs()}
        outs.append(session.run(None, {k: v for k, v in feed.items() if k in names})[0] * mask[:, :, None])
    return float(np.abs(outs[0] - outs[1]).max())


def _quantise(path: Path) -> None:
    """Dynamic int8 quantisation of the weights in place (onnxruntime.quantization)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".int8.", suffix=".onnx")
    os.close(fd)
    try:
        quantize_dynamic(str(path), tmp_name, weight_type=QuantType.QInt8)
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def _output_dim(path: Path) -> int:
    """The vector dimension, read from the exported graph's output shape."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    dim = session.get_outputs()[0].shape[-1]
    if not isinstance(dim, int):
        raise EmbedderError(f"the ONNX export {path} has no fixed vector dimension ({dim!r})")
    return dim
