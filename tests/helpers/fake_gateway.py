"""The gateway half of the fake Discord: websocket sessions, shards, READY/GUILD_CREATE, RESUME, drops, dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from helpers.fake_discord_payloads import APP_ID, BOT_ID, GUILD_ID, guild, user

CLOSING = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


@dataclass
class Session:
    """One gateway session: its shard ``(id, count)`` ((0, 1) unsharded), its live socket and sequence number."""

    id: str
    intents: int
    shard: tuple[int, int]
    sharded: bool
    ws: web.WebSocketResponse | None = None
    seq: int = 0

    def owns(self, guild_id: int | None) -> bool:
        """True if Discord sends this guild's events on this session: (guild_id >> 22) % count; DMs on shard 0."""
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else (guild_id >> 22) % count)

    def live(self) -> bool:
        """True while the session has an open socket that has been READY or RESUMED on."""
        return self.ws is not None and not self.ws.closed


class FakeGateway:
    """Discord's gateway for the fake: shards, guilds routed by shard, resumable sessions; tests drive it."""

    def __init__(self, token: str, close_on_identify: int | None, shards: int, guilds: list[int] | None) -> None:
        """Accept ``token``; recommend ``shards`` in /gateway/bot; host ``guilds`` (default: the one test guild)."""
        self.token, self.close_on_identify = token, close_on_identify
        self.shards = shards
        self.require_shards = False  # True: an IDENTIFY with fewer shards than recommended is closed with 4011
        self.guild_ids = list(guilds or [GUILD_ID])
        self.gateway_ops: list[dict] = []
        self.closes: list[int | None] = []  # close codes, in order, of every gateway socket
        self.shard_closes: list[tuple[int | None, int | None]] = []  # (shard id or None before a session, code)
        self.connections: list[str] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.ws: web.WebSocketResponse | None = None  # the socket that connected last
        self.sessions: dict[str, Session] = {}
        self._closed_by_us: dict[int, int] = {}  # id(socket) -> the close code the fake sent
        self.resume_gate: asyncio.Event | None = None  # set to hold every /resume handshake until the event is set
        self.changed = asyncio.Event()
        self.port = 0

    # ---- waiting -----------------------------------------------------------------------------------

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

    # ---- what tests look at ------------------------------------------------------------------------

    def ops(self, op: int, shard: int | None = None) -> list[dict]:
        """Gateway payloads with opcode ``op`` received from the bot (of one shard, when given)."""
        found = [m for m in self.gateway_ops if m.get("op") == op]
        return found if shard is None else [m for m in found if self.shard_of_op(m) == shard]

    def shard_of_op(self, msg: dict) -> int | None:
        """The shard an IDENTIFY names, or the shard of the session a RESUME names."""
        d = msg.get("d") or {}
        if msg.get("op") == 2:
            return (d.get("shard") or [0, 1])[0]
        session = self.sessions.get(d.get("session_id", "")) if msg.get("op") == 6 else None
        return session.shard[0] if session else None

    def live(self, shard: int = 0) -> web.WebSocketResponse | None:
        """The open socket of ``shard`` (the newest live session for it), or None."""
        found = [s.ws for s in self.sessions.values() if s.live() and s.shard[0] == shard]
        return found[-1] if found else None

    def shard_ids_of(self, guild_id: int) -> list[int]:
        """The shards of the live sessions that receive ``guild_id``'s events."""
        return sorted(s.shard[0] for s in self.sessions.values() if s.live() and s.owns(guild_id))

    # ---- sending -----------------------------------------------------------------------------------

    async def _send(
        self, ws: web.WebSocketResponse, op: int, d: Any, t: str | None = None, session: Any = None
    ) -> None:
        """Send one gateway payload (dispatches get the session's next sequence number)."""
        payload: dict = {"op": op, "d": d, "s": None, "t": t}
        if op == 0:
            session.seq += 1
            payload["s"] = session.seq
        await ws.send_str(json.dumps(payload))

    async def dispatch(self, event: str, data: dict, guild: int | None = None) -> None:
        """Send a dispatch event to the session(s) owning its guild (``guild`` or data's guild_id; DMs: shard 0)."""
        if guild is None and data.get("guild_id"):
            guild = int(data["guild_id"])
        targets = await self.wait_for(lambda: [s for s in self.sessions.values() if s.live() and s.owns(guild)])
        for session in targets:
            await self._send(session.ws, 0, data, event, session)

    async def drop(self, code: int = 4000, shard: int | None = None) -> None:
        """Close a gateway socket abnormally (the bot should RESUME): ``shard``'s, or the newest one."""
        ws = self.ws if shard is None else self.live(shard)
        assert ws is not None, f"no live socket for shard {shard}"
        await self._close(ws, code, b"fake drop")

    async def _close(self, ws: web.WebSocketResponse, code: int, reason: bytes) -> None:
        """Close ``ws`` from the server side with ``code`` (recorded as that socket's close code)."""
        self._closed_by_us[id(ws)] = code
        await ws.close(code=code, message=reason)

    # ---- the websocket -----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        """One gateway connection: HELLO, then IDENTIFY/RESUME/heartbeats."""
        if request.path == "/resume" and self.resume_gate is not None:
            await self.resume_gate.wait()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections.append(request.path)
        self.sockets.append(ws)
        self.ws = ws
        session: Session | None = None
        await self._send(ws, 10, {"heartbeat_interval": 41250})
        while True:
            msg = await ws.receive()
            if msg.type in CLOSING:
                code = self._closed_by_us.pop(id(ws), msg.data if msg.type is WSMsgType.CLOSE else ws.close_code)
                self.closes.append(code)
                self.shard_closes.append((session.shard[0] if session else None, code))
                break
            data = json.loads(msg.data)
            self.gateway_ops.append(data)
            self._bump()
            op = data.get("op")
            if op == 1:
                await self._send(ws, 11, None)
            elif op == 2:
                session = await self._identify(ws, data["d"])
            elif op == 6:
                session = await self._resume(ws, data["d"])
        await ws.close()
        self._bump()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: dict) -> Session | None:
        """Answer IDENTIFY with READY + a GUILD_CREATE per guild of its shard, or close with an error code."""
        shard_id, count = d.get("shard") or (0, 1)
        if d.get("token") != self.token:
            await self._close(ws, 4004, b"Authentication failed.")
        elif self.close_on_identify:
            await self._close(ws, self.close_on_identify, b"Disallowed intent(s).")
        elif not 0 <= shard_id < count:
            await self._close(ws, 4010, b"Invalid shard.")
        elif self.require_shards and count < self.shards:
            await self._close(ws, 4011, b"Sharding required.")
        else:
            session = Session(f"session-{len(self.sessions) + 1}", d.get("intents", 0), (shard_id, count), "shard" in d)
            self.sessions[session.id] = session
            mine = [g for g in self.guild_ids if session.owns(g)]
            ready = {
                "v": 10,
                "user": user(BOT_ID, "korea_bot", bot=True),
                "guilds": [{"id": str(g), "unavailable": True} for g in mine],
                "session_id": session.id,
                "resume_gateway_url": f"ws://127.0.0.1:{self.port}/resume",
                "application": {"id": str(APP_ID), "flags": 0},
                "private_channels": [],
                "relationships": [],
            }
            if session.sharded:
                ready["shard"] = [shard_id, count]
            await self._send(ws, 0, ready, "READY", session)
            for g in mine:
                await self._send(ws, 0, guild(g), "GUILD_CREATE", session)
            session.ws = ws
            self._bump()
            return session
        return None

    async def _resume(self, ws: web.WebSocketResponse, d: dict) -> Session | None:
        """Answer RESUME of a known session with RESUMED on this socket, else INVALID_SESSION."""
        session = self.sessions.get(d.get("session_id", ""))
        if d.get("token") != self.token or session is None:
            await self._send(ws, 9, False)
            return None
        await self._send(ws, 0, {}, "RESUMED", session)
        session.ws = ws
        self._bump()
        return session
