"""End-to-end: the real discord.py bot against FakeDiscord — /ask, mentions, pings, markdown, 429s, resume, buttons."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from helpers.discord_harness import (
    DANGER,
    PEACE,
    answer_of,
    custom_ids,
    followup_of,
    running_bot,
    sent_message,
    visible,
)
from helpers.fake_discord import CHANNEL_ID

from korea_bot import feedback
from korea_bot.adapters.discord.bot import ERROR_TEXT

ARMISTICE_Q = "When was the armistice agreement signed at Panmunjom?"
PING_Q = "What does the ping test paragraph say about the moderators?"


def test_ask_is_deferred_then_answered_with_a_verbatim_quote_and_citation(tmp_path: Path) -> None:
    """/ask: a type-5 defer well within 3 s, then an embed quoting the source verbatim with its citation."""

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            sent, callback, followup = await r.ask(ARMISTICE_Q)
            dispatched = r.fake.interactions[sent["token"]]["at"]
            assert callback.json == {"type": 5}
            assert callback.at - dispatched < 3.0
            first = followup.json["embeds"][0]
            assert first["title"] == "[1] The Armistice — ¶1"
            assert visible(first["description"]).removeprefix(">>> ") == PEACE
            assert "**The armistice agreement was signed at Panmunjom in July 1953.**" in first["description"]
            assert followup.json["embeds"][-1]["footer"]["text"].startswith(f"index {r.service.version}")
            assert followup.json["allowed_mentions"] == {"parse": []}
            assert set(custom_ids(followup.json)) == {"more", "ctx", "up", "down"}

    asyncio.run(scenario())


def test_mention_is_answered_as_a_reply(tmp_path: Path) -> None:
    """With KOREA_BOT_REPLY_IN_THREAD off, a mention gets a reply (message_reference) quoting the source, pinging nobody."""

    async def scenario() -> None:
        async with running_bot(tmp_path, reply_in_thread=False) as r:
            msg = await r.fake.mention(ARMISTICE_Q)
            reply = await r.fake.wait_request("POST", rf"^/channels/{CHANNEL_ID}/messages$")
            assert str(reply.json["message_reference"]["message_id"]) == msg["id"]
            assert reply.json["allowed_mentions"] == {"parse": [], "replied_user": False}
            assert reply.json["embeds"][0]["title"] == "[1] The Armistice — ¶1"
            assert PEACE in visible(reply.json["embeds"][0]["description"])

    asyncio.run(scenario())


def test_pings_and_markdown_in_a_source_are_inert(tmp_path: Path) -> None:
    """@everyone, <@&123>, <@456>, code, spoilers and links are quoted escaped; nobody is pinged."""

    async def scenario() -> None:
        async with running_bot(tmp_path, reply_in_thread=False) as r:
            _, _, followup = await r.ask(PING_Q)
            await r.fake.mention(PING_Q)
            reply = await r.fake.wait_request("POST", rf"^/channels/{CHANNEL_ID}/messages$")
            for payload in (followup.json, reply.json):
                assert payload["allowed_mentions"]["parse"] == []
                assert "users" not in payload["allowed_mentions"] and "roles" not in payload["allowed_mentions"]
                desc = payload["embeds"][0]["description"]
                assert visible(desc).removeprefix(">>> ") == DANGER
                assert "<@" not in desc and "\\@everyone" in desc and "\\<\\@&123\\>" in desc
                assert "\\`\\`\\`code\\`\\`\\`" in desc and "\\|\\|spoilers\\|\\|" in desc and "\\[a link\\]" in desc

    asyncio.run(scenario())


def test_rate_limited_replies_are_retried_and_delivered(tmp_path: Path) -> None:
    """429 with retry_after on the followup webhook and on the channel message route: still answered."""

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            r.fake.rate_limit("POST", r"^/webhooks/", retry_after=0.3, times=2)
            sent = await r.fake.slash("ask", question=ARMISTICE_Q)
            await followup_of(r.fake, sent, count=3)
            posts = r.fake.find("POST", rf"^/webhooks/\d+/{sent['token']}$")
            assert [p.status for p in posts] == [429, 429, 200]
            assert posts[-1].json["embeds"][0]["title"].startswith("[1] ")
            assert posts[-1].at - posts[0].at >= 0.5
            r.fake.rate_limit("POST", r"^/channels/\d+/messages$", retry_after=0.3, times=1)
            await r.fake.mention(ARMISTICE_Q)
            second = await r.fake.wait_request("POST", r"^/channels/\d+/messages$", count=2)
            assert second.status == 200 and second.json["embeds"][0]["title"].startswith("[1] ")
            assert [p.status for p in r.fake.find("POST", r"/messages$")] == [429, 200]

    asyncio.run(scenario())


def test_gateway_drop_then_resume_and_answer_again(tmp_path: Path) -> None:
    """The gateway closes abnormally; the bot RESUMEs the same session (no new IDENTIFY) and keeps answering."""

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            await r.ask(ARMISTICE_Q)
            await r.fake.drop(4000)
            resume = await r.fake.wait_for(lambda: r.fake.ops(6))
            assert resume[0]["d"]["session_id"] == "session-1" and resume[0]["d"]["seq"] >= 2
            _, callback, followup = await r.ask(ARMISTICE_Q)
            assert callback.json == {"type": 5} and followup.json["embeds"][0]["title"].startswith("[1] ")
            assert len(r.fake.ops(2)) == 1 and r.fake.connections == ["/gateway/", "/resume"]

    asyncio.run(scenario())


def test_buttons_more_context_and_feedback(tmp_path: Path) -> None:
    """More passages (next ranks), Show context (the paragraph), 👍/👎 appended to the feedback JSONL."""

    async def scenario() -> None:
        async with running_bot(tmp_path, top_k=1) as r:
            _, _, followup = await r.ask(ARMISTICE_Q)
            ids, msg = custom_ids(followup.json), sent_message(followup.json)

            more = await r.fake.click(ids["more"], msg)
            assert (await answer_of(r.fake, more)).json == {"type": 5, "data": {"flags": 64}}
            page = (await followup_of(r.fake, more)).json
            assert page["embeds"][0]["title"].startswith("[2] ") and "More passages for" in page["content"]

            ctx = await r.fake.click(ids["ctx"], msg)
            shown = (await followup_of(r.fake, ctx)).json
            assert shown["content"] == "The surrounding paragraphs:"
            assert visible(shown["embeds"][0]["description"]).removeprefix(">>> ") == PEACE

            for vote, uid in (("up", 601), ("down", 602)):
                click = await r.fake.click(ids[vote], msg, uid=uid)
                ack = (await answer_of(r.fake, click)).json
                assert ack["type"] == 4 and ack["data"]["flags"] == 64 and "feedback" in ack["data"]["content"]
            rows = list(feedback.read(r.settings.feedback_file))
            assert [(row["vote"], row["user"]) for row in rows] == [
                ("up", feedback.hash_user(601, r.settings.feedback_file)),
                ("down", feedback.hash_user(602, r.settings.feedback_file)),
            ]
            assert rows[0]["question"] == ARMISTICE_Q and rows[0]["index_version"] == r.service.version
            assert rows[0]["passages"][0]["source"] == "seed/armistice.txt"
            assert rows[0]["passages"][0]["end"] > rows[0]["passages"][0]["start"]

            old_key = ids["up"].split(":")[2]  # as if the bot restarted and forgot the answer
            old = json.loads(json.dumps(followup.json).replace(old_key, "0123456789abcdef"))
            stale = await r.fake.click("kb:up:0123456789abcdef", sent_message(old))
            assert "too old" in (await answer_of(r.fake, stale)).json["data"]["content"]

    asyncio.run(scenario())


def test_abstention_is_a_friendly_message(tmp_path: Path) -> None:
    """A question nothing supports gets the no-passage message, not a weak quote, and no buttons."""

    async def scenario() -> None:
        async with running_bot(tmp_path, min_score=0.99) as r:
            _, _, followup = await r.ask("Which recipe uses kimchi and tofu?")
            assert followup.json.get("embeds") in (None, []) and "couldn't find a passage" in followup.json["content"]
            assert not followup.json.get("components")

    asyncio.run(scenario())


class Exploding:
    """A service whose ask() fails unexpectedly."""

    def __init__(self, inner: object) -> None:
        """Wrap ``inner``."""
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        """Delegate everything else."""
        return getattr(self.inner, name)

    def ask(self, *args: object, **kw: object) -> None:
        """Fail."""
        raise RuntimeError("boom in the core")


def test_error_handler_answers_ephemerally_and_logs(tmp_path: Path, caplog: object) -> None:
    """An unexpected error in a command gets one ephemeral apology and a logged traceback; the bot lives on."""
    from helpers.discord_harness import make_service, make_settings, write_corpus

    write_corpus(tmp_path)
    service = Exploding(make_service(make_settings(tmp_path)))

    async def scenario() -> None:
        async with running_bot(tmp_path, service=service) as r:
            sent = await r.fake.slash("ask", question=ARMISTICE_Q)
            apology = (await followup_of(r.fake, sent)).json
            assert apology["content"] == ERROR_TEXT and apology["flags"] == 64
            sources = await r.fake.slash("sources", _sub="list")
            assert (await answer_of(r.fake, sources)).json["data"]["embeds"][0]["title"] == "Sources"

    asyncio.run(scenario())
    assert "boom in the core" in caplog.text and "Traceback" in caplog.text  # type: ignore[attr-defined]


def test_channel_allow_list(tmp_path: Path) -> None:
    """With an allow-list, questions elsewhere get a short ephemeral refusal."""

    async def scenario() -> None:
        async with running_bot(tmp_path, allowed_channel_ids=[42]) as r:
            sent = await r.fake.slash("ask", question=ARMISTICE_Q)
            reply = (await answer_of(r.fake, sent)).json
            assert reply["type"] == 4 and "only answer questions in <#42>" in reply["data"]["content"]
            assert not r.fake.find("POST", r"^/webhooks/")

    asyncio.run(scenario())


def test_sources_lists_the_index(tmp_path: Path) -> None:
    """/sources shows documents, passage counts and the index version."""

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            sent = await r.fake.slash("sources", _sub="list")
            embed = (await answer_of(r.fake, sent)).json["data"]["embeds"][0]
            assert "3 documents" in embed["description"] and "seed/armistice.txt" in embed["description"]
            assert r.service.version in embed["footer"]["text"]

    asyncio.run(scenario())


class TierService:
    """The real Service, with its answers put into a chosen reply tier (the learned stage needs the real model)."""

    def __init__(self, inner: object, tier: str) -> None:
        """Wrap a Service."""
        self.inner, self.tier = inner, tier

    def __getattr__(self, name: str) -> object:
        """Everything else is the real Service's."""
        return getattr(self.inner, name)

    def ask(self, *args: object, **kw: object) -> object:
        """The real answer, in the chosen tier."""
        from dataclasses import replace

        from korea_bot.service import LOW_CONFIDENCE, NO_SUPPORT

        answer = self.inner.ask(*args, **kw)  # type: ignore[attr-defined]
        if self.tier == "low":
            return replace(answer, answered=False, confidence="low", message=LOW_CONFIDENCE)
        return replace(answer, answered=False, confidence="none", message=NO_SUPPORT, passages=())


