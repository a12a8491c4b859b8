"""A damaged index is detected on load: a clear error naming the file, or the last good version and a note."""

from __future__ import annotations

import json
import os
import pickle
import random
from pathlib import Path

import numpy as np
import pytest
from helpers.corpora import assert_verbatim, make_corpus, service, snapshot

from korea_bot.embedding import HashEmbedder
from korea_bot.errors import EmptySources, IndexCorrupt, IndexMismatch, IndexOutdated, user_message
from korea_bot.index import build_index, load_index
from korea_bot.index.layout import FORMAT
from korea_bot.index.store import CURRENT, VERSIONS, current_version, sha256_file

FILES = ["manifest.json", "vectors.npy", "sentences.npy", "vectors.faiss", "chunks.jsonl", "documents.jsonl", "keyword/vocab.index.json",
         "keyword/data.csc.index.npy"]  # fmt: skip


@pytest.fixture
def two_versions(tmp_path: Path) -> tuple[Path, Path, str, str, dict[str, str]]:
    """An index with an older good version and a live one; returns the old version's source texts."""
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = make_corpus(sources, n_files=6)
    old = build_index(sources, index, HashEmbedder(64)).version
    (sources / "doc000.txt").write_text(texts["doc000.txt"] + "\nLater news.\n", "utf-8")
    live = build_index(sources, index, HashEmbedder(64)).version
    return sources, index, old, live, texts


def damage(path: Path, how: str) -> None:
    """Truncate, empty or randomise a file."""
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "zero-byte":
        path.write_bytes(b"")
    else:
        path.write_bytes(random.Random(len(data)).randbytes(max(len(data), 64)))


@pytest.mark.parametrize("how", ["truncated", "zero-byte", "random"])
@pytest.mark.parametrize("name", FILES)
def test_damaged_live_file_falls_back_to_the_last_good_version(two_versions, name: str, how: str) -> None:  # type: ignore[no-untyped-def]
    sources, index, old, live, texts = two_versions
    damage(index / VERSIONS / live / name, how)
    loaded = load_index(index)
    assert loaded.version == old
    assert loaded.notes and f"live index {live} is damaged" in loaded.notes[0]
    assert Path(name).name in loaded.notes[0] and f"serving older version {old}" in loaded.notes[0]
    svc = service(sources, index)
    answer = svc.ask("Report on Zone003")
    assert answer.index_version == old
    assert_verbatim(answer, texts)


@pytest.mark.parametrize("how", ["truncated", "zero-byte", "random"])
@pytest.mark.parametrize("name", FILES)
def test_damaged_only_version_fails_loudly_naming_the_file(tmp_path: Path, name: str, how: str) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    make_corpus(sources, n_files=3)
    version = build_index(sources, index, HashEmbedder(64)).version
    damage(index / VERSIONS / version / name, how)
    with pytest.raises(IndexCorrupt) as err:
        load_index(index)
    assert Path(name).name in str(err.value) and "\n" not in user_message(err.value)  # type: ignore[operator]


def _rewrite(folder: Path, manifest_update: dict | None = None, vectors: np.ndarray | None = None) -> None:
    """Change a version consistently (checksums updated), as a buggy or foreign writer could."""
    if vectors is not None:
        np.save(folder / "vectors.npy", vectors, allow_pickle=False)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    manifest.update(manifest_update or {})
    manifest["checksums"] = {rel: sha256_file(folder / rel) for rel in manifest["checksums"]}
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def test_count_mismatch_is_detected(two_versions) -> None:  # type: ignore[no-untyped-def]
    _sources, index, old, live, _texts = two_versions
    folder = index / VERSIONS / live
    vectors = np.load(folder / "vectors.npy")
    _rewrite(folder, vectors=vectors[:-3])
    loaded = load_index(index)
    assert loaded.version == old and "count/dimension mismatch" in loaded.notes[0]


