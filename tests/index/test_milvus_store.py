"""The shared Milvus vector store (real Milvus Lite): incremental publishes, deletion, rename, pinned versions, undo."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers.corpora import make_corpus
from helpers.milvus import service
from helpers.milvus_store import (
    QUESTIONS,
    assert_consistent,
    assert_same_as_fresh,
    assert_same_search,
    keys,
    published,
)

from korea_bot.backends import milvus_client, milvus_publish, milvus_store
from korea_bot.backends.milvus_serve import load_live
from korea_bot.backends.milvus_store import LIVE, Store, in_list
from korea_bot.embedding import HashEmbedder
from korea_bot.errors import SearchBackendError
from korea_bot.index import load_index

pytest.importorskip("pymilvus")


def test_a_one_file_change_writes_only_that_files_new_passages(tmp_path: Path, uri: str) -> None:
    """Editing one file of six inserts only its changed passages; answers equal a fresh full publish."""
    svc, store, texts = published(tmp_path, uri, 6)
    old = svc.index
    assert store.counts_by_vfrom() == {1: len(keys(old))}
    (tmp_path / "src" / "doc003.txt").write_text(texts["doc003.txt"] + "\nA glacier of Zone777.\n", encoding="utf-8")
    svc.reindex()
    new = svc.index
    born = {r["pid"] for r in store.rows("vfrom == 2", ["pid"])}
    assert born == keys(new) - keys(old) and born and born <= keys(new, "doc003.txt")
    assert {r["pid"] for r in store.rows("vto == 2", ["pid"])} == keys(old) - keys(new)
    assert store.counts_by_vfrom() == {1: len(keys(old)), 2: len(born)}
    assert_consistent(store, [old, new])
    assert svc.ask("glacier Zone777").passages[0].source == "doc003.txt"
    assert_same_as_fresh(svc, tmp_path / "src", tmp_path / "index", str(tmp_path / "fresh.db"))


def test_deletion_and_rename_reach_the_store_and_gc(tmp_path: Path, uri: str) -> None:
    """A deleted file's passages vanish from the new version, then from the store; a rename reuses its rows."""
    svc, store, texts = published(tmp_path, uri, 5)
    old = svc.index
    (tmp_path / "src" / "doc001.txt").unlink()
    (tmp_path / "src" / "doc002.txt").rename(tmp_path / "src" / "renamed.txt")
    svc.reindex()
    new = svc.index
    deleted = keys(old, "doc001.txt")
    assert keys(new, "renamed.txt") == keys(old, "doc002.txt")  # same title and text: same vectors, same rows
    assert store.counts_by_vfrom() == {1: len(keys(old))}  # nothing inserted: a deletion and a rename
    assert not deleted & store.visible_pids(new.engine.stamp)  # type: ignore[attr-defined]
    assert {r["vto"] for r in store.rows(in_list("pid", deleted), ["vto"])} == {2}  # the previous version reads them
    assert_consistent(store, [old, new])
    assert svc.ask("Report on Zone002").passages[0].source == "renamed.txt"
    (tmp_path / "src" / "doc004.txt").unlink()
    (tmp_path / "src" / "doc001.txt").write_text(texts["doc001.txt"], encoding="utf-8")  # back while retired
    svc.reindex()
    third, gone = svc.index, keys(new, "doc004.txt")
    assert keys(third, "doc001.txt") == deleted and store.counts_by_vfrom()[3] == len(deleted)  # new rows
    assert {r["vto"] for r in store.rows(in_list("pid", deleted), ["vto"])} == {LIVE}  # the retired ones collected
    assert_consistent(store, [new, third])  # their sentences, shared with the new rows, stayed
    (tmp_path / "src" / "doc000.txt").unlink()
    svc.reindex()
    assert store.rows(in_list("pid", gone), ["pid"]) == []  # retired at 3, invisible to 3 and 4: collected
    assert store.rows(in_list("pid", gone), ["pid"], store.sentences) == []
    assert_consistent(store, [third, svc.index])
    assert_same_as_fresh(svc, tmp_path / "src", tmp_path / "index", str(tmp_path / "fresh.db"))


