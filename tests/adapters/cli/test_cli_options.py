"""The command line's rough edges: descriptions, global options anywhere, one error prefix, the flag blamed,
"rebuilt" for --full, a question and --questions together, and progress only when a build runs."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.corpora import cli_env, make_corpus, run_cli

from korea_bot.adapters.cli.parser import COMMANDS, build_parser
from korea_bot.progress import LONG_BUILD, ProgressLines, ticking


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_sub_command_has_a_description(tmp_path: Path, command: str) -> None:
    proc = run_cli(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0
    first_words = " ".join(COMMANDS[command][1].split()[:4])
    assert first_words in " ".join(proc.stdout.split()), proc.stdout


def test_log_level_before_or_after_the_sub_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["--log-level", "DEBUG", "ask", "q"]).log_level == "DEBUG"
    assert parser.parse_args(["ask", "q", "--log-level", "DEBUG"]).log_level == "DEBUG"
    assert parser.parse_args(["--log-level", "INFO", "health", "--log-level", "ERROR"]).log_level == "ERROR"
    assert parser.parse_args(["sync"]).log_level is None


def test_log_level_after_the_sub_command_takes_effect(tmp_path: Path) -> None:
    make_corpus(tmp_path / "s", n_files=2)
    where = ["--sources", str(tmp_path / "s"), "--index", str(tmp_path / "i")]
    proc = run_cli("index", *where, "--log-level", "DEBUG", cwd=tmp_path)
    assert proc.returncode == 0 and " DEBUG " in proc.stderr, proc.stderr


def test_one_error_prefix_for_usage_settings_and_runtime_errors(tmp_path: Path) -> None:
    failures = [
        run_cli("bogus", cwd=tmp_path),
        run_cli("ask", "--top-k", "x", "q", cwd=tmp_path),
        run_cli("ask", cwd=tmp_path),
        run_cli("ask", "q", cwd=tmp_path, KOREA_BOT_TOP_K="0"),
        run_cli("index", "--sources", str(tmp_path / "nope"), cwd=tmp_path),
        run_cli("eval", str(tmp_path / "nope.jsonl"), cwd=tmp_path),
    ]
    for proc in failures:
        assert proc.returncode != 0
        errors = [line for line in proc.stderr.splitlines() if not line.startswith(("usage:", " "))]
        assert len(errors) == 1 and errors[0].startswith("korea-bot: error: "), proc.stderr
        assert "korea-bot ask:" not in proc.stderr and "error: usage:" not in proc.stderr


def test_the_flag_is_blamed_when_given_the_variable_otherwise(tmp_path: Path) -> None:
    flag = run_cli("ask", "--top-k", "11", "q", cwd=tmp_path)
    assert flag.returncode == 2 and "bad value for --top-k:" in flag.stderr and "KOREA_BOT_TOP_K" not in flag.stderr
    env = run_cli("ask", "q", cwd=tmp_path, KOREA_BOT_TOP_K="11")
    assert env.returncode == 2 and "KOREA_BOT_TOP_K" in env.stderr


def test_full_rebuild_lists_files_as_rebuilt(tmp_path: Path) -> None:
    make_corpus(tmp_path / "s", n_files=3)
    where = ["--sources", str(tmp_path / "s"), "--index", str(tmp_path / "i")]
    assert run_cli("index", *where, cwd=tmp_path).returncode == 0
    full = run_cli("index", "--full", *where, cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    assert "0 changed, 3 rebuilt" in full.stdout and "changed:" not in full.stdout
    assert [line.strip() for line in full.stdout.splitlines()[1:]] == [f"rebuilt: doc00{i}.txt" for i in range(3)]


def test_a_question_and_a_questions_file_are_both_answered(tmp_path: Path) -> None:
    make_corpus(tmp_path / "s", n_files=3)
    (tmp_path / "q.txt").write_text("What shaped Zone001?\n\nWhat shaped Zone002?\n", encoding="utf-8")
    where = ["--sources", str(tmp_path / "s"), "--index", str(tmp_path / "i")]
    proc = run_cli(
        "ask", "--json", *where, "--questions", str(tmp_path / "q.txt"), "What shaped Zone000?", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    asked = [json.loads(line)["question"] for line in proc.stdout.splitlines()]
    assert asked == ["What shaped Zone000?", "What shaped Zone001?", "What shaped Zone002?"]


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout piped); its exit code and what the terminal showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "korea_bot", *args],
        cwd=cwd,
        env=cli_env(KOREA_BOT_LOG_LEVEL="WARNING", KOREA_BOT_MIN_SCORE="-1", TERM="xterm"),
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    proc.communicate(timeout=30)
    os.close(master)
    return proc.returncode, shown.decode("utf-8", "replace")


def test_no_progress_on_the_terminal_when_nothing_is_built(tmp_path: Path) -> None:
    make_corpus(tmp_path / "s", n_files=3)
    args = ["ask", "--sources", str(tmp_path / "s"), "--index", str(tmp_path / "i"), "What shaped Zone001?"]
    code, first = _on_a_terminal(args, tmp_path)
    assert code == 0 and "3 added" in first, first  # the build's summary (and its bar, transient) on the terminal
    code, second = _on_a_terminal(args, tmp_path)
    assert code == 0 and second == "", f"nothing was built, yet the terminal showed {second!r}"


class Clock:
    """A hand-moved clock."""

    def __init__(self) -> None:
        """Start at 0."""
        self.now = 0.0

    def __call__(self) -> float:
        """The current time."""
        return self.now


def test_progress_lines_announce_a_long_build_then_report_every_few_seconds() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = ProgressLines(lines.append, every=5.0, clock=clock)
    total = LONG_BUILD * 10
    progress(0, 0)  # the build starts reading the sources
    clock.now = 6.0
    progress.tick()
    assert lines == ["preparing: reading the sources, loading the model… (6 s)"]
    progress(0, total)
    assert lines[-1].startswith(f"embedding {total:,} passages: about ") and "min" in lines[-1]
    clock.now = 8.0
    progress(512, total)
    assert len(lines) == 2, "at most one line every 5 s"
    clock.now = 16.0
    progress(5_000, total)
    assert lines[-1] == f"embedding passages: 5,000/{total:,} (25%), 10 s so far, about 30 s left"
    clock.now = 30.0
    progress(total, total)
    assert lines[-1] == f"embedding passages: {total:,}/{total:,} (100%) in 24 s"
    clock.now = 60.0
    progress.tick()
    assert len(lines) == 4, "nothing after the end"


def test_a_short_build_stays_quiet() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = ProgressLines(lines.append, every=5.0, clock=clock)
    progress(0, 0)
    progress(0, 40)
    clock.now = 1.0
    progress(40, 40)
    assert lines == []


def test_ticking_reports_while_the_block_runs() -> None:
    lines: list[str] = []
    with ticking(ProgressLines(lines.append, every=0.05), period=0.02) as progress:
        progress(0, 0)  # the build starts
        time.sleep(0.3)
    assert lines and all(line.startswith("preparing: reading the sources") for line in lines)


def test_discord_voice_warnings_are_not_shown_other_warnings_are(caplog: pytest.LogCaptureFixture) -> None:
    """discord.py says at start-up that voice needs PyNaCl and davey; the bot never uses voice."""
    import logging

    import discord

    from korea_bot.adapters.cli.main import setup_logging

    setup_logging("INFO")
    with caplog.at_level(logging.INFO):
        discord.Client(intents=discord.Intents.none())
        logging.getLogger("discord.client").warning("another warning")
    assert "voice will NOT be supported" not in caplog.text
    assert "another warning" in caplog.text


def test_ctrl_c_during_a_build_is_one_line_and_publishes_nothing(tmp_path: Path) -> None:
    """Interrupted while its progress lines run, `index` exits 130 with one line; no version, no traceback."""
    import signal

    # ~10 s of sentence splitting, then 12,000 passages to embed: seconds of work left after the first progress line,
    # even on a loaded machine where this process reads that line late (300 files left ~1 s once splitting got faster)
    make_corpus(tmp_path / "s", n_files=1000, paragraphs=12)
    proc = subprocess.Popen(
        [sys.executable, "-m", "korea_bot", "index", "--sources", str(tmp_path / "s"), "--index", str(tmp_path / "i")],
        cwd=tmp_path,
        env=cli_env(KOREA_BOT_LOG_LEVEL="WARNING"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first progress line: the build is under way
    proc.send_signal(signal.SIGINT)
    _out, rest = proc.communicate(timeout=60)
    # the first progress line, whichever the build reached first on this machine: chunking or embedding
    assert re.match(r"korea-bot: (preparing: |embedding [\d,]+ passages: about )", first), first + rest
    assert proc.returncode == 130 and "Traceback" not in rest
    assert rest.strip().splitlines()[-1] == "korea-bot: error: interrupted"
    from korea_bot.index import current_version

    assert current_version(tmp_path / "i") is None


def test_progress_lines_say_nothing_until_a_build_reports() -> None:
    """Loading the model to check whether the index is current is not a build: no "preparing" line for it."""
    lines: list[str] = []
    clock = Clock()
    progress = ProgressLines(lines.append, every=5.0, clock=clock)
    clock.now = 30.0
    progress.tick()
    assert lines == []
    progress(0, 0)
    clock.now = 36.0
    progress.tick()
    assert lines == ["preparing: reading the sources, loading the model… (6 s)"]
