"""The ONNX encoder's two sessions (a run split over two threads, one-thread runs side by side) agree bit for bit."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from korea_bot.config import DEFAULT_MODEL
from korea_bot.embedding import make_embedder
from korea_bot.embedding.onnx import SMALL_BATCH, OnnxEmbedder

pytestmark = pytest.mark.slow
PASSAGES = [f"Passage {i}: Moscow proposed a freeze; " + "Seoul waited. " * (i % 7) for i in range(3 * SMALL_BATCH)]


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    """The bundled model on ONNX Runtime (exported here once)."""
    emb = make_embedder(DEFAULT_MODEL, "onnx", tmp_path_factory.mktemp("onnx"))
    assert isinstance(emb, OnnxEmbedder)
    return emb


def test_batches_side_by_side_and_split_runs_give_the_same_vectors(onnx_embedder: OnnxEmbedder) -> None:
    """The same batches run side by side (one thread each) or one after another (each split over two threads) give
    the same vectors bit for bit; a question after them gives the side-by-side session back."""
    side_by_side = onnx_embedder.embed(PASSAGES, batch_size=8)
    assert onnx_embedder._side_by_side is not None
    one_after_another = copy.copy(onnx_embedder)
    one_after_another._workers = 1
    split = one_after_another.embed(PASSAGES, batch_size=8)
    assert np.array_equal(split.view(np.uint32), side_by_side.view(np.uint32))
    onnx_embedder.embed(PASSAGES[:1])
    assert onnx_embedder._side_by_side is None
