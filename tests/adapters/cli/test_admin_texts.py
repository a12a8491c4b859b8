"""An admin's folder of mixed good and bad files through the real CLI: every good file quoted, every bad one named,
the bot keeps answering; a read-only index folder; the last good version served when nothing can be indexed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers.corpora import private_mount, run_cli, service
from helpers.documents import BAD, BAD_REASONS, QUESTIONS, mixed_folder

from korea_bot.index import current_version
from korea_bot.ingest.sources import load_document


def test_mixed_folder_every_good_file_quoted_every_bad_one_named(tmp_path: Path) -> None:
    sources = mixed_folder(tmp_path / "sources")
    where = ["--sources", str(sources), "--index", str(tmp_path / "index")]
    built = run_cli("index", *where, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    skipped = [line.strip() for line in built.stdout.splitlines() if line.strip().startswith("skipped:")]
    assert len(skipped) == len(BAD)
    for name in BAD:
        line = next(s for s in skipped if s.startswith(f"skipped: {name}"))
        assert BAD_REASONS[name] in line, line
    assert f", {len(BAD)} skipped;" in built.stdout.splitlines()[0]
    assert "Traceback" not in built.stderr

    strict = run_cli("index", "--strict", *where, cwd=tmp_path)
    assert strict.returncode == 1
    assert (
        strict.stderr.strip().splitlines()[-1]
        == f"korea-bot: error: {len(BAD)} source(s) skipped, see above (--strict)"
    )

    version = current_version(tmp_path / "index")
    for name, question in QUESTIONS.items():
        asked = run_cli("ask", "--json", "--top-k", "1", *where, question, cwd=tmp_path)
        assert asked.returncode == 0, asked.stderr
        assert asked.stderr == "", "an index that is current (bad files included) is not rebuilt or reported again"
        passage = json.loads(asked.stdout)["passages"][0]
        assert passage["source"] == name, (question, passage)
        text = load_document(sources, name).text
        assert text[passage["start"] : passage["end"]] == passage["text"]
    assert current_version(tmp_path / "index") == version


def test_ask_builds_past_bad_files_and_names_them_once(tmp_path: Path) -> None:
    sources = mixed_folder(tmp_path / "sources")
    where = ["--sources", str(sources), "--index", str(tmp_path / "index")]
    first = run_cli("ask", *where, QUESTIONS["memo.md"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Kim Minsu, 2018-09-19" in first.stdout  # the citation carries author and date
    warned = [line for line in first.stderr.splitlines() if line.startswith("korea-bot: warning: skipped: ")]
    assert len(warned) == len(BAD)
    again = run_cli("ask", *where, QUESTIONS["memo.md"], cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == ""


def test_last_good_version_keeps_answering_when_nothing_can_be_indexed(tmp_path: Path) -> None:
    sources = mixed_folder(tmp_path / "sources", bad=False)
    svc = service(sources, tmp_path / "index")
    svc.ensure_index()
    version = svc.version
    for path in list(sources.iterdir()):
        path.write_bytes(b"")  # every file emptied: nothing left to index
    warnings: list[str] = []
    fresh = service(sources, tmp_path / "index")
    assert fresh.ensure_index(warn=warnings.append) is None
    assert len(warnings) == 1 and "no quotable text in any source" in warnings[0] and version in warnings[0]
    assert fresh.ask(QUESTIONS["notes.txt"]).passages[0].source == "notes.txt"
    shutil.rmtree(sources)
    assert service(sources, tmp_path / "index").ensure_index(warn=warnings.append) is None
    assert "does not exist" in warnings[-1]


def _read_only(folder: Path) -> list[str] | None:
    """A command prefix under which `folder` is read-only: a private read-only bind mount (root), else None."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"'
    return private_mount(script, folder, ["sh", "-c", f"! touch '{folder}/x' 2>/dev/null"])


def test_read_only_index_folder_answers_with_a_warning_and_index_says_what_to_fix(tmp_path: Path) -> None:
    sources, index = mixed_folder(tmp_path / "sources", bad=False), tmp_path / "index"
    where = ["--sources", str(sources), "--index", str(index)]
    assert run_cli("index", *where, cwd=tmp_path).returncode == 0
    prefix = _read_only(index)
    if prefix is None:
        if os.geteuid() == 0:
            pytest.skip("needs a private mount namespace (unshare -m) to make the index folder read-only as root")
        index.chmod(0o555)  # an unprivileged user cannot write a 555 folder
        prefix = []
    try:
        current = run_cli("ask", *where, QUESTIONS["notes.txt"], cwd=tmp_path, prefix=prefix)
        assert current.returncode == 0 and current.stderr == "", current.stderr  # current: nothing to write
        (sources / "more.txt").write_text("The ferry to Ulleungdo left at dawn every day.\n", encoding="utf-8")
        stale = run_cli("ask", *where, QUESTIONS["notes.txt"], cwd=tmp_path, prefix=prefix)
        assert stale.returncode == 0, stale.stderr
        assert "lighthouse" in stale.stdout
        lines = stale.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("korea-bot: warning: cannot update the index"), stale.stderr
        assert "answering from version" in lines[0]
        built = run_cli("index", *where, cwd=tmp_path, prefix=prefix)
        assert built.returncode == 1 and "Traceback" not in built.stderr
        lines = built.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"korea-bot: error: cannot write to the index folder {index}")
        assert "make it writable" in lines[0] and "KOREA_BOT_INDEX_DIR" in lines[0]
    finally:
        index.chmod(0o755)
