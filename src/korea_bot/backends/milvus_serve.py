"""Serving from Milvus: dense and BM25 search, vectors on demand, and a LoadedIndex-shaped version to search."""

from __future__ import annotations

import json
import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexMissing, SearchBackendError
from ..index import LoadedIndex
from ..index.dense import HNSW_EF_SEARCH
from ..index.keyword import tokenize, top_positive
from ..index.layout import sentence_starts
from ..models import Chunk, Document
from .milvus_client import REQUEST_TIMEOUT, guarded, live_collection, read_blobs, sibling, version_of
from .milvus_store import IN_LIST, Store, in_list, visible

log = logging.getLogger(__name__)
TOPK_MAX = 16_384  # Milvus' largest limit: BM25 scores beyond the best 16,384 passages read as 0
PAGE = 2000  # passages per query while loading
RETRIES = 3
CACHE_ROWS = 4096  # passages whose sentence vectors a process keeps (~6 MB at 384 dimensions)


@dataclass
class Engine:
    """One version in one Milvus: its passages collection, the shared store seen at its stamp, its row <-> key map."""

    client: Any
    uri: str
    passages: str
    store: Store
    stamp: int
    pids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # the store key of each row
    rows_of: dict[int, list[int]] = field(default_factory=dict)  # the rows of each key (a passage in two files: 2)

    def query(self, collection: str, where: str, fields: list[str]) -> list[dict]:
        """The rows of a collection matching a filter."""
        return guarded(
            self.uri,
            "a lookup",
            lambda: self.client.query(collection, filter=where, output_fields=fields, timeout=REQUEST_TIMEOUT),
        )

    def by_pid(self, collection: str, rows: np.ndarray, fields: list[str], where: str = "") -> list[dict]:
        """The store rows of the given passage rows' keys (plus an extra filter), in batches."""
        keys = np.unique(self.pids[rows])
        out: list[dict] = []
        for lo in range(0, len(keys), IN_LIST):
            out.extend(
                self.query(
                    collection, " and ".join(filter(None, [where, in_list("pid", keys[lo : lo + IN_LIST])])), fields
                )
            )
        return out

    def missing(self, what: str) -> SearchBackendError:
        """The error when the store lacks this version's rows: collected after newer publishes, or never written."""
        if guarded(self.uri, "reading the alias", lambda: live_collection(self.client)) != self.passages:
            return SearchBackendError(f"Milvus at {self.uri}: {what} of {self.passages} are gone (replaced); reload")
        return SearchBackendError(
            f"Milvus at {self.uri}: the store {self.store.prefix} lacks {what} of the live {self.passages}: "
            "drop its kb_store_ collections and publish again with `korea-bot index --full`"
        )


