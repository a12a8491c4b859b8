"""The Milvus backend on a real Milvus Lite engine: publish, same answers as the files, updates, reloads, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers.corpora import make_corpus
from helpers.milvus import service
from helpers.paths import SEED

from korea_bot.backends import milvus_client
from korea_bot.backends.milvus_client import names
from korea_bot.backends.milvus_publish import publish
from korea_bot.backends.milvus_serve import load_live
from korea_bot.errors import SearchBackendError
from korea_bot.index import load_index

pytest.importorskip("pymilvus")
QUESTIONS = [
    "How far did the Hwasong-15 missile fly?",
    "What can Russia do about the Korean crisis?",
    "sanctions on North Korea",
    "zzzz qqqq",
]


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    """A copy of the bundled article."""
    shutil.copytree(SEED, tmp_path / "sources")
    return tmp_path / "sources"


def test_milvus_serves_the_same_passages_scores_and_vectors(seed: Path, tmp_path: Path, uri: str) -> None:
    """Published from the files build, Milvus gives the same BM25 scores, neighbours, vectors and answers."""
    files = service(seed, tmp_path / "index", "files", uri)
    files.ensure_index()
    milvus = service(seed, tmp_path / "index", "milvus", uri)
    milvus.ensure_index()
    a, b = files.index, milvus.index
    assert type(b).__name__ == "MilvusLoaded" and a.version == b.version and a.chunks == b.chunks
    assert a.documents == b.documents
    rows = np.arange(len(a.chunks))
    np.testing.assert_array_equal(a.vectors[rows], b.vectors[rows])
    for mine, theirs in zip(a.sentence_vectors_of(rows[::3]), b.sentence_vectors_of(rows[::3]), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    for q in QUESTIONS:
        np.testing.assert_allclose(a.keyword.scores(q), b.keyword.scores(q), rtol=1e-5, atol=1e-6)
        vec = files.embedder.embed([q])[0]
        (sa, ra), (sb, rb) = a.dense.search(vec, 5), b.dense.search(vec, 5)
        np.testing.assert_array_equal(ra, rb)
        np.testing.assert_allclose(sa, sb, rtol=1e-5)
        np.testing.assert_array_equal(a.dense.search(vec, 3, rows[1::2])[1], b.dense.search(vec, 3, rows[1::2])[1])
        assert files.ask(q).passages == milvus.ask(q).passages
    assert b.keyword.doc_freqs(["korea", "russia", "nope"]) == a.keyword.doc_freqs(["korea", "russia", "nope"])


def test_update_with_deletion_and_rename_publishes_a_new_version(tmp_path: Path, uri: str) -> None:
    """Deleting, renaming and editing sources reach Milvus; the alias moves and versions older than one are dropped."""
    texts = make_corpus(tmp_path / "src", n_files=6)
    svc = service(tmp_path / "src", tmp_path / "index", "milvus", uri)
    svc.ensure_index()
    first = svc.version
    (tmp_path / "src" / "doc001.txt").unlink()
    (tmp_path / "src" / "doc002.txt").rename(tmp_path / "src" / "renamed.txt")
    (tmp_path / "src" / "doc003.txt").write_text(texts["doc003.txt"] + "\nA glacier of Zone777.\n", encoding="utf-8")
    report = svc.ensure_index()
    assert report is not None and report.removed == ("doc001.txt",) and report.renamed
    served = svc.index
    assert served.version != first and type(served).__name__ == "MilvusLoaded"
    assert {c.source for c in served.chunks} == {"doc000.txt", "renamed.txt", "doc003.txt", "doc004.txt", "doc005.txt"}
    assert svc.ask("Zone777 glacier").passages[0].source == "doc003.txt"
    assert svc.ask("Report on Zone002").passages[0].source == "renamed.txt"
    client = milvus_client.connect(uri)
    assert set(names(first).values()) <= set(client.list_collections())  # the previous version stays for readers
    (tmp_path / "src" / "doc004.txt").unlink()
    svc.ensure_index()
    left = set(client.list_collections())
    assert not set(names(first).values()) & left and set(names(svc.version).values()) <= left
    assert set(names(served.version).values()) <= left


def test_a_second_live_index_picks_up_the_new_version(tmp_path: Path, uri: str) -> None:
    """A bot process's LiveIndex reloads when the alias moves, and not before."""
    make_corpus(tmp_path / "src", n_files=3)
    builder = service(tmp_path / "src", tmp_path / "index", "milvus", uri)
    builder.ensure_index()
    bot = service(tmp_path / "src", tmp_path / "index", "milvus", uri)
    old = bot.version
    assert bot.reload_if_changed() is False
    (tmp_path / "src" / "late.txt").write_text("A lighthouse of Zone999 was built in 1901.\n", encoding="utf-8")
    builder.reindex()
    assert bot.version == old and bot.reload_if_changed() is True
    assert bot.version == builder.version != old
    warmed = bot.index.derived["collections"]  # built by the reload, before any question asks for it
    assert sorted(warmed) == sorted({c.source.split("/")[0] if "/" in c.source else "" for c in bot.index.chunks})
    assert sum(len(rows) for rows in warmed.values()) == len(bot.index.chunks)
    assert bot.ask("lighthouse Zone999").passages[0].source == "late.txt"


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("/no/such/folder/m.db", "does not exist"),
        ("ftp://example.org", "use a .db file path"),
        ("milvus.sqlite", "must end in .db"),
        ("http://127.0.0.1:9", "cannot reach Milvus at http://127.0.0.1:9"),
    ],
)
def test_a_bad_uri_is_one_line(seed: Path, tmp_path: Path, bad: str, says: str) -> None:
    """A bad URI or an unreachable server is one SearchBackendError line naming the URI."""
    svc = service(seed, tmp_path / "index", "milvus", bad)
    with pytest.raises(SearchBackendError) as caught:
        svc.ensure_index()
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_missing_pymilvus_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pymilvus the error says which extra to install."""
    monkeypatch.setitem(__import__("sys").modules, "pymilvus", None)
    with pytest.raises(SearchBackendError, match=r"pip install 'korea-bot\[milvus\]'"):
        milvus_client.connect("/tmp/never-opened.db")


def test_a_restarted_engine_serves_the_published_version(seed: Path, tmp_path: Path, uri: str) -> None:
    """After the engine stops (its collections released), a new process's load finds and loads the live version."""
    builder = service(seed, tmp_path / "index", "milvus", uri)
    builder.ensure_index()
    want = builder.ask(QUESTIONS[0]).passages
    milvus_client.release(uri)  # the Lite engine stops; reopening it starts with every collection released
    again = service(seed, tmp_path / "index", "milvus", uri)
    assert again.is_stale() is False and again.version == builder.version
    assert again.ask(QUESTIONS[0]).passages == want


