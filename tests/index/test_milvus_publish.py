"""Publishing to Milvus (real Milvus Lite): an older builder uploads nothing, a failed publish is reported, retried."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers.corpora import make_corpus
from helpers.milvus import service

from korea_bot import formatting
from korea_bot.adapters.cli.main import main
from korea_bot.backends import milvus_client, milvus_live, milvus_publish, milvus_store
from korea_bot.backends.milvus_client import names
from korea_bot.backends.milvus_serve import load_live
from korea_bot.errors import SearchBackendError
from korea_bot.index import LoadedIndex, load_index

pytest.importorskip("pymilvus")
LATE = "A lighthouse of Zone999 was built in 1901.\n"
LOCAL = {"prepare_index_params", "create_schema"}  # client methods that build a request without calling Milvus


class Untimed:
    """The real client, noting each call to Milvus made without a timeout (a hung server would hold the lock)."""

    def __init__(self, client: Any) -> None:
        """Wrap `client`; `calls` lists the methods called without `timeout=`."""
        self.client, self.calls = client, []

    def __getattr__(self, name: str) -> Any:
        """The client's attribute; a method call records itself when it passes no timeout."""
        real = getattr(self.client, name)
        if not callable(real) or name in LOCAL:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            if "timeout" not in kwargs:
                self.calls.append(name)
            return real(*args, **kwargs)

        return call


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The versions milvus_publish writes into Milvus (each write still runs on the real engine)."""
    seen: list[str] = []
    real = milvus_publish._write

    def spy(client, loaded, coll, wait):  # type: ignore[no-untyped-def]
        seen.append(loaded.version)
        return real(client, loaded, coll, wait)

    monkeypatch.setattr(milvus_publish, "_write", spy)
    return seen


def two_versions(tmp_path: Path, uri: str) -> tuple[LoadedIndex, LoadedIndex]:
    """Two files-index versions of one corpus, the second with one more file."""
    make_corpus(tmp_path / "src", n_files=3)
    svc = service(tmp_path / "src", tmp_path / "index", "files", uri)
    svc.ensure_index()
    older = load_index(tmp_path / "index")
    (tmp_path / "src" / "late.txt").write_text(LATE, encoding="utf-8")
    svc.ensure_index()
    return older, load_index(tmp_path / "index")


def test_publishing_an_older_version_writes_nothing(tmp_path: Path, uri: str, writes: list[str]) -> None:
    """With a newer version live, publish returns before creating any collection for the older one."""
    older, newer = two_versions(tmp_path, uri)
    client = milvus_client.connect(uri)
    assert milvus_publish.publish(client, uri, newer) is True
    before = set(client.list_collections())
    assert milvus_publish.publish(client, uri, older) is False
    assert writes == [newer.version] and set(client.list_collections()) == before
    assert load_live(client, uri).version == newer.version


def test_an_older_builder_starting_up_is_not_stale_and_uploads_nothing(
    tmp_path: Path, uri: str, writes: list[str]
) -> None:
    """A builder whose files are older than what Milvus serves (same sources) serves Milvus' version, builds nothing."""
    make_corpus(tmp_path / "src", n_files=3)
    old = service(tmp_path / "src", tmp_path / "old-index", "milvus", uri)
    old.ensure_index()
    shutil.copytree(tmp_path / "old-index", tmp_path / "new-index")
    (tmp_path / "src" / "late.txt").write_text(LATE, encoding="utf-8")
    new = service(tmp_path / "src", tmp_path / "new-index", "milvus", uri)
    assert new.ensure_index() is not None and new.version != old.version
    restarted = service(tmp_path / "src", tmp_path / "old-index", "milvus", uri)
    assert restarted.is_stale() is False
    assert restarted.ensure_index() is None and restarted.version == new.version
    assert writes == [old.version, new.version]
    assert restarted.ask("lighthouse Zone999").passages[0].source == "late.txt"


