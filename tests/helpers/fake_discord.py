"""A local fake Discord: gateway websocket + the REST routes the bot calls, recording every request."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from helpers.fake_discord_payloads import (
    ADMIN_ROLE_ID,
    APP_ID,
    BOT_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    GUILD_ID,
    _json,
    guild,
    member,
    message,
    snowflake,
    user,
)


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


class FakeDiscord:
    """An aiohttp app speaking enough of Discord's gateway and REST API for the bot; tests drive it."""

    def __init__(self, token: str = "fake-token-SECRET-123", close_on_identify: int | None = None) -> None:
        """Accept ``token``; optionally close every IDENTIFY with a gateway close code (e.g. 4014)."""
        self.token = token
        self.close_on_identify = close_on_identify
        self.requests: list[Recorded] = []
        self.gateway_ops: list[dict] = []
        self.closes: list[int | None] = []
        self.connections: list[str] = []
        self.ws: web.WebSocketResponse | None = None
        self.sessions: dict[str, int] = {}
        self.seq = 0
        self.interactions: dict[str, dict] = {}
        self.rate_limits: list[list[Any]] = []
        self.server_errors: list[list[Any]] = []
        self.token_ttl = 15 * 60.0
        self.changed = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.port = 0

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
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close sockets and stop listening."""
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    # ---- waiting helpers -------------------------------------------------------------------------

    def _bump(self) -> None:
        """Wake everyone waiting for a new request or gateway op."""
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Wait until ``predicate()`` returns something truthy (re-checked on every request/op)."""
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("fake discord: condition not met in time")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.2))
        return result

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

    # ---- gateway ---------------------------------------------------------------------------------

    async def _send(self, ws: web.WebSocketResponse, op: int, d: Any, t: str | None = None) -> None:
        """Send one gateway payload (dispatches get the next sequence number)."""
        payload: dict = {"op": op, "d": d, "s": None, "t": t}
        if op == 0:
            self.seq += 1
            payload["s"] = self.seq
        await ws.send_str(json.dumps(payload))

    async def dispatch(self, event: str, data: dict) -> None:
        """Send a dispatch event on the current gateway connection."""
        await self.wait_for(lambda: self.ws is not None and not self.ws.closed and self.sessions)
        assert self.ws is not None
        await self._send(self.ws, 0, data, event)

    async def drop(self, code: int = 4000) -> None:
        """Close the current gateway socket abnormally (the bot should RESUME)."""
        assert self.ws is not None
        await self.ws.close(code=code, message=b"fake drop")

    def ops(self, op: int) -> list[dict]:
        """Gateway payloads with opcode ``op`` received from the bot."""
        return [m for m in self.gateway_ops if m.get("op") == op]

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        """One gateway connection: HELLO, then IDENTIFY/RESUME/heartbeats."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections.append(request.path)
        self.ws = ws
        await self._send(ws, 10, {"heartbeat_interval": 41250})
        while True:
            msg = await ws.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                self.closes.append(msg.data if msg.type is WSMsgType.CLOSE else ws.close_code)
                break
            data = json.loads(msg.data)
            self.gateway_ops.append(data)
            self._bump()
            op = data.get("op")
            if op == 1:
                await self._send(ws, 11, None)
            elif op == 2:
                await self._identify(ws, data["d"])
            elif op == 6:
                d = data["d"]
                if d.get("token") != self.token or d.get("session_id") not in self.sessions:
                    await self._send(ws, 9, False)
                else:
                    await self._send(ws, 0, {}, "RESUMED")
        await ws.close()
        self._bump()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: dict) -> None:
        """Answer IDENTIFY with READY + GUILD_CREATE, or close with an error code."""
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if self.close_on_identify:
            await ws.close(code=self.close_on_identify, message=b"Disallowed intent(s).")
            return
        session = f"session-{len(self.sessions) + 1}"
        self.sessions[session] = d.get("intents", 0)
        ready = {
            "v": 10,
            "user": user(BOT_ID, "korea_bot", bot=True),
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": session,
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/resume",
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await self._send(ws, 0, ready, "READY")
        await self._send(ws, 0, guild(), "GUILD_CREATE")

    # ---- REST ------------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        """Record the request and the status it got."""
        rec, response = await self._handle(request)
        rec.status = response.status
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
            return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})
        if method == "PUT" and re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", path):
            cmds = [dict(c, id=str(snowflake()), application_id=str(APP_ID), version="1") for c in body]
            return _json(cmds)
        if method == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages", path)):
            return _json(message(int(m.group(1)), body, BOT_ID))
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
    ) -> dict:
        """Dispatch INTERACTION_CREATE (slash command by default); return the payload sent."""
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
            payload.update(context=0, guild_id=str(GUILD_ID), channel_id=str(CHANNEL_ID), guild_locale="en-US")
            payload["member"] = member(uid, admin=admin)
            payload["channel"] = {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "general"}
            channel = CHANNEL_ID
        if msg is not None:
            payload["message"] = msg
        self.interactions[tok] = {"id": str(iid), "type": kind, "at": time.monotonic(), "acked": False}
        self.interactions[tok]["channel"] = channel
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def slash(self, name: str, uid: int = 501, **options: Any) -> dict:
        """Dispatch a slash command interaction with the given options."""
        admin, dm = options.pop("_admin", False), options.pop("_dm", False)
        opts = [{"name": k, "type": 5 if isinstance(v, bool) else 3, "value": v} for k, v in options.items()]
        data = {"id": str(snowflake()), "name": name, "type": 1, "options": opts}
        if not dm:
            data["guild_id"] = str(GUILD_ID)
        return await self.interaction(data, uid, admin=admin, dm=dm)

    async def click(self, custom_id: str, msg: dict, uid: int = 501) -> dict:
        """Dispatch a button click on ``msg`` (a message payload the bot sent)."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self.interaction(data, uid, kind=3, msg=msg)

    async def mention(self, text: str, uid: int = 777, channel: int = CHANNEL_ID) -> dict:
        """Dispatch MESSAGE_CREATE: a user mentioning the bot."""
        content = f"<@{BOT_ID}> {text}"
        data = {"id": str(snowflake()), "channel_id": str(channel), "guild_id": str(GUILD_ID)}
        data.update({"author": user(uid, "asker"), "member": member(uid), "content": content, "type": 0})
        data.update({"timestamp": "2024-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False})
        data.update({"mention_everyone": False, "mentions": [user(BOT_ID, "korea_bot", bot=True)]})
        data.update({"mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "flags": 0})
        await self.dispatch("MESSAGE_CREATE", data)
        return data


__all__ = ["ADMIN_ROLE_ID", "APP_ID", "BOT_ID", "CHANNEL_ID", "GUILD_ID", "FakeDiscord", "Recorded", "message"]
