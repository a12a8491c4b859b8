"""The two search indexes behind one interface: build, save, load (checked), search, count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from korea_bot.embedding import HashEmbedder
from korea_bot.errors import IndexCorrupt
from korea_bot.index.dense import DenseIndex
from korea_bot.index.keyword import KeywordIndex, top_positive

TEXTS = [
    "Russia borders on North Korea.",
    "The double freeze initiative was lobbied by Russia and China.",
    "Six-party talks brought pragmatic countries together.",
    "Kimchi is a fermented dish.",
]


def test_dense_index_round_trip_and_exact_search(tmp_path: Path) -> None:
    """Flat search finds each vector as its own best match; a saved index loads back with the same answers."""
    vectors = HashEmbedder(32).embed(TEXTS)
    dense = DenseIndex.build(vectors)
    assert dense.count() == 4 and dense.describe()["type"] == "flat"
    scores, rows = dense.search(vectors[1], 3)
    assert rows[0] == 1 and scores[0] == pytest.approx(1.0, abs=1e-5) and len(rows) == 3
    assert list(scores) == sorted(scores, reverse=True)
    dense.save(tmp_path / "v.faiss")
    again = DenseIndex.load(tmp_path / "v.faiss", 4, 32)
    np.testing.assert_array_equal(again.search(vectors[2], 4)[1], dense.search(vectors[2], 4)[1])
    assert len(dense.search(vectors[0], 10)[1]) == 4  # never more rows than it holds


def test_dense_index_beyond_the_exact_limit_is_hnsw(tmp_path: Path) -> None:
    """Above exact_limit the index is HNSW with efSearch set, and still finds an exact copy first."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    dense = DenseIndex.build(vectors, exact_limit=100)
    assert dense.describe()["type"] == "hnsw"
    assert dense.search(vectors[42], 5)[1][0] == 42


def test_dense_index_load_refuses_a_wrong_count_or_a_damaged_file(tmp_path: Path) -> None:
    """A count or dimension that differs from the manifest, or a random file, is IndexCorrupt naming the file."""
    DenseIndex.build(HashEmbedder(32).embed(TEXTS)).save(tmp_path / "v.faiss")
    with pytest.raises(IndexCorrupt, match="manifest says 5x32"):
        DenseIndex.load(tmp_path / "v.faiss", 5, 32)
    with pytest.raises(IndexCorrupt, match="manifest says 4x64"):
        DenseIndex.load(tmp_path / "v.faiss", 4, 64)
    (tmp_path / "bad.faiss").write_bytes(b"\x00junk" * 10)
    with pytest.raises(IndexCorrupt, match=r"bad\.faiss: unreadable FAISS index"):
        DenseIndex.load(tmp_path / "bad.faiss", 4, 32)


def test_keyword_index_stems_skips_stop_words_and_round_trips(tmp_path: Path) -> None:
    """BM25 finds 'borders' from 'bordering', ignores 'the', and a saved index scores the same after loading."""
    keyword = KeywordIndex.build(TEXTS)
    assert keyword.count() == 4
    scores, rows = keyword.search("which country is bordering the north", 10)
    assert rows[0] == 0 and all(s > 0 for s in scores)
    assert not keyword.search("the of and", 10)[1].size  # only stop words: nothing matches
    assert not keyword.search("zebra", 10)[1].size  # unknown word
    keyword.save(tmp_path / "kw")
    again = KeywordIndex.load(tmp_path / "kw", 4)
    np.testing.assert_allclose(again.scores("double freeze"), keyword.scores("double freeze"))
    with pytest.raises(IndexCorrupt, match="holds 4 passages, manifest says 9"):
        KeywordIndex.load(tmp_path / "kw", 9)
    with pytest.raises(IndexCorrupt, match="keyword index unreadable"):
        KeywordIndex.load(tmp_path / "missing", 4)


def test_top_positive_orders_and_drops_zero_scores() -> None:
    """Only positive scores are returned, best first, at most k of them."""
    scores, rows = top_positive(np.asarray([0.0, 3.0, 1.0, 2.0, 0.0], np.float32), 2)
    assert list(rows) == [1, 3] and list(scores) == [3.0, 2.0]
    assert not top_positive(np.zeros(3, np.float32), 2)[1].size
    assert not top_positive(np.zeros(0, np.float32), 2)[1].size
