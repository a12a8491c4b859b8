"""Files vs Milvus Lite: build time, `ask` p50/p95 and RSS per process, N processes sharing one engine vs N copies.

Run from the repository root, venv active, the `milvus` extra installed (each size takes a few minutes on 2 cores):

    nice -n 10 python benchmarks/bench_backends.py --sizes 10000 --procs 3
    nice -n 10 python benchmarks/bench_backends.py --sizes 10000,100000 --procs 3 --only build,ask

--base is a real files index (e.g. the seed + Wikipedia one `korea-bot eval` builds); the semi-synthetic indexes of
each size repeat its passages with perturbed real vectors (benchmarks/synthetic.py). Every served figure comes from a
fresh worker process running a real Service: `files` holds the whole index in its memory, `lite` embeds the Milvus
Lite engine in-process, `server` talks gRPC to one Milvus Lite engine run as its own process (`python -m milvus_lite
server`), which N workers share. Results are merged into benchmarks/results/backends.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scale import percentiles, serve
from synthetic import PER_SOURCE, perturbed_vectors, synthetic_index

from korea_bot.backends import milvus_client
from korea_bot.backends.milvus_publish import publish
from korea_bot.backends.milvus_serve import load_live
from korea_bot.embedding import make_embedder
from korea_bot.evaluation import load_eval
from korea_bot.index import load_index
from korea_bot.index.layout import sentence_rows

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
QUESTIONS = ROOT / "eval" / "questions" / "discord_dev.jsonl"


def questions(n: int) -> list[str]:
    """The first n questions of the Discord dev set (never the test set)."""
    return [i.question for i in load_eval(QUESTIONS).items][:n]


def build_files(base, n: int, scratch: Path) -> tuple[object, float]:  # type: ignore[no-untyped-def]
    """The semi-synthetic index (FAISS + BM25 built from ready vectors) and its files written; (index, seconds)."""
    t0 = time.perf_counter()
    index = synthetic_index([base], n)
    folder = scratch / f"files-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "vectors.npy", np.ascontiguousarray(index.vectors), allow_pickle=False)
    np.save(folder / "sentences.npy", np.ascontiguousarray(index.sentence_vectors), allow_pickle=False)
    index.dense.save(folder / "vectors.faiss")
    index.keyword.save(folder / "keyword")
    return index, time.perf_counter() - t0


def worker(args: argparse.Namespace) -> None:
    """One bot process: load the index from its backend, answer the questions, print latency and memory as JSON."""
    import psutil

    embedder = make_embedder(args.model)
    scratch = Path(args.scratch)
    t0 = time.perf_counter()
    if args.worker == "files":
        index = synthetic_index([load_index(Path(args.base))], args.n)
    else:
        index = load_live(milvus_client.connect(args.uri), args.uri)
    load_s = time.perf_counter() - t0
    service = serve(index, embedder, scratch)
    qs = questions(args.questions)
    service.ask(qs[0])  # warm-up: tokenizer, first search
    ms = []
    for q in qs:
        t = time.perf_counter()
        service.ask(q)
        ms.append((time.perf_counter() - t) * 1000)
    mem = psutil.Process().memory_full_info()
    row = {"load_seconds": round(load_s, 2), "ask_ms": {k: round(v, 1) for k, v in percentiles(ms).items()}}
    row.update(rss_mb=round(mem.rss / 2**20), pss_mb=round(mem.pss / 2**20), uss_mb=round(mem.uss / 2**20))
    print(json.dumps(row), flush=True)
    if args.hold:
        sys.stdin.readline()  # stay alive so the parent can measure N of us at once


def spawn(args: argparse.Namespace, kind: str, n: int, uri: str = "", hold: bool = False) -> subprocess.Popen:
    """Start a worker process."""
    cmd = [sys.executable, __file__, "--worker", kind, "--n", str(n), "--uri", uri, "--base", str(args.base)]
    cmd += ["--model", args.model, "--questions", str(args.questions), "--scratch", str(args.work)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        cmd + (["--hold"] if hold else []), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )


def run_workers(args: argparse.Namespace, kind: str, n: int, count: int, uri: str = "") -> list[dict]:
    """Run `count` workers at once (all alive when each reports), their JSON rows."""
    procs = [spawn(args, kind, n, uri, hold=True) for _ in range(count)]
    rows = [json.loads(p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
    for p in procs:
        p.communicate("done\n", timeout=120)
    return rows


def start_server(data: Path) -> tuple[subprocess.Popen, str]:
    """One Milvus Lite engine as its own process over `data`, serving gRPC; (process, URI)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("milvus_lite server did not start")


