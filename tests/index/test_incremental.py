"""Incremental builds: only changed files are embedded; deletions, renames, copies; full rebuilds and why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.corpora import assert_verbatim, make_corpus, service, snapshot

from korea_bot.config import ChunkSettings
from korea_bot.embedding import HashEmbedder
from korea_bot.errors import IndexMismatch
from korea_bot.formatting import summary
from korea_bot.index import build_index, load_index
from korea_bot.index.store import list_versions


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """Twelve sources indexed once with the fake model."""
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = make_corpus(sources)
    build_index(sources, index, HashEmbedder(64))
    return sources, index, texts


def test_one_changed_file_embeds_only_its_passages(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, texts = corpus
    before = load_index(index)
    (sources / "doc005.txt").write_text(texts["doc005.txt"] + "\nA new pagoda was built in Zone005.\n", "utf-8")
    embedder = HashEmbedder(64)
    report = build_index(sources, index, embedder)
    after = load_index(index)
    own = after.manifest["files"]["doc005.txt"]["passages"]
    assert report.changed == ("doc005.txt",) and not report.added and not report.removed
    assert len(report.kept) == 11 and not report.full
    assert own == report.embedded and 0 < embedder.texts_embedded <= own  # blocks of sentences, not windows
    assert embedder.texts_embedded < len(after.chunks) / 5
    assert after.version != before.version
    # the kept files' passage and sentence vectors are carried over unchanged, row for row
    old_rows = {(c.source, c.start): i for i, c in enumerate(before.chunks)}
    for i, c in enumerate(after.chunks):
        if c.source != "doc005.txt":
            j = old_rows[(c.source, c.start)]
            assert (after.vectors[i] == before.vectors[j]).all()
            new_parts = after.sentence_vectors[after.sentence_start[i] : after.sentence_start[i + 1]]
            assert len(new_parts) == len(c.sentences)
            assert (new_parts == before.sentence_vectors[before.sentence_start[j] : before.sentence_start[j + 1]]).all()
    # the changed file's sentence vectors are fresh: each is its sentence's own embedding
    row = next(i for i, c in enumerate(after.chunks) if c.source == "doc005.txt")
    c = after.chunks[row]
    fresh = HashEmbedder(64).embed([c.text[s - c.start : e - c.start] for s, e in c.sentences])
    assert np.allclose(
        after.sentence_vectors[after.sentence_start[row] : after.sentence_start[row + 1]], fresh, atol=1e-3
    )
    answer = service(sources, index).ask("pagoda built in Zone005")
    assert_verbatim(answer, snapshot(sources))
    assert "pagoda" in answer.passages[0].text


def test_deleted_file_is_never_quoted_again(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, _texts = corpus
    (sources / "doc007.txt").unlink()
    embedder = HashEmbedder(64)
    report = build_index(sources, index, embedder)
    assert report.removed == ("doc007.txt",) and embedder.texts_embedded == 0
    live = load_index(index)
    assert "doc007.txt" not in live.documents and "doc007.txt" not in live.manifest["files"]
    assert all(c.source != "doc007.txt" for c in live.chunks)
    svc = service(sources, index)
    for question in ("Report on Zone007", "Zone007 harbor treaty", "Zone007"):
        answer = svc.ask(question, top_k=10)
        assert all(p.source != "doc007.txt" and "Zone007" not in p.text for p in answer.passages)


def test_renamed_file_is_not_re_embedded(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, _texts = corpus
    (sources / "moved").mkdir()
    (sources / "doc002.txt").rename(sources / "moved" / "renamed.txt")
    embedder = HashEmbedder(64)
    report = build_index(sources, index, embedder)
    assert report.renamed == (("doc002.txt", "moved/renamed.txt"),)
    assert not report.removed and not report.added and embedder.texts_embedded == 0
    live = load_index(index)
    assert {c.source for c in live.chunks if "Zone002" in c.text} == {"moved/renamed.txt"}
    answer = service(sources, index).ask("Report on Zone002")
    assert answer.passages[0].source == "moved/renamed.txt"
    assert_verbatim(answer, snapshot(sources))


def test_copied_file_reuses_vectors_and_counts_as_added(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, texts = corpus
    (sources / "copy.txt").write_text(texts["doc001.txt"], "utf-8")
    embedder = HashEmbedder(64)
    report = build_index(sources, index, embedder)
    assert report.added == ("copy.txt",) and not report.renamed and embedder.texts_embedded == 0
    live = load_index(index)
    assert live.manifest["files"]["copy.txt"]["passages"] == live.manifest["files"]["doc001.txt"]["passages"]


def test_nothing_changed_publishes_nothing(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, _texts = corpus
    before = list_versions(index)
    embedder = HashEmbedder(64)
    report = build_index(sources, index, embedder)
    assert report.unchanged and embedder.calls == 0 and list_versions(index) == before
    assert "0 added, 0 changed, 0 removed, 12 kept" in summary(report)


def test_model_change_forces_a_full_rebuild_and_says_why(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, _texts = corpus
    svc = service(sources, index, dim=32)
    with pytest.raises(IndexMismatch, match=r"built with model 'hash:64'.*configured model is 'hash:32'.*--full"):
        svc.ask("Zone001")
    report = svc.reindex()
    live = load_index(index)
    assert report.full and "model changed from 'hash:64' to 'hash:32'" in report.reason
    assert "full rebuild" in summary(report) and report.embedded == len(live.chunks)
    assert live.vectors.shape[1] == 32 and live.manifest["model"] == "hash:32"
    assert_verbatim(svc.ask("Zone001"), snapshot(sources))


def test_same_dimension_other_model_never_reuses_vectors(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, _texts = corpus
    other = HashEmbedder(64)
    other.name = "other-model"
    report = build_index(sources, index, other)
    assert report.full and other.texts_embedded >= 12 and report.embedded == report.passages  # a block per file or more
    assert "model changed" in report.reason


def test_passage_setting_change_forces_a_full_rebuild(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, _texts = corpus
    embedder = HashEmbedder(64)
    report = build_index(sources, index, embedder, ChunkSettings(max_chars=200, target_chars=150))
    assert report.full and report.reason.startswith("chunking changed")
    assert embedder.texts_embedded >= 12 and report.embedded == report.passages == len(load_index(index).chunks)


def test_full_flag_re_embeds_everything(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, _texts = corpus
    embedder = HashEmbedder(64)
    report = build_index(sources, index, embedder, full=True)
    assert report.full and report.reason == "asked for (--full)" and report.embedded == report.passages
    assert embedder.texts_embedded >= 12  # every file embedded again, at least one block each


def test_versions_are_ordered_and_old_ones_cleaned_up(corpus: tuple[Path, Path, dict[str, str]]) -> None:
    sources, index, texts = corpus
    published = [load_index(index).version]
    for i in range(5):  # several builds within the same second
        (sources / "doc000.txt").write_text(texts["doc000.txt"] + f"\nEdit {i}.\n", "utf-8")
        published.append(build_index(sources, index, HashEmbedder(64)).version)
    assert published == sorted(published) and len(set(published)) == 6
    assert list_versions(index) == [published[-1], published[-2]]
    assert load_index(index).version == published[-1]
