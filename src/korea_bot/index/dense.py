"""The dense index: FAISS over the passage vectors, exact up to EXACT_LIMIT passages and HNSW beyond."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import numpy as np

from ..errors import IndexCorrupt
from .base import SearchIndex

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


class DenseIndex(SearchIndex):
    """Inner-product search over unit vectors (cosine), with a FAISS index chosen by size."""

    def __init__(self, faiss_index: Any) -> None:
        """Wrap a FAISS index."""
        self.faiss = faiss_index

    @classmethod
    def build(cls, items: np.ndarray, exact_limit: int = EXACT_LIMIT) -> Self:
        """Exact inner-product search up to exact_limit vectors, HNSW (efSearch set) beyond."""
        import faiss

        n, dim = items.shape
        if n <= exact_limit:
            index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        if n:
            index.add(np.ascontiguousarray(items, dtype=np.float32))
        return cls(index)

    def save(self, path: Path) -> None:
        """Write the index (serialised by FAISS, written by Python so a full disk raises a real OSError)."""
        import faiss

        data = faiss.serialize_index(self.faiss).tobytes()
        with open(path, "wb") as fh:
            fh.write(data)

    @classmethod
    def load(cls, path: Path, count: int, dim: int | None = None) -> Self:
        """Read a FAISS index, checking its size (and dimension) against the manifest."""
        import faiss

        try:
            index = faiss.read_index(str(path))
        except Exception as exc:
            raise IndexCorrupt(f"{path}: unreadable FAISS index ({str(exc).splitlines()[0][:200]})") from None
        if index.ntotal != count or (dim is not None and index.d != dim):
            raise IndexCorrupt(
                f"{path}: holds {index.ntotal} vectors of dimension {index.d}, manifest says {count}x{dim}"
            )
        if getattr(index, "hnsw", None) is not None:
            index.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index)

    def search(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) for one normalised query vector, among `rows` only when given (a collection)."""
        k = min(k, self.faiss.ntotal if rows is None else len(rows))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        vector = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if rows is None:
            scores, ids = self.faiss.search(vector, k)
        else:
            scores, ids = self.faiss.search(vector, k, params=self._only(rows))
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep].astype(np.int64)

    def _only(self, rows: np.ndarray):  # type: ignore[no-untyped-def]
        """FAISS search parameters that restrict a search to the given rows (keeping HNSW's efSearch)."""
        import faiss

        selector = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
        if getattr(self.faiss, "hnsw", None) is not None:
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=HNSW_EF_SEARCH)
        else:
            params = faiss.SearchParameters(sel=selector)
        params.selector_ref = selector  # FAISS keeps a raw pointer: the selector must live as long as the parameters
        return params

    def count(self) -> int:
        """How many vectors the index holds."""
        return int(self.faiss.ntotal)

    def describe(self) -> dict:
        """A JSON-able description of the index type, for the manifest."""
        hnsw = getattr(self.faiss, "hnsw", None)
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
