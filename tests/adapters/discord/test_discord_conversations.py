"""End-to-end: conversations on Discord — a mention opens a thread, follow-ups in it, by reply, and /ask there."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from helpers.discord_harness import followup_of, running_bot
from helpers.fake_discord import CHANNEL_ID, FakeDiscord, Recorded

FIRST = "Who tried to end the nuclear programme through diplomacy?"
FOLLOW = "and what followed?"  # alone, its closest passage is the armistice one ("no peace treaty followed")
NUCLEAR_TITLE = "[1] Nuclear Tests — ¶1"
ARMISTICE_TITLE = "[1] The Armistice — ¶1"


def logged(root: Path) -> list[dict]:
    """The question log's lines."""
    path = root / "questions.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


async def sent_to(fake: FakeDiscord, channel: int, count: int = 1) -> Recorded:
    """The ``count``-th message the bot sent to ``channel``."""
    return await fake.wait_request("POST", rf"^/channels/{channel}/messages$", count=count)


def test_a_mention_opens_a_thread_and_a_message_there_is_a_followup(tmp_path: Path) -> None:
    """The answer to a mention goes into a new thread named after the question; a plain message in that thread is
    read with the conversation (the same words alone, in the channel, quote another source)."""

    async def scenario() -> None:
        async with running_bot(tmp_path, question_log=str(tmp_path / "questions.jsonl")) as r:
            asked = await r.fake.mention(FIRST)
            opened = await r.fake.wait_request("POST", rf"^/channels/{CHANNEL_ID}/messages/{asked['id']}/threads$")
            assert opened.json["name"] == FIRST
            thread = int(opened.response["id"])
            first = await sent_to(r.fake, thread)
            assert first.json["embeds"][0]["title"] == NUCLEAR_TITLE
            assert first.json["allowed_mentions"] == {"parse": []}
            assert not r.fake.find("POST", rf"^/channels/{CHANNEL_ID}/messages$"), "nothing posted in the channel"

            await r.fake.post(FOLLOW, channel=thread)  # no mention: the thread is the bot's
            second = await sent_to(r.fake, thread, count=2)
            assert second.json["embeds"][0]["title"] == NUCLEAR_TITLE

            _, _, alone = await r.ask(FOLLOW)  # the same words as a fresh question
            assert alone.json["embeds"][0]["title"] == ARMISTICE_TITLE
            lines = logged(tmp_path)
            assert [(x["question"], x["followup"]) for x in lines] == [(FIRST, False), (FOLLOW, True), (FOLLOW, False)]
            assert lines[1]["top_source"] == "seed/nuclear.txt" and lines[2]["top_source"] == "seed/armistice.txt"

    asyncio.run(scenario())


def test_a_reply_to_an_answer_is_a_followup_and_a_reply_to_that_one_too(tmp_path: Path) -> None:
    """With KOREA_BOT_REPLY_IN_THREAD off: the answer is a reply; replying to it continues the conversation."""

    async def scenario() -> None:
        async with running_bot(tmp_path, reply_in_thread=False, question_log=str(tmp_path / "q.jsonl")) as r:
            await r.fake.mention(FIRST)
            first = await sent_to(r.fake, CHANNEL_ID)
            assert first.json["embeds"][0]["title"] == NUCLEAR_TITLE
            assert not r.fake.find("POST", r"/threads$")
            await r.fake.post(FOLLOW, reply_to=first.response)
            second = await sent_to(r.fake, CHANNEL_ID, count=2)
            assert second.json["embeds"][0]["title"] == NUCLEAR_TITLE
            assert second.json["allowed_mentions"] == {"parse": [], "replied_user": False}
            await r.fake.post("why?", reply_to=second.response)  # the chain goes on
            third = await sent_to(r.fake, CHANNEL_ID, count=3)
            assert third.json["embeds"], third.json
            await r.fake.post(FOLLOW)  # neither a mention nor a reply: not for the bot
            await r.ask("When was the armistice agreement signed at Panmunjom?")
            assert len(r.fake.find("POST", rf"^/channels/{CHANNEL_ID}/messages$")) == 3

    asyncio.run(scenario())


def test_ask_in_the_bots_thread_is_a_followup(tmp_path: Path) -> None:
    """/ask in a thread the bot opened is read with that thread's conversation."""

    async def scenario() -> None:
        async with running_bot(tmp_path, question_log=str(tmp_path / "questions.jsonl")) as r:
            asked = await r.fake.mention(FIRST)
            opened = await r.fake.wait_request("POST", rf"/messages/{asked['id']}/threads$")
            thread = int(opened.response["id"])
            await sent_to(r.fake, thread)
            await r.fake.wait_for(lambda: r.bot.get_channel(thread))  # THREAD_CREATE reached the cache
            sent = await r.fake.slash("ask", question=FOLLOW, _channel=thread)
            answer = await followup_of(r.fake, sent)
            assert answer.json["embeds"][0]["title"] == NUCLEAR_TITLE
            assert logged(tmp_path)[-1]["followup"] is True

    asyncio.run(scenario())


def test_a_users_own_thread_is_not_answered_without_a_mention(tmp_path: Path) -> None:
    """Messages in a thread someone else opened are only questions when they mention the bot."""

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            thread = int((await r.fake.add_thread(CHANNEL_ID, 777, "chat"))["id"])
            await r.fake.post(FIRST, channel=thread)
            await r.fake.post(FIRST, channel=thread, mention=True)
            reply = await sent_to(r.fake, thread)
            assert reply.json["embeds"][0]["title"] == NUCLEAR_TITLE
            await asyncio.sleep(0.3)
            assert len(r.fake.find("POST", rf"^/channels/{thread}/messages$")) == 1
            assert not r.fake.find("POST", r"/threads$"), "no thread inside a thread"

    asyncio.run(scenario())


def test_when_a_thread_cannot_be_opened_the_answer_is_a_reply_and_replies_continue_it(tmp_path: Path) -> None:
    """No Create Public Threads permission (403): the mention is answered in place, as a reply chain."""

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            r.fake.fail_route("POST", r"/threads$", status=403)
            asked = await r.fake.mention(FIRST)
            first = await sent_to(r.fake, CHANNEL_ID)
            assert [q.status for q in r.fake.find("POST", r"/threads$")] == [403]
            assert str(first.json["message_reference"]["message_id"]) == asked["id"]
            assert first.json["embeds"][0]["title"] == NUCLEAR_TITLE
            await r.fake.post(FOLLOW, reply_to=first.response)
            second = await sent_to(r.fake, CHANNEL_ID, count=2)
            assert second.json["embeds"][0]["title"] == NUCLEAR_TITLE

    asyncio.run(scenario())