def test_a_process_on_the_previous_version_sees_exactly_its_rows(tmp_path: Path, uri: str) -> None:
    """After a switch, a version loaded before it searches the store at its own stamp: the old files' answers."""
    texts = make_corpus(tmp_path / "src", n_files=4)
    svc = service(tmp_path / "src", tmp_path / "index", "milvus", uri)
    svc.ensure_index()
    old, old_files = svc.index, load_index(tmp_path / "index")
    (tmp_path / "src" / "doc001.txt").unlink()
    (tmp_path / "src" / "doc003.txt").write_text(texts["doc003.txt"] + "\nA glacier of Zone777.\n", encoding="utf-8")
    (tmp_path / "src" / "late.txt").write_text("The railway near the harbor of Zone001 was new.\n", encoding="utf-8")
    svc.reindex()
    assert svc.version != old.version
    assert_same_search(old, old_files)
    assert_same_search(svc.index, load_index(tmp_path / "index"))
    assert "doc001.txt" in {c.source for c in old.chunks} and "late.txt" not in {c.source for c in old.chunks}
    (tmp_path / "src" / "doc000.txt").unlink()
    svc.reindex()  # `old` is now two versions behind: its collections are dropped, it must reload
    with pytest.raises(SearchBackendError):
        old.keyword.scores("Zone001 railway")
    gone = np.asarray([r for r, c in enumerate(old.chunks) if c.source == "doc001.txt"])
    with pytest.raises(SearchBackendError, match=r"passage vectors of .* are gone \(replaced\); reload"):
        old.vectors[gone]  # its retired rows collected by the second publish after it


