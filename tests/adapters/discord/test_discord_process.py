"""The real `python -m korea_bot run/sync/health` processes against FakeDiscord: SIGTERM, bad token, a refused intent."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from helpers.bot_process import error_lines, output, run_to_exit, start
from helpers.discord_harness import TOKEN, followup_of, write_corpus
from helpers.fake_discord import APP_ID, GUILD_ID, FakeDiscord

from korea_bot.adapters import heartbeat


def test_sigterm_closes_the_gateway_and_exits_zero(tmp_path: Path) -> None:
    """A serving `korea-bot run` gets SIGTERM, closes its session (1000) and exits 0 within seconds."""

    async def scenario() -> None:
        fake = FakeDiscord(TOKEN)
        await fake.start()
        proc = await start(tmp_path, fake, "run")
        try:
            await fake.wait_for(lambda: fake.sessions or proc.returncode is not None, timeout=60)
            assert fake.sessions, output(tmp_path)
            sent = await fake.slash("ask", question="When was the armistice agreement signed?")
            assert (await followup_of(fake, sent)).json["embeds"][0]["title"] == "[1] The Armistice — ¶1"
            await fake.wait_for(lambda: (tmp_path / "heartbeat").exists())
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), timeout=10)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await fake.stop()
        out, err = output(tmp_path)
        assert code == 0, err[-2000:]
        assert 1000 in fake.closes
        assert not (tmp_path / "heartbeat").exists()
        assert TOKEN not in out + err and "Traceback" not in err
        assert "SIGTERM received" in err
        assert "voice will NOT be supported" not in err  # discord.py's PyNaCl/davey notes: the bot has no voice

    asyncio.run(scenario())


def test_bad_token_is_a_one_line_error(tmp_path: Path) -> None:
    """Discord answers 401 at login: one line naming the problem, non-zero exit, token nowhere."""
    fake = FakeDiscord("a-different-token")
    code, out, err = run_to_exit(tmp_path, fake, "run")
    assert code != 0
    (line,) = error_lines(err)
    assert "rejected the bot token (401" in line
    assert TOKEN not in out + err and "Traceback" not in err
    assert fake.connections == []


def test_missing_privileged_intent_is_a_one_line_error(tmp_path: Path) -> None:
    """The gateway closes with 4014: one line about the intent, non-zero exit, token nowhere."""
    fake = FakeDiscord(TOKEN, close_on_identify=4014)
    code, out, err = run_to_exit(tmp_path, fake, "run")
    assert code != 0
    (line,) = error_lines(err)
    assert "4014" in line and "intent" in line
    assert TOKEN not in out + err and "Traceback" not in err
    assert fake.ops(2), "it did try to identify"
    assert fake.ops(2)[0]["d"]["intents"] & (1 << 15) == 0, "message-content intent is not requested"


def test_sync_command_pushes_commands_without_a_gateway(tmp_path: Path) -> None:
    """`korea-bot sync` logs in over REST, syncs to KOREA_BOT_GUILD_IDS and exits 0."""
    fake = FakeDiscord(TOKEN)

    async def scenario() -> tuple[int, str, str]:
        await fake.start()
        proc = await start(tmp_path, fake, "sync", KOREA_BOT_GUILD_IDS=str(GUILD_ID))
        try:
            return await asyncio.wait_for(proc.wait(), timeout=60), *output(tmp_path)
        finally:
            await fake.stop()

    code, out, err = asyncio.run(scenario())
    assert code == 0, err[-2000:]
    assert f"synced 4 commands to guild {GUILD_ID}" in out
    assert [r.path for r in fake.find("PUT", "commands")] == [f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"]
    assert fake.connections == [] and TOKEN not in out + err


def test_health_command_follows_the_heartbeat(tmp_path: Path) -> None:
    """`korea-bot health` exits 1 without a heartbeat, 0 when fresh, 1 when stale."""
    import subprocess

    beat = tmp_path / "hb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOREA_BOT_")}
    env.update(KOREA_BOT_HEARTBEAT_FILE=str(beat), KOREA_BOT_HEARTBEAT_MAX_AGE="30")

    def health() -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "korea_bot", "health"]
        return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    assert health().returncode == 1
    heartbeat.touch(beat)
    fresh = health()
    assert fresh.returncode == 0 and "healthy" in fresh.stdout
    old = time.time() - 120
    os.utime(beat, (old, old))
    stale = health()
    assert stale.returncode == 1 and "stuck" in stale.stdout


def test_run_starts_and_answers_with_bad_files_in_the_sources(tmp_path: Path) -> None:
    """A latin-1 text, a fake PDF and an empty file beside the good ones: `run` starts, names each in its log with
    the reason, and answers from the good ones (before, it exited at start-up)."""
    src = write_corpus(tmp_path)
    (src / "latin1.txt").write_bytes("café au lait\n".encode("latin-1"))
    (src / "fake.pdf").write_bytes(b"%PDF-1.4 not really")
    (src / "empty.md").write_bytes(b"")

    async def scenario() -> None:
        fake = FakeDiscord(TOKEN)
        await fake.start()
        proc = await start(tmp_path, fake, "run", KOREA_BOT_LOG_LEVEL="INFO")
        try:
            await fake.wait_for(lambda: fake.sessions or proc.returncode is not None, timeout=60)
            assert fake.sessions, output(tmp_path)
            sent = await fake.slash("ask", question="When was the armistice agreement signed?")
            assert (await followup_of(fake, sent)).json["embeds"][0]["title"] == "[1] The Armistice — ¶1"
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await fake.stop()
        _out, err = output(tmp_path)
        assert "3 added" in err and "3 skipped" in err and "Traceback" not in err
        for line in ("skipped latin1.txt is not valid UTF-8", "skipped fake.pdf: unreadable PDF", "skipped empty.md:"):
            assert line in err, err[-3000:]

    asyncio.run(scenario())
