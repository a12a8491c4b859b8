"""The real model over the Milvus backend: the same passages as the files backend for every Discord dev question."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.paths import ROOT, SEED

from korea_bot.backends import milvus_client
from korea_bot.config import load_settings
from korea_bot.embedding import make_embedder
from korea_bot.evaluation import load_eval
from korea_bot.service import Service

pytest.importorskip("pymilvus")


@pytest.mark.slow
def test_real_model_answers_match_the_files_backend(tmp_path: Path) -> None:
    """Every dev question (answerable, near-topic, off-topic) gets identical passages and scores from both backends."""
    shutil.copytree(SEED, tmp_path / "sources")
    embedder = make_embedder(load_settings().model)
    uri = str(tmp_path / "m.db")
    backends = {}
    for backend in ("files", "milvus"):
        settings = load_settings(
            sources_dir=tmp_path / "sources", index_dir=tmp_path / "index", search_backend=backend, milvus_uri=uri
        )
        backends[backend] = Service(settings, embedder=embedder)
        backends[backend].ensure_index()
    try:
        assert type(backends["milvus"].index).__name__ == "MilvusLoaded"
        questions = [i.question for i in load_eval(ROOT / "eval" / "questions" / "discord_dev.jsonl").items]
        quoted = 0
        for q in questions:
            files, milvus = backends["files"].ask(q), backends["milvus"].ask(q)
            assert files.passages == milvus.passages, q
            assert (files.answered, files.confidence) == (milvus.answered, milvus.confidence), q
            quoted += bool(files.passages)
        assert quoted >= len(questions) // 3
    finally:
        milvus_client.release(uri)
