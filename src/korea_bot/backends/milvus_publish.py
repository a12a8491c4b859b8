"""Publishing a built files version into Milvus: store diff, per-version collections, alias switch, clean-up."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from ..errors import SearchBackendError
from ..index import LoadedIndex
from ..index.store import version_key
from .milvus_client import (
    ALIAS,
    INDEX_TIMEOUT,
    REQUEST_TIMEOUT,
    WRITE_TIMEOUT,
    blob_rows,
    guarded,
    is_lite,
    live_collection,
    names,
    pymilvus,
    read_blob,
    sibling,
    tag,
    version_of,
)
from .milvus_store import Store, passage_keys, store_prefix

log = logging.getLogger(__name__)
BATCH = 500  # rows per insert call
MAX_SOURCE = 4096  # bytes of a source name (a relative path)


def publish(client: Any, uri: str, loaded: LoadedIndex) -> bool:
    """Make `loaded` the live version in Milvus (False when it or a newer one is live); old versions but one dropped."""
    coll = names(loaded.version)
    live = guarded(uri, "reading the alias", lambda: live_collection(client))
    if live == coll["passages"]:
        return False
    if serves_newer(live, loaded.version):  # an older builder starting up: nothing to upload
        log.info("Milvus at %s already serves %s, newer than %s: not publishing", uri, version_of(live), loaded.version)
        return False
    written = guarded(uri, f"writing version {loaded.version}", lambda: _write(client, loaded, coll, not is_lite(uri)))
    live = guarded(uri, "reading the alias", lambda: live_collection(client))
    if serves_newer(live, loaded.version):
        log.warning("Milvus at %s already serves %s, newer than %s: not switching back", uri, live, loaded.version)
        for name in coll.values():
            guarded(uri, f"dropping {name}", lambda name=name: client.drop_collection(name, timeout=WRITE_TIMEOUT))
        return False  # two builders published in turn; the later build wins (its next publish undoes our rows)
    store, mark, stamp = written
    previous = guarded(uri, "switching the alias", lambda: _switch(client, coll["passages"]))
    guarded(uri, "recording the store's mark", lambda: store.set_switched(stamp))
    guarded(uri, "dropping old versions", lambda: _drop_old(client, keep={tag(loaded.version), previous}))
    collected = guarded(uri, "cleaning the vector store", lambda: store.collect(mark))
    log.info("Milvus at %s now serves version %s (%d retired store rows deleted)", uri, loaded.version, collected)
    return True


def live_meta(client: Any, passages: str | None) -> dict:
    """The publish stamp and store of the version whose passages collection is given ({}: none, or the old layout)."""
    if passages is None:
        return {}
    return read_blob(client, sibling(passages, "blobs"), "milvus") or {}


def store_mark(store: Store, live: dict) -> int:
    """The stamp of the last version switched to with this store: rows above it belong to failed publishes.

    The store's own record, or the live version's stamp when it reads this store (a crash between the switch and
    the record); not the live stamp otherwise: another model's store counts its stamps apart.
    """
    mark = store.switched()
    return max(mark, int(live["stamp"])) if live.get("store") == store.prefix else mark


def serves_newer(live: str | None, version: str) -> bool:
    """True when the alias's collection `live` holds a version newer than `version` (a files version name)."""
    tagged = version_of(live) if live else None
    return tagged is not None and version_key(tagged.replace("_", "-")) > version_key(version)


def _write(client: Any, loaded: LoadedIndex, coll: dict[str, str], wait: bool) -> tuple[Store, int, int]:
    """Bring the store to the version (undoing failed publishes first), write its collections; (store, mark, stamp)."""
    dim, n = int(loaded.manifest["dim"]), len(loaded.chunks)
    store = Store(client, store_prefix(str(loaded.manifest["model"]), dim))
    store.ensure(dim, n, wait)
    live = live_meta(client, live_collection(client))
    mark = store_mark(store, live)
    undone = store.undo_above(mark)
    if any(undone):
        log.info("Milvus store %s: undid a failed publish (%d rows deleted, %d restored)", store.prefix, *undone)
    stamp = max(int(live.get("stamp", 0)), mark) + 1  # above every stamp any store has switched to
    keys = passage_keys(loaded)
    inserted, retired = store.publish(loaded, keys, store.visible_pids(mark) if mark else set(), stamp)
    log.info("Milvus store %s, stamp %d: %d passages inserted, %d retired", store.prefix, stamp, inserted, retired)
    store.flush()
    for name in coll.values():
        if client.has_collection(name, timeout=REQUEST_TIMEOUT):
            client.drop_collection(name, timeout=WRITE_TIMEOUT)
    _create(client, coll["passages"], _passage_schema(client), "bm", wait)
    _create(client, coll["blobs"], _blob_schema(client), "pad", wait)
    sparse = bm25_rows(loaded.keyword.retriever, n)
    for lo in range(0, n, BATCH):
        client.insert(
            coll["passages"],
            [
                {
                    "row": i,
                    "pid": int(keys[i]),
                    "source": loaded.chunks[i].source,
                    "chunk": json.dumps(loaded.chunks[i].to_row(i), ensure_ascii=False),
                    "bm": sparse[i],
                }
                for i in range(lo, min(n, lo + BATCH))
            ],
            timeout=WRITE_TIMEOUT,
        )
    client.insert(coll["blobs"], _blobs(loaded, {"stamp": stamp, "store": store.prefix}), timeout=WRITE_TIMEOUT)
    # sealed, indexed segments: unflushed rows are searched by brute force (Lite: ~10x slower)
    for name in coll.values():
        client.flush(name, timeout=WRITE_TIMEOUT)
        client.load_collection(name, timeout=INDEX_TIMEOUT)
    if store.visible_pids(stamp) != set(keys.tolist()):  # a guard, not a lock: see docs/SCALING.md
        raise SearchBackendError(
            f"the vector store {store.prefix} changed while version {loaded.version} was written: "
            "another builder is publishing into this Milvus (run one builder per Milvus)"
        )
    return store, mark, stamp


