"""A local fake Discord: gateway websocket + the REST routes the bot calls, recording every request."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from helpers.fake_discord_payloads import (
    ADMIN_ROLE_ID,
    APP_ID,
    BOT_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    GUILD_ID,
    _json,
    channel_of,
    guild_on_shard,
    member,
    message,
    snowflake,
    user,
)
from helpers.fake_discord_threads import FORUM_ID, HELPER_ROLE_ID, ThreadsAndFiles
from helpers.fake_gateway import FakeGateway, Session


@dataclass
class Recorded:
    """One REST request the bot made."""

    method: str
    path: str
    query: dict
    headers: dict
    json: Any
    at: float = field(default_factory=time.monotonic)
    status: int = 0
    response: Any = None  # the JSON the fake answered with


class FakeDiscord(ThreadsAndFiles, FakeGateway):
    """An aiohttp app speaking enough of Discord's gateway and REST API for the bot; tests drive it."""

    def __init__(
        self,
        token: str = "fake-token-SECRET-123",
        close_on_identify: int | None = None,
        *,
        shards: int = 1,
        guilds: list[int] | None = None,
    ) -> None:
        """Accept ``token``; optionally close every IDENTIFY with a gateway close code (e.g. 4014).

        ``shards`` is the shard count /gateway/bot recommends; ``guilds`` the guild ids the bot is in (each
        guild's events go to the shard ``(guild_id >> 22) % count`` the bot identified with).
        """
        super().__init__(token, close_on_identify, shards, guilds)
        self.requests: list[Recorded] = []
        self.interactions: dict[str, dict] = {}
        self.rate_limits: list[list[Any]] = []
        self.server_errors: list[list[Any]] = []
        self.token_ttl = 15 * 60.0
        self.runner: web.AppRunner | None = None
        self.threads: dict[int, dict] = {}
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []

    @property
    def api_base(self) -> str:
        """The REST base to put in ``discord.http.Route.BASE``."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The websocket URL to put in ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://127.0.0.1:{self.port}/gateway/"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_get("/resume", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/files/{name}", self._file)
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close sockets and stop listening."""
        for ws in self.sockets:
            if not ws.closed:
                await ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    # ---- REST requests seen -----------------------------------------------------------------------

    def find(self, method: str, pattern: str) -> list[Recorded]:
        """Requests whose method matches and whose path matches the regex ``pattern``."""
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    async def wait_request(self, method: str, pattern: str, count: int = 1, timeout: float = 15.0) -> Recorded:
        """Wait for the ``count``-th request matching, and return it."""
        return await self.wait_for(
            lambda: (m := self.find(method, pattern)) and len(m) >= count and m[count - 1], timeout
        )

    def rate_limit(self, method: str, pattern: str, retry_after: float = 0.3, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with 429 and ``retry_after``."""
        self.rate_limits.append([method, re.compile(pattern), retry_after, times])

    def fail_route(self, method: str, pattern: str, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with an error status (500, 503, 403…)."""
        self.server_errors.append([method, re.compile(pattern), status, times])

    # ---- REST ------------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        """Record the request and the status it got."""
        rec, response = await self._handle(request)
        rec.status = response.status
        if response.content_type == "application/json" and isinstance(response.body, bytes):
            rec.response = json.loads(response.body)
        self._bump()
        return response

    async def _handle(self, request: web.Request) -> tuple[Recorded, web.Response]:
        """Record the request, maybe rate-limit it, then route it."""
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        rec = Recorded(request.method, path, dict(request.query), dict(request.headers), body)
        self.requests.append(rec)
        self._bump()
        for rule in self.rate_limits:
            if rule[3] > 0 and rule[0] == request.method and rule[1].search(path):
                rule[3] -= 1
                headers = {"Via": "1.1 google", "X-RateLimit-Scope": "user", "Retry-After": str(rule[2])}
                data = {"message": "You are being rate limited.", "retry_after": rule[2], "global": False}
                return rec, _json(data, status=429, headers=headers)
        for rule in self.server_errors:
            if rule[3] > 0 and rule[0] == request.method and rule[1].search(path):
                rule[3] -= 1
                return rec, _json({"message": f"{rule[2]}: failed by the test", "code": 0}, status=rule[2])
        if path.startswith("/interactions/") or path.startswith("/webhooks/"):
            return rec, self._interaction_route(request.method, path, body)
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return rec, _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return rec, self._bot_route(request.method, path, body)

    def _bot_route(self, method: str, path: str, body: Any) -> web.Response:
        """Routes authenticated with the bot token."""
        if path == "/users/@me":
            return _json(user(BOT_ID, "korea_bot", bot=True))
        if path == "/oauth2/applications/@me":
            owner = user(1, "owner")
            app = {"id": str(APP_ID), "name": "korea_bot", "icon": None, "description": "", "bot_public": False}
            app.update({"bot_require_code_grant": False, "owner": owner, "verify_key": "k", "flags": 0})
            return _json(app)
        if path == "/gateway/bot":
            limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            return _json({"url": self.gateway_url, "shards": self.shards, "session_start_limit": limit})
        if method == "PUT" and re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", path):
            cmds = [dict(c, id=str(snowflake()), application_id=str(APP_ID), version="1") for c in body]
            return _json(cmds)
        if method == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages", path)):
            return _json(message(int(m.group(1)), body, BOT_ID))
        if method == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path)):
            return _json(self._start_thread(int(m.group(1)), int(m.group(2)), body))
        if method == "POST" and re.fullmatch(r"/channels/\d+/typing", path):
            return web.Response(status=204)
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _interaction_route(self, method: str, path: str, body: Any) -> web.Response:
        """Interaction callbacks and followup webhooks (authenticated by the interaction token)."""
        parts = path.strip("/").split("/")
        token = parts[2] if len(parts) > 2 else ""
        inter = self.interactions.get(token)
        if inter is None or time.monotonic() - inter["at"] > self.token_ttl:
            return _json({"message": "Invalid Webhook Token", "code": 50027}, status=401)
        if parts[0] == "interactions":
            if inter["acked"]:
                return _json({"message": "Interaction has already been acknowledged.", "code": 40060}, 400)
            inter["acked"] = True
            info = {"id": inter["id"], "type": inter["type"], "response_message_loading": body.get("type") == 5}
            info["response_message_ephemeral"] = bool((body.get("data") or {}).get("flags", 0) & 64)
            out: dict = {"interaction": info}
            if body.get("type") in (4, 7):
                out["resource"] = {"type": body["type"], "message": message(inter["channel"], body.get("data"), BOT_ID)}
            return _json(out)
        return _json(message(inter["channel"], body, APP_ID))

    # ---- events the tests send -------------------------------------------------------------------

    async def interaction(
        self,
        data: dict,
        uid: int = 501,
        *,
        admin: bool = False,
        dm: bool = False,
        kind: int = 2,
        msg: dict | None = None,
        guild: int = GUILD_ID,
        channel: int | None = None,
    ) -> dict:
        """Dispatch INTERACTION_CREATE (slash command by default) in ``guild`` (in ``channel``: a thread id too)."""
        iid = snowflake()
        tok = f"itok-{iid}"
        payload: dict = {"id": str(iid), "application_id": str(APP_ID), "type": kind, "token": tok, "version": 1}
        payload.update({"data": data, "attachment_size_limit": 8 << 20, "locale": "en-US", "entitlements": []})
        payload["app_permissions"] = str((1 << 46) - 1)
        if dm:
            payload.update(context=1, channel_id=str(DM_CHANNEL_ID), user=user(uid))
            payload["channel"] = {"id": str(DM_CHANNEL_ID), "type": 1, "recipients": [user(uid)]}
            channel = DM_CHANNEL_ID
        else:
            channel = channel_of(guild) if channel is None else channel
            payload.update(context=0, guild_id=str(guild), channel_id=str(channel), guild_locale="en-US")
            payload["member"] = member(uid, admin=admin, guild_id=guild)
            plain = {"id": str(channel), "type": 0, "guild_id": str(guild), "name": "general"}
            payload["channel"] = self.threads.get(channel, plain)
        if msg is not None:
            payload["message"] = msg
        self.interactions[tok] = {"id": str(iid), "type": kind, "at": time.monotonic(), "acked": False}
        self.interactions[tok]["channel"] = channel
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def slash(self, command: str, /, uid: int = 501, **options: Any) -> dict:
        """Dispatch a slash command with the given options (``_guild``, ``_admin``, ``_dm``, ``_channel``, ``_sub``:
        a subcommand; an attachment dict from ``attachment()`` as a value is a file option)."""
        admin, dm, where = options.pop("_admin", False), options.pop("_dm", False), options.pop("_guild", GUILD_ID)
        channel, sub = options.pop("_channel", None), options.pop("_sub", None)
        files = {k: v for k, v in options.items() if isinstance(v, dict)}
        opts = [{"name": k, "type": 5 if isinstance(v, bool) else 3, "value": v} for k, v in options.items()]
        opts = [dict(o, type=11, value=o["value"]["id"]) if o["name"] in files else o for o in opts]
        data = {"id": str(snowflake()), "name": command, "type": 1, "options": opts}
        if sub:
            data["options"] = [{"name": sub, "type": 1, "options": opts}]
        if files:
            data["resolved"] = {"attachments": {f["id"]: f for f in files.values()}}
        if not dm:
            data["guild_id"] = str(where)
        return await self.interaction(data, uid, admin=admin, dm=dm, guild=where, channel=channel)

    async def click(self, custom_id: str, msg: dict, uid: int = 501, guild: int = GUILD_ID) -> dict:
        """Dispatch a button click on ``msg`` (a message payload the bot sent) in ``guild``."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self.interaction(data, uid, kind=3, msg=msg, guild=guild)

    async def mention(self, text: str, uid: int = 777, channel: int | None = None, guild: int = GUILD_ID) -> dict:
        """Dispatch MESSAGE_CREATE in ``guild``: a user mentioning the bot."""
        content = f"<@{BOT_ID}> {text}"
        where = channel_of(guild) if channel is None else channel
        data = {"id": str(snowflake()), "channel_id": str(where), "guild_id": str(guild)}
        data.update({"author": user(uid, "asker"), "member": member(uid, guild_id=guild), "content": content})
        data.update({"timestamp": "2024-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False, "type": 0})
        data.update({"mention_everyone": False, "mentions": [user(BOT_ID, "korea_bot", bot=True)]})
        data.update({"mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "flags": 0})
        await self.dispatch("MESSAGE_CREATE", data)
        return data


__all__ = [
    "ADMIN_ROLE_ID",
    "APP_ID",
    "BOT_ID",
    "CHANNEL_ID",
    "FORUM_ID",
    "GUILD_ID",
    "HELPER_ROLE_ID",
    "FakeDiscord",
    "Recorded",
    "Session",
    "channel_of",
    "guild_on_shard",
    "message",
]