class MilvusDense:
    """DenseIndex's search interface over a version's passage vectors in the shared store."""

    def __init__(self, engine: Engine, n: int) -> None:
        """Search the store at engine.stamp, whose visible rows are this version's n passages."""
        self.engine, self.n = engine, n

    def search(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) by inner product, among `rows` only when given.

        A key held by several rows (the same passage in two files) gives all of them, lowest row first, as FAISS
        gives equal scores; asking for k keys therefore always yields k rows.
        """
        e = self.engine
        k = min(k, self.n if rows is None else len(rows), TOPK_MAX)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        allowed = None if rows is None else set(np.asarray(rows, dtype=np.int64).tolist())
        where = visible(e.stamp)
        if rows is not None:
            where += " and " + in_list("pid", np.unique(e.pids[np.asarray(rows, dtype=np.int64)]))
        params = {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, k)}}
        vector = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        hits = guarded(
            e.uri,
            "a vector search",
            lambda: e.client.search(
                e.store.passages,
                data=[vector],
                anns_field="vec",
                limit=k,
                filter=where,
                output_fields=["pid"],
                search_params=params,
                timeout=REQUEST_TIMEOUT,
            ),
        )[0]
        scores, found = [], []
        for h in hits:
            pid = int(h.get("entity", {}).get("pid", h.get("pid")))
            if pid not in e.rows_of:
                raise SearchBackendError(
                    f"Milvus at {e.uri}: the store shows a passage key {pid} that {e.passages} does not have "
                    "(another builder publishing?); publish again"
                )
            for row in e.rows_of[pid]:
                if allowed is None or row in allowed:
                    scores.append(h["distance"])
                    found.append(row)
        return np.asarray(scores[:k], dtype=np.float32), np.asarray(found[:k], dtype=np.int64)

    def count(self) -> int:
        """How many passages are searched."""
        return self.n


class MilvusKeyword:
    """KeywordIndex's interface: the bm25s weights stored as sparse vectors give exactly bm25s' BM25 scores."""

    def __init__(self, engine: Engine, n: int, vocab: dict[str, list[int]]) -> None:
        """Score engine.passages (n passages) with the version's vocabulary (term -> [id, document frequency])."""
        self.engine, self.n, self.vocab = engine, n, vocab

    def scores(self, query: str) -> np.ndarray:
        """BM25 of every passage (the best TOPK_MAX of them; the rest 0), zeros when no query term is known."""
        out = np.zeros(self.n, dtype=np.float32)
        tokens = tokenize([query])
        inv = {i: t for t, i in tokens.vocab.items()}
        counts = Counter(self.vocab[inv[i]][0] for i in tokens.ids[0] if inv.get(i) in self.vocab)
        if not counts or not self.n:
            return out
        sparse = {int(t): float(c) for t, c in counts.items()}
        hits = guarded(
            self.engine.uri,
            "a keyword search",
            lambda: self.engine.client.search(
                self.engine.passages,
                data=[sparse],
                anns_field="bm",
                limit=min(self.n, TOPK_MAX),
                output_fields=["row"],
                search_params={"metric_type": "IP"},
                timeout=REQUEST_TIMEOUT,
            ),
        )[0]
        scores, rows = _pairs(hits)
        out[rows] = scores
        return out

    def doc_freqs(self, terms: list[str]) -> dict[str, int]:
        """How many passages hold each (already stemmed) term; 0 for unknown terms."""
        return {t: int(self.vocab[t][1]) if t in self.vocab else 0 for t in terms}

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best positive BM25 scores as (scores, rows), best first."""
        return top_positive(self.scores(query), k)

    def count(self) -> int:
        """How many passages are scored."""
        return self.n


class RemoteVectors:
    """The passage vectors, fetched from the store by row (`vectors[rows]`), shaped like the files' array."""

    def __init__(self, engine: Engine, n: int, dim: int) -> None:
        """n vectors of dimension dim, under the keys engine.pids."""
        self.engine, self.shape, self.dtype = engine, (n, dim), np.dtype(np.float32)

    def __len__(self) -> int:
        """How many passages there are."""
        return self.shape[0]

    def __getitem__(self, rows: Any) -> np.ndarray:
        """The float32 vectors of the given rows (an int or an array of rows), in that order."""
        e = self.engine
        wanted = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        got = {int(r["pid"]): r["vec"] for r in e.by_pid(e.store.passages, wanted, ["pid", "vec"], visible(e.stamp))}
        if len(got) < len(np.unique(e.pids[wanted])):
            raise e.missing("passage vectors")
        out = np.asarray([got[int(p)] for p in e.pids[wanted]], dtype=np.float32).reshape(len(wanted), self.shape[1])
        return out[0] if np.ndim(rows) == 0 else out


