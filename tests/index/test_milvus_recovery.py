"""Recovering the shared Milvus store from crashes (real Milvus Lite): mid-insert, before an index, mid-delete."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.corpora import make_corpus
from helpers.milvus import service
from helpers.milvus_store import assert_consistent, assert_same_as_fresh, published

from korea_bot.backends import milvus_client, milvus_store
from korea_bot.backends.milvus_store import Store, store_prefix

pytest.importorskip("pymilvus")


def test_a_publish_crashing_mid_insert_is_undone_after_another_model_and_back(
    tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between a store's passage and sentence inserts, another model published, then this one: undone."""
    svc, store, _ = published(tmp_path, uri, 4)
    real = store.client.insert

    def crashing(name, rows, **kwargs):  # type: ignore[no-untyped-def]
        if name == store.sentences:
            raise RuntimeError("<MilvusException: (code=65535, message=disk quota exceeded)>")
        return real(name, rows, **kwargs)

    monkeypatch.setattr(store.client, "insert", crashing)
    (tmp_path / "src" / "late.txt").write_text("A lighthouse of Zone999 was built in 1901.\n", encoding="utf-8")
    report = svc.reindex()
    assert any("disk quota exceeded" in note for note in report.notes), report.notes
    assert store.rows("vfrom == 2", ["pid"]) and store.switched() == 1  # passages of stamp 2 without sentences
    monkeypatch.undo()
    other = service(tmp_path / "src", tmp_path / "index", "milvus", uri, dim=32)
    other.ensure_index()  # another model: its own store, and stamp 2 there
    assert other.index.engine.store.prefix != store.prefix and other.index.engine.stamp == 2  # type: ignore[attr-defined]
    back = service(tmp_path / "src", tmp_path / "index", "milvus", uri)
    back.ensure_index()
    new = back.index
    assert new.engine.stamp == 3 and store.switched() == 3  # type: ignore[attr-defined]
    assert not store.rows("vfrom == 2", ["pid"])
    assert_consistent(store, [new])
    assert back.ask("lighthouse Zone999").passages[0].source == "late.txt"
    assert_same_as_fresh(back, tmp_path / "src", tmp_path / "index", str(tmp_path / "fresh.db"))


def test_a_store_left_without_an_index_by_a_crash_is_indexed_by_the_next_publish(tmp_path: Path, uri: str) -> None:
    """A crash after creating a store collection and before its index, or after dropping it for HNSW: repaired."""
    make_corpus(tmp_path / "src", n_files=3)
    svc = service(tmp_path / "src", tmp_path / "index", "milvus", uri)
    client = milvus_client.connect(uri)
    store = Store(client, store_prefix("hash:64", 64))
    client.create_collection(store.passages, schema=milvus_store._passage_schema(client, 64))  # then the crash
    svc.ensure_index()
    assert client.describe_index(store.passages, "vec")["index_type"] == "FLAT"
    assert svc.ask("Report on Zone001").passages[0].source == "doc001.txt"
    client.release_collection(store.passages)
    client.drop_index(store.passages, "vec")  # a re-index with HNSW failing after the drop
    (tmp_path / "src" / "late.txt").write_text("A lighthouse of Zone999 was built in 1901.\n", encoding="utf-8")
    svc.reindex()
    assert client.describe_index(store.passages, "vec")["index_type"] == "FLAT"
    assert svc.ask("lighthouse Zone999").passages[0].source == "late.txt"
    assert_consistent(store, [svc.index])


@pytest.mark.parametrize("crashing", ["sentences", "passages"])
def test_a_collection_crashing_mid_delete_leaves_no_sentences_to_duplicate(
    tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch, crashing: str
) -> None:
    """A crash at either delete of a collection leaves no sentence without its key's row (re-inserted: duplicates)."""
    svc, store, _ = published(tmp_path, uri, 4)
    text = (tmp_path / "src" / "doc001.txt").read_text(encoding="utf-8")
    (tmp_path / "src" / "doc001.txt").unlink()
    svc.reindex()
    retired = store.rows("vto == 2", ["pid"])
    assert retired and svc.index.engine.stamp == 2  # type: ignore[attr-defined]
    real = store.client.delete

    def crash(name, **kwargs):  # type: ignore[no-untyped-def]
        if name == getattr(store, crashing):
            raise RuntimeError("<MilvusException: (code=65535, message=disk quota exceeded)>")
        return real(name, **kwargs)

    monkeypatch.setattr(store.client, "delete", crash)
    with pytest.raises(RuntimeError, match="disk quota"):
        store.collect(2)  # what the next publish's clean-up runs
    monkeypatch.undo()
    rows = {r["pid"] for r in store.rows("", ["pid"])}
    assert {r["pid"] for r in store.rows("", ["pid"], store.sentences)} <= rows  # (Lite hides duplicate keys)
    (tmp_path / "src" / "doc001.txt").write_text(text, encoding="utf-8")
    svc.reindex()  # its keys inserted again, their sentences with them
    assert not store.rows("vto <= 2", ["pid"])
    sids = [r["sid"] for r in store.rows("", ["sid"], store.sentences)]
    assert len(sids) == len(set(sids))
    assert_consistent(store, [svc.index])
    assert svc.ask("Report on Zone001").passages[0].source == "doc001.txt"
    assert_same_as_fresh(svc, tmp_path / "src", tmp_path / "index", str(tmp_path / "fresh.db"))
