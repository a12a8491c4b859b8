"""KOREA_BOT_SHARD_COUNT / KOREA_BOT_SHARD_IDS: parsing, one-line errors, and which client class they give."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import discord
import pytest
from helpers.discord_harness import make_settings

from korea_bot.adapters.discord.bot import KoreaBot
from korea_bot.adapters.discord.run import describe_failure
from korea_bot.adapters.discord.shards import ShardedKoreaBot, make_bot, shard_of
from korea_bot.config import load_settings
from korea_bot.errors import ConfigError


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        (None, None, (None, [])),
        ("", "", (None, [])),
        ("2", None, (2, [])),
        (" AUTO ", None, ("auto", [])),
        ("8", "4-7", (8, [4, 5, 6, 7])),
        ("8", "0,2 5-6", (8, [0, 2, 5, 6])),
        ("8", "[3, 1]", (8, [1, 3])),
        (1, None, (1, [])),
    ],
)
def test_shard_settings_parse(count: object, ids: object, expected: tuple) -> None:
    """A count (or `auto`), and ids as a list, ranges or JSON; ids come out sorted."""
    settings = load_settings(shard_count=count, shard_ids=ids)
    assert (settings.shard_count, settings.shard_ids) == expected
    assert settings.sharded is (expected[0] is not None)


@pytest.mark.parametrize(
    ("count", "ids", "message"),
    [
        ("0", None, "KOREA_BOT_SHARD_COUNT): Value error, must be at least 1 (got 0)"),
        ("-3", None, "KOREA_BOT_SHARD_COUNT): Value error, must be a whole number of shards or `auto`, not '-3'"),
        ("two", None, "KOREA_BOT_SHARD_COUNT): Value error, must be a whole number of shards or `auto`, not 'two'"),
        (None, "1", "KOREA_BOT_SHARD_IDS): Value error, needs a fixed KOREA_BOT_SHARD_COUNT"),
        ("auto", "1", "KOREA_BOT_SHARD_IDS): Value error, needs a fixed KOREA_BOT_SHARD_COUNT"),
        ("2", "2", "KOREA_BOT_SHARD_IDS): Value error, shard 2 is outside 0..1 (KOREA_BOT_SHARD_COUNT=2)"),
        ("4", "1,3,1", "KOREA_BOT_SHARD_IDS): Value error, shard 1 is listed twice"),
        ("4", "3-1", "KOREA_BOT_SHARD_IDS): Value error, '3-1' is not a shard id or a range like 0-3"),
        ("4", "x", "KOREA_BOT_SHARD_IDS): Value error, 'x' is not a shard id or a range like 0-3"),
        ("4", "0-99999999", "KOREA_BOT_SHARD_IDS): Value error, '0-99999999' spans more than 65536 shards"),
    ],
)
def test_bad_shard_settings_are_one_line_errors(count: object, ids: object, message: str) -> None:
    """Each mistake is one line naming the variable and what is wrong."""
    with pytest.raises(ConfigError) as caught:
        load_settings(shard_count=count, shard_ids=ids)
    text = str(caught.value)
    assert text.startswith("bad value for shard_") and message in text and "\n" not in text


def test_the_command_line_refuses_a_shard_outside_the_count(tmp_path: Path) -> None:
    """`korea-bot` reads the variables: a bad slice is one error line and exit code 2, before anything runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOREA_BOT_")}
    env.update(KOREA_BOT_SHARD_COUNT="2", KOREA_BOT_SHARD_IDS="0,2", KOREA_BOT_HEARTBEAT_FILE=str(tmp_path / "hb"))
    cmd = [sys.executable, "-m", "korea_bot", "health"]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "korea-bot: error: bad value for shard_ids (KOREA_BOT_SHARD_IDS): "
        "Value error, shard 2 is outside 0..1 (KOREA_BOT_SHARD_COUNT=2)"
    ]


def test_no_shard_settings_keep_the_plain_client(tmp_path: Path) -> None:
    """The default is discord.Client exactly as before; a shard count gives the AutoShardedClient with the slice."""
    plain = make_bot(make_settings(tmp_path), None)
    assert type(plain) is KoreaBot and not isinstance(plain, discord.AutoShardedClient)
    assert plain.shard_count is None and plain.shard_report() is None
    sliced = make_bot(make_settings(tmp_path, shard_count=4, shard_ids="3,1"), None)
    assert isinstance(sliced, ShardedKoreaBot) and isinstance(sliced, discord.AutoShardedClient)
    assert (sliced.shard_count, sliced.shard_ids, sliced.own_shards()) == (4, [1, 3], [1, 3])
    assert [s["state"] for s in sliced.shard_report()["shards"]] == ["starting", "starting"]
    every = make_bot(make_settings(tmp_path, shard_count=3), None)
    assert (every.shard_ids, every.own_shards()) == (None, [0, 1, 2])
    auto = make_bot(make_settings(tmp_path, shard_count="auto"), None)
    assert auto.shard_count is None and auto.shard_report() == {"shard_count": None, "shards": []}


def test_the_shard_of_a_guild_is_discords_formula() -> None:
    """(guild_id >> 22) % count, and direct messages on shard 0."""
    assert [shard_of(g << 22, 4) for g in range(6)] == [0, 1, 2, 3, 0, 1]
    assert shard_of(81384788765712384, 16) == (81384788765712384 >> 22) % 16
    assert shard_of(None, 16) == 0


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (4010, "refused a shard id (close code 4010): check KOREA_BOT_SHARD_IDS against KOREA_BOT_SHARD_COUNT"),
        (4011, "requires sharding for this bot (close code 4011): set KOREA_BOT_SHARD_COUNT"),
    ],
)
def test_gateway_shard_refusals_name_the_setting(code: int, words: str) -> None:
    """Discord's shard close codes become one line that says which setting to change."""
    closed = discord.ConnectionClosed(SimpleNamespace(close_code=code), shard_id=1, code=code)
    assert words in describe_failure(closed, "tok")
