"""The Discord adapter (the only module importing discord): commands, mentions, buttons over the Service."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

import discord
from discord import app_commands

from . import discord_render as render
from . import feedback, heartbeat
from .config import Settings
from .discord_bot_ui import AnswerButton, add_commands, sync_tree, to_embeds
from .discord_state import Cooldown, RecentAnswers, Shown, strip_mentions
from .models import Answer, Passage
from .service import BadQuestion, clean_question

log = logging.getLogger("korea_bot.discord")
T = TypeVar("T")
TOKEN_TTL = 15 * 60 - 20  # an interaction token lasts 15 minutes; keep a margin
EXPIRED_CODES = {10015, 50027}  # Unknown Webhook, Invalid Webhook Token
RELOAD_EVERY = 5.0
ERROR_TEXT = "Sorry, something went wrong while handling that. It has been logged; please try again later."


class KoreaBot(discord.Client):
    """The bot: a discord.Client with an app-command tree, one search worker and a heartbeat."""

    def __init__(self, settings: Settings, service: Any, sync: bool = False, **client_options: Any) -> None:
        """Wire the bot to ``service`` (None for a sync-only login); nothing connects yet."""
        client_options.setdefault("intents", discord.Intents.default())
        super().__init__(allowed_mentions=discord.AllowedMentions.none(), **client_options)
        self.settings, self.service, self.sync_on_start = settings, service, sync
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self.report_error  # type: ignore[method-assign]
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="korea-bot-search")
        self.cooldown = Cooldown(settings.cooldown_rate, settings.cooldown_seconds)
        self.recent = RecentAnswers()
        self.token_ttl = TOKEN_TTL
        self.synced: list[str] = []
        self._tasks: list[asyncio.Task] = []

    # ---- lifecycle ---------------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        """Register commands and buttons, sync only when asked, start the heartbeat and reload loops."""
        self.add_dynamic_items(AnswerButton)
        add_commands(self)
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
        interval = max(0.05, min(self.settings.heartbeat_max_age / 4, 15.0))
        warned = False
        while not self.is_closed():
            try:
                heartbeat.touch(self.settings.heartbeat_file)
            except OSError as exc:
                if not warned:
                    log.warning("cannot write heartbeat file %s: %s", self.settings.heartbeat_file, exc)
                    warned = True
            await asyncio.sleep(interval)

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
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(fn, *args))

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
        self, interaction: discord.Interaction, started: float, msg: render.Rendered, view: Any = None
    ) -> bool:
        """Send a followup unless the interaction token has expired (then log and skip); True if sent."""
        waited = time.monotonic() - started
        if waited > self.token_ttl:
            log.warning("interaction %s: token expired after %.0fs, reply skipped", interaction.id, waited)
            return False
        kwargs: dict[str, Any] = {"content": msg.content or None, "embeds": to_embeds(msg)}
        if view is not None:
            kwargs["view"] = view
        try:
            await interaction.followup.send(**kwargs)
        except discord.HTTPException as exc:
            if exc.code in EXPIRED_CODES or exc.status == 401:
                log.warning("interaction %s: token no longer valid (%s), reply skipped", interaction.id, exc.code)
                return False
            raise
        return True

    def answer_view(self, answer: Answer, private: bool = False) -> discord.ui.View | None:
        """The buttons under an answer (none for an abstention)."""
        if not answer.answered or not answer.passages:
            return None
        key = self.recent.add(Shown(answer, private))
        view = discord.ui.View(timeout=None)
        for action in ("more", "ctx", "up", "down"):
            view.add_item(AnswerButton(action, key))
        return view

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

    # ---- handlers ----------------------------------------------------------------------------------

    async def handle_ask(self, interaction: discord.Interaction, question: str, private: bool) -> None:
        """/ask: check, defer at once, search on the worker, follow up with the answer."""
        started = time.monotonic()
        refusal, question = self.gate(interaction.user.id, interaction.channel_id, question)
        if refusal:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        try:
            answer = await self.run_search(self.service.ask, question)
        except BadQuestion as exc:
            await self.send_followup(interaction, started, render.Rendered(content=render.escape(str(exc))))
            return
        log.info("ask: %d chars, answered=%s, %d passages", len(question), answer.answered, len(answer.passages))
        await self.send_followup(interaction, started, render.render_answer(answer), self.answer_view(answer, private))

    async def on_message(self, message: discord.Message) -> None:
        """Answer a message that mentions the bot, as a reply."""
        me = self.user
        if me is None or message.author.bot or not any(u.id == me.id for u in message.mentions):
            return
        try:
            refusal, question = self.gate(message.author.id, message.channel.id, strip_mentions(message.content, me.id))
            if refusal:
                await message.reply(refusal, mention_author=False)
                return
            async with message.channel.typing():
                answer = await self.run_search(self.service.ask, question)
            msg = render.render_answer(answer)
            view = self.answer_view(answer)
            kwargs: dict[str, Any] = {"content": msg.content or None, "embeds": to_embeds(msg)}
            if view is not None:
                kwargs["view"] = view
            await message.reply(mention_author=False, **kwargs)
        except Exception as exc:
            await self.report_error(message, exc)

    async def handle_sources(self, interaction: discord.Interaction) -> None:
        """/sources: what the live index holds."""
        stats = self.service.stats()
        msg = render.render_sources(stats)
        await interaction.response.send_message(embeds=to_embeds(msg), ephemeral=True)

    def is_admin(self, interaction: discord.Interaction) -> bool:
        """Administrator or Manage Server permission, or one of KOREA_BOT_ADMIN_ROLE_IDS."""
        user = interaction.user
        if interaction.guild is None or not isinstance(user, discord.Member):
            return False
        perms = interaction.permissions
        if perms.administrator or perms.manage_guild:
            return True
        return any(role.id in self.settings.admin_role_ids for role in user.roles)

    async def handle_reindex(self, interaction: discord.Interaction) -> None:
        """/reindex (admins, in a server): incremental rebuild on the worker, then the swap."""
        if interaction.guild is None:
            await interaction.response.send_message("/reindex only works in a server, not in DMs.", ephemeral=True)
            return
        if not self.is_admin(interaction):
            await interaction.response.send_message("Only server admins can use /reindex.", ephemeral=True)
            return
        started = time.monotonic()
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.run_search(self.service.reindex)
        log.info("reindex by %s: %s", feedback.hash_user(interaction.user.id)[:12], report.summary())
        await self.send_followup(interaction, started, render.Rendered(content=render.render_report(report)))

    async def on_button(self, interaction: discord.Interaction, action: str, key: str) -> None:
        """More passages, Show context, 👍 / 👎 on an answer."""
        shown = self.recent.get(key)
        if shown is None:
            text = "That answer is too old for its buttons now; please ask again."
            await interaction.response.send_message(text, ephemeral=True)
            return
        answer = shown.answer
        if action in feedback.VOTES:
            entry = feedback.record(answer.question, action, answer.passages, answer.index_version, interaction.user.id)
            await asyncio.to_thread(feedback.append, self.settings.feedback_file, entry)
            await interaction.response.send_message("Thanks, your feedback was recorded.", ephemeral=True)
            return
        wait = self.cooldown.hit(interaction.user.id)
        if wait:
            await interaction.response.send_message(f"One moment please: try again in {wait:.0f}s.", ephemeral=True)
            return
        started = time.monotonic()
        await interaction.response.defer(ephemeral=True, thinking=True)
        if action == "more":
            offset = max(p.rank for p in answer.passages)
            more = await self.run_search(self.service.ask, answer.question, None, offset)
            await self.send_followup(interaction, started, render.render_more(more), self.answer_view(more, True))
        else:
            contexts = await self.run_search(self._contexts, answer.passages)
            await self.send_followup(interaction, started, render.render_context(contexts, answer.index_version))

    def _contexts(self, passages: tuple[Passage, ...]) -> list[Passage]:
        """The surrounding paragraph of each passage (once per paragraph), numbered like the passages."""
        out: list[Passage] = []
        seen: set[tuple[str, int, int]] = set()
        for p in passages:
            try:
                ctx = self.service.context(p.source, p.start, p.end)
            except (KeyError, ValueError) as exc:
                log.info("no context for %s: %s", p.source, exc)
                continue
            if (ctx.source, ctx.start, ctx.end) not in seen:
                seen.add((ctx.source, ctx.start, ctx.end))
                out.append(replace(ctx, rank=p.rank))
        return out


from .discord_bot_run import run_bot, sync_commands  # noqa: E402  (re-exported entry points)

__all__ = ["AnswerButton", "KoreaBot", "run_bot", "sync_commands"]
