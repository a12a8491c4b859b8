"""Shared fixtures: a copy of the bundled sources and a Service over it with the hashing embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.paths import SEED

from korea_bot.config import load_settings
from korea_bot.embedding import HashEmbedder
from korea_bot.service import Service


@pytest.fixture
def seed_sources(tmp_path: Path) -> Path:
    """A copy of the bundled sources folder."""
    target = tmp_path / "sources"
    shutil.copytree(SEED, target)
    return target


@pytest.fixture
def fake_service(seed_sources: Path, tmp_path: Path) -> Service:
    """A Service over the bundled article with the hashing embedder, index built."""
    settings = load_settings(sources_dir=seed_sources, index_dir=tmp_path / "index", model="hash:64", min_score=0.0)
    service = Service(settings, embedder=HashEmbedder(64))
    service.ensure_index()
    return service


@pytest.fixture(autouse=True)
def _usage_files_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Questions and votes asked in tests go to the test's folder, never to the repository's docs_index/."""
    monkeypatch.setenv("KOREA_BOT_QUESTION_LOG", str(tmp_path / "usage" / "questions.jsonl"))
    monkeypatch.setenv("KOREA_BOT_FEEDBACK_FILE", str(tmp_path / "usage" / "feedback.jsonl"))
