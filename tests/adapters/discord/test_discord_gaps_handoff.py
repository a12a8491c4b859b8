"""End-to-end: the question log and /report, the helper-role hand-off (the only mention ever made), forum posts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from helpers.discord_harness import answer_of, custom_ids, followup_of, running_bot, visible
from helpers.fake_discord import CHANNEL_ID, FORUM_ID, HELPER_ROLE_ID, FakeDiscord

ANSWERED = "When was the armistice agreement signed at Panmunjom?"
UNANSWERED = "Xylophone quintessence zebra?"  # shares no word with the sources
HAND_OFF = f"<@&{HELPER_ROLE_ID}>"


def log_lines(path: Path) -> list[dict]:
    """The question log's lines."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_questions_are_logged_votes_joined_and_report_shows_the_gaps_to_admins_only(tmp_path: Path) -> None:
    """Each answer is logged with tier, top source and a salted user hash; a 👎 carries the answer's key;
    /report (admins, ephemeral) lists the most asked, the unanswered and the voted-down questions."""
    qlog = tmp_path / "questions.jsonl"

    async def scenario() -> None:
        async with running_bot(tmp_path, question_log=str(qlog), min_score=0.5) as r:
            _, _, answered = await r.ask(ANSWERED, uid=4242)
            await r.ask(UNANSWERED, uid=4242)
            await r.ask(UNANSWERED, uid=4343)
            lines = log_lines(qlog)
            assert [(x["question"], x["tier"], x["top_source"]) for x in lines] == [
                (ANSWERED, "high", "seed/armistice.txt"),
                (UNANSWERED, "none", None),
                (UNANSWERED, "none", None),
            ]
            assert lines[1]["user"] != lines[2]["user"] and "4242" not in qlog.read_text(encoding="utf-8")
            assert all(x["where"] == "discord" for x in lines)
            key = custom_ids(answered.json)["down"].split(":")[2]
            assert lines[0]["answer"] == key and lines[1]["answer"] == ""
            vote = await r.fake.click(custom_ids(answered.json)["down"], answered.response)
            await answer_of(r.fake, vote)
            votes = log_lines(tmp_path / "feedback.jsonl")
            assert votes[-1]["vote"] == "down" and votes[-1]["answer"] == key

            member = await r.fake.slash("report")
            assert "Only server admins can use /report." in str((await answer_of(r.fake, member)).json)
            dm = await r.fake.slash("report", _dm=True, _admin=True)
            assert "not in DMs" in str((await answer_of(r.fake, dm)).json)
            bad = await r.fake.slash("report", _admin=True, since="yesterday")
            assert "use a number and h, d or w" in (await answer_of(r.fake, bad)).json["data"]["content"]

            sent = await r.fake.slash("report", _admin=True, since="1d")
            assert (await answer_of(r.fake, sent)).json == {"type": 5, "data": {"flags": 64}}
            body = visible((await followup_of(r.fake, sent)).json["embeds"][0]["description"])
            lines_shown = body.splitlines()
            assert lines_shown[0].startswith("3 questions since ")
            unanswered = lines_shown.index("No supporting passage (texts to add?):")
            assert lines_shown[unanswered + 1].strip() == f"2× {UNANSWERED}"
            down = lines_shown.index("Voted down:")
            assert lines_shown[down + 1].strip() == ANSWERED
            assert "The armistice agreement was signed at Panmunjom in July 1953." in lines_shown[down + 2]

    asyncio.run(scenario())


def test_report_says_so_when_the_question_log_is_off(tmp_path: Path) -> None:
    """KOREA_BOT_QUESTION_LOG=off: nothing is logged and /report says why it has nothing."""

    async def scenario() -> None:
        async with running_bot(tmp_path, question_log="off") as r:
            await r.ask(ANSWERED)
            sent = await r.fake.slash("report", _admin=True)
            assert "The question log is off" in (await answer_of(r.fake, sent)).json["data"]["content"]
            assert not list(tmp_path.glob("*questions*"))

    asyncio.run(scenario())


def mentions_ever_allowed(fake: FakeDiscord) -> list[dict]:
    """allowed_mentions of every message the bot sent (channel messages and interaction replies)."""
    sent = fake.find("POST", r"^/channels/\d+/messages$") + fake.find("POST", r"^/webhooks/")
    sent += [r for r in fake.find("POST", r"^/interactions/") if (r.json or {}).get("type") == 4]  # not defers
    return [(r.json.get("data") or r.json).get("allowed_mentions") for r in sent]