def test_manifest_count_mismatch_is_detected(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    make_corpus(sources, n_files=3)
    version = build_index(sources, index, HashEmbedder(64)).version
    manifest = json.loads((index / VERSIONS / version / "manifest.json").read_text("utf-8"))
    _rewrite(index / VERSIONS / version, {"counts": {**manifest["counts"], "passages": 5}})
    with pytest.raises(IndexCorrupt, match="count/dimension mismatch: manifest 5x64"):
        load_index(index)


def test_wrong_dimension_is_detected(two_versions) -> None:  # type: ignore[no-untyped-def]
    _sources, index, old, live, _texts = two_versions
    folder = index / VERSIONS / live
    vectors = np.load(folder / "vectors.npy")
    _rewrite(folder, vectors=np.ascontiguousarray(vectors[:, :32]))
    loaded = load_index(index)
    assert loaded.version == old and "vectors.npy (" in loaded.notes[0] and "x64" in loaded.notes[0]


def test_sentence_vector_count_mismatch_is_detected(two_versions) -> None:  # type: ignore[no-untyped-def]
    _sources, index, old, live, _texts = two_versions
    folder = index / VERSIONS / live
    parts = np.load(folder / "sentences.npy")
    np.save(folder / "sentences.npy", parts[:-1], allow_pickle=False)
    _rewrite(folder)
    loaded = load_index(index)
    assert loaded.version == old and "sentences.npy: holds" in loaded.notes[0]
    assert f"the passages need {len(parts)}x64" in loaded.notes[0]


def test_index_from_an_older_release_is_rebuilt_with_the_reason(tmp_path: Path) -> None:
    """A format-1 index (no sentence vectors) is never served: load says why, ask rebuilds it fully and answers."""
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = make_corpus(sources, n_files=3)
    folder = index / VERSIONS / build_index(sources, index, HashEmbedder(64)).version
    (folder / "sentences.npy").unlink()
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    manifest["checksums"].pop("sentences.npy")
    _rewrite(folder, {"params": {**manifest["params"], "format": 1}, "checksums": manifest["checksums"]})
    with pytest.raises(IndexOutdated) as err:
        load_index(index)
    message = user_message(err.value)
    assert message and "index format 1" in message and "korea-bot index" in message and "\n" not in message
    svc = service(sources, index)
    report = svc.ensure_index()
    assert (
        report is not None
        and report.full
        and report.reason == f"index format changed from 1 to {FORMAT} since the last build"
    )
    assert_verbatim(svc.ask("Report on Zone001"), texts)
    assert load_index(index).version == report.version


def test_passage_offsets_that_do_not_match_the_text_are_detected(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    make_corpus(sources, n_files=2)
    folder = index / VERSIONS / build_index(sources, index, HashEmbedder(64)).version
    rows = (folder / "chunks.jsonl").read_text("utf-8").splitlines()
    first = json.loads(rows[0])
    rows[0] = json.dumps({**first, "start": first["start"] + 1})
    (folder / "chunks.jsonl").write_text("\n".join(rows) + "\n", "utf-8")
    _rewrite(folder)
    with pytest.raises(IndexCorrupt, match=r"chunks.jsonl line 1: passage is not the text of doc000.txt"):
        load_index(index)


def test_empty_index_is_never_served(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    make_corpus(sources, n_files=2)
    folder = index / VERSIONS / build_index(sources, index, HashEmbedder(64)).version
    _rewrite(folder, {"counts": {"documents": 0, "passages": 0}, "files": {}})
    with pytest.raises(IndexCorrupt, match="holds no passages"):
        load_index(index)


def test_empty_sources_build_nothing(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    with pytest.raises(EmptySources, match=r"no \.txt"):
        build_index(tmp_path / "sources", tmp_path / "index", HashEmbedder(64))
    (tmp_path / "sources" / "blank.txt").write_text("   \n\n  \n", "utf-8")
    with pytest.raises(EmptySources, match="no quotable text"):
        build_index(tmp_path / "sources", tmp_path / "index", HashEmbedder(64))
    assert current_version(tmp_path / "index") is None


def test_index_of_another_model_gets_a_clear_message(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    make_corpus(sources, n_files=2)
    build_index(sources, index, HashEmbedder(32))
    with pytest.raises(IndexMismatch) as err:
        service(sources, index, dim=64).ask("Zone001")
    assert "dimension 32" in str(err.value) and "korea-bot index --full" in str(err.value)


class Boom:
    """Unpickling this would create a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.makedirs, (self.marker,))


def test_stray_pickle_files_are_never_loaded(two_versions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sources, index, _old, live, _texts = two_versions
    marker = tmp_path / "PWNED"
    payload = pickle.dumps(Boom(str(marker)))
    for place in (index / "index.pkl", index / VERSIONS / live / "vectors.pkl", index / VERSIONS / live / "chunks.pkl",
                  index / VERSIONS / live / "keyword" / "params.index.pkl", index / VERSIONS / "model.pkl"):  # fmt: skip
        place.write_bytes(payload)
    (index / VERSIONS / live / "vectors.npy").write_bytes(payload)  # a pickle posing as the vectors
    svc = service(sources, index)
    answer = svc.ask("Report on Zone002")
    assert answer.passages and svc.index.notes  # served from the older version, the pickle refused
    build_index(sources, index, HashEmbedder(64))  # a build reads the old index too
    assert not marker.exists()


def test_leftover_current_tmp_and_garbage_current(two_versions) -> None:  # type: ignore[no-untyped-def]
    sources, index, _old, live, _texts = two_versions
    (index / f".{CURRENT}.tmp").write_bytes(b"\x00\xff half-writ")
    assert load_index(index).version == live and not load_index(index).notes
    (index / CURRENT).write_text("../../etc\n", "utf-8")
    with pytest.raises(IndexCorrupt, match="CURRENT: does not name a version"):
        load_index(index)
    report = build_index(sources, index, HashEmbedder(64))  # `korea-bot index` repairs it
    assert report.full and "previous index unusable" in report.reason
    assert load_index(index).version == report.version


def test_current_naming_a_missing_version_falls_back(two_versions) -> None:  # type: ignore[no-untyped-def]
    _sources, index, _old, live, _texts = two_versions
    (index / CURRENT).write_text("999999-20991231T000000-abcdef\n", "utf-8")
    loaded = load_index(index)
    assert loaded.version == live and "manifest.json: missing" in loaded.notes[0]


def test_build_after_damage_republishes_a_healthy_version(two_versions) -> None:  # type: ignore[no-untyped-def]
    sources, index, old, live, _texts = two_versions
    damage(index / VERSIONS / live / "vectors.faiss", "random")
    embedder = HashEmbedder(64)
    report = build_index(sources, index, embedder)
    loaded = load_index(index)
    assert report.version not in (old, live) and loaded.version == report.version and not loaded.notes
    assert_verbatim(service(sources, index).ask("Later news Zone000"), snapshot(sources))


def test_format_2_index_is_rebuilt_with_the_reason(tmp_path: Path) -> None:
    """A format-2 index (every window embedded on its own) is never served: the next build re-embeds it once."""
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = make_corpus(sources, n_files=3)
    folder = index / VERSIONS / build_index(sources, index, HashEmbedder(64)).version
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    _rewrite(folder, {"params": {**manifest["params"], "format": 2}})
    with pytest.raises(IndexOutdated) as err:
        load_index(index)
    assert "index format 2" in (user_message(err.value) or "")
    report = build_index(sources, index, HashEmbedder(64))
    assert report.full and report.reason == "index format changed from 2 to 3 since the last build" and FORMAT == 3
    assert report.embedded == report.passages == len(load_index(index).chunks)
    assert_verbatim(service(sources, index).ask("Report on Zone002"), texts)
