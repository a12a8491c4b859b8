"""Settings: every knob and its default, read from KOREA_BOT_* variables, .env and /run/secrets."""

from __future__ import annotations

import json
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import ConfigError

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
MAX_FILE_MB = 10.0  # a bigger source file is skipped: ~50,000 passages, an hour or more to embed on 2 cores
MAX_SHARDS = 65536  # a sanity bound on one range in KOREA_BOT_SHARD_IDS (Discord bots use at most a few thousand)


@dataclass(frozen=True, kw_only=True)
class ChunkSettings:
    """How passages are cut; part of the index manifest (a change rebuilds the index)."""

    target_chars: int = 600  # windows are packed with following sentences up to this length
    max_chars: int = 600  # no window or sentence piece is longer

    def as_dict(self) -> dict[str, int]:
        """The settings as a JSON-able dict (scheme 3: each HTML block a paragraph, PDF paragraphs per page)."""
        return {"target_chars": self.target_chars, "max_chars": self.max_chars, "scheme": 3}


@dataclass(frozen=True, kw_only=True)
class RetrievalSettings:
    """Knobs of the ranking; the defaults are tuned on ../shared/eval (see docs/EVALUATION.md)."""

    dense_weight: float = 0.5  # fused = w * sentence cosine + (1 - w) * normalised BM25 * best cosine
    candidates: int = 100  # passages taken from each retriever before scoring
    min_score: float = 0.25  # abstain unless a top passage has a sentence at least this close to the question
    dedupe_jaccard: float = 0.7  # a passage sharing this share of a better one's words is a near-duplicate
    support_depth: int = 3  # how many of the best passages the abstain check looks at


