"""Latency and ANN recall at growing corpus sizes, on semi-synthetic indexes served by a real Service."""

from __future__ import annotations

import gc
import resource
import time
from pathlib import Path

import numpy as np
from synthetic import perturbed_vectors, synthetic_index

from korea_bot.config import load_settings
from korea_bot.embedding import Embedder
from korea_bot.index import LoadedIndex
from korea_bot.index.dense import HNSW_EF_SEARCH, DenseIndex
from korea_bot.search.question import Query
from korea_bot.service import Service

EF_SWEEP = (32, 64, 128, 256, 512)


def percentiles(ms: list[float]) -> dict:
    """p50/p95/mean of a list of milliseconds."""
    arr = np.asarray(ms, dtype=np.float64)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)), "mean": float(arr.mean())}


def rss_mb() -> dict:
    """Current and peak resident memory of this process, in MiB."""
    import psutil

    return {
        "rss_mb": psutil.Process().memory_info().rss / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def exact_topk(vectors: np.ndarray, queries: np.ndarray, k: int = 10, block: int = 131_072) -> np.ndarray:
    """Exact top-k ids by inner product, computed blockwise (no second copy of the vectors)."""
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    for lo in range(0, len(vectors), block):
        part = np.asarray(vectors[lo : lo + block], dtype=np.float32)
        s = queries @ part.T
        top = np.argpartition(-s, min(k, s.shape[1] - 1), axis=1)[:, :k]
        best_s = np.concatenate([best_s, np.take_along_axis(s, top, 1)], axis=1)
        best_i = np.concatenate([best_i, top + lo], axis=1)
        keep = np.argsort(-best_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(best_s, keep, 1), np.take_along_axis(best_i, keep, 1)
    return best_i


def recall_at(ann, queries: np.ndarray, truth: np.ndarray, k: int = 10) -> float:  # type: ignore[no-untyped-def]
    """Mean fraction of the exact top-k that the ANN index returns in its top-k."""
    _, ids = ann.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ids, truth, strict=True)]))


def ann_single_ms(ann, queries: np.ndarray, k: int = 100) -> dict:  # type: ignore[no-untyped-def]
    """Per-query latency of the ANN index alone (one query at a time, as the bot does)."""
    dense = DenseIndex(ann)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        dense.search(q, k)
        times.append((time.perf_counter() - t0) * 1000)
    return percentiles(times)


def ef_sweep(ann, queries: np.ndarray, truth: np.ndarray, efs: tuple[int, ...] = EF_SWEEP) -> list[dict]:  # type: ignore[no-untyped-def]
    """Recall@10 and single-query latency of an HNSW index for several efSearch values."""
    hnsw = ann.hnsw
    rows = []
    for ef in efs:
        hnsw.efSearch = ef
        rows.append({"ef_search": ef, "recall@10": recall_at(ann, queries, truth), **ann_single_ms(ann, queries)})
    hnsw.efSearch = HNSW_EF_SEARCH
    return rows


def serve(index: LoadedIndex, embedder: Embedder, scratch: Path) -> Service:
    """A real Service serving an in-memory index (swapped in as a reload would)."""
    service = Service(load_settings(sources_dir=scratch, index_dir=scratch / "unused"), embedder=embedder)
    service._set(index)
    return service


def measure_size(
    reals: list[LoadedIndex],
    n: int,
    embedder: Embedder,
    questions: list[str],
    query_vecs: np.ndarray,
    scratch: Path,
    off_topic: np.ndarray | None = None,
) -> dict:
    """Build an n-passage semi-synthetic index, then measure it with measure_index."""
    t0 = time.perf_counter()
    index = synthetic_index(reals, n)
    build_s = time.perf_counter() - t0
    row = measure_index(index, embedder, questions, query_vecs, scratch, off_topic)
    row["build_seconds"] = round(build_s, 1)
    del index
    gc.collect()
    return row


