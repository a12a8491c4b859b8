"""/ask, /reindex and the answer buttons, each declared next to its handler (/sources, /report: commands_*.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import discord
from discord import app_commands

from ... import feedback
from ...config import Settings
from ...errors import BadQuestion, KoreaBotError, user_message
from ...formatting import summary
from ...models import Answer, Passage
from . import render
from .answering import default_collection, hand_off, home_channel, log_question, search, with_line
from .conversations import Chat, Chats
from .state import Cooldown, RecentAnswers
from .ui import answer_view

log = logging.getLogger(__name__)
T = TypeVar("T")


class Bot(Protocol):
    """What the handlers use of the bot (KoreaBot in bot.py): its settings, state and shared replies."""

    settings: Settings
    service: Any
    recent: RecentAnswers
    cooldown: Cooldown
    chats: Chats
    user: discord.ClientUser | None

    def gate(self, user_id: int, channel_id: int | None, question: str | None) -> tuple[str | None, str]: ...

    async def run_search(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def send_followup(
        self,
        interaction: discord.Interaction,
        started: float,
        msg: render.Rendered,
        view: Any = None,
        mentions: discord.AllowedMentions | None = None,
    ) -> discord.Message | None: ...

    async def report_error(self, target: Any, error: Exception) -> None: ...


def _bot(interaction: discord.Interaction) -> Bot:
    """The bot an interaction arrived at."""
    bot: Any = interaction.client
    return bot


async def collection_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for `collection`: the live index's collections containing what was typed (at most 25)."""
    typed = current.strip().lower()
    names = [n for n in _bot(interaction).service.collections() if n and typed in n.lower()]
    return [app_commands.Choice(name=n, value=n) for n in names[:25]]


def unknown_collection(bot: Bot, name: str) -> str | None:
    """The refusal for a collection the live index does not have (None when it has it)."""
    known = [n for n in bot.service.collections() if n]
    if name in known:
        return None
    listed = ", ".join(f"`{n}`" for n in known[:20]) or "none (all sources are at the top level)"
    return render.clip(f"There is no collection `{name.replace('`', '')}`. The collections are: {listed}.", 2000)


@app_commands.describe(
    question="What do you want to know?",
    private="Show the answer only to you",
    collection="Search only this collection of sources",
)
@app_commands.autocomplete(collection=collection_names)
async def ask(interaction: discord.Interaction, question: str, private: bool = False, collection: str = "") -> None:
    """/ask: check, defer at once, search on the worker (in a thread: with its conversation), follow up."""
    bot = _bot(interaction)
    started = time.monotonic()
    home = home_channel(interaction.channel) or interaction.channel_id
    refusal, question = bot.gate(interaction.user.id, home, question)
    name = collection.strip().strip("/")
    if not refusal and name:
        refusal = unknown_collection(bot, name)
    if refusal:
        await interaction.response.send_message(refusal, ephemeral=True)
        return
    in_thread = isinstance(interaction.channel, discord.Thread) or bot.chats.is_bot_thread(interaction.channel_id or 0)
    chat = bot.chats.get(f"t{interaction.channel_id}") if in_thread else None
    searched = name or (chat.collection if chat is not None else default_collection(bot, home))
    await interaction.response.defer(ephemeral=private, thinking=True)
    try:
        answer = await search(bot, question, chat, searched)
    except BadQuestion as exc:
        await bot.send_followup(interaction, started, render.Rendered(content=render.escape(str(exc))))
        return
    log.info(
        "ask: %d chars, %s, %d passages, followup=%s",
        len(question),
        answer.confidence,
        len(answer.passages),
        answer.followup,
    )
    view, key = answer_view(bot.recent, answer, private, searched)
    if not private:  # the conversation exists before the hand-off, so its "helpers pinged" mark is kept
        chat = chat or Chat(collection=searched)
    line, mentions = hand_off(bot, chat, answer, interaction.guild is not None and not private)
    msg = with_line(render.render_answer(answer), line)
    await log_question(bot, answer, interaction.user.id, key)  # before the reply: asked even if it fails
    sent = await bot.send_followup(interaction, started, msg, view, mentions)
    if sent is not None and chat is not None and not private:  # a private answer is not part of the conversation
        conv_key = f"t{interaction.channel_id}" if in_thread else f"m{sent.id}"
        chat.remember(answer)
        bot.chats.put(conv_key, chat)
        bot.chats.answered_with(sent.id, conv_key)


