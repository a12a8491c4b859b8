"""The Milvus backend across threads and processes: alias switches under load, a second process, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers.corpora import cli_env, make_corpus, run_cli
from helpers.milvus import service, start_server
from helpers.paths import SEED

from korea_bot.backends import milvus_client
from korea_bot.backends.milvus_publish import publish
from korea_bot.backends.milvus_serve import load_live
from korea_bot.embedding import HashEmbedder
from korea_bot.errors import SearchBackendError
from korea_bot.index import load_index

pytest.importorskip("pymilvus")
READER = """
import sys
from helpers.milvus import service
bot = service(*[__import__("pathlib").Path(a) for a in sys.argv[1:3]], "milvus", sys.argv[3])
print(bot.version, flush=True)
sys.stdin.readline()
print(bot.reload_if_changed(), bot.version, bot.ask("lighthouse Zone999").passages[0].source, flush=True)
"""


def test_alias_switches_during_searches_never_mix_versions(tmp_path: Path, uri: str) -> None:
    """Readers loading and searching while versions are published always see one whole version's data."""
    truth = {}
    for i in range(4):  # four successive versions of one index (each held in memory: its folder may be cleaned)
        make_corpus(tmp_path / "src", n_files=3 + i, seed=i)
        service(tmp_path / "src", tmp_path / "index", "files", uri).ensure_index()
        loaded = load_index(tmp_path / "index")
        truth[loaded.version] = loaded
    versions = list(truth)
    client = milvus_client.connect(uri)
    publish(client, uri, truth[versions[0]])
    vec = HashEmbedder(64).embed(["the railway near the harbor of Zone001"])[0]
    done, checked, problems = threading.Event(), [], []

    def read() -> None:
        while not done.is_set():
            try:
                got = load_live(client, uri)
                want = truth[got.version]
                scores, rows = got.dense.search(vec, 5)
                np.testing.assert_allclose(scores, want.vectors[rows] @ vec, rtol=1e-4, atol=1e-5)
                np.testing.assert_allclose(
                    got.keyword.scores("Zone001 railway"), want.keyword.scores("Zone001 railway"), rtol=1e-5, atol=1e-6
                )
                assert got.chunks == want.chunks
                checked.append(got.version)
            except SearchBackendError:
                continue  # its version was dropped two publishes later: a bot reloads then; never wrong data
            except Exception as exc:
                problems.append(repr(exc))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    for version in versions[1:]:
        publish(client, uri, truth[version])
    done.set()
    for t in readers:
        t.join(60)
    assert not problems, problems[:3]
    assert len(set(checked)) >= 2, f"readers only saw {set(checked)}"
    assert load_live(client, uri).version == versions[-1]


def test_a_second_process_picks_up_a_new_version_from_a_server(tmp_path: Path) -> None:
    """Over a Milvus server URI (a Lite engine in its own process), a bot process reloads when a build publishes."""
    server, uri = start_server(tmp_path / "engine")
    try:
        make_corpus(tmp_path / "src", n_files=3)
        builder = service(tmp_path / "src", tmp_path / "index", "milvus", uri)
        builder.ensure_index()
        first = builder.version
        args = [sys.executable, "-c", READER, str(tmp_path / "src"), str(tmp_path / "index"), uri]
        env = {**cli_env(), "PYTHONPATH": ":".join(sys.path)}
        bot = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        assert bot.stdout is not None and bot.stdin is not None
        assert bot.stdout.readline().strip() == first
        (tmp_path / "src" / "late.txt").write_text("A lighthouse of Zone999 was built in 1901.\n", encoding="utf-8")
        builder.reindex()
        out, _ = bot.communicate("go\n", timeout=120)
        assert out.split() == ["True", builder.version, "late.txt"] and builder.version != first
    finally:
        milvus_client.release(uri)
        server.kill()
        server.wait(30)


def test_ask_json_passages_match_the_files_backend(tmp_path: Path) -> None:
    """`korea-bot ask --json` on the bundled article quotes the same passages from Milvus as from the files."""
    shutil.copytree(SEED, tmp_path / "sources")
    common = {"KOREA_BOT_SOURCES_DIR": str(tmp_path / "sources"), "KOREA_BOT_INDEX_DIR": str(tmp_path / "index")}
    questions = "How far did the Hwasong-15 missile fly?\nWhat can Russia do?\nsanctions\n"
    out = {}
    for backend in ("files", "milvus"):
        env = {**common, "KOREA_BOT_SEARCH_BACKEND": backend, "KOREA_BOT_MILVUS_URI": str(tmp_path / "m.db")}
        proc = run_cli("ask", "--json", "--questions", "-", stdin=questions, cwd=tmp_path, **env)
        assert proc.returncode == 0, proc.stderr
        out[backend] = [json.loads(line)["passages"] for line in proc.stdout.splitlines()]
    assert len(out["files"]) == 3 and all(out["files"]) and out["files"] == out["milvus"]


def test_a_bad_uri_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    """The CLI prints one line naming the unreachable server and exits non-zero."""
    shutil.copytree(SEED, tmp_path / "sources")
    env = {"KOREA_BOT_SOURCES_DIR": str(tmp_path / "sources"), "KOREA_BOT_INDEX_DIR": str(tmp_path / "index")}
    proc = run_cli(
        "ask",
        "hello",
        cwd=tmp_path,
        KOREA_BOT_SEARCH_BACKEND="milvus",
        KOREA_BOT_MILVUS_URI="http://127.0.0.1:9",
        **env,
    )
    assert proc.returncode != 0 and "cannot reach Milvus at http://127.0.0.1:9" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_the_files_backend_never_imports_pymilvus(tmp_path: Path) -> None:
    """The default path stays as light as before: answering a question does not import pymilvus."""
    shutil.copytree(SEED, tmp_path / "sources")
    code = (
        "import sys; from helpers.milvus import service; from pathlib import Path;"
        f"s = service(Path({str(tmp_path / 'sources')!r}), Path({str(tmp_path / 'index')!r}), 'files', 'x.db');"
        "s.ensure_index(); assert s.ask('missile').passages; print('pymilvus' in sys.modules)"
    )
    env = {**cli_env(), "PYTHONPATH": ":".join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
