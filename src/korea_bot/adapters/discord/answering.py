"""What every way of asking shares: the collection to search, the search itself, the log line, the hand-off ping."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

import discord

from ...models import Answer
from . import render
from .conversations import Chat

log = logging.getLogger(__name__)
HAND_OFF = "Nothing in my sources covers this; {role}, can someone help?"


def home_channel(channel: Any) -> int | None:
    """The channel a message or command belongs to: a thread's parent channel, else the channel itself."""
    if isinstance(channel, discord.Thread):
        return channel.parent_id
    return getattr(channel, "id", None)


def default_collection(bot: Any, channel_id: int | None) -> str | None:
    """KOREA_BOT_CHANNEL_COLLECTIONS' collection for a channel (None: search everything)."""
    return bot.settings.channel_collections.get(channel_id) if channel_id is not None else None


async def search(bot: Any, question: str, chat: Chat | None, collection: str | None) -> Answer:
    """Answer on the search worker, read in the conversation's light when there is one."""
    context = chat.context() if chat is not None else None
    return await bot.run_search(partial(bot.service.ask, question, context=context, collection=collection))


async def log_question(bot: Any, answer: Answer, user_id: int, key: str) -> None:
    """Add the question to the question log (off the event loop; the log never raises)."""
    await asyncio.to_thread(bot.service.questions.record, answer, user_id, "discord", key)


def hand_off(bot: Any, chat: Chat | None, answer: Answer, in_guild: bool) -> tuple[str, discord.AllowedMentions]:
    """The extra line and allowed mentions of a reply: the helper role, once per conversation, when nothing
    supports an answer in a server; otherwise no line and no mention at all."""
    role = bot.settings.helper_role_id
    nobody = discord.AllowedMentions.none()
    if role is None or not in_guild or answer.confidence != "none" or (chat is not None and chat.pinged_helpers):
        return "", nobody
    if chat is not None:
        chat.pinged_helpers = True
    only_role = discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(id=role)])
    only_role.replied_user = False
    return HAND_OFF.format(role=f"<@&{role}>"), only_role


def with_line(msg: render.Rendered, line: str) -> render.Rendered:
    """The message with one more line of content (already safe markdown) at the end."""
    if not line:
        return msg
    head = render.clip(msg.content, render.CONTENT_MAX - len(line) - 1)
    return render.Rendered(content=f"{head}\n{line}".strip(), embeds=msg.embeds)


def thread_name(question: str) -> str:
    """A thread name from the question: one line, at most 90 characters (Discord allows 100)."""
    text = " ".join(question.split()) or "Question"
    return text if len(text) <= 90 else text[:89].rstrip() + "…"


def forum_question(title: str, body: str, limit: int) -> str:
    """A forum post as one question: its title, then its first message, within ``limit`` characters."""
    text = f"{title.strip()}\n{body.strip()}".strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]