def timed_calls(client) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds the client spends per collection kind and call (insert, flush, load...), summed from now on."""
    spent: dict[str, float] = {}
    calls = ("insert", "upsert", "delete", "query", "flush", "load_collection", "create_index", "create_collection")
    for call in (*calls, "drop_collection"):
        real = getattr(client, call)

        def wrapped(name, *a, _real=real, _call=call, **kw):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return _real(name, *a, **kw)
            finally:
                key = f"{'store_' if name.startswith('kb_store_') else ''}{name.rsplit('_', 1)[-1]}.{_call}"
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - t0

        setattr(client, call, wrapped)
    return spent


def change_one_file(index) -> None:  # type: ignore[no-untyped-def]
    """New vectors (so new store keys) for the first synthetic source's passages; the rest kept, as a files build does."""
    rows = np.arange(min(len(index.chunks), PER_SOURCE))
    index.vectors[rows] = perturbed_vectors(index.vectors[rows], len(rows), 0.5, seed=7)
    flat, _ = sentence_rows(index.sentence_start, rows)
    index.sentence_vectors[flat] = perturbed_vectors(
        np.asarray(index.sentence_vectors[flat], np.float32), len(flat), 0.5
    )


def measure(args: argparse.Namespace, n: int, only: set[str]) -> dict:
    """Every figure for one size."""
    base = load_index(args.base)
    row: dict = {"passages": n}
    index, row["files_build_seconds"] = build_files(base, n, args.work)
    uri = str(args.work / f"milvus-{n}.db")
    # a fresh engine (Lite 3 keeps a folder): an old alias would make the publish a no-op
    shutil.rmtree(uri) if Path(uri).is_dir() else Path(uri).unlink(missing_ok=True)
    client = milvus_client.connect(uri)
    spent = timed_calls(client)
    t0 = time.perf_counter()
    publish(client, uri, index)  # type: ignore[arg-type]
    row["milvus_lite_publish_seconds"] = round(time.perf_counter() - t0, 1)
    row["milvus_lite_publish_split_seconds"] = {k: round(v, 1) for k, v in sorted(spent.items())}
    spent.clear()
    change_one_file(index)
    for key, label in (("one_file", "next"), ("unchanged", "same")):
        index.manifest = {**index.manifest, "version": f"{index.version}-{label}"}  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        publish(client, uri, index)  # type: ignore[arg-type]
        row[f"milvus_lite_{key}_publish_seconds"] = round(time.perf_counter() - t0, 1)
        row[f"milvus_lite_{key}_publish_split_seconds"] = {k: round(v, 1) for k, v in sorted(spent.items())}
        spent.clear()
    row["files_build_seconds"] = round(row["files_build_seconds"], 1)
    milvus_client.release(uri)
    del index
    print(json.dumps(row), flush=True)
    if "ask" in only:
        row["files"] = run_workers(args, "files", n, 1)[0]
        row["lite"] = run_workers(args, "lite", n, 1, uri)[0]
        print(json.dumps(row), flush=True)
    if "share" in only:
        row["files_x_n"] = run_workers(args, "files", n, args.procs)
        server, server_uri = start_server(Path(uri))
        try:
            row["server_x_n"] = run_workers(args, "server", n, args.procs, server_uri)
            import psutil

            mem = psutil.Process(server.pid).memory_full_info()
            row["server_engine"] = {"rss_mb": round(mem.rss / 2**20), "pss_mb": round(mem.pss / 2**20)}
        finally:
            server.kill()
            server.wait(30)
    return row


