"""Shards across processes: real `python -m korea_bot run` processes, each running a slice, against one FakeDiscord."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from helpers.bot_process import env_for, error_lines, output, run_to_exit, start
from helpers.discord_harness import TOKEN, followup_of
from helpers.fake_discord import FakeDiscord, guild_on_shard

from korea_bot.adapters import heartbeat

GUILDS = [guild_on_shard(0, 2), guild_on_shard(1, 2)]  # one guild whose events go to shard 0, one for shard 1
QUESTION = "When was the armistice agreement signed?"
TITLE = "[1] The Armistice — ¶1"


async def health_of(root: Path, fake: FakeDiscord) -> tuple[int, str]:
    """`korea-bot health` of the process running in ``root``: (exit code, what it printed)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "korea_bot",
        "health",
        cwd=root,
        env=env_for(root, fake),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, (out + err).decode()


async def ask_in(fake: FakeDiscord, guild: int) -> str:
    """Ask /ask in ``guild``, check the answer quotes the armistice passage; the interaction id."""
    sent = await fake.slash("ask", question=QUESTION, _guild=guild)
    assert (await followup_of(fake, sent, timeout=30)).json["embeds"][0]["title"] == TITLE
    return sent["id"]


def test_two_processes_with_one_shard_each_answer_only_their_guilds(tmp_path: Path) -> None:
    """Shard 0 and shard 1 of 2 in two processes: each identifies its own shard, answers only the guild on it,
    reports only its shard in health; a drop of shard 1 is resumed by its process alone; SIGTERM ends both (1000)."""
    fake = FakeDiscord(TOKEN, guilds=GUILDS)
    roots = [tmp_path / "shard-0", tmp_path / "shard-1"]

    async def scenario() -> tuple[list[int], dict[int, list[str]]]:
        await fake.start()
        procs = []
        for shard, root in enumerate(roots):
            root.mkdir()
            procs.append(await start(root, fake, "run", KOREA_BOT_SHARD_COUNT="2", KOREA_BOT_SHARD_IDS=str(shard)))
        asked: dict[int, list[str]] = {0: [], 1: []}
        try:
            up = lambda: (fake.live(0) and fake.live(1)) or any(p.returncode is not None for p in procs)  # noqa: E731
            await fake.wait_for(up, timeout=90)
            assert fake.live(0) and fake.live(1), [output(r)[1][-2000:] for r in roots]
            assert sorted(op["d"]["shard"] for op in fake.ops(2)) == [[0, 2], [1, 2]]
            for shard, guild in enumerate(GUILDS):
                assert fake.shard_ids_of(guild) == [shard]
                asked[shard].append(await ask_in(fake, guild))
            for shard, root in enumerate(roots):
                await fake.wait_for(lambda r=root: " ready (" in heartbeat.check(r / "heartbeat", 5)[1])
                code, text = await health_of(root, fake)
                assert code == 0 and f"shard {shard} of 2: {shard} ready (1 guild" in text, text
            steady = fake.live(0)
            await fake.drop(4000, shard=1)
            await fake.wait_for(lambda: fake.ops(6) and fake.live(1), timeout=30)
            asked[1].append(await ask_in(fake, GUILDS[1]))
            asked[0].append(await ask_in(fake, GUILDS[0]))
            assert fake.live(0) is steady and [fake.shard_of_op(op) for op in fake.ops(6)] == [1]
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(proc.wait(), timeout=15) for proc in procs]
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            await fake.stop()
        return codes, asked

    codes, asked = asyncio.run(scenario())
    for shard, root in enumerate(roots):
        out, err = output(root)
        assert codes[shard] == 0, err[-2000:]
        assert f"connecting as shards {shard} of 2" in err
        for iid in asked[shard]:
            assert f"shard {shard}: interaction {iid} in guild {GUILDS[shard]}" in err
        for iid in asked[1 - shard]:
            assert iid not in out + err, f"process {shard} saw an event of the other shard's guild"
        assert not (root / "heartbeat").exists() and "Traceback" not in err and TOKEN not in out + err
    assert sorted(fake.shard_closes) == [(0, 1000), (1, 1000), (1, 4000)], "the drop, then two normal ends"


def test_a_bot_that_must_shard_is_told_so_in_one_line(tmp_path: Path) -> None:
    """Discord closes an unsharded IDENTIFY with 4011 (sharding required): one line naming the setting, exit 1."""
    fake = FakeDiscord(TOKEN, shards=2)
    fake.require_shards = True
    code, out, err = run_to_exit(tmp_path, fake, "run")
    assert code == 1
    (line,) = error_lines(err)
    assert "4011" in line and "KOREA_BOT_SHARD_COUNT" in line
    assert "Traceback" not in err and TOKEN not in out + err
    assert [op["d"].get("shard") for op in fake.ops(2)] == [None]
