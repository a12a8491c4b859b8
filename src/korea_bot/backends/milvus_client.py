"""Connecting to Milvus (Lite file or server), its errors as one line, collection names, and text blobs."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..errors import SearchBackendError

log = logging.getLogger(__name__)
ALIAS = "kb_current"  # names the passages collection of the live version (like CURRENT for the files)
PREFIX = "kb_v"  # every collection korea_bot writes is kb_v<version>_<kind>
KINDS = ("passages", "blobs")  # a version's own collections; its vectors are in the shared store (milvus_store)
LEGACY = ("sentences",)  # kb_v<version>_sentences: the layout before the store, still recognised to be dropped
BLOB_CHARS = 16_000  # a VARCHAR holds 65,535 bytes: 16k characters of up to 4 UTF-8 bytes each
SERVER_TIMEOUT = 5.0  # seconds to wait for a Milvus server before calling it unreachable
REQUEST_TIMEOUT = 30.0  # seconds a search or query may take: a hung server is an error, not a stuck bot
WRITE_TIMEOUT = 300.0  # seconds a write, flush, load or collection call of a publish may take (not held forever)
INDEX_TIMEOUT = 3600.0  # seconds building (and loading) an index may take: HNSW over a million passages is slow
_clients: dict[str, Any] = {}
_lock = threading.Lock()
T = TypeVar("T")


def pymilvus() -> Any:
    """The pymilvus module, or a clear error naming the extra to install."""
    try:
        import pymilvus as module
    except ImportError:
        raise SearchBackendError(
            "KOREA_BOT_SEARCH_BACKEND=milvus needs pymilvus: pip install 'korea-bot[milvus]'"
        ) from None
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # its tracebacks; ours is the one-line error
    return module


def is_lite(uri: str) -> bool:
    """True for a local file (Milvus Lite, embedded), False for an http(s):// or tcp:// server address."""
    return "://" not in uri


def connect(uri: str, token: str | None = None) -> Any:
    """A MilvusClient for the URI, shared by everything in this process that uses the same URI."""
    with _lock:
        client = _clients.get(uri)
        if client is None:
            client = _clients[uri] = _open(uri, token)
        return client


def _open(uri: str, token: str | None) -> Any:
    """Open a new client; every failure is one SearchBackendError line naming the URI."""
    module = pymilvus()
    if is_lite(uri):
        if not uri.endswith(".db"):
            raise SearchBackendError(f"KOREA_BOT_MILVUS_URI={uri!r}: a Milvus Lite file must end in .db")
        if not Path(uri).parent.is_dir():
            raise SearchBackendError(f"KOREA_BOT_MILVUS_URI={uri!r}: the folder {Path(uri).parent} does not exist")
    elif not uri.startswith(("http://", "https://", "tcp://", "unix:")):
        raise SearchBackendError(f"KOREA_BOT_MILVUS_URI={uri!r}: use a .db file path or http(s)://host:19530")
    kwargs: dict[str, Any] = {"uri": uri, "token": token or ""}
    if not is_lite(uri):
        kwargs["timeout"] = SERVER_TIMEOUT
    try:
        return module.MilvusClient(**kwargs)
    except Exception as exc:
        raise SearchBackendError(f"cannot reach Milvus at {uri}: {_first_line(exc)}") from None


def release(uri: str) -> None:
    """Close this process's client for the URI (and stop its embedded Lite engine, freeing the file)."""
    with _lock:
        client = _clients.pop(uri, None)
    if client is not None:
        client.close()
    if is_lite(uri):
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


def guarded(uri: str, what: str, call: Callable[[], T]) -> T:
    """Run a Milvus call, turning any engine or connection failure into one SearchBackendError line."""
    try:
        return call()
    except SearchBackendError:
        raise
    except Exception as exc:
        raise SearchBackendError(f"Milvus at {uri}: {what} failed: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, without pymilvus' <MilvusException: (...)> wrapping."""
    text = str(getattr(exc, "message", "") or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def tag(version: str) -> str:
    """A version name as it may appear in a collection name (letters, digits, underscores)."""
    return version.replace("-", "_")


def names(version: str) -> dict[str, str]:
    """The collection of each kind for a version."""
    return {kind: f"{PREFIX}{tag(version)}_{kind}" for kind in KINDS}


def sibling(passages: str, kind: str) -> str:
    """The collection of another kind of the version whose passages collection is named."""
    return passages.removesuffix("passages") + kind


def version_of(collection: str) -> str | None:
    """The version tag a korea_bot collection name carries, None for other collections."""
    for kind in KINDS + LEGACY:
        if collection.startswith(PREFIX) and collection.endswith(f"_{kind}"):
            return collection[len(PREFIX) : -len(kind) - 1]
    return None


def live_collection(client: Any) -> str | None:
    """The passages collection the alias points at, None before the first publish."""
    if ALIAS not in client.list_aliases(timeout=REQUEST_TIMEOUT).get("aliases", []):
        return None
    return str(client.describe_alias(ALIAS, timeout=REQUEST_TIMEOUT)["collection_name"])


def blob_rows(name: str, text: str, first_id: int) -> list[dict]:
    """A long text cut into blob rows (id, name, part, text) starting at id first_id."""
    parts = [text[i : i + BLOB_CHARS] for i in range(0, len(text), BLOB_CHARS)] or [""]
    return [{"id": first_id + i, "name": name, "part": i, "text": p, "pad": [0.0, 1.0]} for i, p in enumerate(parts)]


def read_blob(client: Any, collection: str, name: str) -> Any:
    """One blob of a version, parsed from JSON; None when the version has none of that name."""
    rows = client.query(
        collection, filter=f"name == {json.dumps(name)}", output_fields=["part", "text"], timeout=REQUEST_TIMEOUT
    )
    return json.loads("".join(r["text"] for r in sorted(rows, key=lambda r: int(r["part"])))) if rows else None


def read_blobs(client: Any, collection: str, page: int = 1000) -> dict[str, Any]:
    """Every blob of a version, joined and parsed from JSON, by name."""
    parts: dict[str, list[tuple[int, str]]] = {}
    start = 0
    while True:
        rows = client.query(
            collection,
            filter=f"id >= {start} and id < {start + page}",
            output_fields=["name", "part", "text"],
            timeout=REQUEST_TIMEOUT,
        )
        if not rows:
            break
        for r in rows:
            parts.setdefault(r["name"], []).append((int(r["part"]), r["text"]))
        start += page
    return {name: json.loads("".join(t for _, t in sorted(p))) for name, p in parts.items()}
