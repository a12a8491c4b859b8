"""End-to-end: /sources add and /sources remove — admins only, in a server, checked like the index, then reindexed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from helpers.discord_harness import answer_of, followup_of, running_bot, visible

SUNSHINE = "The Sunshine Policy of engagement with the North was launched by Kim Dae-jung in 1998."
SUNSHINE_FILE = f"Sunshine\n\n{SUNSHINE}\n".encode()


def files_under(root: Path) -> set[str]:
    """Every file below ``root`` (relative names), hidden ones too."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_an_admin_uploads_a_source_it_is_indexed_and_quoted(tmp_path: Path) -> None:
    """The fake serves the attachment; it is written into the collection, reindexed, and answers questions."""

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            before = r.service.version
            file = r.fake.attachment("sunshine.txt", SUNSHINE_FILE)
            sent = await r.fake.slash("sources", _sub="add", _admin=True, file=file, collection="seed")
            assert (await answer_of(r.fake, sent)).json == {"type": 5, "data": {"flags": 64}}
            report = visible((await followup_of(r.fake, sent)).json["content"])
            assert report.startswith("Added `seed/sunshine.txt`.") and "1 added" in report, report
            assert (tmp_path / "sources" / "seed" / "sunshine.txt").read_bytes() == SUNSHINE_FILE
            assert r.fake.downloads == [file["id"]]  # the bot fetched the attachment from the fake's file server
            assert r.service.version != before
            _, _, answer = await r.ask("Who launched the Sunshine Policy of engagement in 1998?")
            assert answer.json["embeds"][0]["title"] == "[1] Sunshine — ¶1"

            again = await r.fake.slash("sources", _sub="add", _admin=True, file=file, collection="seed")
            refused = visible((await followup_of(r.fake, again)).json["content"])
            assert "already exists; use replace:true" in refused
            newer = r.fake.attachment("sunshine.txt", SUNSHINE_FILE.replace(b"1998", b"February 1998"))
            replaced = await r.fake.slash(
                "sources", _sub="add", _admin=True, file=newer, collection="seed", replace=True
            )
            text = visible((await followup_of(r.fake, replaced)).json["content"])
            assert text.startswith("Replaced `seed/sunshine.txt`.") and "1 changed" in text, text
            assert b"February 1998" in (tmp_path / "sources" / "seed" / "sunshine.txt").read_bytes()
            assert not [n for n in files_under(tmp_path / "sources") if n.rsplit("/", 1)[-1].startswith(".")]

    asyncio.run(scenario())


def test_uploads_are_refused_for_members_in_dms_for_unsafe_names_oversized_and_binary_files(tmp_path: Path) -> None:
    """Each refusal is a clear ephemeral message and leaves the sources folder and the index as they were."""

    async def scenario() -> None:
        async with running_bot(tmp_path, max_file_mb=0.001) as r:  # a 1,000-byte limit
            sources, version = files_under(tmp_path / "sources"), r.service.version
            ok = r.fake.attachment("sunshine.txt", SUNSHINE_FILE)
            cases = [
                ({"file": ok}, "Only server admins can use /sources add."),
                ({"file": ok, "_admin": True, "_dm": True}, "/sources add only works in a server, not in DMs."),
                ({"file": r.fake.attachment("../evil.txt", SUNSHINE_FILE), "_admin": True}, "not a plain file name"),
                ({"file": ok, "collection": "../up", "_admin": True}, "is not a collection name"),
                ({"file": ok, "collection": ".hidden", "_admin": True}, "is not a collection name"),
                ({"file": r.fake.attachment(".env.txt", SUNSHINE_FILE), "_admin": True}, "not a plain file name"),
                ({"file": r.fake.attachment("tool.exe", b"MZ"), "_admin": True}, "unsupported file type"),
                ({"file": r.fake.attachment("big.txt", b"x", size=5_000_000), "_admin": True}, "size limit"),
            ]
            for options, expected in cases:
                sent = await r.fake.slash("sources", _sub="add", **options)
                reply = (await answer_of(r.fake, sent)).json
                assert reply["type"] == 4 and reply["data"]["flags"] == 64, (options, reply)
                assert expected in visible(reply["data"]["content"]), (expected, reply)
            assert not r.fake.downloads, "nothing was downloaded for a refused upload"
            for name, data, expected in [
                ("blob.txt", b"Title\n\n\x00\x01\x02binary\xff\xfe", "is not text (it holds NUL bytes"),
                ("latin.txt", "Caf\xe9 au lait, a sentence.\n".encode("latin-1"), "is not valid UTF-8"),
                ("empty.md", b"   \n", "the file is empty"),
            ]:
                sent = await r.fake.slash("sources", _sub="add", _admin=True, file=r.fake.attachment(name, data))
                assert (await answer_of(r.fake, sent)).json["type"] == 5
                text = visible((await followup_of(r.fake, sent)).json["content"])
                assert text.startswith("Not added:") and expected in text, text
            assert files_under(tmp_path / "sources") == sources and r.service.version == version
            assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "up").exists()

    asyncio.run(scenario())


def test_an_admin_removes_a_source_and_unsafe_or_unknown_names_are_refused(tmp_path: Path) -> None:
    """/sources remove deletes the file and reindexes; `../`, hidden and unknown names are refused."""

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            (tmp_path / "outside.txt").write_text("Outside\n\nNot a source at all.\n", encoding="utf-8")
            for name, expected in [
                ("../outside.txt", "must be a relative path inside the sources folder"),
                ("seed/.hidden.txt", "is a hidden name"),
                ("seed/missing.txt", "there is no source 'seed/missing.txt'"),
            ]:
                sent = await r.fake.slash("sources", _sub="remove", _admin=True, name=name)
                text = visible((await followup_of(r.fake, sent)).json["content"])
                assert text.startswith("Not removed:") and expected in text, text
            assert (tmp_path / "outside.txt").exists()
            member = await r.fake.slash("sources", _sub="remove", name="seed/nuclear.txt")
            assert "Only server admins" in (await answer_of(r.fake, member)).json["data"]["content"]

            sent = await r.fake.slash("sources", _sub="remove", _admin=True, name="seed/nuclear.txt")
            text = visible((await followup_of(r.fake, sent)).json["content"])
            assert text.startswith("Removed `seed/nuclear.txt`.") and "1 removed" in text, text
            assert not (tmp_path / "sources" / "seed" / "nuclear.txt").exists()
            assert "seed/nuclear.txt" not in r.service.index.documents

    asyncio.run(scenario())
