"""Checks of the shared Milvus vector store's contents and answers, for the Milvus backend's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.corpora import make_corpus
from helpers.milvus import service
from korea_bot.backends import milvus_client
from korea_bot.backends.milvus_store import LIVE, Store, store_prefix
from korea_bot.embedding import HashEmbedder
from korea_bot.index import LoadedIndex
from korea_bot.service import Service

QUESTIONS = ["Report on Zone003", "the railway near the harbor of Zone001", "glacier Zone777", "zzzz qqqq"]


def published(root: Path, uri: str, n_files: int) -> tuple[Service, Store, dict[str, str]]:
    """n_files sources under root/src published to Milvus at uri: the service, its store, the texts by name."""
    texts = make_corpus(root / "src", n_files=n_files)
    svc = service(root / "src", root / "index", "milvus", uri)
    svc.ensure_index()
    return svc, store_of(uri, svc), texts


def store_of(uri: str, svc: Service) -> Store:
    """The store the service's version publishes into."""
    manifest = svc.index.manifest
    return Store(milvus_client.connect(uri), store_prefix(manifest["model"], int(manifest["dim"])))


def keys(loaded: LoadedIndex, source: str | None = None) -> set[int]:
    """The store keys of a Milvus-served version's passages (of one source when given)."""
    engine = loaded.engine  # type: ignore[attr-defined]
    return {int(engine.pids[r]) for r, c in enumerate(loaded.chunks) if source in (None, c.source)}


def assert_same_hits(got: tuple, want: tuple, index: LoadedIndex, vec: np.ndarray) -> None:
    """The same top-k: equal scores, the same rows; among exactly equal scores (duplicates) any row of that score."""
    (sa, ra), (sb, rb) = got, want
    np.testing.assert_allclose(sa, sb, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(index.vectors[ra]) @ vec, sa, rtol=1e-4, atol=1e-5)
    if len(np.unique(sb)) == len(sb):
        np.testing.assert_array_equal(ra, rb)
    else:  # FAISS orders exact ties its own way (here: higher row first); Milvus gives the lowest row first
        assert set(ra[sa > sa[-1]].tolist()) == set(rb[sb > sb[-1]].tolist())


def assert_same_search(got: LoadedIndex, want: LoadedIndex) -> None:
    """Both versions give the same passages, dense neighbours, BM25 scores, passage and sentence vectors."""
    assert got.chunks == want.chunks
    rows = np.arange(len(want.chunks))
    np.testing.assert_array_equal(got.vectors[rows], want.vectors[rows])
    got.derived.pop("milvus_sentences", None)
    for a, b in zip(got.sentence_vectors_of(rows), want.sentence_vectors_of(rows), strict=True):
        np.testing.assert_array_equal(a, b)
    for q in QUESTIONS:
        vec = HashEmbedder(64).embed([q])[0]
        assert_same_hits(got.dense.search(vec, 5), want.dense.search(vec, 5), want, vec)
        assert_same_hits(got.dense.search(vec, 3, rows[1::2]), want.dense.search(vec, 3, rows[1::2]), want, vec)
        np.testing.assert_allclose(got.keyword.scores(q), want.keyword.scores(q), rtol=1e-5, atol=1e-6)


def assert_same_as_fresh(svc: Service, src: Path, index: Path, fresh: str) -> None:
    """The incrementally published version answers as a fresh publish of the same files version into a new Milvus."""
    other = service(src, index, "milvus", fresh)
    try:
        other.ensure_index()  # Milvus empty: it publishes the files' version whole
        assert other.version == svc.version
        assert_same_search(svc.index, other.index)
        for q in QUESTIONS:
            assert svc.ask(q).passages == other.ask(q).passages
    finally:
        milvus_client.release(fresh)


def assert_consistent(store: Store, versions: list[LoadedIndex]) -> None:
    """Each version sees exactly its keys; every live row has all its sentences; no sentence lacks its passage."""
    for v in versions:
        assert store.visible_pids(v.engine.stamp) == keys(v)  # type: ignore[attr-defined]
    passages = store.rows("", ["pid", "vto"])
    assert all(r["vto"] == LIVE or r["vto"] <= max(v.engine.stamp for v in versions) for r in passages)  # type: ignore[attr-defined]
    sentences = store.rows("", ["pid", "j"], store.sentences)
    assert {r["pid"] for r in sentences} == {r["pid"] for r in passages}
    newest = versions[-1]
    want = sum(len(newest.chunks[rows[0]].sentences) for rows in newest.engine.rows_of.values())  # type: ignore[attr-defined]
    assert len([r for r in sentences if r["pid"] in keys(newest)]) == want
