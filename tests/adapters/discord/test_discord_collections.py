"""End-to-end: /ask's collection option (autocomplete, unknown names, channel defaults), /sources list, deep links."""

from __future__ import annotations

import asyncio
from pathlib import Path

from helpers.discord_harness import answer_of, custom_ids, followup_of, running_bot, visible, write_corpus
from helpers.fake_discord import CHANNEL_ID

DMZ_URL = "https://en.wikipedia.org/wiki/Korean_Demilitarized_Zone"
DMZ = (
    "The Korean Demilitarized Zone is a strip of land running across the peninsula, about 250 kilometres long. "
    "It was set up by the armistice, so the zone is a buffer between North and South."
)
STRIP_Q = "How long is the strip of land across the peninsula?"
# the text fragment of DMZ's first sentence: start and end words, percent-encoded (the comma too)
FRAGMENT = f"{DMZ_URL}#:~:text=The%20Korean%20Demilitarized%20Zone,about%20250%20kilometres%20long."


def two_collections(root: Path) -> None:
    """The harness corpus (collection `seed`) plus `wiki/dmz.md`, which has a URL."""
    src = write_corpus(root)
    (src / "wiki").mkdir()
    page = f"---\ntitle: Korean Demilitarized Zone\nurl: {DMZ_URL}\n---\n\n{DMZ}\n"
    (src / "wiki" / "dmz.md").write_text(page, encoding="utf-8")


def sources_of(payload: dict) -> set[str]:
    """The document titles the embeds of an answer cite."""
    return {e["title"].split("] ", 1)[1].split(" — ")[0] for e in payload["embeds"]}


def test_collection_option_searches_only_that_collection_and_links_to_the_sentence(tmp_path: Path) -> None:
    """Everything: the DMZ page comes first; in `seed` it never shows; in `wiki` the citation links to the sentence."""
    two_collections(tmp_path)

    async def scenario() -> None:
        async with running_bot(tmp_path, top_k=3) as r:
            _, _, everywhere = await r.ask(STRIP_Q)
            assert everywhere.json["embeds"][0]["title"] == "[1] Korean Demilitarized Zone — ¶1"
            _, _, seed = await r.ask(STRIP_Q, collection="seed")
            assert seed.json["embeds"] and "Korean Demilitarized Zone" not in sources_of(seed.json)
            assert all("url" not in e for e in seed.json["embeds"])  # seed's sources have no URL
            _, _, wiki = await r.ask(STRIP_Q, collection="wiki")
            assert sources_of(wiki.json) == {"Korean Demilitarized Zone"}
            first = wiki.json["embeds"][0]
            assert first["url"] == FRAGMENT
            assert "**The Korean Demilitarized Zone is a strip of land" in first["description"]
            assert visible(first["description"]).removeprefix(">>> ") == DMZ

    asyncio.run(scenario())


def test_unknown_collection_gets_a_clear_ephemeral_message_and_autocomplete_lists_the_known_ones(
    tmp_path: Path,
) -> None:
    """An unknown name is refused at once (ephemeral, listing the collections); autocomplete offers matches."""
    two_collections(tmp_path)

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            sent = await r.fake.slash("ask", question=STRIP_Q, collection="wikipedia")
            refused = (await answer_of(r.fake, sent)).json
            assert refused["type"] == 4 and refused["data"]["flags"] == 64
            assert (
                refused["data"]["content"] == "There is no collection `wikipedia`. The collections are: `seed`, `wiki`."
            )
            typed = await r.fake.autocomplete("ask", "collection", "WI")
            choices = (await answer_of(r.fake, typed)).json
            assert choices == {"type": 8, "data": {"choices": [{"name": "wiki", "value": "wiki"}]}}
            everything = await r.fake.autocomplete("ask", "collection", "")
            names = [c["value"] for c in (await answer_of(r.fake, everything)).json["data"]["choices"]]
            assert names == ["seed", "wiki"]

    asyncio.run(scenario())


def test_channel_default_collection_applies_to_ask_and_mentions_and_an_option_overrides_it(tmp_path: Path) -> None:
    """KOREA_BOT_CHANNEL_COLLECTIONS: the channel searches `seed` unless /ask names another collection."""
    two_collections(tmp_path)

    async def scenario() -> None:
        async with running_bot(tmp_path, channel_collections=f"{CHANNEL_ID}:seed", top_k=3) as r:
            _, _, default = await r.ask(STRIP_Q)
            assert default.json["embeds"] and "Korean Demilitarized Zone" not in sources_of(default.json)
            _, _, chosen = await r.ask(STRIP_Q, collection="wiki")
            assert sources_of(chosen.json) == {"Korean Demilitarized Zone"}
            asked = await r.fake.mention(STRIP_Q)
            opened = await r.fake.wait_request("POST", rf"/messages/{asked['id']}/threads$")
            thread = int(opened.response["id"])
            reply = await r.fake.wait_request("POST", rf"^/channels/{thread}/messages$")
            assert reply.json["embeds"] and "Korean Demilitarized Zone" not in sources_of(reply.json)

    asyncio.run(scenario())


def test_sources_list_groups_documents_by_collection(tmp_path: Path) -> None:
    """/sources list shows one heading per collection with its documents under it."""
    two_collections(tmp_path)

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            sent = await r.fake.slash("sources", _sub="list")
            body = (await answer_of(r.fake, sent)).json["data"]["embeds"][0]["description"]
            lines = body.splitlines()
            seed, wiki = lines.index("__seed__"), lines.index("__wiki__")
            assert seed < wiki and sum(line.startswith("• ") for line in lines[seed:wiki]) == 3
            assert "`wiki/dmz.md`" in lines[wiki + 1]

    asyncio.run(scenario())


def test_more_passages_stays_in_the_collection(tmp_path: Path) -> None:
    """ "More passages" on a `wiki` answer searches `wiki` again: its one passage was shown, so there are no more."""
    two_collections(tmp_path)

    async def scenario() -> None:
        async with running_bot(tmp_path, top_k=1) as r:
            _, _, first = await r.ask(STRIP_Q, collection="wiki")
            assert sources_of(first.json) == {"Korean Demilitarized Zone"}
            more_id = custom_ids(first.json)["more"]
            click = await r.fake.click(more_id, first.response)
            more = await followup_of(r.fake, click)
            assert more.json["content"] == "No more passages for that question." and not more.json["embeds"]
            _, _, everywhere = await r.ask(STRIP_Q)  # the same without the collection has more
            click = await r.fake.click(custom_ids(everywhere.json)["more"], everywhere.response)
            assert (await followup_of(r.fake, click)).json["embeds"]

    asyncio.run(scenario())
