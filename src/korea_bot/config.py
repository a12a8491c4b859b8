"""Settings: every knob and its default, read from KOREA_BOT_* variables, .env and /run/secrets."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import ConfigError

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
MAX_FILE_MB = 10.0  # a bigger source file is skipped: ~50,000 passages, an hour or more to embed on 2 cores


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

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        """Allow only the standard logging level names."""
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

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
