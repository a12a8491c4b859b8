"""The benchmark scripts' core code on the bundled article with the hashing embedder, so they do not rot."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import peer
import pytest
import quality_core
import scale
import synthetic

from korea_bot.embedding import HashEmbedder
from korea_bot.evaluation import EvalItem, EvalSet

METRIC_KEYS = {"hit@1", "hit@3", "mrr@10", "ndcg@10", "abstain_correct", "false_abstain", "mean_quote_chars"}


def test_peer_chunks_are_langchain_sized_verbatim_slices(seed_sources: Path) -> None:
    """The peer cuts ~1,000-character chunks that are exact slices of each source's body."""
    chunks = peer.split_sources(seed_sources)
    assert len(chunks) > 5
    lengths = [len(c.text) for c in chunks]
    assert max(lengths) <= peer.CHUNK_SIZE
    assert np.mean(lengths) > 600
    for c in chunks:
        text = (seed_sources / c.source).read_text(encoding="utf-8")
        assert text[c.start : c.end] == c.text
    overlaps = [a.end - b.start for a, b in itertools.pairwise(chunks) if a.source == b.source]
    assert any(o > 0 for o in overlaps)


def test_peer_caches_vectors(seed_sources: Path, tmp_path: Path) -> None:
    """A second peer over the same sources reuses the cached vectors instead of embedding again."""
    emb = HashEmbedder(64)
    first = peer.LangChainPeer(seed_sources, emb, tmp_path / "cache")
    calls = emb.calls
    second = peer.LangChainPeer(seed_sources, emb, tmp_path / "cache")
    assert emb.calls == calls
    assert second.index.ntotal == first.index.ntotal == len(first.chunks)
    answered, results = second.search("Hwasong-15 missile test", 3)
    assert answered and len(results) == 3


def test_quality_run_reports_every_retriever(seed_sources: Path, tmp_path: Path) -> None:
    """run_dataset evaluates the four retrievers with the same metric code; the peer quotes far longer text."""
    items = [
        EvalItem(question="What did North Korea test on November 29, 2017?", answers=["Hwasong-15"]),
        EvalItem(question="Why can't Russia stay out of the Korean crisis?", answers=["borders on North Korea"]),
        EvalItem(question="What is the best recipe for banana bread?", answers=None),
    ]
    ds = quality_core.Dataset(
        name="tiny",
        evalset=EvalSet(name="tiny", items=items),
        sources=seed_sources,
        index=tmp_path / "index",
        doc_ids={},
    )
    entry = quality_core.run_dataset(ds, HashEmbedder(64), "hash:64", tmp_path / "cache")
    assert list(entry["rows"]) == list(quality_core.RETRIEVERS)
    for metrics in entry["rows"].values():
        assert set(metrics) >= METRIC_KEYS
        assert metrics["answerable"] == 2 and metrics["abstain_questions"] == 1
        assert 0.0 <= metrics["hit@1"] <= metrics["hit@3"] <= 1.0
    assert entry["rows"]["langchain"]["abstain_correct"] == 0.0
    assert entry["mean_chunk_chars"]["langchain"] > 1.5 * entry["mean_chunk_chars"]["ours"]
    assert entry["passages"]["ours"] > entry["passages"]["langchain"]


def test_prepare_seed_wiki_copies_articles_without_attribution_file(tmp_path: Path) -> None:
    """seed+wiki holds the bundled article plus the 35 Wikipedia articles (SOURCE.txt is not an article)."""
    shared = Path(quality_core.SHARED)
    if not (shared / "corpus" / "wikipedia-korea-2019").exists():
        pytest.skip("shared data not available")
    ds = quality_core.prepare("seed+wiki", tmp_path, shared, model="hash:64")
    names = sorted(p.name for p in (ds.sources / "wikipedia").iterdir())
    assert len(names) == 35 and "SOURCE.txt" not in names
    assert ds.index.name == "index-hash_64"


def test_synthetic_index_and_recall_helpers(fake_service) -> None:  # type: ignore[no-untyped-def]
    """A semi-synthetic index of any size is served by a real Service; exact_topk agrees with brute force."""
    real = fake_service.index
    index = synthetic.synthetic_index([real], 500, noise=0.5)
    assert len(index.chunks) == index.vectors.shape[0] == 500
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-4)
    assert index.keyword.scores("Hwasong missile").shape == (500,)
    service = scale.serve(index, fake_service.embedder, Path("/nonexistent"))
    answer = service.ask("Hwasong-15 missile")
    assert answer.passages and all(p.source.startswith("synthetic/") for p in answer.passages)
    queries = index.vectors[:7] + 0.01
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = scale.exact_topk(index.vectors, queries, k=10, block=64)
    brute = np.argsort(-(queries @ index.vectors.T), axis=1)[:, :10]
    assert all(set(a) == set(b) for a, b in zip(truth, brute, strict=True))
    assert scale.recall_at(index.dense.faiss, queries, truth) == 1.0
    assert set(scale.percentiles([1.0, 2.0, 3.0])) == {"p50", "p95", "mean"}


def test_ef_sweep_on_a_small_hnsw_index() -> None:
    """The recall-at-scale helpers work on an HNSW index (the 1M run is by hand): recall grows to ~1 with efSearch."""
    import faiss

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ann = faiss.IndexHNSWFlat(16, 8, faiss.METRIC_INNER_PRODUCT)
    ann.add(vectors)
    queries = vectors[:20]
    rows = scale.ef_sweep(ann, queries, scale.exact_topk(vectors, queries), (16, 256))
    assert [r["ef_search"] for r in rows] == [16, 256]
    assert rows[1]["recall@10"] >= rows[0]["recall@10"] and rows[1]["recall@10"] > 0.9
    assert {"p50", "p95"} <= set(rows[0])


def test_build_bench_floor_blocks_cover_each_body_once(seed_sources: Path) -> None:
    """The floor's blocks are consecutive slices of each body, FLOOR_TOKENS pieces each (a word tokenizer here)."""
    import re

    import bench_build

    def words(text: str, add_special_tokens: bool = False, return_offsets_mapping: bool = True) -> dict:
        return {"offset_mapping": [m.span() for m in re.finditer(r"\S+", text)]}

    texts = bench_build.floor_texts(seed_sources, words)
    bodies = " ".join(" ".join(re.findall(r"\S+", t)) for t in texts)
    assert len(texts) > 1 and all(len(t.split()) <= bench_build.FLOOR_TOKENS for t in texts)
    assert bodies.split() == [w for name in peer.discover(seed_sources) for w in _body(seed_sources, name).split()]


def _body(sources: Path, name: str) -> str:
    """A source's body as the floor reads it."""
    doc = peer.load_document(sources, name)
    return doc.text[doc.body_start :]
