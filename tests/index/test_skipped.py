"""Bad sources are skipped with their reason, recorded so they are not retried, and never stop a build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.corpora import service
from helpers.documents import BAD, BAD_REASONS, GOOD, GOOD_PDF, mixed_folder

from korea_bot.embedding import HashEmbedder
from korea_bot.errors import EmptySources
from korea_bot.index import build_index, current_version, load_index
from korea_bot.index.store import SKIPPED, read_skipped

GOOD_NAMES = {*GOOD, GOOD_PDF[0]}


class CountingEmbedder(HashEmbedder):
    """The hashing embedder, counting the passages it embeds."""

    def __init__(self, dim: int = 64) -> None:
        """Start at zero."""
        super().__init__(dim)
        self.embedded = 0

    def embed_passages(self, texts, spans, batch_size=64, done=None):  # type: ignore[no-untyped-def]
        """Count, then embed."""
        self.embedded += len(texts)
        return super().embed_passages(texts, spans, batch_size=batch_size, done=done)


def test_every_good_file_is_indexed_and_every_bad_one_named(tmp_path: Path) -> None:
    sources, index = mixed_folder(tmp_path / "sources"), tmp_path / "index"
    report = build_index(sources, index, HashEmbedder(64))
    assert set(report.added) == GOOD_NAMES
    assert dict(report.skipped).keys() == BAD.keys()
    for name, reason in report.skipped:
        assert BAD_REASONS[name] in reason, (name, reason)
    loaded = load_index(index)
    assert set(loaded.manifest["files"]) == GOOD_NAMES
    assert {c.source for c in loaded.chunks} == GOOD_NAMES
    recorded = json.loads((index / SKIPPED).read_text(encoding="utf-8"))
    assert recorded.keys() == BAD.keys() and all(len(r["sha256"]) == 64 for r in recorded.values())


def test_an_unchanged_bad_file_is_not_retried_and_a_fixed_one_is_indexed(tmp_path: Path) -> None:
    sources, index = mixed_folder(tmp_path / "sources"), tmp_path / "index"
    svc = service(sources, index)
    svc.ensure_index()
    version = current_version(index)
    assert not svc.is_stale(), "an unchanged bad file must not make every ask rebuild"
    again = build_index(sources, index, HashEmbedder(64))
    assert again.version == version and dict(again.skipped).keys() == BAD.keys() and not again.added
    (sources / "latin1.txt").write_text("Café au lait was served to the delegates.\n", encoding="utf-8")
    assert svc.is_stale()
    fixed = svc.ensure_index()
    assert fixed is not None and fixed.added == ("latin1.txt",)
    assert "latin1.txt" not in dict(fixed.skipped) and "latin1.txt" not in read_skipped(index)
    assert "Café" in svc.ask("What was served to the delegates?").passages[0].text


def test_a_new_bad_file_is_recorded_without_a_new_version(tmp_path: Path) -> None:
    sources, index = mixed_folder(tmp_path / "sources", bad=False), tmp_path / "index"
    first = build_index(sources, index, HashEmbedder(64))
    (sources / "empty.txt").write_bytes(b"")
    embedder = CountingEmbedder()
    report = build_index(sources, index, embedder)
    assert report.version == first.version and report.skipped == (("empty.txt", "empty.txt: the file is empty"),)
    assert embedder.embedded == 0
    assert not service(sources, index).is_stale()


def test_a_good_file_that_turns_bad_is_removed_and_named(tmp_path: Path) -> None:
    sources, index = mixed_folder(tmp_path / "sources", bad=False), tmp_path / "index"
    build_index(sources, index, HashEmbedder(64))
    (sources / "notes.txt").write_bytes(b"\x00\x01binary now")
    report = build_index(sources, index, HashEmbedder(64))
    assert report.removed == ("notes.txt",) and dict(report.skipped).keys() == {"notes.txt"}
    assert "notes.txt" not in load_index(index).manifest["files"]
    assert not service(sources, index).is_stale()


def test_raising_the_size_limit_retries_a_skipped_file(tmp_path: Path) -> None:
    sources, index = mixed_folder(tmp_path / "sources", bad=False), tmp_path / "index"
    (sources / "long.txt").write_text("The long text has many sentences in it.\n" * 40, encoding="utf-8")
    small = build_index(sources, index, HashEmbedder(64), max_file_bytes=1000)
    assert "size limit" in dict(small.skipped)["long.txt"]
    svc = service(sources, index)
    assert svc.is_stale(), "the default limit (10 MB) is not the one long.txt was skipped under"
    report = build_index(sources, index, HashEmbedder(64))
    assert report.added == ("long.txt",) and not report.skipped


def test_when_every_source_is_bad_the_error_names_them(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("empty.txt", "fake.pdf"):
        (sources / name).write_bytes(BAD[name])
    with pytest.raises(EmptySources, match=r"no quotable text in any source \(2 skipped\): empty\.txt: the file is"):
        build_index(sources, tmp_path / "index", HashEmbedder(64))
    assert read_skipped(tmp_path / "index").keys() == {"empty.txt", "fake.pdf"}
    assert current_version(tmp_path / "index") is None


def test_full_rebuild_reports_unchanged_files_as_rebuilt(tmp_path: Path) -> None:
    sources, index = mixed_folder(tmp_path / "sources", bad=False), tmp_path / "index"
    build_index(sources, index, HashEmbedder(64))
    (sources / "notes.txt").write_text("Field notes\n\nThe keeper counted fifty ships.\n", encoding="utf-8")
    report = build_index(sources, index, HashEmbedder(64), full=True)
    assert report.changed == ("notes.txt",)
    assert set(report.rebuilt) == GOOD_NAMES - {"notes.txt"} and not report.kept