class Settings(BaseSettings):
    """Every option of korea_bot; each is also the environment variable KOREA_BOT_<NAME>."""

    model_config = SettingsConfigDict(
        env_prefix="KOREA_BOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        secrets_dir="/run/secrets",
        extra="ignore",
        populate_by_name=True,
    )

    sources_dir: Path = Path("docs_index/sources")
    index_dir: Path = Path("docs_index/index")
    model: str = DEFAULT_MODEL
    encoder: Literal["auto", "onnx", "onnx-int8", "torch"] = "auto"  # auto: ONNX Runtime when exportable (no torch)
    onnx_dir: Path | None = None  # where ONNX exports are kept (default ~/.cache/korea_bot/onnx)
    top_k: int = Field(default=3, ge=1, le=10)
    min_score: float = Field(default=RetrievalSettings.min_score, ge=-1.0, le=1.0)
    max_passage_chars: int = Field(default=ChunkSettings.max_chars, ge=120, le=4000)
    max_question_chars: int = Field(default=500, ge=10, le=5000)
    batch_size: int = Field(default=64, ge=1, le=4096)
    max_file_mb: float = Field(default=MAX_FILE_MB, gt=0, le=100_000)
    synonyms_file: str = "default"  # aliases: `default` (shipped), `none`, or a path to a Solr-style synonyms file
    ranker: str = "default"  # the learned ranking stage: `default` (shipped), `off`, or a model file
    discord_token: SecretStr | None = None
    guild_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    admin_role_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    allowed_channel_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    reply_in_thread: bool = True  # a mention in a channel is answered in a new thread on the question (off: a reply)
    channel_collections: Annotated[dict[int, str], NoDecode] = Field(default_factory=dict)  # "123:seed,456:wiki"
    helper_role_id: int | None = None  # mentioned (the only mention ever made) when nothing supports an answer
    forum_channel_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)  # new posts here get an answer
    message_content_intent: bool = False  # ask for the privileged intent: answer un-mentioned messages in bot threads

    @field_validator("channel_collections", mode="before")
    @classmethod
    def _channel_map(cls, value: object) -> object:
        """Accept "123:seed,456:wikipedia" (channel id, colon, collection) as well as a JSON object."""
        if not isinstance(value, str):
            return value
        if value.strip().startswith("{"):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a JSON object of channel id -> collection") from None
        pairs: dict[int, str] = {}
        for part in value.replace(" ", ",").split(","):
            channel, colon, name = part.partition(":")
            if not part:
                continue
            if not (channel.isdigit() and colon and name.strip("/")):
                raise ValueError(f"{part!r} is not channel_id:collection (e.g. 123456789012345678:seed)")
            if int(channel) in pairs:
                raise ValueError(f"channel {channel} is listed twice")
            pairs[int(channel)] = name.strip("/")
        return pairs

    @field_validator("forum_channel_ids", mode="before")
    @classmethod
    def _forum_ids(cls, value: object) -> object:
        """Accept "1,2,3" as well as a JSON list."""
        return cls._split_ids(value)

    shard_count: int | Literal["auto"] | None = None  # total Discord shards; set = AutoShardedClient (docs/SCALING.md)
    shard_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)  # this process's shards (empty: all)
    search_backend: Literal["files", "milvus"] = "files"  # where search runs: the version files or Milvus
    milvus_uri: str = "docs_index/milvus.db"  # a *.db file path = Milvus Lite; http(s)://host:19530 = a server
    milvus_token: SecretStr | None = None  # a Milvus server's "user:password" or API key (/run/secrets/...)
    cooldown_seconds: float = Field(default=10.0, ge=0.0)
    cooldown_rate: int = Field(default=3, ge=1)
    heartbeat_file: Path = Path("/tmp/korea_bot.heartbeat")
    heartbeat_max_age: float = Field(default=60.0, gt=0)
    feedback_file: Path = Path("docs_index/feedback.jsonl")
    question_log: str = "docs_index/questions.jsonl"  # every question asked, for `korea-bot report`; `off` disables
    question_log_days: int = Field(default=90, ge=1, le=3650)  # lines older than this are dropped
    discord_api_url: str | None = None  # REST base override (tests: a local fake Discord)
    discord_gateway_url: str | None = None  # gateway websocket override (tests: a local fake Discord)
    log_level: str = "WARNING"
    output_json: bool = Field(default=False, validation_alias="KOREA_BOT_JSON")

    @field_validator("guild_ids", "admin_role_ids", "allowed_channel_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept "1,2,3" as well as a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return value
            return [int(part) for part in text.replace(" ", ",").split(",") if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("shard_count", mode="before")
    @classmethod
    def _count(cls, value: object) -> object:
        """A whole number of shards, at least 1, or `auto` (Discord's recommendation); empty means unsharded."""
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("", "auto"):
                return text or None
            if not text.isdigit():
                raise ValueError(f"must be a whole number of shards or `auto`, not {value!r}")
            value = int(text)
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ValueError(f"must be at least 1 (got {value})")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        """Accept "0,1", "4-7" (a range) and mixes of both, as well as a JSON list."""
        if not isinstance(value, str):
            return value
        if value.strip().startswith("["):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a JSON list of shard ids") from None
        ids: list[int] = []
        for part in value.replace(" ", ",").split(","):
            first, dash, last = part.partition("-")
            if not part:
                continue
            if not (first.isdigit() and (not dash or last.isdigit())) or int(last or first) < int(first):
                raise ValueError(f"{part!r} is not a shard id or a range like 0-3")
            if int(last or first) - int(first) >= MAX_SHARDS:
                raise ValueError(f"{part!r} spans more than {MAX_SHARDS} shards")
            ids.extend(range(int(first), int(last or first) + 1))
        return ids

    @field_validator("shard_ids")
    @classmethod
    def _shards_fit(cls, ids: list[int], info: ValidationInfo) -> list[int]:
        """Shard ids need a fixed shard count and must each be one of 0..count-1, once."""
        if not ids:
            return ids
        count = info.data.get("shard_count")
        if not isinstance(count, int):
            raise ValueError("needs a fixed KOREA_BOT_SHARD_COUNT (the total number of shards, not `auto`)")
        outside = sorted({i for i in ids if not 0 <= i < count})
        if outside:
            raise ValueError(f"shard {outside[0]} is outside 0..{count - 1} (KOREA_BOT_SHARD_COUNT={count})")
        twice = sorted(i for i, n in Counter(ids).items() if n > 1)
        if twice:
            raise ValueError(f"shard {twice[0]} is listed twice")
        return sorted(ids)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        """Allow only the standard logging level names."""
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @property
    def sharded(self) -> bool:
        """True when the bot connects as shards (KOREA_BOT_SHARD_COUNT is set)."""
        return self.shard_count is not None

    def chunking(self) -> ChunkSettings:
        """How passages are cut under these settings."""
        return ChunkSettings(max_chars=self.max_passage_chars, target_chars=self.max_passage_chars)

    def retrieval(self) -> RetrievalSettings:
        """The ranking knobs under these settings."""
        return RetrievalSettings(min_score=self.min_score)

    @property
    def max_file_bytes(self) -> int:
        """The size limit of one source file, in bytes."""
        return int(self.max_file_mb * 1_000_000)


def load_settings(flags: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings from the environment plus explicit overrides; raise ConfigError on a bad value.

    `flags` names the command-line option each override came from, so an error blames the flag that was given.
    """
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not exist", category=UserWarning)
            return Settings(**clean)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err.get("loc", ())) or "setting"
        label = name.upper() if name.upper().startswith("KOREA_BOT_") else f"{name} (KOREA_BOT_{name.upper()})"
        if flags and name in flags and name in clean:
            label = flags[name]
        raise ConfigError(f"bad value for {label}: {err.get('msg', 'invalid')}") from None
    except (ValueError, OSError) as exc:
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise ConfigError(f"bad configuration: {exc}{cause}") from None
