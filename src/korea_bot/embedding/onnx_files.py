"""Where ONNX exports live: a cache folder per model (keyed by the model files' contents) and its meta record."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

FORMAT = 2  # of meta.json; a change re-exports (2: attention fused by onnxruntime.transformers)
MAX_LENGTH = 256  # tokens: sentence-transformers' max_seq_length of the bundled model
SMALL_FILE = 1 << 20  # files up to this size are hashed whole; bigger ones by size, head and tail
VARIANTS = ("fp32", "int8")
READABLE = 0o644  # mkstemp makes 0600 files; a container user other than the builder reads the export


def default_dir() -> Path:
    """The default cache folder: $XDG_CACHE_HOME/korea_bot/onnx, else ~/.cache/korea_bot/onnx."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "korea_bot" / "onnx"


def model_key(model_path: Path) -> str:
    """A short hash of the model folder's contents (names, sizes, small files whole, big files' ends): cheap, stable."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_path.rglob("*") if p.is_file() and ".git" not in p.parts):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(model_path).as_posix()}\0{size}\0".encode())
        with path.open("rb") as handle:
            if size <= SMALL_FILE:
                digest.update(handle.read())
            else:
                digest.update(handle.read(SMALL_FILE))
                handle.seek(size - SMALL_FILE)
                digest.update(handle.read())
    return digest.hexdigest()[:20]


def export_folder(root: Path, model_path: Path) -> Path:
    """The folder holding the exports of one model."""
    return root / model_key(model_path)


def onnx_file(folder: Path, variant: str) -> Path:
    """The ONNX file of one variant (fp32 or int8)."""
    return folder / f"model-{variant}.onnx"


def meta_file(folder: Path, variant: str) -> Path:
    """The meta record of one variant, written after its ONNX file (its presence means the export finished)."""
    return folder / f"model-{variant}.json"


def read_meta(folder: Path, variant: str) -> dict | None:
    """The meta record of a finished export, or None when there is none (or it is from another format)."""
    try:
        meta = json.loads(meta_file(folder, variant).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file through a temporary sibling and a rename, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, READABLE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def exportable(model_path: Path) -> str | None:
    """None when the model can run on ONNX Runtime here (BERT-like, mean pooling, fast tokenizer), else why not."""
    try:
        modules = json.loads((model_path / "modules.json").read_text(encoding="utf-8"))
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next((m["path"] for m in modules if m["type"].endswith("Pooling")), None)
        pool = json.loads((model_path / (pooling or "-") / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return "not a sentence-transformers folder with modules.json and a pooling config"
    if types not in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]):
        return f"modules {types} (only Transformer, Pooling[, Normalize] are exported)"
    modes = [key for key, on in pool.items() if key.startswith("pooling_mode") and on]
    if modes != ["pooling_mode_mean_tokens"]:
        return f"pooling {modes} (only mean pooling is exported)"
    if not (model_path / "tokenizer.json").is_file():
        return "no tokenizer.json (a fast tokenizer is needed for token offsets)"
    return None


def max_length(model_path: Path) -> int:
    """The model's max_seq_length from sentence_bert_config.json (256 when unset)."""
    try:
        config = json.loads((model_path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length") or MAX_LENGTH)
    except (OSError, ValueError, TypeError):
        return MAX_LENGTH
