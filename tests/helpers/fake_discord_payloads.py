"""JSON payloads of the fake Discord: ids, users, members, the test guild, messages."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from aiohttp import web

DISCORD_EPOCH_MS = 1420070400000
APP_ID = 1100000000000000001
BOT_ID = 1100000000000000002
GUILD_ID = 1200000000000000001
CHANNEL_ID = 1200000000000000002
DM_CHANNEL_ID = 1200000000000000003
ADMIN_ROLE_ID = 1200000000000000004
_counter = itertools.count(1)


def snowflake(ms_ago: float = 0.0) -> int:
    """A fresh snowflake whose timestamp is ``ms_ago`` milliseconds in the past."""
    ms = int(time.time() * 1000 - ms_ago) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) % 4096)


def user(uid: int, name: str = "someone", bot: bool = False) -> dict:
    """A user object."""
    return {"id": str(uid), "username": name, "discriminator": "0", "global_name": name, "avatar": None, "bot": bot}


def member(uid: int, name: str = "someone", admin: bool = False, guild_id: int = GUILD_ID) -> dict:
    """A guild member object (with computed permissions, as in interactions)."""
    roles = [str(admin_role_of(guild_id))] if admin else []
    return {
        "user": user(uid, name),
        "roles": roles,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": str(8 if admin else 0x800 | 0x400),
    }


def guild_on_shard(shard: int, count: int, base: int = GUILD_ID) -> int:
    """The first guild id from ``base`` on whose events Discord sends to ``shard`` of ``count``: (id >> 22) % count."""
    return base + (((shard - (base >> 22)) % count) << 22)


def channel_of(guild_id: int) -> int:
    """The one text channel of a test guild (CHANNEL_ID for GUILD_ID)."""
    return CHANNEL_ID if guild_id == GUILD_ID else guild_id + 1


def admin_role_of(guild_id: int) -> int:
    """The admin role of a test guild (ADMIN_ROLE_ID for GUILD_ID)."""
    return ADMIN_ROLE_ID if guild_id == GUILD_ID else guild_id + 3


def _json(data: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    """A JSON response with exactly ``Content-Type: application/json`` (discord.py compares it verbatim)."""
    body = json.dumps(data).encode("utf-8")
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json", **(headers or {})})


def guild(guild_id: int = GUILD_ID) -> dict:
    """The GUILD_CREATE payload of a test guild: @everyone, an admin role, one text channel."""
    everyone = {"id": str(guild_id), "name": "@everyone", "permissions": str(0x800 | 0x400), "position": 0}
    admin = {"id": str(admin_role_of(guild_id)), "name": "admins", "permissions": "8", "position": 1}
    for role in (everyone, admin):
        role.update({"color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0})
    channel = {"id": str(channel_of(guild_id)), "type": 0, "name": "general", "position": 0}
    channel.update(permission_overwrites=[], guild_id=str(guild_id))
    name = "Test Guild" if guild_id == GUILD_ID else f"Test Guild {guild_id}"
    data = {"id": str(guild_id), "name": name, "icon": None, "owner_id": "1"}
    data.update({"roles": [everyone, admin], "channels": [channel], "members": [], "member_count": 3})
    data.update({"features": [], "emojis": [], "stickers": [], "unavailable": False, "large": False})
    data.update({"threads": [], "presences": [], "voice_states": [], "stage_instances": []})
    data.update({"guild_scheduled_events": [], "soundboard_sounds": []})
    return data


def message(channel_id: int, body: dict | None, author_id: int) -> dict:
    """The message object Discord returns for a sent message."""
    body = body or {}
    data = {"id": str(snowflake()), "channel_id": str(channel_id), "author": user(author_id, "korea_bot", bot=True)}
    data.update({"content": body.get("content") or "", "embeds": body.get("embeds") or []})
    data.update({"components": body.get("components") or [], "flags": body.get("flags", 0), "type": 0})
    data.update({"timestamp": "2024-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False})
    data.update({"mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [], "pinned": False})
    if "message_reference" in body:
        data["message_reference"] = body["message_reference"]
    return data
