"""The shared vector store: passage and sentence vectors keyed by content, visible to a publish stamp by interval."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..index import LoadedIndex
from ..index.dense import EXACT_LIMIT, HNSW_EF_CONSTRUCTION, HNSW_M
from .milvus_client import INDEX_TIMEOUT, REQUEST_TIMEOUT, WRITE_TIMEOUT, pymilvus

log = logging.getLogger(__name__)
STORE = "kb_store_"  # outside the kb_v<version>_ pattern: never dropped with a version
LIVE = 2**62  # vto of a row no publish has retired yet
BATCH = 500  # passages per write call
IN_LIST = 1000  # keys per `pid in [...]` filter
KEY_ROWS = 4096  # passages hashed per read of their vectors (~6 MB at 384 dimensions)


def store_prefix(model: str, dim: int) -> str:
    """The store of one embedding model and dimension (another model's vectors never mix in)."""
    digest = hashlib.blake2b(model.encode("utf-8"), digest_size=4).hexdigest()
    return f"{STORE}{digest}_{dim}"


def visible(stamp: int) -> str:
    """The filter for rows a version published with `stamp` sees."""
    return f"vfrom <= {stamp} and vto > {stamp}"


def in_list(field: str, keys: Any) -> str:
    """A `field in [...]` filter."""
    return f"{field} in [" + ",".join(str(int(k)) for k in keys) + "]"


def _signed(digest: bytes) -> int:
    """The first 8 bytes of a digest as a signed int64."""
    return int.from_bytes(digest[:8], "little", signed=True)


def passage_keys(loaded: LoadedIndex) -> np.ndarray:
    """Each passage's content key: blake2b over its float32 vector bytes and its float16 sentence vector bytes.

    Read KEY_ROWS passages at a time: the vectors are memory-mapped, and all at once would be 1.5 GB at 1M x 384.
    """
    n, starts = len(loaded.chunks), loaded.sentence_start
    out = np.empty(n, dtype=np.int64)
    for lo in range(0, n, KEY_ROWS):
        hi = min(n, lo + KEY_ROWS)
        vectors = np.ascontiguousarray(np.asarray(loaded.vectors[np.arange(lo, hi)], dtype=np.float32))
        first = int(starts[lo])
        sentences = np.ascontiguousarray(np.asarray(loaded.sentence_vectors[first : int(starts[hi])], dtype=np.float16))
        for i in range(lo, hi):
            h = hashlib.blake2b(vectors[i - lo].tobytes(), digest_size=8)
            h.update(sentences[int(starts[i]) - first : int(starts[i + 1]) - first].tobytes())
            out[i] = _signed(h.digest())
    return out


def sentence_key(pid: int, j: int) -> int:
    """The key of sentence j of passage pid (sentences are content: shared by every row of that passage)."""
    return _signed(hashlib.blake2b(f"{pid}:{j}".encode(), digest_size=8).digest())


def row_key(pid: int, vfrom: int) -> int:
    """The key of a store passage row: a passage retired and later added again gets a second row."""
    return _signed(hashlib.blake2b(f"{pid}@{vfrom}".encode(), digest_size=8).digest())


@dataclass
class Store:
    """The two store collections of one model and dimension in one Milvus."""

    client: Any
    prefix: str

    @property
    def passages(self) -> str:
        """Passage vectors: id, pid, vfrom, vto, vec."""
        return f"{self.prefix}_passages"

    @property
    def sentences(self) -> str:
        """Sentence vectors: sid, pid, j (number within the passage), vec; read by pid of a visible passage."""
        return f"{self.prefix}_sentences"

    @property
    def meta(self) -> str:
        """One row: the stamp of the last version switched to that reads this store (its mark)."""
        return f"{self.prefix}_meta"

    def switched(self) -> int:
        """The stamp of the last version switched to with this store (0: none recorded)."""
        rows = self.client.query(self.meta, filter="id == 0", output_fields=["stamp"], timeout=REQUEST_TIMEOUT)
        return int(rows[0]["stamp"]) if rows else 0

    def set_switched(self, stamp: int) -> None:
        """Record that the version with `stamp`, reading this store, went live (after the alias switch)."""
        self.client.upsert(self.meta, [{"id": 0, "stamp": stamp, "pad": [0.0, 1.0]}], timeout=WRITE_TIMEOUT)

    def ensure(self, dim: int, n: int, wait: bool) -> None:
        """Create what is missing (a crash may leave a collection without its index), load; HNSW past EXACT_LIMIT."""
        schemas = {self.passages: _passage_schema, self.sentences: _sentence_schema, self.meta: _meta_schema}
        for name, schema in schemas.items():
            if not self.client.has_collection(name, timeout=REQUEST_TIMEOUT):
                strong = {"consistency_level": "Strong", "timeout": WRITE_TIMEOUT}  # Strong: a publish reads its writes
                self.client.create_collection(name, schema=schema(self.client, dim), **strong)
            if not self.client.list_indexes(name, timeout=REQUEST_TIMEOUT):
                field = "pad" if name == self.meta else "vec"
                params = _index(self.client, n if name == self.passages else 0, field)
                self.client.create_index(name, params, sync=wait, timeout=INDEX_TIMEOUT)
            self.client.load_collection(name, timeout=INDEX_TIMEOUT)
        kind = (self.client.describe_index(self.passages, "vec", timeout=REQUEST_TIMEOUT) or {}).get("index_type")
        if kind is None or (n > EXACT_LIMIT and kind == "FLAT"):  # readers fail while it is rebuilt: once per store
            log.info(
                "indexing the Milvus store %s (%d passages) anew: %s",
                self.passages,
                n,
                "HNSW" if n > EXACT_LIMIT else "FLAT",
            )
            self.client.release_collection(self.passages, timeout=WRITE_TIMEOUT)
            self.client.drop_index(self.passages, "vec", timeout=WRITE_TIMEOUT)
            self.client.create_index(self.passages, _index(self.client, n), sync=wait, timeout=INDEX_TIMEOUT)
            self.client.load_collection(self.passages, timeout=INDEX_TIMEOUT)

    def rows(self, where: str, fields: list[str], collection: str = "") -> list[dict]:
        """Every row matching a filter (read in batches: one query returns at most 16,384 rows)."""
        it = self.client.query_iterator(
            collection or self.passages, batch_size=4000, filter=where, output_fields=fields, timeout=REQUEST_TIMEOUT
        )
        out: list[dict] = []
        try:
            while batch := it.next():
                out.extend(batch)
        finally:
            it.close()
        return out

    def visible_pids(self, stamp: int) -> set[int]:
        """The passage keys a version published with `stamp` sees."""
        return {int(r["pid"]) for r in self.rows(visible(stamp), ["pid"])}

    def undo_above(self, stamp: int) -> tuple[int, int]:
        """Undo what publishes with stamps above `stamp` wrote and never switched to; (rows deleted, restored)."""
        born = self.rows(f"vfrom > {stamp}", ["id", "pid"])
        self._delete(born)
        retired = self.rows(f"vto > {stamp} and vto < {LIVE}", ["id", "pid", "vfrom", "vec"])
        self._upsert([{**r, "vto": LIVE} for r in retired])
        return len(born), len(retired)

    def publish(self, loaded: LoadedIndex, keys: np.ndarray, seen: set[int], stamp: int) -> tuple[int, int]:
        """Insert passages not in `seen` (the previous version's keys) born at `stamp`, retire the gone ones."""
        first: dict[int, int] = {}
        for row, key in enumerate(keys.tolist()):
            first.setdefault(int(key), row)
        new = [key for key in first if key not in seen]
        retired = {int(r["pid"]) for r in self.rows(f"vto < {LIVE}", ["pid"])} if new else set()
        for lo in range(0, len(new), BATCH):
            self._insert(loaded, first, new[lo : lo + BATCH], stamp, retired)
        gone = sorted(seen - first.keys())
        for lo in range(0, len(gone), IN_LIST):
            where = f"vto == {LIVE} and " + in_list("pid", gone[lo : lo + IN_LIST])
            rows = self.client.query(
                self.passages, filter=where, output_fields=["id", "pid", "vfrom", "vec"], timeout=REQUEST_TIMEOUT
            )
            self._upsert([{**r, "vto": stamp} for r in rows])
        return len(new), len(gone)

    def _insert(
        self, loaded: LoadedIndex, first: dict[int, int], pids: list[int], stamp: int, retired: set[int]
    ) -> None:
        """Write rows for these passages, then their sentences (upserted for keys a retired row still holds)."""
        rows = np.asarray([first[p] for p in pids], dtype=np.int64)
        vectors = np.asarray(loaded.vectors[rows], dtype=np.float32)
        passages = [
            {"id": row_key(pid, stamp), "pid": pid, "vfrom": stamp, "vto": LIVE, "vec": vectors[i].tolist()}
            for i, pid in enumerate(pids)
        ]
        # passages first: undo finds sentences through them
        self.client.insert(self.passages, passages, timeout=WRITE_TIMEOUT)
        flat, offsets = loaded.sentence_vectors_of(rows)
        counts = np.diff(np.append(offsets, len(flat)))
        sentences = [
            {"sid": sentence_key(pid, j), "pid": pid, "j": j, "vec": flat[offsets[i] + j].tolist()}
            for i, pid in enumerate(pids)
            for j in range(int(counts[i]))
        ]
        for again in (False, True):  # a key's sentences never change: rewriting them is harmless, inserting is cheaper
            part = [r for r in sentences if (r["pid"] in retired) is again]
            for lo in range(0, len(part), BATCH * 4):
                (self.client.upsert if again else self.client.insert)(
                    self.sentences, part[lo : lo + BATCH * 4], timeout=WRITE_TIMEOUT
                )

    def _upsert(self, rows: list[dict]) -> None:
        """Rewrite whole passage rows (an upsert writes every field), in batches."""
        for lo in range(0, len(rows), BATCH):
            self.client.upsert(self.passages, rows[lo : lo + BATCH], timeout=WRITE_TIMEOUT)

    def _delete(self, rows: list[dict]) -> None:
        """Delete these passage rows, per 1,000 keys: first the sentences of keys left with no row, then the rows.

        In this order a crash never leaves sentences without a passage row of their key (sentences exist only while
        a row does), so a later publish inserting that key's sentences never meets old ones (duplicate keys).
        """
        ids_of: dict[int, set[int]] = {}
        for r in rows:
            ids_of.setdefault(int(r["pid"]), set()).add(int(r["id"]))
        pids = sorted(ids_of)
        for lo in range(0, len(pids), IN_LIST):
            chunk = pids[lo : lo + IN_LIST]
            found = self.client.query(
                self.passages, filter=in_list("pid", chunk), output_fields=["id", "pid"], timeout=REQUEST_TIMEOUT
            )
            kept = {int(r["pid"]) for r in found if int(r["id"]) not in ids_of[int(r["pid"])]}
            orphans = [p for p in chunk if p not in kept]
            if orphans:
                self.client.delete(self.sentences, filter=in_list("pid", orphans), timeout=WRITE_TIMEOUT)
            ids = [i for p in chunk for i in sorted(ids_of[p])]
            self.client.delete(self.passages, filter=in_list("id", ids), timeout=WRITE_TIMEOUT)

    def collect(self, stamp: int) -> int:
        """Delete rows retired at or before `stamp` (invisible to it and to every later version); how many."""
        dead = self.rows(f"vto <= {stamp}", ["id", "pid"])
        self._delete(dead)
        return len(dead)

    def flush(self) -> None:
        """Seal what was written (unflushed rows are searched by brute force)."""
        for name in (self.passages, self.sentences):
            self.client.flush(name, timeout=WRITE_TIMEOUT)

    def counts_by_vfrom(self) -> dict[int, int]:
        """How many passage rows each publish stamp inserted (what an incremental publish wrote)."""
        out: dict[int, int] = {}
        for r in self.rows("", ["vfrom"]):
            out[int(r["vfrom"])] = out.get(int(r["vfrom"]), 0) + 1
        return out


def _index(client: Any, n: int, field: str = "vec") -> Any:
    """FLAT (exact) up to EXACT_LIMIT rows, HNSW beyond, inner product, on `field`."""
    params = client.prepare_index_params()
    if n > EXACT_LIMIT:
        hnsw = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
        params.add_index(field, index_type="HNSW", metric_type="IP", params=hnsw)
    else:
        params.add_index(field, index_type="FLAT", metric_type="IP")
    return params


def _meta_schema(client: Any, dim: int) -> Any:
    """The store's mark: one row (id 0), the stamp; Milvus needs a vector field in every collection (`pad`)."""
    types = pymilvus().DataType
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", types.INT64, is_primary=True)
    schema.add_field("stamp", types.INT64)
    schema.add_field("pad", types.FLOAT_VECTOR, dim=2)
    return schema


def _passage_schema(client: Any, dim: int) -> Any:
    """Store passages: row key, content key, visibility interval [vfrom, vto), vector."""
    types = pymilvus().DataType
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", types.INT64, is_primary=True)
    schema.add_field("pid", types.INT64)
    schema.add_field("vfrom", types.INT64)
    schema.add_field("vto", types.INT64)
    schema.add_field("vec", types.FLOAT_VECTOR, dim=dim)
    return schema


def _sentence_schema(client: Any, dim: int) -> Any:
    """Store sentences: key, passage key, number within the passage, vector."""
    types = pymilvus().DataType
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("sid", types.INT64, is_primary=True)
    schema.add_field("pid", types.INT64)
    schema.add_field("j", types.INT64)
    schema.add_field("vec", types.FLOAT_VECTOR, dim=dim)
    return schema
