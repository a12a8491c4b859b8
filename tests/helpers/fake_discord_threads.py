"""The fake Discord's threads, replies, forum posts, attachments and autocomplete (a mixin of FakeDiscord)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from helpers.fake_discord_payloads import BOT_ID, GUILD_ID, channel_of, member, snowflake, user

FORUM_ID = 1200000000000000010  # a forum channel of the test guild
HELPER_ROLE_ID = 1200000000000000011


def thread_payload(thread_id: int, parent: int, owner: int, name: str, guild: int = GUILD_ID) -> dict:
    """A public thread channel object."""
    meta = {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": "2024-01-01T00:00:00+00:00"}
    data = {"id": str(thread_id), "type": 11, "guild_id": str(guild), "parent_id": str(parent), "name": name}
    data.update({"owner_id": str(owner), "thread_metadata": meta, "message_count": 0, "member_count": 1})
    data.update({"rate_limit_per_user": 0, "flags": 0})
    return data


class ThreadsAndFiles:
    """Threads the bot opens (with THREAD_CREATE, as Discord sends it), user messages anywhere, served files."""

    port: int
    threads: dict[int, dict]
    files: dict[str, bytes]
    downloads: list[str]
    dispatch: Any  # FakeGateway.dispatch(event, data)
    interaction: Any  # FakeDiscord.interaction(data, uid, kind=...)

    def _start_thread(self, channel_id: int, message_id: int, body: dict) -> dict:
        """POST /channels/{c}/messages/{m}/threads: a thread whose id is the message's, announced on the gateway."""
        data = thread_payload(message_id, channel_id, BOT_ID, str(body.get("name", "")))
        self.threads[message_id] = data
        asyncio.get_running_loop().create_task(self.dispatch("THREAD_CREATE", dict(data, newly_created=True)))
        return data

    async def _file(self, request: web.Request) -> web.Response:
        """GET /files/{name}: an attachment's bytes (404 when unknown)."""
        self.downloads.append(request.match_info["name"])
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, headers={"Content-Type": "application/octet-stream"})

    def attachment(self, filename: str, data: bytes, size: int | None = None) -> dict:
        """An attachment served by the fake (``size`` may claim another size than the bytes have)."""
        aid = snowflake()
        self.files[str(aid)] = data
        url = f"http://127.0.0.1:{self.port}/files/{aid}"
        return {
            "id": str(aid),
            "filename": filename,
            "size": len(data) if size is None else size,
            "url": url,
            "proxy_url": url,
            "content_type": "text/plain",
        }

    async def add_thread(self, parent: int, owner: int, name: str, guild: int = GUILD_ID) -> dict:
        """A thread someone else opened (a forum post: ``parent`` is the forum), announced with THREAD_CREATE."""
        data = thread_payload(snowflake(), parent, owner, name, guild)
        self.threads[int(data["id"])] = data
        await self.dispatch("THREAD_CREATE", dict(data, newly_created=True))
        return data

    async def post(
        self,
        text: str,
        uid: int = 777,
        *,
        channel: int | None = None,
        guild: int = GUILD_ID,
        mention: bool = False,
        reply_to: dict | None = None,
        message_id: int | None = None,
    ) -> dict:
        """Dispatch MESSAGE_CREATE: a user's message in ``channel`` (a thread id too), maybe mentioning the bot,
        maybe a reply to ``reply_to`` (a message object the bot sent; the reply pings the bot, as by default)."""
        where = channel_of(guild) if channel is None else channel
        mentions = [user(BOT_ID, "korea_bot", bot=True)] if mention or reply_to else []
        content = f"<@{BOT_ID}> {text}" if mention else text
        data = {"id": str(message_id or snowflake()), "channel_id": str(where), "guild_id": str(guild)}
        data.update({"author": user(uid, "asker"), "member": member(uid, guild_id=guild), "content": content})
        data.update({"timestamp": "2024-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False, "type": 0})
        data.update({"mention_everyone": False, "mentions": mentions, "mention_roles": [], "attachments": []})
        data.update({"embeds": [], "pinned": False, "flags": 0})
        if reply_to is not None:
            data["type"] = 19
            ref = {"message_id": reply_to["id"], "channel_id": reply_to["channel_id"], "guild_id": str(guild)}
            data.update(message_reference=ref, referenced_message=reply_to)
        await self.dispatch("MESSAGE_CREATE", data)
        return data

    async def forum_post(self, title: str, text: str, uid: int = 778, forum: int = FORUM_ID) -> dict:
        """A new forum post: THREAD_CREATE, then its starter message (same id as the thread) inside it."""
        thread = await self.add_thread(forum, uid, title)
        await self.post(text, uid, channel=int(thread["id"]), message_id=int(thread["id"]))
        return thread

    async def autocomplete(self, command: str, option: str, typed: str, uid: int = 501) -> dict:
        """Dispatch an autocomplete interaction for ``option`` of ``command`` with ``typed`` so far."""
        opts = [{"name": option, "type": 3, "value": typed, "focused": True}]
        data = {"id": str(snowflake()), "name": command, "type": 1, "options": opts, "guild_id": str(GUILD_ID)}
        return await self.interaction(data, uid, kind=4)