def test_the_helper_role_is_mentioned_once_per_thread_when_nothing_supports_an_answer_and_nobody_else_ever(
    tmp_path: Path,
) -> None:
    """KOREA_BOT_HELPER_ROLE_ID: a no-answer in a server mentions the role (allowed mentions: exactly it), once per
    conversation; answers, a second no-answer in the thread, private answers and DMs mention nobody."""

    async def scenario() -> None:
        async with running_bot(tmp_path, helper_role_id=HELPER_ROLE_ID, min_score=0.5) as r:
            asked = await r.fake.mention(UNANSWERED)
            opened = await r.fake.wait_request("POST", rf"/messages/{asked['id']}/threads$")
            thread = int(opened.response["id"])
            first = await r.fake.wait_request("POST", rf"^/channels/{thread}/messages$")
            assert first.json["content"].endswith(f"Nothing in my sources covers this; {HAND_OFF}, can someone help?")
            assert first.json["allowed_mentions"] == {"parse": [], "roles": [HELPER_ROLE_ID]}
            await r.fake.post("Who won the football world cup in 1998?", channel=thread)
            second = await r.fake.wait_request("POST", rf"^/channels/{thread}/messages$", count=2)
            assert not second.json["embeds"] and HAND_OFF not in second.json["content"]
            assert second.json["allowed_mentions"] == {"parse": [], "replied_user": False}
            await r.fake.post(ANSWERED, channel=thread)
            third = await r.fake.wait_request("POST", rf"^/channels/{thread}/messages$", count=3)
            assert third.json["embeds"] and HAND_OFF not in str(third.json)

            _, _, slash = await r.ask(UNANSWERED)  # a new conversation in the channel: the role once more
            assert HAND_OFF in slash.json["content"] and slash.json["allowed_mentions"]["roles"] == [HELPER_ROLE_ID]
            _, _, private = await r.ask(UNANSWERED, private=True)
            assert HAND_OFF not in private.json["content"] and "roles" not in private.json["allowed_mentions"]
            _, _, dm = await r.ask(UNANSWERED, _dm=True)
            assert HAND_OFF not in dm.json["content"] and "roles" not in dm.json["allowed_mentions"]

            allowed = mentions_ever_allowed(r.fake)
            assert len(allowed) >= 6 and all(a is not None and a["parse"] == [] for a in allowed), allowed
            assert all(
                set(a) <= {"parse", "roles", "replied_user"} and a.get("replied_user") in (None, False) for a in allowed
            )
            assert [a["roles"] for a in allowed if "roles" in a] == [[HELPER_ROLE_ID]] * 2

    asyncio.run(scenario())


def test_without_a_helper_role_a_no_answer_mentions_nobody(tmp_path: Path) -> None:
    """No KOREA_BOT_HELPER_ROLE_ID: the no-answer reply has no mention and allows none."""

    async def scenario() -> None:
        async with running_bot(tmp_path, min_score=0.5, reply_in_thread=False) as r:
            await r.fake.mention(UNANSWERED)
            reply = await r.fake.wait_request("POST", rf"^/channels/{CHANNEL_ID}/messages$")
            assert "<@" not in reply.json["content"]
            assert reply.json["allowed_mentions"] == {"parse": [], "replied_user": False}

    asyncio.run(scenario())


def test_a_new_forum_post_is_answered_in_its_thread(tmp_path: Path) -> None:
    """KOREA_BOT_FORUM_CHANNEL_IDS: a post's title and first message are the question; the answer goes in the post;
    later messages there are not questions unless they mention the bot, and posts in other forums are left alone."""

    async def scenario() -> None:
        async with running_bot(tmp_path, forum_channel_ids=str(FORUM_ID)) as r:
            post = await r.fake.forum_post("Nuclear diplomacy", "Who tried to end the nuclear programme?")
            thread = int(post["id"])
            answer = await r.fake.wait_request("POST", rf"^/channels/{thread}/messages$")
            assert answer.json["embeds"][0]["title"] == "[1] Nuclear Tests — ¶1"
            assert str(answer.json["message_reference"]["message_id"]) == post["id"]
            assert not r.fake.find("POST", r"/threads$"), "the post is the thread"
            other = await r.fake.forum_post("Armistice", ANSWERED, forum=FORUM_ID + 100)
            await r.fake.post("thanks, that helps", channel=thread)
            await r.fake.post("and what followed?", channel=thread, mention=True)  # a follow-up in the post
            second = await r.fake.wait_request("POST", rf"^/channels/{thread}/messages$", count=2)
            assert second.json["embeds"][0]["title"] == "[1] Nuclear Tests — ¶1"
            await r.ask(ANSWERED)  # everything before it was handled by now
            assert not r.fake.find("POST", rf"^/channels/{other['id']}/messages$")
            assert len(r.fake.find("POST", rf"^/channels/{thread}/messages$")) == 2

    asyncio.run(scenario())