@dataclass
class MilvusLoaded(LoadedIndex):
    """A version served from Milvus: texts in memory, vectors and both searches in the engine."""

    engine: Engine | None = None

    def sentence_vectors_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The float32 sentence vectors of the given passages, flat, and where each passage's run begins.

        An answer asks for the same candidates' sentences up to three times (scoring, features, highlight): the
        last CACHE_ROWS passages' vectors are kept, so each is fetched once.
        """
        assert self.engine is not None
        rows = np.asarray(rows, dtype=np.int64)
        cache: OrderedDict[int, np.ndarray] = self.derived.setdefault("milvus_sentences", OrderedDict())
        missing = np.unique([r for r in rows.tolist() if r not in cache]).astype(np.int64)
        dim = int(self.manifest["dim"])
        if missing.size:
            e = self.engine
            by_pid: dict[int, list[tuple[int, list[float]]]] = {int(e.pids[r]): [] for r in missing}
            for r in e.by_pid(e.store.sentences, missing, ["pid", "j", "vec"]):
                by_pid[int(r["pid"])].append((int(r["j"]), r["vec"]))
            for row in missing.tolist():
                found = sorted(by_pid[int(e.pids[row])])
                if len(found) != len(self.chunks[row].sentences):
                    raise e.missing("sentence vectors")
                cache[row] = np.asarray([v for _, v in found], dtype=np.float32).reshape(len(found), dim)
        runs = [cache[int(r)] for r in rows]
        for r in rows.tolist():
            cache.move_to_end(r)
        while len(cache) > CACHE_ROWS:
            cache.popitem(last=False)
        counts = np.asarray([len(run) for run in runs], dtype=np.int64)
        flat = np.concatenate(runs) if runs else np.zeros((0, dim), np.float32)
        return flat, np.cumsum(counts) - counts


def load_live(client: Any, uri: str) -> MilvusLoaded:
    """Load the version the alias names, starting again if a publish drops it meanwhile."""
    for _ in range(RETRIES):
        passages = guarded(uri, "reading the alias", lambda: live_collection(client))
        if passages is None:
            raise IndexMissing(f"Milvus at {uri} holds no index yet: run `korea-bot index` with this backend")
        try:
            return load_version(client, uri, passages)
        except SearchBackendError:
            if guarded(uri, "reading the alias", lambda: live_collection(client)) == passages:
                raise
            log.info("Milvus version %s was replaced while loading; loading the new one", version_of(passages))
    raise SearchBackendError(f"Milvus at {uri}: the live version changed {RETRIES} times while loading; try again")


def load_version(client: Any, uri: str, passages: str) -> MilvusLoaded:
    """Read a version's blobs and passages (texts, store keys) and wrap its searches of the store at its stamp."""
    blobs_name = sibling(passages, "blobs")
    for name in (passages, blobs_name):  # released after an engine restart
        guarded(uri, f"loading {name}", lambda name=name: client.load_collection(name))
    blobs = guarded(uri, "reading the version", lambda: read_blobs(client, blobs_name))
    if "milvus" not in blobs:
        raise SearchBackendError(
            f"Milvus at {uri} serves {version_of(passages)} in the layout before the shared vector store: "
            "rebuild it with `korea-bot index --full`"
        )
    store = Store(client, str(blobs["milvus"]["store"]))
    for name in (store.passages, store.sentences):
        guarded(uri, f"loading {name}", lambda name=name: client.load_collection(name))
    engine = Engine(client, uri, passages, store, int(blobs["milvus"]["stamp"]))
    manifest = blobs["manifest"]
    n, dim = int(manifest["counts"]["passages"]), int(manifest["dim"])
    chunks: list[Chunk] = []
    pids: list[int] = []
    for lo in range(0, n, PAGE):
        where = f"row >= {lo} and row < {lo + PAGE}"
        page = sorted(engine.query(passages, where, ["row", "pid", "chunk"]), key=lambda r: int(r["row"]))
        chunks.extend(Chunk.from_row(json.loads(r["chunk"])) for r in page)
        pids.extend(int(r["pid"]) for r in page)
    if len(chunks) != n:
        raise SearchBackendError(f"Milvus at {uri}: {passages} holds {len(chunks)} passages, not {n}")
    engine.pids = np.asarray(pids, dtype=np.int64)
    for row, pid in enumerate(pids):
        engine.rows_of.setdefault(pid, []).append(row)
    documents = {k[4:]: Document.from_row(v) for k, v in blobs.items() if k.startswith("doc:")}
    return MilvusLoaded(
        path=Path(uri),
        manifest=manifest,
        chunks=chunks,
        documents=documents,
        vectors=RemoteVectors(engine, n, dim),  # type: ignore[arg-type]
        dense=MilvusDense(engine, n),  # type: ignore[arg-type]
        keyword=MilvusKeyword(engine, n, blobs["vocab"]),  # type: ignore[arg-type]
        sentence_vectors=np.zeros((0, dim), np.float16),
        sentence_start=sentence_starts(chunks),
        engine=engine,
    )


def _pairs(hits: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) arrays of a Milvus search result, best first."""
    scores = np.asarray([h["distance"] for h in hits], dtype=np.float32)
    rows = np.asarray([h.get("entity", {}).get("row", h.get("row")) for h in hits], dtype=np.int64)
    return scores, rows