def test_a_failed_publish_after_a_build_is_reported_and_retried(
    tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files build stands, the report says the publish failed, the old version serves; the next run publishes."""
    make_corpus(tmp_path / "src", n_files=3)
    svc = service(tmp_path / "src", tmp_path / "index", "milvus", uri)
    svc.ensure_index()
    first = svc.version
    real = milvus_publish._write
    monkeypatch.setattr(milvus_publish, "_write", _full_disk)
    (tmp_path / "src" / "late.txt").write_text(LATE, encoding="utf-8")
    report = svc.reindex()
    assert report.added == ("late.txt",) and report.version != first
    lines = formatting.report_lines(report)
    assert any("publishing it to Milvus failed" in x and "disk quota exceeded" in x for x in lines), lines
    assert any(f"still answering from version {first}" in x and "retries" in x for x in lines), lines
    assert svc.version == first and load_live(milvus_client.connect(uri), uri).version == first
    assert svc.is_stale() is True
    monkeypatch.setattr(milvus_publish, "_write", real)
    retried = svc.ensure_index()
    assert retried is not None and retried.unchanged and not retried.notes
    assert svc.version == report.version and svc.ask("lighthouse Zone999").passages[0].source == "late.txt"
    assert set(names(report.version).values()) <= set(milvus_client.connect(uri).list_collections())


def test_a_newer_version_published_during_a_write_wins(
    tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two builders racing: the older one finishes writing after the newer one switched; its rows are dropped."""
    older, newer = two_versions(tmp_path, uri)
    client = milvus_client.connect(uri)
    real = milvus_publish._write

    def racing(client, loaded, coll, wait):  # type: ignore[no-untyped-def]
        written = real(client, loaded, coll, wait)
        if loaded.version == older.version:
            monkeypatch.setattr(milvus_publish, "_write", real)
            assert milvus_publish.publish(client, uri, newer) is True  # the other builder, while this one wrote
        return written

    monkeypatch.setattr(milvus_publish, "_write", racing)
    assert milvus_publish.publish(client, uri, older) is False
    assert load_live(client, uri).version == newer.version
    assert not set(names(older.version).values()) & set(client.list_collections())


def _milvus_cli(tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch, n_files: int) -> list[str]:
    """A corpus under tmp_path/src, the environment of a Milvus-backend install, and the `korea-bot index` argv."""
    make_corpus(tmp_path / "src", n_files=n_files)
    for key, value in {"MODEL": "hash:64", "SEARCH_BACKEND": "milvus", "MILVUS_URI": uri}.items():
        monkeypatch.setenv(f"KOREA_BOT_{key}", value)
    return ["index", "--sources", str(tmp_path / "src"), "--index", str(tmp_path / "index")]


def _full_disk(client, loaded, coll, wait):  # type: ignore[no-untyped-def]
    """A stand-in for milvus_publish._write that fails as a full Milvus volume does."""
    raise RuntimeError("<MilvusException: (code=65535, message=disk quota exceeded)>")


def test_index_exits_3_when_the_publish_fails(
    tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`korea-bot index`: the files build stands, the warning is printed, exit code 3; the next run publishes, 0."""
    argv = _milvus_cli(tmp_path, uri, monkeypatch, n_files=3)
    assert main(argv) == 0
    first = load_live(milvus_client.connect(uri), uri).version
    real = milvus_publish._write

    monkeypatch.setattr(milvus_publish, "_write", _full_disk)
    (tmp_path / "src" / "late.txt").write_text(LATE, encoding="utf-8")
    capsys.readouterr()
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert "warning: the files index is built, but publishing it to Milvus failed" in out and "disk quota" in out
    assert err.strip().splitlines()[-1].startswith("korea-bot: error: the files index is built but not published")
    assert load_live(milvus_client.connect(uri), uri).version == first
    assert load_index(tmp_path / "index").version != first  # the files index is kept
    monkeypatch.setattr(milvus_publish, "_write", real)
    assert main(argv) == 0
    assert load_live(milvus_client.connect(uri), uri).version == load_index(tmp_path / "index").version


def test_a_first_publish_that_fails_exits_3_too(
    tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Milvus still empty and the first publish fails: exit 3 with the warning (not "holds no index yet"); then 0."""
    argv = _milvus_cli(tmp_path, uri, monkeypatch, n_files=2)
    real = milvus_publish._write

    monkeypatch.setattr(milvus_publish, "_write", _full_disk)
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert "warning: the files index is built, but publishing it to Milvus failed" in out and "disk quota" in out
    assert "holds no index yet" not in err
    assert err.strip().splitlines()[-1].startswith("korea-bot: error: the files index is built but not published")
    assert load_index(tmp_path / "index").version  # the files index stands
    monkeypatch.setattr(milvus_publish, "_write", real)
    assert main(argv) == 0
    assert load_live(milvus_client.connect(uri), uri).version == load_index(tmp_path / "index").version


def test_a_publish_waits_for_another_process_publishing_from_the_same_folder(tmp_path: Path, uri: str) -> None:
    """The build lock is released before the publish: a second publisher of one index folder waits for the first."""
    make_corpus(tmp_path / "src", n_files=3)
    svc = service(tmp_path / "src", tmp_path / "index", "files", uri)
    svc.ensure_index()
    settings = svc.settings.model_copy(update={"search_backend": "milvus"})
    holder = os.open(tmp_path / "index" / milvus_live.PUBLISH_LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another process's publish (a separate open file: flock excludes it)
    results: list[bool] = []
    waiting = threading.Thread(target=lambda: results.append(milvus_live.publish_files(settings)))
    waiting.start()
    waiting.join(1.5)
    assert waiting.is_alive() and milvus_live.published(settings) is None  # it waits, nothing written yet
    os.close(holder)
    waiting.join(60)
    assert results == [True] and milvus_live.published(settings) == svc.version
    first, second = milvus_live.publish_lock(tmp_path / "index"), milvus_live.publish_lock(tmp_path / "index", wait=0.3)
    lock = str(tmp_path / "index" / milvus_live.PUBLISH_LOCK)
    with (
        pytest.raises(SearchBackendError, match=rf"for over 0\.3 s \(it holds the lock {re.escape(lock)}\)"),
        first,
        second,
    ):
        pass


def test_every_call_of_a_publish_has_a_timeout(tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """First publish, an incremental one re-indexing with HNSW, one collecting: no Milvus call can wait forever."""
    older, newer = two_versions(tmp_path, uri)
    client = Untimed(milvus_client.connect(uri))
    assert milvus_publish.publish(client, uri, older) is True
    monkeypatch.setattr(milvus_store, "EXACT_LIMIT", len(older.chunks))
    assert milvus_publish.publish(client, uri, newer) is True
    (tmp_path / "src" / "doc000.txt").unlink()
    service(tmp_path / "src", tmp_path / "index", "files", uri).ensure_index()
    assert milvus_publish.publish(client, uri, load_index(tmp_path / "index")) is True
    assert (
        client.client.describe_index(f"{milvus_store.store_prefix('hash:64', 64)}_passages", "vec")["index_type"]
        == "HNSW"
    )
    assert client.calls == []
