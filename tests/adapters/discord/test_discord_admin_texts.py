"""The real bot against FakeDiscord: a failing typing indicator never costs an answer; skipped files in /sources
and /reindex; a failed /reindex keeps serving."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from helpers.discord_harness import (
    PEACE,
    Capture,
    answer_of,
    followup_of,
    make_service,
    make_settings,
    running_bot,
    visible,
)
from helpers.discord_harness import write_corpus as write_tiny_corpus
from helpers.fake_discord import CHANNEL_ID

from korea_bot.adapters.discord import commands

ARMISTICE_Q = "When was the armistice agreement signed at Panmunjom?"
TYPING = r"^/channels/\d+/typing$"


class SlowAsk:
    """A service whose ask() takes `delay` seconds (so a cosmetic call fails while the answer is being found)."""

    def __init__(self, inner: object, delay: float) -> None:
        """Wrap ``inner``."""
        self.inner, self.delay = inner, delay

    def __getattr__(self, name: str) -> object:
        """Delegate everything else."""
        return getattr(self.inner, name)

    def ask(self, *args: object, **kw: object) -> object:
        """Wait, then answer."""
        time.sleep(self.delay)
        return self.inner.ask(*args, **kw)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("how", "setup"),
    [
        ("429 until discord.py gives up", lambda fake: fake.rate_limit("POST", TYPING, retry_after=0.1, times=20)),
        ("403 missing permission", lambda fake: fake.fail_route("POST", TYPING, status=403, times=20)),
    ],
)
def test_a_failing_typing_indicator_is_logged_once_and_the_answer_still_goes_out(
    tmp_path: Path, how: str, setup: object
) -> None:
    write_tiny_corpus(tmp_path)
    service = SlowAsk(make_service(make_settings(tmp_path)), delay=1.5)
    capture = Capture()
    logging.getLogger(commands.__name__).addHandler(capture)

    async def scenario() -> None:
        async with running_bot(tmp_path, service=service, reply_in_thread=False) as r:
            setup(r.fake)  # type: ignore[operator]
            await r.fake.mention(ARMISTICE_Q)
            reply = await r.fake.wait_request("POST", rf"^/channels/{CHANNEL_ID}/messages$", timeout=20)
            assert reply.status == 200 and visible(reply.json["embeds"][0]["description"]).removeprefix(">>> ") == PEACE
            assert reply.json["embeds"][0]["title"] == "[1] The Armistice — ¶1"
            assert all(p.status >= 400 for p in r.fake.find("POST", TYPING))

    try:
        asyncio.run(scenario())
    finally:
        logging.getLogger(commands.__name__).removeHandler(capture)
    failures = [line for line in capture.lines if "typing indicator" in line]
    assert len(failures) == 1 and "answering anyway" in failures[0], (how, capture.text())


def test_a_typing_indicator_stuck_in_server_errors_does_not_delay_the_answer(tmp_path: Path) -> None:
    """discord.py retries a 500 for ~25 s; the answer does not wait for it."""

    async def scenario() -> None:
        async with running_bot(tmp_path, reply_in_thread=False) as r:
            r.fake.fail_route("POST", TYPING, status=500, times=20)
            started = time.monotonic()
            await r.fake.mention(ARMISTICE_Q)
            reply = await r.fake.wait_request("POST", rf"^/channels/{CHANNEL_ID}/messages$", timeout=20)
            assert time.monotonic() - started < 5.0
            assert reply.status == 200 and reply.json["embeds"][0]["title"] == "[1] The Armistice — ¶1"

    asyncio.run(scenario())


def _add_bad_files(root: Path) -> None:
    """Two files an admin dropped in by mistake."""
    (root / "sources" / "latin1.txt").write_bytes("café au lait\n".encode("latin-1"))
    (root / "sources" / "empty.md").write_bytes(b"")


def test_sources_lists_skipped_files_with_their_reason(tmp_path: Path) -> None:
    write_tiny_corpus(tmp_path)
    _add_bad_files(tmp_path)

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            sent = await r.fake.slash("sources", _sub="list")
            embed = (await answer_of(r.fake, sent)).json["data"]["embeds"][0]
            assert "3 documents" in embed["description"]
            assert "**2 skipped**" in embed["description"]
            assert "`latin1.txt`: latin1.txt is not valid UTF-8" in embed["description"]
            assert "`empty.md`: empty.md: the file is empty" in embed["description"]
            _, _, followup = await r.ask(ARMISTICE_Q)
            assert followup.json["embeds"][0]["title"] == "[1] The Armistice — ¶1"

    asyncio.run(scenario())


def test_reindex_reply_names_skipped_files_and_a_failed_reindex_keeps_serving(tmp_path: Path) -> None:
    write_tiny_corpus(tmp_path)

    async def scenario() -> None:
        async with running_bot(tmp_path) as r:
            version = r.service.version
            _add_bad_files(tmp_path)
            sent = await r.fake.slash("reindex", _admin=True)
            reply = (await followup_of(r.fake, sent)).json["content"]
            assert "2 skipped" in reply and "skipped: latin1.txt is not valid UTF-8" in reply, reply
            assert "skipped: empty.md: the file is empty" in reply
            for path in (tmp_path / "sources" / "seed").iterdir():
                path.write_bytes(b"")  # every good text emptied: nothing left to index
            sent = await r.fake.slash("reindex", _admin=True)
            reply = (await followup_of(r.fake, sent)).json["content"]
            assert reply.startswith("The index was not updated: no quotable text in any source"), reply
            assert f"I keep answering from version {version}" in reply
            _, _, followup = await r.ask(ARMISTICE_Q)
            assert followup.json["embeds"][0]["title"] == "[1] The Armistice — ¶1"

    asyncio.run(scenario())
