"""Process lifecycle of the Discord bot: token, endpoints, signals, one-line errors, exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

import aiohttp
import discord
import yarl

from ...config import Settings
from ...formatting import summary
from ...service import Service
from ..console import fail
from .bot import KoreaBot
from .shards import install_shard_names, make_bot
from .state import install_redaction

log = logging.getLogger(__name__)


def token_of(settings: Settings) -> str | None:
    """The bot token, stripped, or None when it is not configured."""
    if settings.discord_token is None:
        return None
    return settings.discord_token.get_secret_value().strip() or None


def use_endpoints(settings: Settings) -> None:
    """Point discord.py at other REST / gateway URLs when configured (a local fake Discord in tests)."""
    if settings.discord_api_url:
        discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def describe_failure(exc: BaseException, token: str) -> str:
    """A one-line, token-free explanation of why the bot could not run."""
    if isinstance(exc, discord.LoginFailure):
        text = "Discord rejected the bot token (401 Unauthorized); check KOREA_BOT_DISCORD_TOKEN"
    elif isinstance(exc, discord.PrivilegedIntentsRequired):
        text = "Discord refused a privileged gateway intent (close code 4014); enable it in the developer portal"
    elif isinstance(exc, discord.ConnectionClosed) and exc.code == 4010:
        text = "Discord refused a shard id (close code 4010): check KOREA_BOT_SHARD_IDS against KOREA_BOT_SHARD_COUNT"
    elif isinstance(exc, discord.ConnectionClosed) and exc.code == 4011:
        text = "Discord requires sharding for this bot (close code 4011): set KOREA_BOT_SHARD_COUNT (docs/SCALING.md)"
    elif isinstance(exc, discord.ConnectionClosed):
        text = f"the Discord gateway closed the connection (code {exc.code}): {exc.reason or 'no reason given'}"
    elif isinstance(exc, discord.HTTPException):
        text = f"Discord API error {exc.status}: {exc.text or type(exc).__name__}"
    else:
        text = f"cannot reach Discord: {type(exc).__name__}: {exc}"
    return " ".join(text.replace(token, "[redacted]").split()) if token else " ".join(text.split())


FATAL = (discord.DiscordException, aiohttp.ClientError, OSError, asyncio.TimeoutError)


async def serve(bot: Any, token: str) -> int:
    """Run ``bot`` until it closes; SIGTERM/SIGINT close the gateway cleanly (exit 0)."""
    loop = asyncio.get_running_loop()
    stopping = []

    def stop(signame: str) -> None:
        log.info("%s received: closing the Discord connection", signame)
        stopping.append(asyncio.ensure_future(bot.close()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on the main thread / Windows
            loop.add_signal_handler(sig, stop, sig.name)
    try:
        async with bot:
            await bot.start(token, reconnect=True)
    except FATAL as exc:
        return fail(describe_failure(exc, token))
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    if stopping:
        await asyncio.gather(*stopping, return_exceptions=True)
    log.info("bot stopped")
    return 0


def run_bot(settings: Settings, sync: bool = False) -> int:
    """`korea-bot run`: make sure the index is current, then serve Discord until SIGTERM; the exit code."""
    token = token_of(settings)
    if token is None:
        return fail("no Discord token: set KOREA_BOT_DISCORD_TOKEN or /run/secrets/korea_bot_discord_token", 2)
    install_redaction(token)
    use_endpoints(settings)
    service = Service(settings)
    report = service.ensure_index()
    log.info(summary(report) if report is not None else f"index {service.version} is up to date")
    if settings.sharded:
        install_shard_names()
        ids = ",".join(map(str, settings.shard_ids)) or "all"
        log.info("connecting as shards %s of %s", ids, settings.shard_count)
    bot = make_bot(settings, service, sync=sync)
    return asyncio.run(serve(bot, token))


async def _sync(settings: Settings, token: str) -> int:
    """Log in over REST only (no gateway), sync the commands, log out."""
    bot = KoreaBot(settings, None, sync=True)
    try:
        async with bot:
            await bot.login(token)
    except FATAL as exc:
        return fail(describe_failure(exc, token))
    for line in bot.synced:
        print(f"synced {line}")
    return 0


def sync_commands(settings: Settings) -> int:
    """`korea-bot sync`: push the slash commands to KOREA_BOT_GUILD_IDS (or globally); the exit code."""
    token = token_of(settings)
    if token is None:
        return fail("no Discord token: set KOREA_BOT_DISCORD_TOKEN or /run/secrets/korea_bot_discord_token", 2)
    install_redaction(token)
    use_endpoints(settings)
    return asyncio.run(_sync(settings, token))
