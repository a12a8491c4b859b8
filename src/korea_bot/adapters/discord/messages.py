"""Messages as questions: a mention, a reply to an answer, a message in a bot thread, a new forum post."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import discord

from ...errors import BadQuestion
from . import render
from .answering import (
    default_collection,
    forum_question,
    hand_off,
    home_channel,
    log_question,
    search,
    thread_name,
    with_line,
)
from .commands import typing_in
from .conversations import Chat
from .state import strip_mentions
from .ui import answer_view, payload

log = logging.getLogger(__name__)
ARCHIVE_MINUTES = 1440  # a thread the bot opens is archived after a day without messages


@dataclass(frozen=True)
class Asked:
    """A message read as a question: its text and the conversation it continues (key, or None for a new one)."""

    text: str
    key: str | None


def read_question(bot: Any, message: discord.Message, me: discord.abc.User) -> Asked | None:
    """The question in a message, or None when the message is not for the bot."""
    channel = message.channel
    thread = channel if isinstance(channel, discord.Thread) else None
    opened = bot.chats.is_bot_thread(channel.id)  # known even before the thread reaches the cache
    mentioned = any(u.id == me.id for u in message.mentions)
    reply_key = bot.chats.key_of_answer(message.reference.message_id if message.reference else None)
    forum = thread is not None and thread.parent_id in bot.settings.forum_channel_ids and message.id == thread.id
    bot_thread = opened or (thread is not None and thread.owner_id == me.id)
    if not (mentioned or reply_key or bot_thread or forum):
        return None
    text = strip_mentions(message.content, me.id)
    if forum and thread is not None:
        text = forum_question(thread.name, text, bot.settings.max_question_chars)
    if not text and not mentioned:
        return None  # no content: without the Message Content intent only mentions carry it
    key = f"t{channel.id}" if thread is not None or opened else reply_key
    return Asked(text, key)


async def on_message(bot: Any, message: discord.Message) -> None:
    """Answer a message that is a question (see read_question); errors are reported to the asker."""
    me = bot.user
    if me is None or message.author.bot:
        return
    try:
        asked = read_question(bot, message, me)
        if asked is not None:
            await answer_message(bot, message, asked)
    except Exception as exc:
        await bot.report_error(message, exc)


async def answer_message(bot: Any, message: discord.Message, asked: Asked) -> None:
    """Search (in the conversation's light when it continues one), then answer in a thread or as a reply."""
    home = home_channel(message.channel)
    refusal, question = bot.gate(message.author.id, home, asked.text)
    if refusal:
        await message.reply(refusal, mention_author=False)
        return
    chat = bot.chats.get(asked.key) if asked.key else None
    collection = chat.collection if chat is not None else default_collection(bot, home)
    try:
        async with typing_in(message.channel):
            answer = await search(bot, question, chat, collection)
    except BadQuestion as exc:  # e.g. a channel's default collection that the index no longer has
        await message.reply(render.escape(str(exc)), mention_author=False)
        return
    key, target = asked.key, None
    if key is None and message.guild is not None and bot.settings.reply_in_thread:
        target = await open_thread(message, question)
        if target is not None:
            key = f"t{target.id}"
            bot.chats.opened_thread(target.id)
    if chat is None:
        chat = Chat(collection=collection)
    view, button_key = answer_view(bot.recent, answer)
    line, mentions = hand_off(bot, chat, answer, message.guild is not None)
    msg = with_line(render.render_answer(answer), line)
    await log_question(bot, answer, message.author.id, button_key)  # before the reply: asked even if it fails
    if target is not None:
        sent = await target.send(**payload(msg, view, mentions))
    else:
        sent = await message.reply(mention_author=False, **payload(msg, view, mentions))
    key = key or f"m{sent.id}"
    chat.remember(answer)
    bot.chats.put(key, chat)
    bot.chats.answered_with(sent.id, key)
    log.info("message answer: %s, followup=%s, in %s", answer.confidence, answer.followup, key[0])


async def open_thread(message: discord.Message, question: str) -> discord.Thread | None:
    """A new thread on the question message (None when it cannot be opened: then the answer is a reply)."""
    try:
        return await message.create_thread(name=thread_name(question), auto_archive_duration=ARCHIVE_MINUTES)
    except (discord.HTTPException, ValueError) as exc:
        log.info("cannot open a thread on message %s (%s); replying in place", message.id, exc)
        return None
