"""The compose profile `shards`: N bot processes, each a slice of the shards, and the default bot left as it was.

No Docker engine runs here: these tests read compose.yaml and check each shard service's settings with the real
settings loader; what the processes then do is tested in tests/adapters/discord/test_discord_shard_processes.py.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from helpers.paths import ROOT

from korea_bot.config import Settings, load_settings

SHARD_KEYS = ("KOREA_BOT_SHARD_COUNT", "KOREA_BOT_SHARD_IDS")


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    """compose.yaml's services."""
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]


def shard_services(services: dict[str, dict]) -> dict[str, dict]:
    """The services in the `shards` profile, in file order."""
    return {name: s for name, s in services.items() if "shards" in s.get("profiles", [])}


def settings_of(service: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """What the real settings loader makes of a service's environment."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key, value in (service.get("environment") or {}).items():
        monkeypatch.setenv(key, str(value))
    return load_settings()


def test_the_default_services_stay_unsharded(services: dict[str, dict]) -> None:
    """`docker compose up` still starts the one plain bot: no shard setting outside the profile."""
    for name, service in services.items():
        if not service.get("profiles"):
            assert not set(service.get("environment") or {}) & set(SHARD_KEYS), name


def test_the_shard_processes_split_the_shards_exactly(
    services: dict[str, dict], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every shard service has the same count, its own valid ids, and together they cover each shard once."""
    shards = shard_services(services)
    assert len(shards) >= 2
    slices = []
    for service in shards.values():
        with monkeypatch.context() as patch:
            settings = settings_of(service, patch, tmp_path)
        assert settings.sharded and settings.shard_ids, service.get("environment")
        slices.append((settings.shard_count, settings.shard_ids))
    (count,) = {c for c, _ in slices}
    assert sorted(i for _, ids in slices for i in ids) == list(range(count))


def test_each_shard_process_is_the_bot_with_a_slice(services: dict[str, dict]) -> None:
    """Same image, command, secret, volumes, health check and restart budget as the bot; only the slice differs."""
    bot = services["bot"]
    for name, service in shard_services(services).items():
        rest = {k: v for k, v in service.items() if k not in ("profiles", "environment", "depends_on")}
        assert rest == bot, name


def test_shard_processes_start_one_after_another(services: dict[str, dict]) -> None:
    """Each shard process waits for the one before to be healthy, so their IDENTIFYs are not sent together."""
    names = list(shard_services(services))
    assert "depends_on" not in services[names[0]]
    for before, after in itertools.pairwise(names):
        assert services[after]["depends_on"] == {before: {"condition": "service_healthy"}}


def test_the_documented_command_starts_the_shards_and_not_the_bot(services: dict[str, dict]) -> None:
    """docs/SCALING.md names every shard service in its `up` command (naming them keeps `bot` down)."""
    doc = (ROOT / "docs" / "SCALING.md").read_text(encoding="utf-8")
    command = "docker compose --profile shards up -d " + " ".join(shard_services(services))
    assert command in doc
    assert command in (ROOT / "compose.yaml").read_text(encoding="utf-8")