def test_a_publish_failing_before_the_switch_is_undone_by_the_next(
    tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Store rows written by a publish that never switched are invisible to the live version and undone next time."""
    svc, store, texts = published(tmp_path, uri, 4)
    old = svc.index
    before = [svc.ask(q).passages for q in QUESTIONS]
    real = milvus_publish._switch

    def broken(client, passages):  # type: ignore[no-untyped-def]
        raise RuntimeError("<MilvusException: (code=65535, message=disk quota exceeded)>")

    monkeypatch.setattr(milvus_publish, "_switch", broken)
    (tmp_path / "src" / "doc001.txt").unlink()
    (tmp_path / "src" / "doc003.txt").write_text(texts["doc003.txt"] + "\nA glacier of Zone777.\n", encoding="utf-8")
    report = svc.reindex()
    assert any("disk quota exceeded" in note for note in report.notes), report.notes
    assert 2 in store.counts_by_vfrom() and store.rows("vto == 2", ["pid"])  # half-written: inserted and retired
    assert svc.version == old.version and store.visible_pids(1) == keys(old)
    assert [svc.ask(q).passages for q in QUESTIONS] == before
    monkeypatch.setattr(milvus_publish, "_switch", real)
    (tmp_path / "src" / "doc003.txt").write_text(texts["doc003.txt"] + "\nA fjord of Zone888.\n", encoding="utf-8")
    (tmp_path / "src" / "doc001.txt").write_text(texts["doc001.txt"], encoding="utf-8")  # what it retired comes back
    svc.reindex()  # another version than the failed one: what only the failed one inserted must not show
    new = svc.index
    assert new.version not in (old.version, report.version) and new.engine.stamp == 2  # type: ignore[attr-defined]
    assert store.counts_by_vfrom() == {1: len(keys(old)), 2: len(keys(new) - keys(old))}
    assert_consistent(store, [old, new])
    assert not any("Zone777" in c.text for c in new.chunks) and keys(new, "doc001.txt") == keys(old, "doc001.txt")
    assert_same_as_fresh(svc, tmp_path / "src", tmp_path / "index", str(tmp_path / "fresh.db"))


def test_a_full_rebuild_of_the_same_corpus_writes_nothing_to_the_store(tmp_path: Path, uri: str) -> None:
    """--full makes a new version whose vectors the store already holds: no row inserted, none retired."""
    svc, store, _ = published(tmp_path, uri, 3)
    old = svc.index
    svc.reindex(full=True)
    assert svc.version != old.version and svc.index.engine.stamp == 2  # type: ignore[attr-defined]
    assert store.counts_by_vfrom() == {1: len(keys(old))} and not store.rows(f"vto < {LIVE}", ["pid"])
    assert_consistent(store, [old, svc.index])


def test_a_passage_in_two_files_is_one_store_row_and_two_results(tmp_path: Path, uri: str) -> None:
    """A copied file adds no store row; its key maps to both rows, returned lowest first, as the files index does."""
    svc, store, _ = published(tmp_path, uri, 3)
    shutil.copy(tmp_path / "src" / "doc001.txt", tmp_path / "src" / "copy.txt")
    svc.reindex()
    new, files = svc.index, load_index(tmp_path / "index")
    assert keys(new, "copy.txt") == keys(new, "doc001.txt") and 2 not in store.counts_by_vfrom()
    assert all(len(new.engine.rows_of[k]) == 2 for k in keys(new, "copy.txt"))  # type: ignore[attr-defined]
    assert_same_search(new, files)
    vec = HashEmbedder(64).embed(["Report on Zone001"])[0]
    scores, rows = new.dense.search(vec, 4)
    assert {new.chunks[r].source for r in rows[:2]} == {"doc001.txt", "copy.txt"}
    assert scores[0] == scores[1] and rows[0] < rows[1]  # a tie: lowest row first


def test_a_version_in_the_old_layout_asks_for_a_full_rebuild(tmp_path: Path, uri: str) -> None:
    """A live version without the store's stamp (written before the store) is one line naming the fix."""
    make_corpus(tmp_path / "src", n_files=2)
    svc = service(tmp_path / "src", tmp_path / "index", "milvus", uri)
    svc.ensure_index()
    client = milvus_client.connect(uri)
    blobs = milvus_client.names(svc.version)["blobs"]
    client.delete(blobs, filter='name == "milvus"')  # what a version of the old layout lacks
    with pytest.raises(SearchBackendError) as caught:
        load_live(client, uri)
    assert "korea-bot index --full" in str(caught.value) and "\n" not in str(caught.value)
    svc.reindex(full=True)
    assert load_live(client, uri).version == svc.version


@pytest.mark.parametrize("swapped", [False, True])
def test_another_builder_writing_into_the_store_stops_the_switch(
    tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch, swapped: bool
) -> None:
    """A row another builder adds at our stamp (or swaps for one of ours: the same count): no switch; then clean."""
    svc, store, _ = published(tmp_path, uri, 3)
    old = svc.index
    real = Store.publish

    def with_a_rival(self, loaded, keys, seen, stamp):  # type: ignore[no-untyped-def]
        done = real(self, loaded, keys, seen, stamp)
        rival = {"id": 7, "pid": 7, "vfrom": stamp, "vto": LIVE, "vec": [1.0] + [0.0] * 63}
        self.client.insert(self.passages, [rival])  # what a second builder at the same stamp would add
        if swapped:  # ... and one of ours it retires at that stamp: as many rows visible as we wrote
            ours = self.client.query(self.passages, filter="vfrom == 1", output_fields=["id", "pid", "vfrom", "vec"])
            self.client.upsert(self.passages, [{**ours[0], "vto": stamp}])
        assert len(self.visible_pids(stamp)) == len(set(keys.tolist())) + (0 if swapped else 1)
        return done

    monkeypatch.setattr(Store, "publish", with_a_rival)
    (tmp_path / "src" / "late.txt").write_text("A lighthouse of Zone999 was built in 1901.\n", encoding="utf-8")
    report = svc.reindex()
    assert any("another builder is publishing into this Milvus" in note for note in report.notes), report.notes
    assert svc.version == old.version and load_live(store.client, uri).version == old.version
    monkeypatch.setattr(Store, "publish", real)
    svc.ensure_index()
    assert svc.version == report.version and not store.rows("pid == 7", ["pid"])
    assert_consistent(store, [old, svc.index])


def test_the_store_switches_to_hnsw_when_it_grows_past_the_exact_limit(
    tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store created FLAT is re-indexed with HNSW by the publish that takes it past EXACT_LIMIT, still searchable."""
    svc, store, _ = published(tmp_path, uri, 3)
    monkeypatch.setattr(milvus_store, "EXACT_LIMIT", len(svc.index.chunks))
    assert store.client.describe_index(store.passages, "vec")["index_type"] == "FLAT"
    (tmp_path / "src" / "late.txt").write_text("A lighthouse of Zone999 was built in 1901.\n", encoding="utf-8")
    svc.reindex()
    assert store.client.describe_index(store.passages, "vec")["index_type"] == "HNSW"
    assert svc.ask("lighthouse Zone999").passages[0].source == "late.txt"
    assert_same_search(svc.index, load_index(tmp_path / "index"))


def test_passage_keys_are_hashed_in_chunks_of_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys read the memory-mapped vectors a few rows at a time and equal each passage's own hash."""
    make_corpus(tmp_path / "src", n_files=3)
    service(tmp_path / "src", tmp_path / "index", "files", "unused.db").ensure_index()
    loaded = load_index(tmp_path / "index")
    reads: list[int] = []

    class Rows:
        """The real vectors, noting how many rows each read asks for."""

        def __getitem__(self, rows: np.ndarray) -> np.ndarray:
            reads.append(len(rows))
            return loaded.vectors[rows]

    monkeypatch.setattr(milvus_store, "KEY_ROWS", 4)
    got = milvus_store.passage_keys(dataclasses.replace(loaded, vectors=Rows()))  # type: ignore[arg-type]
    n, starts = len(loaded.chunks), loaded.sentence_start
    assert n > 8 and max(reads) == 4 and sum(reads) == n
    for i in range(n):
        h = hashlib.blake2b(np.asarray(loaded.vectors[i], dtype=np.float32).tobytes(), digest_size=8)
        h.update(np.asarray(loaded.sentence_vectors[starts[i] : starts[i + 1]], dtype=np.float16).tobytes())
        assert got[i] == int.from_bytes(h.digest(), "little", signed=True)


def test_store_rows_a_live_version_lacks_or_does_not_know_are_named(tmp_path: Path, uri: str) -> None:
    """A key the version does not have among the hits, or its sentences missing while live: what to do, in one line."""
    svc, store, _ = published(tmp_path, uri, 3)
    loaded = svc.index
    vec = HashEmbedder(64).embed(["Report on Zone001"])[0]
    rival = {"id": 7, "pid": 7, "vfrom": 1, "vto": LIVE, "vec": vec.tolist()}  # the best hit, from no version
    store.client.insert(store.passages, [rival])
    with pytest.raises(
        SearchBackendError,
        match=r"shows a passage key 7 that \S+ does not have \(another builder publishing\?\); publish again",
    ):
        loaded.dense.search(vec, 3)
    store.client.delete(store.passages, filter="id == 7")
    row = 0
    store.client.delete(store.sentences, filter=f"pid == {int(loaded.engine.pids[row])}")  # type: ignore[attr-defined]
    loaded.derived.pop("milvus_sentences", None)
    with pytest.raises(
        SearchBackendError, match=r"lacks sentence vectors of the live \S+: .* `korea-bot index --full`"
    ) as caught:
        loaded.sentence_vectors_of(np.asarray([row]))
    assert store.prefix in str(caught.value) and "\n" not in str(caught.value)