def test_a_reader_without_a_files_index_only_reads_milvus(seed: Path, tmp_path: Path, uri: str) -> None:
    """A shard process with no index folder of its own serves what Milvus serves, building nothing."""
    builder = service(seed, tmp_path / "index", "milvus", uri)
    builder.ensure_index()
    reader = service(tmp_path / "no-sources", tmp_path / "no-index", "milvus", uri)
    assert reader.ensure_index() is None and reader.version == builder.version
    assert reader.ask(QUESTIONS[0]).passages == builder.ask(QUESTIONS[0]).passages
    assert not (tmp_path / "no-index").exists()


def test_an_older_version_published_late_does_not_move_the_alias_back(tmp_path: Path, uri: str) -> None:
    """Two builders publishing in turn: whichever finishes last, the newer build stays live."""
    make_corpus(tmp_path / "src", n_files=3)
    svc = service(tmp_path / "src", tmp_path / "index", "files", uri)
    svc.ensure_index()
    older = load_index(tmp_path / "index")
    (tmp_path / "src" / "late.txt").write_text("A lighthouse of Zone999 was built in 1901.\n", encoding="utf-8")
    svc.ensure_index()
    newer = load_index(tmp_path / "index")
    client = milvus_client.connect(uri)
    assert publish(client, uri, newer) is True
    assert publish(client, uri, older) is False
    assert load_live(client, uri).version == newer.version
    assert not set(names(older.version).values()) & set(client.list_collections())
