"""The dense side of retrieval: a FAISS index chosen by size (exact, then HNSW), saved and loaded safely."""

from __future__ import annotations

import numpy as np

from .store import IndexCorrupt

EXACT_LIMIT = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def build_ann(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT):  # type: ignore[no-untyped-def]
    """Exact inner-product search up to exact_limit vectors, HNSW beyond."""
    import faiss

    n, dim = vectors.shape
    if n <= exact_limit:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def describe(index) -> dict:  # type: ignore[no-untyped-def]
    """A JSON-able description of the index type, for the manifest."""
    hnsw = getattr(index, "hnsw", None)
    if hnsw is not None:
        return {"type": "hnsw", "m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": HNSW_EF_SEARCH}
    return {"type": "flat"}


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