def is_admin(bot: Bot, interaction: discord.Interaction) -> bool:
    """Administrator or Manage Server permission, or one of KOREA_BOT_ADMIN_ROLE_IDS (in a server only)."""
    user = interaction.user
    if interaction.guild is None or not isinstance(user, discord.Member):
        return False
    perms = interaction.permissions
    if perms.administrator or perms.manage_guild:
        return True
    return any(role.id in bot.settings.admin_role_ids for role in user.roles)


def admin_refusal(bot: Bot, interaction: discord.Interaction, command: str) -> str | None:
    """Why ``command`` is refused here (not in a server, not an admin), or None when it may run."""
    if interaction.guild is None:
        return f"{command} only works in a server, not in DMs."
    if not is_admin(bot, interaction):
        return f"Only server admins can use {command}."
    return None


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
async def reindex(interaction: discord.Interaction) -> None:
    """/reindex (admins, in a server): incremental rebuild on the worker, then the swap."""
    bot = _bot(interaction)
    started = await refuse_or_defer(interaction, admin_refusal(bot, interaction, "/reindex"))
    if started is not None:
        await reindex_and_reply(bot, interaction, started)


async def refuse_or_defer(interaction: discord.Interaction, refusal: str | None) -> float | None:
    """Send the refusal privately and return None, or defer a private reply and return when the work started."""
    if refusal:
        await interaction.response.send_message(render.clip(refusal, 2000), ephemeral=True)
        return None
    started = time.monotonic()
    await interaction.response.defer(ephemeral=True, thinking=True)
    return started


async def reindex_and_reply(bot: Bot, interaction: discord.Interaction, started: float, head: str = "") -> None:
    """Rebuild incrementally on the worker and follow up with the report (``head``, safe markdown, first)."""
    try:
        report = await bot.run_search(bot.service.reindex)
    except KoreaBotError as exc:  # nothing indexable, a read-only index folder…: the live version keeps serving
        text = f"The index was not updated: {user_message(exc)}. I keep answering from version {bot.service.version}."
        body = render.clip(f"{head}\n{render.escape(text)}".strip(), 2000)
        await bot.send_followup(interaction, started, render.Rendered(content=body))
        return
    log.info("reindex by admin %s: %s", interaction.user.id, summary(report))  # an audit line: the admin's id
    body = render.clip(f"{head}\n{render.render_report(report)}".strip(), 2000)
    await bot.send_followup(interaction, started, render.Rendered(content=body))


SLASH_COMMANDS = (
    (ask, "Ask a question; I answer by quoting my sources, with citations."),
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


def _save_vote(path: Path, answer: Answer, vote: str, user_id: int, key: str) -> None:
    """Append one vote to the feedback file (the user id salted-hashed; `key` joins it to the question log)."""
    entry = feedback.record(answer.question, vote, answer.passages, answer.index_version, user_id, path)
    entry["answer"] = key
    feedback.append(path, entry)


async def press_button(bot: Bot, interaction: discord.Interaction, action: str, key: str) -> None:
    """More passages, Show context, 👍 / 👎 on an answer."""
    shown = bot.recent.get(key)
    if shown is None:
        text = "That answer is too old for its buttons now; please ask again."
        await interaction.response.send_message(text, ephemeral=True)
        return
    answer = shown.answer
    if action in feedback.VOTES:
        try:
            await asyncio.to_thread(_save_vote, bot.settings.feedback_file, answer, action, interaction.user.id, key)
        except OSError as exc:  # a read-only or full data volume: say so, the bot goes on
            log.warning("cannot write the feedback file %s: %s", bot.settings.feedback_file, exc)
            await interaction.response.send_message("Sorry, I could not record your feedback.", ephemeral=True)
            return
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
        text = answer.searched or answer.question  # a follow-up: the reading that was searched
        if len(text) > bot.settings.max_question_chars:  # the conversation made it longer than a question may be
            text = answer.question
        try:
            more = await bot.run_search(partial(bot.service.ask, text, offset=offset, collection=shown.collection))
        except BadQuestion as exc:  # e.g. the collection was removed since, or a long follow-up reading
            await bot.send_followup(interaction, started, render.Rendered(content=render.escape(str(exc))))
            return
        view, _key = answer_view(bot.recent, more, True, shown.collection)
        await bot.send_followup(interaction, started, render.render_more(more), view)
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
