"""The bot's lifecycle: a discord.Client with a command tree, one search worker, heartbeat and hot reload."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import discord
from discord import app_commands

from ...config import Settings
from ...errors import BadQuestion
from ...search.question import clean_question
from .. import heartbeat
from . import commands, commands_sources, messages, render
from .conversations import Chats
from .state import Cooldown, RecentAnswers
from .ui import AnswerButton, payload, sync_tree

log = logging.getLogger(__name__)
T = TypeVar("T")
TOKEN_TTL = 15 * 60 - 20  # an interaction token lasts 15 minutes; keep a margin
EXPIRED_CODES = {10015, 50027}  # Unknown Webhook, Invalid Webhook Token
RELOAD_EVERY = 5.0  # seconds between looks for an index version published by another process
HEARTBEAT_MIN, HEARTBEAT_MAX = 0.05, 15.0  # touch the heartbeat 4 times per allowed age, within these bounds
ERROR_TEXT = "Sorry, something went wrong while handling that. It has been logged; please try again later."


class KoreaBot(discord.Client):
    """The bot: a discord.Client with an app-command tree, one search worker and a heartbeat."""

    def __init__(self, settings: Settings, service: Any, sync: bool = False, **client_options: Any) -> None:
        """Wire the bot to ``service`` (None for a sync-only login); nothing connects yet."""
        intents = discord.Intents.default()
        intents.message_content = settings.message_content_intent  # privileged: only when asked for
        client_options.setdefault("intents", intents)
        super().__init__(allowed_mentions=discord.AllowedMentions.none(), **client_options)
        self.settings, self.service, self.sync_on_start = settings, service, sync
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self.report_error  # type: ignore[method-assign]
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="korea-bot-search")
        self.cooldown = Cooldown(settings.cooldown_rate, settings.cooldown_seconds)
        self.recent = RecentAnswers()
        self.chats = Chats()
        self.token_ttl = TOKEN_TTL
        self.synced: list[str] = []
        self._tasks: list[asyncio.Task] = []
        self._beat_warned = False

    async def setup_hook(self) -> None:
        """Register commands and buttons, sync only when asked, start the heartbeat and reload loops."""
        self.add_dynamic_items(AnswerButton)
        commands.register(self.tree)
        commands_sources.register(self.tree)
        if self.sync_on_start:
            self.synced = await sync_tree(self.tree, self.settings.guild_ids)
        if self.service is not None:
            self._tasks.append(asyncio.create_task(self._heartbeat(), name="korea-bot-heartbeat"))
            self._tasks.append(asyncio.create_task(self._reload_loop(), name="korea-bot-reload"))

    async def close(self) -> None:
        """Stop background tasks, close the gateway, release the worker, remove the heartbeat."""
        for task in self._tasks:
            task.cancel()
        self._leave_for_good()
        await super().close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.service is not None:
            heartbeat.clear(self.settings.heartbeat_file)

    def _leave_for_good(self) -> None:
        """Make the gateway close frame 1000 (session ended) instead of discord.py's resumable 4000.

        With aiohttp, Client.close() wakes the gateway reader, which closes the socket with 4000 first; Discord
        then keeps the session alive and shows the bot online for a while after a deliberate shutdown.
        """
        socket = getattr(self.ws, "socket", None)
        if socket is None or socket.closed:
            return
        original = socket.close

        async def close_normally(*, code: int = 1000, message: bytes = b"") -> bool:
            return await original(code=1000, message=message)

        socket.close = close_normally

    async def _heartbeat(self) -> None:
        """Touch the heartbeat file while the loop runs; a blocked loop lets it go stale."""
        interval = max(HEARTBEAT_MIN, min(self.settings.heartbeat_max_age / 4, HEARTBEAT_MAX))
        while not self.is_closed():
            self.beat()
            await asyncio.sleep(interval)

    def beat(self) -> None:
        """Touch the heartbeat file now (with the shard report, if any); warn once when it cannot be written."""
        if self.is_closed():
            return
        try:
            heartbeat.touch(self.settings.heartbeat_file, self.shard_report())
        except OSError as exc:
            if not self._beat_warned:
                log.warning("cannot write heartbeat file %s: %s", self.settings.heartbeat_file, exc)
                self._beat_warned = True

    def shard_report(self) -> dict[str, Any] | None:
        """What the heartbeat says about gateway shards: nothing for an unsharded bot."""
        return None

    async def _reload_loop(self) -> None:
        """Pick up index versions published by another process (e.g. `korea-bot index --watch`)."""
        while not self.is_closed():
            await asyncio.sleep(RELOAD_EVERY)
            try:
                await asyncio.to_thread(self.service.reload_if_changed)  # no tokenizer use: off the search worker
            except Exception:
                log.exception("checking for a new index version failed")

    async def run_search(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking core call on the one search worker (the tokenizer is not thread-safe)."""
        call = partial(contextvars.copy_context().run, fn, *args)  # the worker's log lines keep the event's context
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    # ---- events, handed to the handlers in commands.py ---------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """A mention, a reply to an answer, a message in a bot thread or a new forum post is a question."""
        await messages.on_message(self, message)

    async def on_answer_button(self, interaction: discord.Interaction, action: str, key: str) -> None:
        """A click on one of the buttons under an answer."""
        await commands.press_button(self, interaction, action, key)

    # ---- shared checks and replies -----------------------------------------------------------------

    def gate(self, user_id: int, channel_id: int | None, question: str | None) -> tuple[str | None, str]:
        """(refusal or None, cleaned question): channel allow-list, cooldown, question checks."""
        allowed = self.settings.allowed_channel_ids
        if allowed and channel_id not in allowed:
            where = ", ".join(f"<#{c}>" for c in allowed[:10])
            return f"I only answer questions in {where}.", ""
        wait = self.cooldown.hit(user_id)
        if wait:
            rate, per = self.settings.cooldown_rate, self.settings.cooldown_seconds
            return f"You're asking faster than I can keep up ({rate} per {per:g}s). Try again in {wait:.0f}s.", ""
        try:
            return None, clean_question(question, self.settings.max_question_chars)
        except BadQuestion as exc:
            return render.escape(str(exc)), ""

    async def send_followup(
        self,
        interaction: discord.Interaction,
        started: float,
        msg: render.Rendered,
        view: Any = None,
        mentions: discord.AllowedMentions | None = None,
    ) -> discord.Message | None:
        """Send a followup unless the interaction token has expired (then log and skip); the message sent, or None."""
        waited = time.monotonic() - started
        if waited > self.token_ttl:
            log.warning("interaction %s: token expired after %.0fs, reply skipped", interaction.id, waited)
            return None
        try:
            return await interaction.followup.send(wait=True, **payload(msg, view, mentions))
        except discord.HTTPException as exc:
            if exc.code in EXPIRED_CODES or exc.status == 401:
                log.warning("interaction %s: token no longer valid (%s), reply skipped", interaction.id, exc.code)
                return None
            raise

    async def report_error(self, target: Any, error: Exception) -> None:
        """The one error handler: log with traceback, tell the user briefly (ephemeral for interactions)."""
        original = getattr(error, "original", error)
        log.error("error handling %s: %s", type(target).__name__, original, exc_info=original)
        try:
            if isinstance(target, discord.Interaction):
                if target.response.is_done():
                    await target.followup.send(ERROR_TEXT, ephemeral=True)
                else:
                    await target.response.send_message(ERROR_TEXT, ephemeral=True)
            elif isinstance(target, discord.Message):
                await target.reply(ERROR_TEXT, mention_author=False)
        except discord.HTTPException as exc:
            log.warning("could not tell the user about the error: %s", exc)
