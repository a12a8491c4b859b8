"""Every slash command, the mention handler and the answer buttons, each declared next to its handler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

import discord
from discord import app_commands

from ... import feedback
from ...config import Settings
from ...errors import BadQuestion, KoreaBotError, user_message
from ...formatting import summary
from ...models import Passage
from . import render
from .state import Cooldown, RecentAnswers, strip_mentions
from .ui import answer_view, payload

log = logging.getLogger(__name__)
T = TypeVar("T")


class Bot(Protocol):
    """What the handlers use of the bot (KoreaBot in bot.py): its settings, state and shared replies."""

    settings: Settings
    service: Any
    recent: RecentAnswers
    cooldown: Cooldown
    user: discord.ClientUser | None

    def gate(self, user_id: int, channel_id: int | None, question: str | None) -> tuple[str | None, str]: ...

    async def run_search(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def send_followup(
        self, interaction: discord.Interaction, started: float, msg: render.Rendered, view: Any = None
    ) -> bool: ...

    async def report_error(self, target: Any, error: Exception) -> None: ...


def _bot(interaction: discord.Interaction) -> Bot:
    """The bot an interaction arrived at."""
    bot: Any = interaction.client
    return bot


@app_commands.describe(question="What do you want to know?", private="Show the answer only to you")
async def ask(interaction: discord.Interaction, question: str, private: bool = False) -> None:
    """/ask: check, defer at once, search on the worker, follow up with the answer."""
    bot = _bot(interaction)
    started = time.monotonic()
    refusal, question = bot.gate(interaction.user.id, interaction.channel_id, question)
    if refusal:
        await interaction.response.send_message(refusal, ephemeral=True)
        return
    await interaction.response.defer(ephemeral=private, thinking=True)
    try:
        answer = await bot.run_search(bot.service.ask, question)
    except BadQuestion as exc:
        await bot.send_followup(interaction, started, render.Rendered(content=render.escape(str(exc))))
        return
    log.info("ask: %d chars, answered=%s, %d passages", len(question), answer.answered, len(answer.passages))
    view = answer_view(bot.recent, answer, private)
    await bot.send_followup(interaction, started, render.render_answer(answer), view)


async def sources(interaction: discord.Interaction) -> None:
    """/sources: what the live index holds."""
    stats = _bot(interaction).service.stats()
    await interaction.response.send_message(**payload(render.render_sources(stats)), ephemeral=True)


def is_admin(bot: Bot, interaction: discord.Interaction) -> bool:
    """Administrator or Manage Server permission, or one of KOREA_BOT_ADMIN_ROLE_IDS (in a server only)."""
    user = interaction.user
    if interaction.guild is None or not isinstance(user, discord.Member):
        return False
    perms = interaction.permissions
    if perms.administrator or perms.manage_guild:
        return True
    return any(role.id in bot.settings.admin_role_ids for role in user.roles)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
async def reindex(interaction: discord.Interaction) -> None:
    """/reindex (admins, in a server): incremental rebuild on the worker, then the swap."""
    bot = _bot(interaction)
    if interaction.guild is None:
        await interaction.response.send_message("/reindex only works in a server, not in DMs.", ephemeral=True)
        return
    if not is_admin(bot, interaction):
        await interaction.response.send_message("Only server admins can use /reindex.", ephemeral=True)
        return
    started = time.monotonic()
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        report = await bot.run_search(bot.service.reindex)
    except KoreaBotError as exc:  # nothing indexable, a read-only index folder…: the live version keeps serving
        text = f"The index was not updated: {user_message(exc)}. I keep answering from version {bot.service.version}."
        await bot.send_followup(interaction, started, render.Rendered(content=render.clip(render.escape(text), 2000)))
        return
    log.info("reindex by %s: %s", feedback.hash_user(interaction.user.id)[:12], summary(report))
    await bot.send_followup(interaction, started, render.Rendered(content=render.render_report(report)))


SLASH_COMMANDS = (
    (ask, "Ask a question; I answer by quoting my sources, with citations."),
    (sources, "What I have read: documents, passages, index version."),
    (reindex, "Admins: re-read the sources and update the index."),
)


def register(tree: app_commands.CommandTree) -> None:
    """Add every slash command above to the tree (fresh Command objects for each bot)."""
    for callback, description in SLASH_COMMANDS:
        tree.add_command(app_commands.Command(name=callback.__name__, description=description, callback=callback))


@contextlib.asynccontextmanager
async def typing_in(channel: Any) -> AsyncIterator[None]:
    """Show "typing…" in the channel while the block runs; the indicator is cosmetic and can never abort it."""
    task = asyncio.create_task(_keep_typing(channel))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _keep_typing(channel: Any) -> None:
    """Hold the typing indicator until cancelled; a failure (429, 5xx, network) is logged once and ignored."""
    try:
        async with channel.typing():
            await asyncio.Event().wait()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # cosmetic: whatever went wrong, the answer still goes out
        log.warning("typing indicator in channel %s failed, answering anyway: %s", getattr(channel, "id", "?"), exc)


async def answer_mention(bot: Bot, message: discord.Message) -> None:
    """Answer a message that mentions the bot, as a reply."""
    me = bot.user
    if me is None or message.author.bot or not any(u.id == me.id for u in message.mentions):
        return
    try:
        refusal, question = bot.gate(message.author.id, message.channel.id, strip_mentions(message.content, me.id))
        if refusal:
            await message.reply(refusal, mention_author=False)
            return
        async with typing_in(message.channel):
            answer = await bot.run_search(bot.service.ask, question)
        msg = render.render_answer(answer)
        await message.reply(mention_author=False, **payload(msg, answer_view(bot.recent, answer)))
    except Exception as exc:
        await bot.report_error(message, exc)


async def press_button(bot: Bot, interaction: discord.Interaction, action: str, key: str) -> None:
    """More passages, Show context, 👍 / 👎 on an answer."""
    shown = bot.recent.get(key)
    if shown is None:
        text = "That answer is too old for its buttons now; please ask again."
        await interaction.response.send_message(text, ephemeral=True)
        return
    answer = shown.answer
    if action in feedback.VOTES:
        entry = feedback.record(answer.question, action, answer.passages, answer.index_version, interaction.user.id)
        await asyncio.to_thread(feedback.append, bot.settings.feedback_file, entry)
        await interaction.response.send_message("Thanks, your feedback was recorded.", ephemeral=True)
        return
    wait = bot.cooldown.hit(interaction.user.id)
    if wait:
        await interaction.response.send_message(f"One moment please: try again in {wait:.0f}s.", ephemeral=True)
        return
    started = time.monotonic()
    await interaction.response.defer(ephemeral=True, thinking=True)
    if action == "more":
        offset = max(p.rank for p in answer.passages)
        more = await bot.run_search(bot.service.ask, answer.question, None, offset)
        await bot.send_followup(interaction, started, render.render_more(more), answer_view(bot.recent, more, True))
    else:
        contexts = await bot.run_search(_contexts, bot, answer.passages)
        await bot.send_followup(interaction, started, render.render_context(contexts, answer.index_version))


def _contexts(bot: Bot, passages: tuple[Passage, ...]) -> list[Passage]:
    """The surrounding paragraph of each passage (once per paragraph), numbered like the passages."""
    out: list[Passage] = []
    seen: set[tuple[str, int, int]] = set()
    for p in passages:
        try:
            ctx = bot.service.context(p.source, p.start, p.end)
        except KoreaBotError as exc:
            log.info("no context for %s: %s", p.source, exc)
            continue
        if (ctx.source, ctx.start, ctx.end) not in seen:
            seen.add((ctx.source, ctx.start, ctx.end))
            out.append(replace(ctx, rank=p.rank))
    return out