def bm25_function(args: argparse.Namespace) -> dict:
    """Milvus' own BM25 (analyser + BM25 function) against bm25s on the base passages: top-10 overlap, top-1 agreement."""
    from pymilvus import DataType, Function, FunctionType

    from korea_bot.index import embed_text
    from korea_bot.index.keyword import BM25_B, BM25_K1

    base = load_index(args.base)
    uri = str(args.work / "bm25fn.db")
    client = milvus_client.connect(uri)
    if client.has_collection("bm25fn"):
        client.drop_collection("bm25fn")
    analyzer = {
        "tokenizer": "standard",
        "filter": [
            "lowercase",
            {"type": "stop", "stop_words": ["_english_"]},
            {"type": "stemmer", "language": "english"},
        ],
    }
    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535, enable_analyzer=True, analyzer_params=analyzer)
    schema.add_field("bm", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["bm"])
    )
    params = client.prepare_index_params()
    params.add_index(
        "bm", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": BM25_K1, "bm25_b": BM25_B}
    )
    client.create_collection("bm25fn", schema=schema)
    client.create_index("bm25fn", params, sync=False)
    titles = {src: d.title for src, d in base.documents.items()}
    texts = [embed_text(titles.get(c.source, ""), c.text) for c in base.chunks]
    for lo in range(0, len(texts), 500):
        client.insert("bm25fn", [{"row": i, "text": texts[i]} for i in range(lo, min(len(texts), lo + 500))])
    client.load_collection("bm25fn")
    overlap, top1, asked = [], 0, 0
    for q in questions(10_000):
        _, ours = base.keyword.search(q, 10)
        if not len(ours):
            continue
        hits = client.search(
            "bm25fn", data=[q], anns_field="bm", limit=10, output_fields=["row"], search_params={"metric_type": "BM25"}
        )[0]
        theirs = [int(h["entity"]["row"]) for h in hits]
        asked += 1
        overlap.append(len(set(ours.tolist()) & set(theirs)) / len(ours))
        top1 += bool(theirs) and theirs[0] == int(ours[0])
    milvus_client.release(uri)
    return {
        "passages": len(texts),
        "questions": asked,
        "overlap@10": round(float(np.mean(overlap)), 3),
        "top1_agreement": round(top1 / max(asked, 1), 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse options; run the sizes (or be one worker)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated passage counts")
    parser.add_argument("--procs", type=int, default=3, help="bot processes for the sharing comparison")
    parser.add_argument("--only", default="build,ask,share", help="build (always), ask, share; bm25fn alone")
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument(
        "--base",
        type=Path,
        default=ROOT / ".korea_bot_eval" / "bench" / "discord_wiki" / "index-bundled_all-MiniLM-L6-v2",
    )
    parser.add_argument("--work", "--scratch", dest="work", type=Path, default=ROOT / ".korea_bot_eval" / "backends")
    parser.add_argument("--out", type=Path, default=RESULTS / "backends.json")
    parser.add_argument("--worker", choices=["files", "lite", "server"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--uri", default="", help=argparse.SUPPRESS)
    parser.add_argument("--hold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.scratch = args.work
        worker(args)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    if only == {"bm25fn"}:
        result = bm25_function(args)
        _merge(args.out, {"bm25_function": result})
        print(json.dumps(result, indent=2))
        return 0
    rows = [measure(args, int(n), only) for n in args.sizes.split(",")]
    _merge(args.out, {str(r["passages"]): r for r in rows})
    print(json.dumps(rows, indent=2))
    return 0


def _merge(out: Path, entries: dict) -> None:
    """Merge entries into the results file."""
    old = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    for key, value in entries.items():  # a run of some sections keeps the other sections' figures
        old[key] = {**old.get(key, {}), **value}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(old, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
