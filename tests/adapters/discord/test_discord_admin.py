"""End-to-end: /reindex permissions, the cooldown, odd questions, commands synced only on request."""

from __future__ import annotations

import asyncio
from pathlib import Path

from helpers.discord_harness import answer_of, followup_of, running_bot, visible
from helpers.fake_discord import ADMIN_ROLE_ID, APP_ID, GUILD_ID

from korea_bot.adapters.discord.bot import ERROR_TEXT

NEW_DOC = "The Sunshine Policy of engagement with the North was launched by Kim Dae-jung in 1998."


def test_reindex_refused_for_member_and_in_dm_done_for_admin(tmp_path: Path) -> None:
    """A member and a DM get an ephemeral refusal; an admin's /reindex adds the new source and it is used."""

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            before = r.service.version
            (tmp_path / "sources" / "seed" / "sunshine.txt").write_text(f"Sunshine\n\n{NEW_DOC}\n", encoding="utf-8")

            member = await r.fake.slash("reindex", uid=700)
            refused = (await answer_of(r.fake, member)).json
            assert refused["type"] == 4 and refused["data"]["flags"] == 64 and "Only server admins" in str(refused)

            dm = await r.fake.slash("reindex", uid=700, _dm=True, _admin=True)
            refused = (await answer_of(r.fake, dm)).json
            assert refused["type"] == 4 and "not in DMs" in refused["data"]["content"]
            assert r.service.version == before

            admin = await r.fake.slash("reindex", uid=701, _admin=True)
            assert (await answer_of(r.fake, admin)).json == {"type": 5, "data": {"flags": 64}}
            report = (await followup_of(r.fake, admin)).json["content"]
            assert "1 added" in report and "seed/sunshine.txt" in visible(report)
            assert r.service.version != before

            _, _, followup = await r.ask("Who launched the Sunshine Policy of engagement in 1998?")
            assert followup.json["embeds"][0]["title"] == "[1] Sunshine — ¶1"

    asyncio.run(scenario())


def test_admin_role_from_settings_may_reindex(tmp_path: Path) -> None:
    """A member without Manage Server but with a role in KOREA_BOT_ADMIN_ROLE_IDS may reindex."""

    async def scenario() -> None:
        async with running_bot(tmp_path, admin_role_ids=[ADMIN_ROLE_ID]) as r:
            sent = await r.fake.slash("reindex", uid=702, _admin=True)
            assert (await answer_of(r.fake, sent)).json["type"] == 5
            assert "0 added" in (await followup_of(r.fake, sent)).json["content"]

    asyncio.run(scenario())


def test_cooldown_limits_one_user_not_the_others(tmp_path: Path) -> None:
    """Five quick questions from one user: three answered, two get a friendly cooldown; others unaffected."""

    async def scenario() -> None:
        async with running_bot(tmp_path, cooldown_rate=3, cooldown_seconds=30) as r:
            sent = [await r.fake.slash("ask", uid=900, question="armistice signed?") for _ in range(5)]
            replies = [(await answer_of(r.fake, s)).json for s in sent]
            assert [x["type"] for x in replies] == [5, 5, 5, 4, 4]
            for slow in replies[3:]:
                assert slow["data"]["flags"] == 64 and "faster than I can keep up" in slow["data"]["content"]
            other = await r.fake.slash("ask", uid=901, question="armistice signed?")
            assert (await answer_of(r.fake, other)).json["type"] == 5
            assert (await followup_of(r.fake, other)).json["embeds"]
            await r.fake.mention("armistice signed?", uid=900)
            reply = await r.fake.wait_request("POST", r"/messages$")
            assert "faster than I can keep up" in reply.json["content"]

    asyncio.run(scenario())


def test_odd_questions_get_clear_replies(tmp_path: Path) -> None:
    """Empty, blank, 6,000 chars, NUL, RTL override and zero-width questions: a clear reply, no crash."""
    cases = {
        "": "Please ask a question",
        "   \t ": "Please ask a question",
        "x" * 6000: "characters long",
        "\x00\x00": "Please ask a question",
        "\u202e\u202e": "Please ask a question",
        "\u200b\u200b\u200d": "Please ask a question",
        "?!": "could not find any words",
    }

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            for question, expected in cases.items():
                sent = await r.fake.slash("ask", question=question)
                reply = (await answer_of(r.fake, sent)).json
                assert reply["type"] == 4 and reply["data"]["flags"] == 64
                assert expected in reply["data"]["content"] and reply["data"]["content"] != ERROR_TEXT
            sent = await r.fake.slash("ask", question="armistice\x00 signed\u202e at Panmunjom")
            assert (await answer_of(r.fake, sent)).json["type"] == 5
            assert (await followup_of(r.fake, sent)).json["embeds"][0]["title"].startswith("[1] The Armistice")
            await r.fake.mention("   ")
            reply = await r.fake.wait_request("POST", r"/messages$")
            assert "Please ask a question" in reply.json["content"]

    asyncio.run(scenario())


def commands_puts(fake: object) -> list:
    """The command-sync requests the fake received."""
    return fake.find("PUT", r"^/applications/\d+(/guilds/\d+)?/commands$")  # type: ignore[attr-defined]


def test_commands_synced_only_when_asked(tmp_path: Path) -> None:
    """Two plain starts sync nothing; --sync pushes the three commands to the configured guild."""

    async def scenario() -> None:
        for _ in range(2):
            async with running_bot(tmp_path, guild_ids=[GUILD_ID]) as r:
                await r.ask("armistice signed?")
                assert commands_puts(r.fake) == []
        async with running_bot(tmp_path, sync=True, guild_ids=[GUILD_ID]) as r:
            (put,) = commands_puts(r.fake)
            assert put.path == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
            assert sorted(c["name"] for c in put.json) == ["ask", "reindex", "report", "sources"]
            reindex = next(c for c in put.json if c["name"] == "reindex")
            assert int(reindex["default_member_permissions"]) == 1 << 5  # Manage Server
        async with running_bot(tmp_path, sync=True) as r:
            (put,) = commands_puts(r.fake)
            assert put.path == f"/applications/{APP_ID}/commands"

    asyncio.run(scenario())