def measure_index(
    index: LoadedIndex,
    embedder: Embedder,
    questions: list[str],
    query_vecs: np.ndarray,
    scratch: Path,
    off_topic: np.ndarray | None = None,
) -> dict:
    """Time Service.ask and its parts on an index, and the ANN's recall against exact search."""
    n = len(index.chunks)
    memory = rss_mb()
    service = serve(index, embedder, scratch)
    for q in questions[:3]:
        service.ask(q)
    ask, ranked, ann, kw, answered = [], [], [], [], 0
    for q, qvec in zip(questions, query_vecs, strict=True):
        t = time.perf_counter()
        answer = service.ask(q)
        ask.append((time.perf_counter() - t) * 1000)
        answered += answer.answered
        t = time.perf_counter()
        service.retriever.rank(index, Query(text=q, vector=qvec), limit=service.settings.top_k)
        ranked.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        index.dense.search(qvec, service.retrieval.candidates)
        ann.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        index.keyword.scores(q)
        kw.append((time.perf_counter() - t) * 1000)
    row = {
        "passages": n,
        "ann": index.dense.describe(),
        "synthetic": str(index.path).startswith("/synthetic"),
        "questions": len(questions),
        "answered": answered,
        "ask_ms": percentiles(ask),
        "rank_ms": percentiles(ranked),
        "ann_ms": percentiles(ann),
        "keyword_ms": percentiles(kw),
        **memory,
    }
    ann = index.dense.faiss
    if getattr(ann, "hnsw", None) is not None:
        truth = exact_topk(index.vectors, query_vecs)
        row["recall@10"] = recall_at(ann, query_vecs, truth)
        row["ef_sweep"] = ef_sweep(ann, query_vecs, truth)
        if off_topic is not None:
            off_truth = exact_topk(index.vectors, off_topic)
            row["recall@10_off_topic"] = recall_at(ann, off_topic, off_truth)
            row["ef_sweep_off_topic"] = ef_sweep(ann, off_topic, off_truth)
        t = time.perf_counter()
        exact_topk(index.vectors, query_vecs[:20])
        row["exact_numpy_ms_per_query"] = (time.perf_counter() - t) * 1000 / 20
    else:
        row["recall@10"] = 1.0
    return row


def ann_crossover(base: np.ndarray, sizes: list[int], queries: np.ndarray, noise: float = 0.75) -> list[dict]:
    """Flat against HNSW at the same sizes (vectors only): build time, single-query latency, recall@10."""
    import faiss

    rows = []
    for n in sizes:
        vectors = perturbed_vectors(base, n, noise)
        truth = exact_topk(vectors, queries)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        t0 = time.perf_counter()
        hnsw = DenseIndex.build(vectors, exact_limit=0).faiss
        build_s = time.perf_counter() - t0
        rows.append(
            {
                "passages": n,
                "flat_ms": ann_single_ms(flat, queries),
                "hnsw": DenseIndex(hnsw).describe(),
                "hnsw_build_seconds": round(build_s, 1),
                "hnsw_ms": ann_single_ms(hnsw, queries),
                "hnsw_recall@10": recall_at(hnsw, queries, truth),
            }
        )
        print(f"crossover n={n}: {rows[-1]}", flush=True)
        del flat, hnsw, vectors
        gc.collect()
    return rows


def recall_at_scale(
    base: np.ndarray, n: int, on: np.ndarray, off: np.ndarray, efs: tuple[int, ...], noise: float = 0.75
) -> dict:
    """Vectors only: the index DenseIndex.build picks for n semi-synthetic vectors, its recall@10 per efSearch."""
    vectors = perturbed_vectors(base, n, noise)
    t0 = time.perf_counter()
    dense = DenseIndex.build(vectors)
    ann = dense.faiss
    build_s = time.perf_counter() - t0
    out = {"passages": n, "ann": dense.describe(), "build_seconds": round(build_s, 1), "noise": noise, **rss_mb()}
    if getattr(ann, "hnsw", None) is not None:
        out["ef_sweep"] = ef_sweep(ann, on, exact_topk(vectors, on), efs)
        out["ef_sweep_off_topic"] = ef_sweep(ann, off, exact_topk(vectors, off), efs)
    return out
