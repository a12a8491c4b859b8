"""benchmarks/bench_backends.py end to end on the bundled article with the hashing embedder (no timings asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import bench_backends
import pytest
from helpers.milvus import service

pytest.importorskip("pymilvus")


def test_the_backend_benchmark_runs_every_section(seed_sources: Path, tmp_path: Path) -> None:
    """A tiny run of every section writes each figure, for both backends and the shared engine."""
    service(seed_sources, tmp_path / "index", "files", "unused.db").ensure_index()
    out = tmp_path / "backends.json"
    common = ["--base", str(tmp_path / "index"), "--work", str(tmp_path / "work"), "--out", str(out)]
    args = ["--sizes", "80", "--procs", "2", "--model", "hash:64", "--questions", "3", *common]
    assert bench_backends.main(args) == 0
    row = json.loads(out.read_text(encoding="utf-8"))["80"]
    assert row["passages"] == 80 and row["milvus_lite_publish_seconds"] >= 0
    assert row["milvus_lite_one_file_publish_seconds"] >= 0 and row["milvus_lite_unchanged_publish_seconds"] >= 0
    assert "store_passages.insert" in row["milvus_lite_one_file_publish_split_seconds"]  # the changed file's rows
    assert "store_passages.insert" not in row["milvus_lite_unchanged_publish_split_seconds"]  # nothing new
    for worker in (row["files"], row["lite"], *row["files_x_n"], *row["server_x_n"]):
        assert worker["ask_ms"]["p95"] >= worker["ask_ms"]["p50"] > 0 and worker["rss_mb"] > 0
    assert len(row["server_x_n"]) == 2 and row["server_engine"]["rss_mb"] > 0
    assert bench_backends.main(["--only", "bm25fn", *common]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))["bm25_function"]
    assert 0 <= result["overlap@10"] <= 1 and result["questions"] > 0
    assert "files" in json.loads(out.read_text(encoding="utf-8"))["80"]  # a later section keeps earlier figures
