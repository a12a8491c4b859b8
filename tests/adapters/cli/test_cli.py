"""The command line on the bundled article with the fake embedder: JSON contract and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ENV_BASE = {"KOREA_BOT_MODEL": "hash:64", "KOREA_BOT_MIN_SCORE": "0.0", "PATH": "/usr/bin:/bin"}


def run(
    args: list[str], tmp_path: Path, sources: Path, stdin: str | None = None, extra_env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run `python -m korea_bot` with the fake embedder and a private index."""
    env = {**ENV_BASE, "KOREA_BOT_SOURCES_DIR": str(sources), "KOREA_BOT_INDEX_DIR": str(tmp_path / "index")}
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "korea_bot", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        cwd=tmp_path,
    )


def test_ask_json_contract(tmp_path: Path, seed_sources: Path) -> None:
    """`ask --json` prints one object per question whose passages are verbatim slices of the source."""
    proc = run(["ask", "--json", "How far did the Hwasong-15 missile fly?"], tmp_path, seed_sources)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert set(obj) >= {"question", "answered", "index_version", "took_ms", "passages"}
    assert obj["answered"] is True and obj["passages"]
    for p in obj["passages"]:
        text = (seed_sources / p["source"]).read_text(encoding="utf-8")
        assert p["text"] == text[p["start"] : p["end"]]
        assert p["start"] <= p["highlight"][0] < p["highlight"][1] <= p["end"]
        assert set(p) >= {"rank", "source", "title", "url", "paragraph", "start", "end", "highlight", "score", "text"}


def test_ask_questions_from_stdin(tmp_path: Path, seed_sources: Path) -> None:
    """--questions - answers one JSON line per non-empty input line, and reports bad ones inline."""
    proc = run(
        ["ask", "--json", "--questions", "-"],
        tmp_path,
        seed_sources,
        stdin="What is the double freeze?\n\nWho led South Korea?\n\u202e\u200b\x00\n",
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[2]["answered"] is False and "empty" in rows[2]["error"]


def test_bad_inputs_are_one_line_errors(tmp_path: Path, seed_sources: Path) -> None:
    """Empty, invisible-only and over-long questions, and bad settings, give one clear line and no traceback."""
    for question in ["   ", "\u202e\u200b", "x" * 10_000]:
        proc = run(["ask", question], tmp_path, seed_sources)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("korea-bot: ")
    proc = run(["ask", "--top-k", "0", "hello"], tmp_path, seed_sources)
    assert proc.returncode == 2 and "--top-k" in proc.stderr and "Traceback" not in proc.stderr
    assert "KOREA_BOT_TOP_K" not in proc.stderr  # the flag was given: the flag is blamed, not the variable


def test_empty_sources_folder_is_named(tmp_path: Path) -> None:
    """An empty sources folder is an error that names the folder."""
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run(["index"], tmp_path, empty)
    assert proc.returncode == 1
    assert str(empty) in proc.stderr and "Traceback" not in proc.stderr


def test_environment_options(tmp_path: Path, seed_sources: Path) -> None:
    """Options come from KOREA_BOT_* variables too; a bad one names the variable once."""
    env_json = {"KOREA_BOT_JSON": "1", "KOREA_BOT_TOP_K": "1"}
    proc = run(["ask", "What is the double freeze?"], tmp_path, seed_sources, extra_env=env_json)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["passages"]) == 1
    proc = run(["ask", "x"], tmp_path, seed_sources, extra_env={"KOREA_BOT_JSON": "maybe"})
    assert proc.returncode == 2
    assert proc.stderr.count("KOREA_BOT_JSON") == 1 and "KOREA_BOT_KOREA_BOT" not in proc.stderr
