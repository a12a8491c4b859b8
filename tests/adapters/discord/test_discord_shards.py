"""Sharding in one process: the real AutoShardedClient against FakeDiscord with a guild on each of two shards."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from helpers.discord_harness import TOKEN, Capture, followup_of, running_bot
from helpers.fake_discord import FakeDiscord, channel_of, guild_on_shard

from korea_bot.adapters import heartbeat
from korea_bot.adapters.discord.shards import ShardedKoreaBot, install_shard_names

GUILDS = [guild_on_shard(0, 2), guild_on_shard(1, 2)]  # one guild whose events go to shard 0, one for shard 1
QUESTION = "When was the armistice agreement signed at Panmunjom?"
TITLE = "[1] The Armistice — ¶1"


@contextlib.contextmanager
def shard_logs() -> Iterator[Capture]:
    """Every korea_bot log line, DEBUG and up, with the shard names `korea-bot run` adds when sharded."""
    logs, logger = Capture(), logging.getLogger("korea_bot")
    install_shard_names([logs])
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logs)
    try:
        yield logs
    finally:
        logger.removeHandler(logs)
        logger.setLevel(level)


def health(settings: object) -> tuple[bool, str]:
    """What `korea-bot health` says about this bot's heartbeat file."""
    return heartbeat.check(settings.heartbeat_file, settings.heartbeat_max_age)  # type: ignore[attr-defined]


def test_one_process_runs_every_shard_discord_recommends(tmp_path: Path) -> None:
    """`auto`: the count comes from /gateway/bot; one IDENTIFY per shard carries [id, count]; each guild's events
    arrive on its own shard and are answered, log lines name that shard, health lists both; close ends both (1000)."""
    fake = FakeDiscord(TOKEN, shards=2, guilds=GUILDS)

    async def scenario() -> None:
        async with running_bot(tmp_path, fake=fake, shard_count="auto", reply_in_thread=False) as r:
            assert isinstance(r.bot, ShardedKoreaBot) and r.bot.shard_count == 2
            assert [q.path for q in fake.find("GET", r"^/gateway/bot$")] == ["/gateway/bot"]
            assert sorted(op["d"]["shard"] for op in fake.ops(2)) == [[0, 2], [1, 2]]
            for shard, guild in enumerate(GUILDS):
                assert fake.shard_ids_of(guild) == [shard] and r.bot.get_guild(guild).shard_id == shard
                sent = await fake.slash("ask", question=QUESTION, _guild=guild)
                assert (await followup_of(fake, sent)).json["embeds"][0]["title"] == TITLE
                assert f"shard {shard}: interaction {sent['id']} in guild {guild}" in logs.lines
            assert sum(line.startswith("shard 1: ask: ") for line in logs.lines) == 1, "commands.py's line too"
            msg = await fake.mention(QUESTION, guild=GUILDS[1])
            reply = await fake.wait_request("POST", rf"^/channels/{channel_of(GUILDS[1])}/messages$")
            assert str(reply.json["message_reference"]["message_id"]) == msg["id"]
            assert reply.json["embeds"][0]["title"] == TITLE
            ok, text = health(r.settings)
            assert ok and "shards 0, 1 of 2: 0 ready (1 guild" in text and ", 1 ready (1 guild" in text, text
        assert sorted(fake.shard_closes) == [(0, 1000), (1, 1000)], "each shard's session ended normally"

    with shard_logs() as logs:
        asyncio.run(scenario())


def test_a_gateway_drop_on_one_shard_does_not_touch_the_other(tmp_path: Path) -> None:
    """Shard 1's socket is dropped and its resume held: shard 0 keeps its socket and answers, health shows shard 1
    disconnected (still exit 0: discord.py reconnects it); then shard 1 RESUMEs its own session and answers."""
    fake = FakeDiscord(TOKEN, guilds=GUILDS)

    async def scenario() -> None:
        async with running_bot(tmp_path, fake=fake, shard_count=2) as r:
            steady, session_1 = fake.live(0), fake.sessions["session-2"]
            assert steady is not None and session_1.shard == (1, 2)
            fake.resume_gate = asyncio.Event()
            await fake.drop(4000, shard=1)
            await fake.wait_for(lambda: " 1 disconnected for " in health(r.settings)[1])
            ok, text = health(r.settings)
            assert ok and "0 ready" in text, text
            sent = await fake.slash("ask", question=QUESTION, _guild=GUILDS[0])
            assert (await followup_of(fake, sent)).json["embeds"][0]["title"] == TITLE
            fake.resume_gate.set()
            (resume,) = await fake.wait_for(lambda: fake.ops(6))
            assert resume["d"]["session_id"] == session_1.id and resume["d"]["seq"] >= 2
            sent = await fake.slash("ask", question=QUESTION, _guild=GUILDS[1])
            assert (await followup_of(fake, sent)).json["embeds"][0]["title"] == TITLE
            assert fake.live(0) is steady and not steady.closed, "shard 0 kept its socket"
            assert [len(fake.ops(2, shard=s)) for s in (0, 1)] == [1, 1], "nobody identified again"
            assert fake.shard_closes == [(1, 4000)] and fake.connections.count("/resume") == 1
            await fake.wait_for(lambda: " 1 ready" in health(r.settings)[1])
        assert "shard 1/2 disconnected from the gateway; reconnecting" in logs.lines
        assert "shard 1/2 resumed its session" in logs.lines
        assert not any(line.startswith("shard 0/2 disconnected") for line in logs.lines)

    with shard_logs() as logs:
        asyncio.run(scenario())
