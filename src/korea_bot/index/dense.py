"""The dense side of retrieval: a FAISS index chosen by size (exact, then HNSW), saved and loaded safely."""

from __future__ import annotations

import numpy as np

from .store import IndexCorrupt

# Chosen from benchmarks/bench_speed.py (docs/BENCHMARKS.md, "The FAISS index by size"): a flat scan costs ~1 ms at
# 10k passages but 36-104 ms at 50k-200k on a busy 2-core machine, while HNSW answers in a few ms at any size. Questions
# are far from passages, so HNSW needs a wide search: at 1M passages efSearch 2048 gives recall@10 0.96 in ~4 ms.
EXACT_LIMIT = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 2048
# What was measured for these settings at 1M semi-synthetic passages; copied into HNSW manifests.
MEASURED: dict = {
    "passages": 1_000_000,
    "data": "semi-synthetic (real passages repeated, real vectors plus noise)",
    "recall@10": 0.962,
    "recall@10_off_topic": 0.872,
    "faiss_p50_ms": 3.7,
    "retrieval_p50_ms_at_ef256": 18.6,
    "benchmark": "benchmarks/bench_speed.py --only recall,latency",
}


def build_ann(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT):  # type: ignore[no-untyped-def]
    """Exact inner-product search up to exact_limit vectors, HNSW (efSearch set) beyond."""
    import faiss

    n, dim = vectors.shape
    if n <= exact_limit:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def describe(index) -> dict:  # type: ignore[no-untyped-def]
    """A JSON-able description of the index type, for the manifest."""
    hnsw = getattr(index, "hnsw", None)
    if hnsw is not None:
        return {
            "type": "hnsw",
            "metric": "inner_product",
            "m": int(hnsw.nb_neighbors(1)),
            "ef_construction": int(hnsw.efConstruction),
            "ef_search": HNSW_EF_SEARCH,
            "exact_limit": EXACT_LIMIT,
            "measured": MEASURED,
        }
    return {"type": "flat", "metric": "inner_product", "exact_limit": EXACT_LIMIT, "recall@10": 1.0}


def save_ann(index, path) -> dict:  # type: ignore[no-untyped-def]
    """Write the FAISS index to path and return its description."""
    import faiss

    faiss.write_index(index, str(path))
    return describe(index)


def load_ann(path, n: int, dim: int):  # type: ignore[no-untyped-def]
    """Read a FAISS index, checking its size and dimension against the manifest."""
    import faiss

    try:
        index = faiss.read_index(str(path))
    except Exception as exc:
        raise IndexCorrupt(f"{path}: unreadable FAISS index ({str(exc).splitlines()[0][:200]})") from None
    if index.d != dim or index.ntotal != n:
        raise IndexCorrupt(f"{path}: holds {index.ntotal} vectors of dimension {index.d}, manifest says {n}x{dim}")
    if getattr(index, "hnsw", None) is not None:
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def search(index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Top-k (scores, ids) for one normalised query vector; ids of -1 are dropped."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
