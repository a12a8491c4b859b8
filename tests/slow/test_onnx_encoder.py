"""The ONNX Runtime encoder against sentence-transformers with the real bundled model (slow: exports once)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from helpers.paths import ROOT, SEED

from korea_bot.config import DEFAULT_MODEL, load_settings
from korea_bot.embedding import make_embedder
from korea_bot.embedding.onnx import OnnxEmbedder
from korea_bot.embedding.onnx_files import export_folder, onnx_file
from korea_bot.embedding.transformer import SentenceTransformerEmbedder, resolve_model_path
from korea_bot.service import Service

pytestmark = pytest.mark.slow
LONG = " ".join(f"Sentence {i} names Pyongyang, Moscow and Seoul." for i in range(80))  # far over 256 tokens
TEXTS = [
    "Who spoke for Russia?",
    "How far did the Hwasong-15 missile fly?",
    "Ünïcödé: naïve café résumé — 한국어 텍스트, 朝鮮",
    "",
    "Moscow proposed a freeze. Washington refused it. Seoul waited.",
    LONG,
]
SPANS = [[(0, 21)], [(0, 39)], [(0, 7), (9, 46)], [], [(0, 25), (26, 47), (48, 61)], [(0, 48), (3000, 3050)]]
HEAVY = ("torch", "sentence_transformers", "transformers", "sklearn")


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh export folder for this module (the export itself runs in the first test that needs it)."""
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    """The reference: sentence-transformers."""
    return SentenceTransformerEmbedder(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def onnx_embedder(onnx_dir: Path) -> OnnxEmbedder:
    """The bundled model on ONNX Runtime, exported here by `auto` (there was no export)."""
    emb = make_embedder(DEFAULT_MODEL, "auto", onnx_dir)
    assert isinstance(emb, OnnxEmbedder) and emb.name == DEFAULT_MODEL and emb.dim == 384
    return emb


def test_onnx_and_torch_vectors_agree_to_1e_5(onnx_embedder: OnnxEmbedder, torch_embedder) -> None:
    ours, ref = onnx_embedder.embed(TEXTS, batch_size=4), torch_embedder.embed(TEXTS, batch_size=4)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    assert np.abs(ours - ref).max() < 1e-5
    reported: dict[str, list[int]] = {"onnx": [], "torch": []}
    vecs, parts = onnx_embedder.embed_passages(TEXTS, SPANS, batch_size=4, done=reported["onnx"].append)
    ref_vecs, ref_parts = torch_embedder.embed_passages(TEXTS, SPANS, batch_size=4, done=reported["torch"].append)
    assert reported == {"onnx": [4, 2], "torch": [6]}  # a build's progress: texts finished, batch by batch
    assert parts.shape == ref_parts.shape == (sum(map(len, SPANS)), 384)
    assert np.abs(vecs - ref_vecs).max() < 1e-5 and np.abs(parts - ref_parts).max() < 1e-5
    assert np.abs(vecs - ours).max() < 1e-5  # the passage vector is the plain vector
    # the long text is cut at 256 tokens: its second span lies beyond and falls back to the passage vector
    assert np.allclose(parts[-1], vecs[-1], atol=1e-6) and not np.allclose(parts[-2], vecs[-1], atol=1e-3)


def test_the_fp32_export_fuses_every_attention_layer(onnx_embedder: OnnxEmbedder, onnx_dir: Path) -> None:
    path = onnx_file(export_folder(onnx_dir, Path(resolve_model_path(DEFAULT_MODEL))), "fp32")
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert ops.count("Attention") == 6 and "EmbedLayerNormalization" in ops  # MiniLM-L6: six layers


def test_batches_by_word_pieces_keep_every_text_in_its_place(onnx_embedder: OnnxEmbedder) -> None:
    texts = ["한국어 텍스트 朝鮮 평양 서울", "a plain English sentence of about fifty characters", *TEXTS]
    pieces = [len(onnx_embedder._tokenizer.encode(t).ids) for t in texts]
    assert pieces[0] > pieces[1] and len(texts[0]) < len(texts[1])  # character order and word-piece order differ
    alone = np.stack([onnx_embedder.embed([t])[0] for t in texts])
    assert np.abs(onnx_embedder.embed(texts, batch_size=2) - alone).max() < 1e-5


def test_int8_is_opt_in_close_but_not_equal_and_has_its_own_index_name(onnx_dir: Path, torch_embedder) -> None:
    emb = make_embedder(DEFAULT_MODEL, "onnx-int8", onnx_dir)
    assert isinstance(emb, OnnxEmbedder) and emb.name == f"{DEFAULT_MODEL}+onnx-int8"
    cosine = (emb.embed(TEXTS) * torch_embedder.embed(TEXTS)).sum(axis=1)
    assert cosine.min() > 0.8 and cosine.max() < 0.99999


def _service(sources: Path, index: Path, encoder: str, onnx_dir: Path) -> Service:
    """A Service on the real model with the chosen encoder."""
    return Service(load_settings(sources_dir=sources, index_dir=index, encoder=encoder, onnx_dir=onnx_dir))


@pytest.mark.parametrize(("builder", "server"), [("torch", "onnx"), ("onnx", "torch")])
def test_an_index_built_by_one_backend_is_served_by_the_other(
    builder: str, server: str, tmp_path: Path, onnx_dir: Path, onnx_embedder: OnnxEmbedder
) -> None:
    built = _service(SEED, tmp_path / "index", builder, onnx_dir)
    assert built.ensure_index() is not None
    question = "How far did the Hwasong-15 missile fly?"
    before = built.ask(question, top_k=3)
    served = _service(SEED, tmp_path / "index", server, onnx_dir)
    assert type(served.embedder) is not type(built.embedder)
    assert served.ensure_index() is None  # current: not rebuilt for the other backend
    after = served.ask(question, top_k=3)
    assert before.answered and [p.text for p in after.passages] == [p.text for p in before.passages]
    assert [round(p.score, 4) for p in after.passages] == [round(p.score, 4) for p in before.passages]


def test_auto_exports_again_over_a_damaged_file(tmp_path: Path, onnx_embedder, caplog) -> None:
    folder = export_folder(tmp_path, Path(resolve_model_path(DEFAULT_MODEL)))
    make_embedder(DEFAULT_MODEL, "onnx", tmp_path)  # makes the export: there was none
    onnx_file(folder, "fp32").write_bytes(b"\x00" * onnx_file(folder, "fp32").stat().st_size)
    with caplog.at_level(logging.WARNING):
        emb = make_embedder(DEFAULT_MODEL, "auto", tmp_path)
    assert isinstance(emb, OnnxEmbedder) and "cannot load the ONNX export" in caplog.text
    assert np.abs(emb.embed(TEXTS[:2]) - onnx_embedder.embed(TEXTS[:2])).max() < 1e-6


def test_asking_with_a_current_index_imports_no_torch(tmp_path: Path, onnx_dir: Path, onnx_embedder) -> None:
    """`korea-bot ask` in a fresh process, index current: answers, and torch & co. were never imported."""
    _service(SEED, tmp_path / "index", "auto", onnx_dir).ensure_index()
    script = (
        "import json, sys\n"
        "from korea_bot.adapters.cli.main import main\n"
        "code = main(['ask', '--json', 'How far did the Hwasong-15 missile fly?'])\n"
        f"print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KOREA_BOT_QUESTION_LOG": "off"}
    env.update(KOREA_BOT_SOURCES_DIR=str(SEED), KOREA_BOT_INDEX_DIR=str(tmp_path / "index"))
    env.update(KOREA_BOT_ONNX_DIR=str(onnx_dir), KOREA_BOT_ENCODER="auto")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    answer, (code, heavy) = json.loads(lines[0]), json.loads(lines[-1])
    assert code == 0 and heavy == [], proc.stderr[-2000:]
    assert answer["passages"] and any("1000 km" in p["text"] for p in answer["passages"])
