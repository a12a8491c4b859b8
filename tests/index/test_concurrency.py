"""Searches during swaps never mix versions; hot reload from another process; the build lock."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
from helpers.corpora import PYTHON, assert_verbatim, cli_env, make_corpus, service, snapshot

from korea_bot.embedding import HashEmbedder
from korea_bot.errors import BuildLocked
from korea_bot.index import LoadedIndex, build_index
from korea_bot.index.store import VERSIONS, build_lock, current_version, list_versions

QUESTIONS = ["Report on Zone001", "harbor treaty of Zone004", "glacier summit", "Zone007 railway", "lantern orchard"]


def _rewrite(sources: Path, texts: dict[str, str], round_: int) -> None:
    """Shift every text by a different prefix (so offsets differ per version) and add/remove a file."""
    for name, text in texts.items():
        (sources / name).write_text("Note. " * (round_ % 4) + f"Round {round_}.\n\n" + text, "utf-8")
    (sources / f"extra{round_ - 1}.txt").unlink(missing_ok=True)
    (sources / f"extra{round_}.txt").write_text(f"Report on round {round_}\n\nThe glacier of Zone001 moved.\n", "utf-8")


def _check_one_version(answer, seen: dict[str, LoadedIndex]) -> None:  # type: ignore[no-untyped-def]
    """Each passage is a chunk of the version the answer names, and verbatim in that version's texts."""
    version = seen[answer.index_version]
    assert_verbatim(answer, {src: doc.text for src, doc in version.documents.items()})
    for p in answer.passages:
        chunk = version.chunks[p.chunk_id]
        assert (chunk.source, chunk.start, chunk.end, chunk.text) == (p.source, p.start, p.end, p.text)


def test_concurrent_searches_across_swaps_never_mix_versions(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = make_corpus(sources, n_files=10)
    writer, reader = service(sources, index), service(sources, index)
    writer.ensure_index()
    seen: dict[str, LoadedIndex] = {writer.index.version: writer.index}
    answers, errors = [], []
    done, lock = threading.Event(), threading.Lock()

    def ask(svc) -> None:  # type: ignore[no-untyped-def]
        i = 0
        while not done.is_set() or i < 10:
            try:
                answer = svc.ask(QUESTIONS[i % len(QUESTIONS)])
                with lock:
                    answers.append(answer)
            except Exception as exc:
                errors.append(exc)
            i += 1

    def swap() -> None:
        try:
            for round_ in range(1, 6):
                _rewrite(sources, texts, round_)
                writer.reindex()
                with lock:
                    seen[writer.index.version] = writer.index
                while reader.index.version != writer.index.version:  # the reader picks it up by polling
                    reader.reload_if_changed()
                with lock:
                    seen[reader.index.version] = reader.index
        except Exception as exc:
            errors.append(exc)
        finally:
            done.set()

    threads = [threading.Thread(target=ask, args=(svc,)) for svc in (writer, reader) * 3]
    threads.append(threading.Thread(target=swap))
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert len(answers) >= 50 and len(seen) >= 6
    versions = {a.index_version for a in answers}
    assert len(versions) >= 2  # the searches really spanned several versions
    for answer in answers:
        _check_one_version(answer, seen)


def test_reload_picks_up_a_version_published_by_another_process(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    make_corpus(sources, n_files=5)
    bot = service(sources, index)
    bot.ensure_index()
    first = bot.version
    assert bot.reload_if_changed() is False
    (sources / "news.txt").write_text("Report on Zone777\n\nA bridge opened in Zone777 today.\n", "utf-8")
    done = subprocess.run([PYTHON, "-m", "korea_bot", "index", "--sources", str(sources), "--index", str(index)],
                          env=cli_env(), capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 added, 0 changed, 0 removed, 5 kept" in done.stdout
    in_flight = bot.index  # a question that started before the swap keeps its own reference
    assert bot.reload_if_changed() is True and bot.version == current_version(index) != first
    assert in_flight.version == first and in_flight.chunks  # the old version is still whole in memory
    answer = bot.ask("bridge opened in Zone777")
    assert answer.passages[0].source == "news.txt"
    assert_verbatim(answer, snapshot(sources))


def test_damaged_new_version_keeps_the_old_one_serving(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = make_corpus(sources, n_files=5)
    bot = service(sources, index)
    bot.ensure_index()
    first = bot.version
    (sources / "doc000.txt").write_text(texts["doc000.txt"] + "\nMore.\n", "utf-8")
    new = build_index(sources, index, HashEmbedder(64)).version
    (index / VERSIONS / new / "vectors.faiss").write_bytes(b"\0" * 10)
    for _ in range(3):
        assert bot.reload_if_changed() is False
    assert bot.version == first
    assert sum("not loaded, still serving" in r.message for r in caplog.records) == 1  # tried once, not per poll
    assert_verbatim(bot.ask("Report on Zone002"), texts)


def test_reader_keeps_answering_after_its_version_is_cleaned_up(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = make_corpus(sources, n_files=5)
    bot = service(sources, index)
    bot.ensure_index()
    first = bot.version
    for i in range(3):
        (sources / "doc001.txt").write_text(texts["doc001.txt"] + f"\nEdit {i}.\n", "utf-8")
        build_index(sources, index, HashEmbedder(64))
    assert first not in list_versions(index) and not (index / VERSIONS / first).exists()
    answer = bot.ask("Report on Zone003")  # vectors are memory-mapped from a deleted file; the rest is in memory
    assert answer.index_version == first
    assert_verbatim(answer, texts)


def test_second_builder_gets_a_clear_message(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    make_corpus(sources, n_files=3)
    with build_lock(index):
        with pytest.raises(BuildLocked, match=r"another build of .* is running \(pid \d+\); wait for it"):
            build_index(sources, index, HashEmbedder(64))
        done = subprocess.run([PYTHON, "-m", "korea_bot", "index", "--sources", str(sources), "--index", str(index)],
                              env=cli_env(), capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == f"korea-bot: error: another build of {index} is running (pid {os.getpid()}); wait for it to finish"
    )
    assert current_version(index) is None
    assert build_index(sources, index, HashEmbedder(64)).version == current_version(index)
