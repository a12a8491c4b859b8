"""Sharding: the bot over discord.py's AutoShardedClient, each shard's gateway state, and shard-named logs."""

from __future__ import annotations

import contextvars
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import discord

from ...config import Settings
from .bot import KoreaBot

log = logging.getLogger(__name__)
SHARD: contextvars.ContextVar[int | None] = contextvars.ContextVar("korea_bot_shard", default=None)


def shard_of(guild_id: int | None, count: int) -> int:
    """The shard Discord sends a guild's events on: (guild_id >> 22) % count; direct messages go to shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % count


class ShardNames(logging.Filter):
    """Begin every log line written while handling an event with `shard N: ` (the shard of its guild)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Prefix the message once, however many handlers carry this filter; never drop the record."""
        shard = SHARD.get()
        if shard is not None and getattr(record, "korea_bot_shard", None) is None:
            record.msg, record.korea_bot_shard = f"shard {shard}: {record.msg}", shard
        return True


def install_shard_names(handlers: list[logging.Handler] | None = None) -> ShardNames:
    """Attach a ShardNames filter to ``handlers`` (default: every handler of the root logger)."""
    names = ShardNames()
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        handler.addFilter(names)
    return names


@dataclass
class ShardState:
    """Where one shard's gateway session is (starting, connected, ready, disconnected) and since when."""

    state: str
    since: float


class ShardedKoreaBot(KoreaBot, discord.AutoShardedClient):
    """KoreaBot as an AutoShardedClient: the shards KOREA_BOT_SHARD_IDS of KOREA_BOT_SHARD_COUNT (default all)."""

    def __init__(self, settings: Settings, service: Any, sync: bool = False, **client_options: Any) -> None:
        """Take the shard count (None = ask Discord, for `auto`) and this process's shard ids from ``settings``."""
        count = settings.shard_count if isinstance(settings.shard_count, int) else None
        client_options.update(shard_count=count, shard_ids=list(settings.shard_ids) or None)
        super().__init__(settings, service, sync, **client_options)
        self.started = time.time()
        self.states: dict[int, ShardState] = {}
        self.tree.interaction_check = self._enter_command  # type: ignore[method-assign]

    def own_shards(self) -> list[int]:
        """The shard ids this process runs (empty while `auto` has not asked Discord yet)."""
        return list(self.shard_ids or range(self.shard_count or 0))

    def _mark(self, shard_id: int, state: str, level: int, event: str) -> None:
        """Record a shard's new state, log it, and write the heartbeat at once."""
        self.states[shard_id] = ShardState(state, time.time())
        log.log(level, "shard %s/%s %s", shard_id, self.shard_count, event)
        self.beat()

    async def on_shard_connect(self, shard_id: int) -> None:
        """READY arrived on a shard: its session is live."""
        self._mark(shard_id, "connected", logging.INFO, "connected to the gateway")

    async def on_shard_ready(self, shard_id: int) -> None:
        """A shard has received all its guilds."""
        guilds = sum(1 for g in self.guilds if g.shard_id == shard_id)
        self._mark(shard_id, "ready", logging.INFO, f"ready: {guilds} guild{'' if guilds == 1 else 's'}")

    async def on_shard_disconnect(self, shard_id: int) -> None:
        """A shard lost its gateway connection; discord.py resumes or re-identifies it, the others go on."""
        if not self.is_closed():
            self._mark(shard_id, "disconnected", logging.WARNING, "disconnected from the gateway; reconnecting")

    async def on_shard_resumed(self, shard_id: int) -> None:
        """A dropped shard resumed its session (missed events are replayed by Discord)."""
        self._mark(shard_id, "ready", logging.INFO, "resumed its session")

    def shard_report(self) -> dict[str, Any]:
        """Each of this process's shards: state, since when, guilds, gateway latency (for the heartbeat file)."""
        guilds = Counter(g.shard_id for g in self.guilds)
        shards = []
        for shard_id in self.own_shards():
            state = self.states.get(shard_id, ShardState("starting", self.started))
            info = self.get_shard(shard_id)
            latency = info.latency if info is not None else math.inf
            entry: dict[str, Any] = {"id": shard_id, "state": state.state, "since": round(state.since, 3)}
            entry["guilds"] = guilds.get(shard_id, 0)
            entry["latency_ms"] = round(latency * 1000, 1) if math.isfinite(latency) else None
            shards.append(entry)
        return {"shard_count": self.shard_count, "shards": shards}

    # ---- the shard of each event, for the log lines written while handling it ----------------------

    def _enter(self, guild_id: int | None, what: str = "") -> None:
        """Name the shard of ``guild_id`` in the log lines of the current task (and of the search it runs)."""
        SHARD.set(shard_of(guild_id, self.shard_count or 1))
        if what:
            log.debug("%s in guild %s", what, guild_id)

    async def _enter_command(self, interaction: discord.Interaction) -> bool:
        """The command tree's check, run in the command's own task: name the shard, let the command run."""
        self._enter(interaction.guild_id, f"interaction {interaction.id}")
        return True

    async def on_message(self, message: discord.Message) -> None:
        """A message: name its shard, then handle it as KoreaBot does."""
        self._enter(message.guild.id if message.guild else None)
        await super().on_message(message)

    async def on_answer_button(self, interaction: discord.Interaction, action: str, key: str) -> None:
        """A button click: name its shard, then handle it as KoreaBot does."""
        self._enter(interaction.guild_id, f"interaction {interaction.id} (button {action})")
        await super().on_answer_button(interaction, action, key)


def make_bot(settings: Settings, service: Any, sync: bool = False, **client_options: Any) -> KoreaBot:
    """The bot for ``settings``: a plain discord.Client unless KOREA_BOT_SHARD_COUNT is set."""
    cls = ShardedKoreaBot if settings.sharded else KoreaBot
    return cls(settings, service, sync, **client_options)
