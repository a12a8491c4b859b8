"""Helpers for the Discord end-to-end tests: a small corpus, settings, and the real bot run against FakeDiscord."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import yarl

from helpers.fake_discord import APP_ID, CHANNEL_ID, FakeDiscord, Recorded, message
from korea_bot.adapters.discord.bot import KoreaBot
from korea_bot.adapters.discord.shards import make_bot
from korea_bot.config import Settings, load_settings
from korea_bot.embedding import HashEmbedder
from korea_bot.service import Service

TOKEN = "fake-token-SECRET-123"
PEACE = (
    "The armistice agreement was signed at Panmunjom in July 1953. "
    "It ended the fighting of the Korean War but no peace treaty followed. "
    "The demilitarized zone still divides the peninsula today."
)
DANGER = (
    "Hey @everyone, the ping test paragraph mentions the moderators <@&123> and a user <@456>. "
    "It also holds markdown such as ```code```, ||spoilers|| and [a link](http://x.example) here."
)
NUCLEAR = (
    "North Korea tested its first nuclear device in October 2006. "
    "Six-party talks tried to end the nuclear programme through diplomacy. "
    "Sanctions by the Security Council followed each nuclear test."
)


def write_corpus(root: Path) -> Path:
    """A sources folder with three small documents (one full of pings and markdown)."""
    src = root / "sources"
    (src / "seed").mkdir(parents=True, exist_ok=True)
    (src / "seed" / "armistice.txt").write_text(f"The Armistice\n\n{PEACE}\n", encoding="utf-8")
    (src / "seed" / "pings.txt").write_text(f"Ping Test\n\n{DANGER}\n", encoding="utf-8")
    (src / "seed" / "nuclear.txt").write_text(f"Nuclear Tests\n\n{NUCLEAR}\n", encoding="utf-8")
    return src


def make_settings(root: Path, **overrides: Any) -> Settings:
    """Settings for a test: the tiny corpus, the hash embedder, files under ``root``."""
    values: dict[str, Any] = {
        "sources_dir": root / "sources",
        "index_dir": root / "index",
        "model": "hash:64",
        "discord_token": TOKEN,
        "heartbeat_file": root / "heartbeat",
        "heartbeat_max_age": 5.0,
        "feedback_file": root / "feedback.jsonl",
        "cooldown_rate": 50,
        "cooldown_seconds": 10.0,
        "top_k": 2,
        "min_score": 0.1,
    }
    values.update(overrides)
    return load_settings(**values)


def make_service(settings: Settings) -> Service:
    """A Service over the corpus with the hash embedder, index built."""
    service = Service(settings, embedder=HashEmbedder(64))
    service.ensure_index()
    return service


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Any:
    """Point discord.py's REST base and gateway at the fake, restoring them afterwards."""
    old_base, old_gw = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gw


@dataclass
class Running:
    """A bot connected to a fake Discord."""

    fake: FakeDiscord
    bot: KoreaBot
    service: Any
    settings: Settings
    task: asyncio.Task

    async def ask(self, question: str, uid: int = 501, **kw: Any) -> tuple[dict, Any, Any]:
        """Send /ask; return (interaction payload, the callback request, the followup request)."""
        sent = await self.fake.slash("ask", uid, question=question, **kw)
        iid, tok = sent["id"], sent["token"]
        callback = await self.fake.wait_request("POST", rf"^/interactions/{iid}/{tok}/callback$")
        followup = await self.fake.wait_request("POST", rf"^/webhooks/\d+/{tok}$")
        return sent, callback, followup


@contextlib.asynccontextmanager
async def running_bot(
    root: Path, service: Any = None, sync: bool = False, fake: FakeDiscord | None = None, **overrides: Any
) -> AsyncIterator[Running]:
    """Start FakeDiscord and the real bot against it; close both afterwards."""
    if not (root / "sources").exists():
        write_corpus(root)
    settings = make_settings(root, **overrides)
    service = service or make_service(settings)
    fake = fake or FakeDiscord(TOKEN)
    await fake.start()
    with pointed_at(fake):
        bot = make_bot(settings, service, sync=sync, guild_ready_timeout=0.05)  # sharded when settings say so
        task = asyncio.create_task(bot.start(TOKEN))
        try:
            await fake.wait_for(lambda: bot.is_ready() or task.done(), timeout=30)  # every shard has its guilds
            if task.done():
                task.result()
            yield Running(fake, bot, service, settings, task)
        finally:
            await bot.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
            await fake.stop()


class Capture(logging.Handler):
    """Collect formatted log records (for asserting on logs)."""

    def __init__(self) -> None:
        """Start empty."""
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the formatted record."""
        self.lines.append(self.format(record))

    def text(self) -> str:
        """Everything logged so far."""
        return "\n".join(self.lines)


def visible(md: str) -> str:
    """What Discord displays for markdown ``md``: backslash escapes resolved, bold markers removed."""
    out, i = [], 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md) and not md[i + 1].isalnum() and not md[i + 1].isspace():
            out.append(md[i + 1])
            i += 2
        elif md.startswith("**", i):
            i += 2
        else:
            out.append(md[i])
            i += 1
    return "".join(out)


def custom_ids(payload: dict) -> dict[str, str]:
    """{action: custom_id} of the answer buttons in a sent message payload."""
    ids = [c["custom_id"] for row in payload.get("components", []) for c in row["components"]]
    return {cid.split(":")[1]: cid for cid in ids}


def sent_message(payload: dict) -> dict:
    """The message object Discord would have created from a followup payload (for button clicks)."""
    return message(CHANNEL_ID, payload, APP_ID)


async def answer_of(fake: FakeDiscord, sent: dict) -> Recorded:
    """The first response to an interaction: its callback (type 4 reply or type 5 defer)."""
    return await fake.wait_request("POST", rf"^/interactions/{sent['id']}/{sent['token']}/callback$")


async def followup_of(fake: FakeDiscord, sent: dict, count: int = 1, timeout: float = 15.0) -> Recorded:
    """The ``count``-th followup message sent for an interaction."""
    return await fake.wait_request("POST", rf"^/webhooks/\d+/{sent['token']}$", count=count, timeout=timeout)
