"""Sentence vectors: pooling token vectors by character span, and the fake embedder's passage/sentence contract."""

from __future__ import annotations

import numpy as np

from korea_bot.embedding import HashEmbedder, pool_spans


def test_pool_spans_averages_the_tokens_that_start_inside_each_span() -> None:
    tokens = np.array([[9.0, 9.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [9.0, 9.0]])
    offsets = np.array([[0, 0], [0, 5], [6, 11], [13, 19], [0, 0]])  # [CLS] hello world . next [SEP]
    fallback = np.array([7.0, 7.0])
    first, second, beyond = pool_spans(tokens, offsets, [(0, 12), (13, 20), (40, 50)], fallback)
    assert np.allclose(first, [2.0, 0.0])  # special tokens (empty offsets) are left out
    assert np.allclose(second, [0.0, 2.0])
    assert beyond is fallback  # a span with no tokens (cut off by truncation) gets the passage vector


def test_fake_embedder_returns_one_vector_per_passage_and_per_span() -> None:
    emb = HashEmbedder(16)
    texts = ["Moscow talks. Pyongyang tests.", "One sentence."]
    vecs, parts = emb.embed_passages(texts, [[(0, 13), (14, 30)], [(0, 13)]])
    assert vecs.shape == (2, 16) and parts.shape == (3, 16)
    assert np.allclose(vecs, emb.embed(texts)) and np.allclose(parts[1], emb.embed(["Pyongyang tests."])[0])
    assert np.allclose(np.linalg.norm(parts, axis=1), 1.0, atol=1e-5)
