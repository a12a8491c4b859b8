"""Start-up and serving benchmark: cold `korea-bot ask` vs importing sentence-transformers, ask latency, memory.

Run (from the repository root, venv active; about 5 minutes once the seed+wiki index exists, ~3 more to build it):

    nice -n 10 python benchmarks/bench_start.py                       # everything
    nice -n 10 python benchmarks/bench_start.py --only cold,rss       # a subset

Sections (results merged into benchmarks/results/start.json):
- cold: `korea-bot ask --json Q` on the bundled article (index current, ONNX export present) and
  `python -c "import sentence_transformers"`, alternated A B A B … in one run; wall seconds of each whole process
  and the ratio pair by pair (median). Goal: ratio <= 0.15.
- latency: in-process Service.ask on the real seed+Wikipedia index (~10k passages) with the ONNX encoder and with
  sentence-transformers, the same questions, rounds alternated; p50/p95 and the ratio of the p50s. Goal <= 0.4.
- rss: peak resident memory of a fresh serving process (`korea-bot ask --questions FILE`, the Service the bot runs)
  answering the seed dev questions on the bundled article. Goal <= 300 MiB.
- int8: what KOREA_BOT_ENCODER=onnx-int8 costs: cosine of int8 to fp32 vectors on --int8-sample seed+wiki passages,
  top-10 overlap of the questions' exact neighbours among them, and seed dev hit@1/hit@3 with an int8-built index.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from bench_quality import RESULTS, chosen_sections, save_section
from bench_speed import questions
from quality_core import ROOT, SHARED, make_service, prepare
from scale import percentiles

from korea_bot.config import DEFAULT_MODEL, load_settings
from korea_bot.embedding import make_embedder
from korea_bot.evaluation import evaluate, load_eval
from korea_bot.index import embed_text
from korea_bot.service import Service

SECTIONS = ("cold", "rss", "latency", "int8")  # run in this order: child RSS counts this process's peak
QUESTION = "What did North Korea test on November 29, 2017?"


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one whole child process (os.wait4's accounting).

    A spawned child's peak RSS is at least this process's RSS at the spawn (the kernel carries the shared address
    space's high-water mark over the exec): so the sections that spawn run before the ones that load torch here.
    """
    actions = [
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    t0 = time.perf_counter()
    pid = os.posix_spawn(cmd[0], cmd, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss / 1024


def _seed_env(work: Path) -> dict[str, str]:
    """The environment of a `korea-bot` on the bundled article with a current index (built here when missing)."""
    index = work / "seed" / "index-start"
    env = {**os.environ, "KOREA_BOT_SOURCES_DIR": str(ROOT / "docs_index" / "sources")}
    env.update(KOREA_BOT_INDEX_DIR=str(index), KOREA_BOT_QUESTION_LOG="off", KOREA_BOT_ENCODER="auto")
    subprocess.run([_exe(), "index"], env=env, check=True, capture_output=True)
    return env


def _exe() -> str:
    """The korea-bot console script beside this Python."""
    return str(Path(sys.executable).parent / "korea-bot")


def bench_cold(work: Path, runs: int) -> dict:
    """Cold ask against `import sentence_transformers`, alternated; wall seconds and the pairwise ratio."""
    env = _seed_env(work)
    ask = [_exe(), "ask", "--json", QUESTION]
    imp = [sys.executable, "-c", "import sentence_transformers"]
    _run(ask, env), _run(imp, env)  # warm the page cache for both
    pairs = []
    for _ in range(runs):
        a, a_rss = _run(ask, env)
        b, _ = _run(imp, env)
        pairs.append({"ask_s": round(a, 3), "import_st_s": round(b, 3), "ratio": round(a / b, 4), "ask_rss": a_rss})
        print(f"cold: {pairs[-1]}", flush=True)
    med = {k: float(np.median([p[k] for p in pairs])) for k in ("ask_s", "import_st_s", "ratio", "ask_rss")}
    return {"pairs": pairs, "median": med, "command_a": " ".join(ask[1:]), "command_b": " ".join(imp[1:])}


def bench_latency(work: Path, shared: Path, rounds: int) -> dict:
    """In-process ask on the ~10k-passage seed+wiki index: ONNX against sentence-transformers, rounds alternated."""
    ds = prepare("seed+wiki", work, model=DEFAULT_MODEL)
    onnx = make_embedder(DEFAULT_MODEL, "onnx")
    base = make_service(ds, onnx, DEFAULT_MODEL)  # built (or reused) with ONNX: the vectors are the same
    services = {}
    for encoder in ("onnx", "torch"):
        settings = load_settings(sources_dir=ds.sources, index_dir=ds.index, question_log="off")
        service = Service(settings, embedder=onnx if encoder == "onnx" else make_embedder(DEFAULT_MODEL, "torch"))
        service._set(base.index)
        services[encoder] = service
    qs = questions(shared)
    times: dict[str, list[float]] = {"onnx": [], "torch": []}
    embed: dict[str, list[float]] = {"onnx": [], "torch": []}  # of each ask, the question embedding's share
    for service in services.values():
        for q in qs[:10]:
            service.ask(q)  # warm-up
    timed = {encoder: _Timed(service.embedder) for encoder, service in services.items()}
    for encoder, service in services.items():
        service._embedder = timed[encoder]  # type: ignore[assignment]
    for _ in range(rounds):
        for encoder, service in services.items():
            for q in qs:
                timed[encoder].ms = 0.0
                t0 = time.perf_counter()
                service.ask(q)
                times[encoder].append((time.perf_counter() - t0) * 1000)
                embed[encoder].append(timed[encoder].ms)
    rows = {enc: percentiles(ms) for enc, ms in times.items()}
    split = {
        enc: {
            "embed_p50": float(np.median(embed[enc])),
            "rest_p50": float(np.median(np.subtract(times[enc], embed[enc]))),
        }
        for enc in times
    }
    ratio = rows["onnx"]["p50"] / rows["torch"]["p50"]
    print(f"latency: {rows} p50 ratio {ratio:.3f}; embedding / rest {split}", flush=True)
    return {
        "passages": len(base.index.chunks),
        "questions": len(qs),
        "rounds": rounds,
        "ask_ms": rows,
        "split_ms": split,
        "ratio": ratio,
    }


class _Timed:
    """An embedder that adds the milliseconds of its embed calls to `ms` (the rest of `ask` is search)."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        """Wrap an embedder."""
        self.inner, self.ms = inner, 0.0

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        """Everything else from the wrapped embedder."""
        return getattr(self.inner, name)

    def embed(self, texts: list[str], *args, **kwargs) -> np.ndarray:  # type: ignore[no-untyped-def]
        """The wrapped embed, timed."""
        t0 = time.perf_counter()
        try:
            return self.inner.embed(texts, *args, **kwargs)
        finally:
            self.ms += (time.perf_counter() - t0) * 1000


def bench_rss(work: Path, shared: Path) -> dict:
    """Peak RSS of a fresh `korea-bot ask --questions` process over the seed dev questions (index current)."""
    env = _seed_env(work)
    qs = [json.loads(line)["question"] for line in (shared / "eval" / "seed_dev.jsonl").open(encoding="utf-8")]
    qfile = work / "seed" / "questions.txt"
    qfile.write_text("\n".join(qs) + "\n", encoding="utf-8")
    out = {}
    for encoder in ("auto", "torch"):
        wall, peak = _run([_exe(), "ask", "--json", "--questions", str(qfile)], {**env, "KOREA_BOT_ENCODER": encoder})
        out[encoder] = {"questions": len(qs), "wall_s": round(wall, 2), "peak_rss_mb": round(peak, 1)}
        print(f"rss {encoder}: {out[encoder]}", flush=True)
    return out


def bench_int8(work: Path, shared: Path, sample: int) -> dict:
    """int8 against fp32 ONNX: vector cosine, top-10 neighbour overlap, and seed dev hit@1 (index built by each)."""
    ds = prepare("seed+wiki", work, model=DEFAULT_MODEL)
    fp32, int8 = make_embedder(DEFAULT_MODEL, "onnx"), make_embedder(DEFAULT_MODEL, "onnx-int8")
    index = make_service(ds, fp32, DEFAULT_MODEL).index
    step = max(1, len(index.chunks) // sample)
    texts = [embed_text(index.documents[c.source].title, c.text) for c in index.chunks[::step][:sample]]
    a, b = fp32.embed(texts), int8.embed(texts)
    cosine = (a * b).sum(axis=1)
    qs = questions(shared)
    qa, qb = fp32.embed(qs), int8.embed(qs)
    top_a, top_b = np.argsort(-(qa @ a.T), axis=1)[:, :10], np.argsort(-(qb @ b.T), axis=1)[:, :10]
    overlap = float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(top_a, top_b, strict=True)]))
    dev = {}
    for encoder, emb in (("fp32", fp32), ("int8", int8)):
        settings = load_settings(index_dir=work / "seed" / f"index-{encoder}", question_log="off")
        service = Service(settings.model_copy(update={"sources_dir": ROOT / "docs_index" / "sources"}), embedder=emb)
        service.ensure_index()
        metrics = evaluate(load_eval(shared / "eval" / "seed_dev.jsonl"), service.search)
        dev[encoder] = {k: metrics[k] for k in ("hit@1", "hit@3", "abstain_correct")}
    row = {
        "passages": len(texts),
        "cosine": {"mean": float(cosine.mean()), "min": float(cosine.min()), "p05": float(np.percentile(cosine, 5))},
        "questions": len(qs),
        "top10_overlap": overlap,
        "seed_dev": dev,
    }
    print(f"int8: {row}", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections and merge their results into start.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="latency rounds per encoder")
    parser.add_argument("--int8-sample", type=int, default=2000, help="passages compared in the int8 section")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--work", type=Path, default=ROOT / ".korea_bot_eval" / "bench")
    parser.add_argument("--out", type=Path, default=RESULTS / "start.json")
    args = parser.parse_args(argv)
    sections = chosen_sections(parser, args.only, SECTIONS)
    sections = [s for s in SECTIONS if s in sections]  # the spawning sections before torch grows this process
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    for section in sections:
        started = time.perf_counter()
        if section == "cold":
            data = bench_cold(args.work, args.cold_runs)
        elif section == "latency":
            data = bench_latency(args.work, args.shared, args.rounds)
        elif section == "rss":
            data = bench_rss(args.work, args.shared)
        else:
            data = bench_int8(args.work, args.shared, args.int8_sample)
        save_section(args.out, results, section, data, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
