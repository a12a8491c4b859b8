"""`korea-bot index --watch`: rebuilds on changes, survives a bad file, exits 0 on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from helpers.corpora import PYTHON, assert_verbatim, cli_env, make_corpus, service, snapshot

from korea_bot.adapters.cli.watch import source_filter
from korea_bot.index.store import current_version

DEADLINE = 60.0  # generous: a slow CI machine must not fail the test; nothing here measures speed


def wait_for(condition: Callable[[], object], what: str) -> None:
    """Poll until condition() is true; fail with `what` after DEADLINE seconds."""
    end = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_watch_rebuilds_on_change_survives_a_bad_file_and_stops_on_sigterm(tmp_path: Path) -> None:
    sources, index, log = tmp_path / "sources", tmp_path / "index", tmp_path / "watch.log"
    texts = make_corpus(sources, n_files=4)
    with open(log, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [PYTHON, "-m", "korea_bot", "index", "--watch", "--sources", str(sources), "--index", str(index)],
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        wait_for(lambda: "watching" in log.read_text("utf-8") and current_version(index), "the first build")
        first = current_version(index)
        (sources / "doc001.txt").write_text(texts["doc001.txt"] + "\nA canal was dug in Zone001.\n", "utf-8")
        wait_for(lambda: current_version(index) != first, "a rebuild after an edit")
        second = current_version(index)
        wait_for(lambda: "1 changed" in log.read_text("utf-8"), "the rebuild summary")
        (sources / "bad.txt").write_bytes(b"caf\xe9 is not UTF-8")
        wait_for(lambda: "bad.txt is not valid UTF-8" in log.read_text("utf-8"), "the bad-file error")
        assert proc.poll() is None and current_version(index) == second
        (sources / "bad.txt").unlink()
        (sources / "doc002.txt").unlink()
        wait_for(lambda: "1 removed" in log.read_text("utf-8"), "a rebuild after a fix and a deletion")
        assert current_version(index) != second
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(DEADLINE) == 0
    finally:
        proc.kill()
        proc.wait()
    text = log.read_text("utf-8")
    assert "Traceback" not in text and "watch stopped" in text, text
    answer = service(sources, index).ask("canal dug in Zone001")
    assert "canal" in answer.passages[0].text
    assert_verbatim(answer, snapshot(sources))


def test_watch_filter_is_relative_to_the_sources_folder(tmp_path: Path) -> None:
    root = tmp_path / ".hidden-parent" / "sources"
    keep = source_filter(root)
    assert keep(None, str(root / "a.txt")) and keep(None, str(root / "sub" / "b.md")) and keep(None, str(root / "sub"))
    assert not keep(None, str(root / ".a.txt.swp")) and not keep(None, str(root / ".git" / "x.txt"))
    assert not keep(None, str(root / "notes.docx")) and not keep(None, str(tmp_path / "elsewhere.txt"))
