"""Shared fixtures: the shared data folder, a fake embedder, and small source trees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from korea_bot.config import load_settings
from korea_bot.embedding import HashEmbedder
from korea_bot.service import Service

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = ROOT / "docs_index" / "sources"
WIKI = SHARED / "corpus" / "wikipedia-korea-2019"


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