def _blobs(loaded: LoadedIndex, milvus: dict) -> list[dict]:
    """The manifest, the publish stamp and store, the BM25 vocabulary with document frequencies, every document."""
    retriever = loaded.keyword.retriever
    indptr = np.asarray(retriever.scores["indptr"])
    vocab = {t: [int(i), _df(indptr, int(i))] for t, i in retriever.vocab_dict.items()}
    texts = {"manifest": loaded.manifest, "milvus": milvus, "vocab": vocab}
    texts.update({f"doc:{src}": doc.to_row() for src, doc in loaded.documents.items()})
    rows: list[dict] = []
    for name, value in texts.items():
        rows.extend(blob_rows(name, json.dumps(value, ensure_ascii=False), len(rows)))
    return rows


def _df(indptr: np.ndarray, term: int) -> int:
    """How many passages hold a term (bm25s' vocabulary has one id, for "", past the end of indptr)."""
    return int(indptr[term + 1] - indptr[term]) if term + 1 < len(indptr) else 0


def bm25_rows(retriever: Any, n: int) -> list[dict[int, float]]:
    """Each passage's bm25s term weights as a sparse vector: its inner product with query term counts is BM25."""
    scores = retriever.scores
    indptr, indices, data = (np.asarray(scores[k]) for k in ("indptr", "indices", "data"))
    terms = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    out: list[dict[int, float]] = [{} for _ in range(n)]
    for term, doc, weight in zip(terms.tolist(), indices.tolist(), data.tolist(), strict=True):
        if weight > 0:
            out[doc][term] = weight
    return out


def _create(client: Any, name: str, schema: Any, field: str, wait: bool) -> None:
    """A collection with its one vector field indexed (BM25 weights: a sparse inverted index; the blobs' pad: FLAT).

    Milvus Lite builds indexes at once and lacks the AllocTimestamp call pymilvus' wait makes (it logs an error
    and sleeps 0.5 s per index), so only a server is waited for.
    """
    params = client.prepare_index_params()
    if field == "bm":
        params.add_index("bm", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    else:
        params.add_index(field, index_type="FLAT", metric_type="IP")
    client.create_collection(name, schema=schema, timeout=WRITE_TIMEOUT)
    client.create_index(name, params, sync=wait, timeout=INDEX_TIMEOUT)


def _passage_schema(client: Any) -> Any:
    """Passages: row number, content key in the store, source, the chunk as JSON, its BM25 term weights."""
    types = pymilvus().DataType
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", types.INT64, is_primary=True)
    schema.add_field("pid", types.INT64)
    schema.add_field("source", types.VARCHAR, max_length=MAX_SOURCE)
    schema.add_field("chunk", types.VARCHAR, max_length=65_535)
    schema.add_field("bm", types.SPARSE_FLOAT_VECTOR)
    return schema


def _blob_schema(client: Any) -> Any:
    """Blobs: long JSON texts in parts (Milvus needs a vector field in every collection: a constant `pad`)."""
    types = pymilvus().DataType
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", types.INT64, is_primary=True)
    schema.add_field("name", types.VARCHAR, max_length=MAX_SOURCE + 8)
    schema.add_field("part", types.INT64)
    schema.add_field("text", types.VARCHAR, max_length=65_535)
    schema.add_field("pad", types.FLOAT_VECTOR, dim=2)
    return schema


def _switch(client: Any, passages: str) -> str | None:
    """Point the alias at the new passages collection (atomically); the version tag it pointed at before."""
    before = live_collection(client)
    if before is None:
        client.create_alias(passages, ALIAS, timeout=WRITE_TIMEOUT)
    else:
        # alter first: dropping an aliased collection would drop the alias
        client.alter_alias(passages, ALIAS, timeout=WRITE_TIMEOUT)
    return version_of(before) if before else None


def _drop_old(client: Any, keep: set[str | None]) -> None:
    """Drop every korea_bot collection of a version not kept (the new one and the one processes may still read)."""
    for name in client.list_collections(timeout=REQUEST_TIMEOUT):
        version = version_of(name)
        if version is not None and version not in keep:
            client.drop_collection(name, timeout=WRITE_TIMEOUT)
