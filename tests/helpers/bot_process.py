"""The real `python -m korea_bot ...` as a child process against FakeDiscord: environment, start, output."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from helpers.discord_harness import TOKEN, write_corpus
from helpers.fake_discord import FakeDiscord


def env_for(root: Path, fake: FakeDiscord, **extra: str) -> dict[str, str]:
    """Environment for a bot process: the test corpus, the hash embedder, the fake's URLs, verbose logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOREA_BOT_")}
    env.update(
        KOREA_BOT_SOURCES_DIR=str(root / "sources"),
        KOREA_BOT_INDEX_DIR=str(root / "index"),
        KOREA_BOT_MODEL="hash:64",
        KOREA_BOT_MIN_SCORE="0.1",
        KOREA_BOT_DISCORD_TOKEN=TOKEN,
        KOREA_BOT_DISCORD_API_URL=fake.api_base,
        KOREA_BOT_DISCORD_GATEWAY_URL=fake.gateway_url,
        KOREA_BOT_HEARTBEAT_FILE=str(root / "heartbeat"),
        KOREA_BOT_HEARTBEAT_MAX_AGE="5",
        KOREA_BOT_FEEDBACK_FILE=str(root / "feedback.jsonl"),
        KOREA_BOT_LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


async def start(root: Path, fake: FakeDiscord, *args: str, **extra: str) -> asyncio.subprocess.Process:
    """Start `python -m korea_bot ARGS` in ``root`` with output going to root/out.txt and root/err.txt."""
    write_corpus(root)
    out, err = (root / "out.txt").open("wb"), (root / "err.txt").open("wb")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "korea_bot", *args, cwd=root, env=env_for(root, fake, **extra), stdout=out, stderr=err
    )


def output(root: Path) -> tuple[str, str]:
    """(stdout, stderr) of the finished process."""
    return (root / "out.txt").read_text(errors="replace"), (root / "err.txt").read_text(errors="replace")


def run_to_exit(root: Path, fake: FakeDiscord, *args: str) -> tuple[int, str, str]:
    """Run a CLI command against ``fake`` to completion; (exit code, stdout, stderr)."""

    async def scenario() -> int:
        await fake.start()
        proc = await start(root, fake, *args)
        try:
            return await asyncio.wait_for(proc.wait(), timeout=60)
        finally:
            if proc.returncode is None:
                proc.kill()
            await fake.stop()

    code = asyncio.run(scenario())
    return (code, *output(root))


def error_lines(err: str) -> list[str]:
    """The error lines the CLI printed."""
    return [line for line in err.splitlines() if line.startswith("korea-bot: error:")]