def test_each_reply_tier_looks_different(tmp_path: Path) -> None:
    """Answered: blue embeds; closest passages: a warning and grey embeds; no support: a plain refusal, no embed."""
    from helpers.discord_harness import make_service, make_settings

    from korea_bot.adapters.discord import render

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            _sent, _cb, high = await r.ask(ARMISTICE_Q)
        real = make_service(make_settings(tmp_path))
        async with running_bot(tmp_path, service=TierService(real, "low")) as r:
            _sent, _cb, low = await r.ask(ARMISTICE_Q)
        async with running_bot(tmp_path, service=TierService(real, "none")) as r:
            _sent, _cb, none = await r.ask(ARMISTICE_Q)
        assert {e["color"] for e in high.json["embeds"]} == {render.COLOR} and not high.json.get("content")
        assert low.json["content"].startswith("⚠️ **I'm not sure these answer it**")
        assert {e["color"] for e in low.json["embeds"]} == {render.LOW_COLOR}
        assert low.json["embeds"][-1]["footer"]["text"].endswith("low confidence")
        assert PEACE in visible(low.json["embeds"][0]["description"])
        assert not none.json.get("embeds") and none.json["content"].startswith(render.NO_ANSWER)

    asyncio.run(scenario())


def test_a_vote_that_cannot_be_written_is_answered_and_the_bot_goes_on(tmp_path: Path) -> None:
    """A feedback file whose folder cannot exist (a file is in the way): the voter is told, the next question answered."""
    (tmp_path / "blocked").write_text("not a folder", encoding="utf-8")

    async def scenario() -> None:
        async with running_bot(tmp_path, feedback_file=tmp_path / "blocked" / "fb.jsonl") as r:
            _, _, followup = await r.ask(ARMISTICE_Q)
            ids, msg = custom_ids(followup.json), sent_message(followup.json)
            click = await r.fake.click(ids["up"], msg, uid=601)
            ack = (await answer_of(r.fake, click)).json
            assert ack["type"] == 4 and ack["data"]["flags"] == 64 and "could not record" in ack["data"]["content"]
            _, _, again = await r.ask(ARMISTICE_Q)
            assert again.json["embeds"][0]["title"].startswith("[1] ")

    asyncio.run(scenario())
