"""Speed benchmark: build vs raw encode throughput, ask latency at 1k-1M passages, ANN recall, cold start, memory.

Run (from the repository root, venv active; the whole run takes ~30 min and ~10 GB RAM at 1M passages):

    nice -n 10 python benchmarks/bench_speed.py                                 # everything
    nice -n 10 python benchmarks/bench_speed.py --only build,cold               # a subset
    nice -n 10 python benchmarks/bench_speed.py --only latency --sizes 1000,10000

Sections (results merged into benchmarks/results/speed.json):
- build: `build_index(full=True)` on the bundled article + --build-articles Wikipedia articles, against `model.encode` of
  exactly the passages it embeds (same batch size), alternated `--repeats` times in one run; ratio = encode s / build s.
- latency: Service.ask (the whole in-process path: clean, embed the question, FAISS + BM25, fuse, highlight) at each
  size, on semi-synthetic indexes (synthetic.py: the real seed+Wikipedia and SQuAD passages repeated, their real
  vectors plus noise, a real BM25 index over the repeated texts, the FAISS index chosen by vectors.build_ann); plus
  rank-only, ANN-only and BM25-only times, resident memory, and for HNSW sizes recall@10 against exact search with an
  efSearch sweep, for on-topic questions (seed, NQ, SQuAD) and off-topic ones (SciFact claims).
- crossover: flat against HNSW (vectors only) at --crossover-sizes: single-query latency, HNSW build time and
  recall@10, to place vectors.EXACT_LIMIT.
- recall: vectors only, --recall-size semi-synthetic vectors, the index build_ann picks, recall@10 against exact
  search and FAISS latency for each --ef value (on-topic and off-topic questions).
- cold: `korea-bot ask --json` in a fresh process on an existing index: time to the first answer line; peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from bench_quality import RESULTS, chosen_sections, save_section
from quality_core import ROOT, SHARED, make_service, prepare, sync_tree
from scale import ann_crossover, measure_index, measure_size, recall_at_scale

from korea_bot.embedding import make_embedder
from korea_bot.evaluation import load_eval
from korea_bot.index import embed_text

SECTIONS = ("build", "latency", "crossover", "recall", "cold")
SIZES = (1_000, 10_000, 100_000, 1_000_000)


def questions(shared: Path, n: int = 200) -> list[str]:
    """On-topic questions for the seed+wiki+SQuAD base: seed dev, NQ Korea, then SQuAD questions spread evenly."""
    out = [i.question for i in load_eval(shared / "eval" / "seed_dev.jsonl").items if i.answers]
    for f in sorted((shared / "eval" / "nq-korea").glob("*.jsonl")):
        out += [i.question for i in load_eval(f).items]
    out = list(dict.fromkeys(out))
    squad = [i.question for i in load_eval(shared / "eval" / "squad2-half" / "questions.jsonl").items]
    step = max(1, len(squad) // max(1, n - len(out)))
    return (out + squad[::step])[:n]


def off_topic_questions(shared: Path, n: int = 50) -> list[str]:
    """SciFact claims: questions the seed+wiki+SQuAD base does not answer (the hard case for an ANN)."""
    return [json.loads(line)["text"] for line in (shared / "eval" / "scifact" / "queries.jsonl").open()][:n]


def base_indexes(embedder, model: str, work: Path) -> list:  # type: ignore[no-untyped-def]
    """The real indexes the semi-synthetic ones repeat: seed + Wikipedia, and the SQuAD paragraphs."""
    return [make_service(prepare(name, work, model=model), embedder, model).index for name in ("seed+wiki", "squad")]


def bench_build(embedder, model: str, work: Path, repeats: int, articles: int) -> dict:  # type: ignore[no-untyped-def]
    """Full builds alternated with raw model.encode of the same passage texts."""
    ds = prepare("seed+wiki", work, model=model)
    folder = work / "speed-build"
    names = sorted(p.name for p in (ds.sources / "wikipedia").glob("*.txt"))[:articles]
    sync_tree([ds.sources / "wikipedia" / n for n in names], ds.sources, folder / "sources")
    sync_tree(sorted(p for p in ds.sources.glob("seed/*") if p.is_file()), ds.sources, folder / "sources")
    ds.sources, ds.index = folder / "sources", folder / f"index-{ds.index.name}"
    service = make_service(ds, embedder, model)
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        report = service.reindex(full=True)
        build_s = time.perf_counter() - t0
        index = service.index
        texts = [embed_text(index.documents[c.source].get("title", ""), c.text) for c in index.chunks]
        t0 = time.perf_counter()
        if hasattr(embedder, "model"):  # sentence-transformers: its own encode is the floor
            embedder.model.encode(
                texts, batch_size=service.settings.batch_size, convert_to_numpy=True, normalize_embeddings=True
            )
        else:  # the ONNX encoder: its plain embed
            embedder.embed(texts, batch_size=service.settings.batch_size)
        encode_s = time.perf_counter() - t0
        runs.append(
            {
                "passages": report.passages,
                "embedded": report.embedded,
                "build_seconds": round(build_s, 2),
                "encode_seconds": round(encode_s, 2),
                "build_passages_per_s": round(report.passages / build_s, 1),
                "encode_passages_per_s": round(len(texts) / encode_s, 1),
                "ratio": round(encode_s / build_s, 3),
            }
        )
        print(f"build: {runs[-1]}", flush=True)
    ratios = [r["ratio"] for r in runs]
    corpus = f"bundled article + the first {len(names)} Wikipedia articles (alphabetical)"
    return {"corpus": corpus, "runs": runs, "ratio_median": float(np.median(ratios))}


def bench_latency(embedder, model: str, work: Path, sizes: list[int], shared: Path) -> dict:  # type: ignore[no-untyped-def]
    """Service.ask latency and ANN recall on semi-synthetic indexes of each size."""
    reals = base_indexes(embedder, model, work)
    qs = questions(shared)
    qvecs = embedder.embed(qs)
    off = embedder.embed(off_topic_questions(shared))
    rows = [{"label": "real seed+wiki", **measure_index(reals[0], embedder, qs, qvecs, work)}]
    for n in sizes:
        row = measure_size(reals, n, embedder, qs, qvecs, work, off)
        rows.append({"label": f"{n:,} semi-synthetic", **row})
        print(
            f"latency n={n}: ask p50 {row['ask_ms']['p50']:.1f} ms p95 {row['ask_ms']['p95']:.1f} ms, "
            f"ann {row['ann']}, recall@10 {row['recall@10']:.3f}, rss {row['rss_mb']:.0f} MiB",
            flush=True,
        )
    base = sum(len(r.chunks) for r in reals)
    return {
        "base_passages": base,
        "questions": len(qs),
        "off_topic_questions": len(off),
        "real": rows[0],
        "rows": rows[1:],
    }


def bench_crossover(embedder, model: str, work: Path, sizes: list[int], shared: Path) -> dict:  # type: ignore[no-untyped-def]
    """Flat against HNSW at the sizes around vectors.EXACT_LIMIT (vectors only), to place the switch."""
    base = np.concatenate([np.asarray(r.vectors, dtype=np.float32) for r in base_indexes(embedder, model, work)])
    qvecs = embedder.embed(questions(shared))
    return {"rows": ann_crossover(base, sizes, qvecs)}


def bench_recall(embedder, model: str, work: Path, n: int, efs: list[int], shared: Path) -> dict:  # type: ignore[no-untyped-def]
    """Recall@10 of the ANN index build_ann picks at n passages, for several efSearch values (vectors only)."""
    base = np.concatenate([np.asarray(r.vectors, dtype=np.float32) for r in base_indexes(embedder, model, work)])
    on, off = embedder.embed(questions(shared)), embedder.embed(off_topic_questions(shared))
    row = recall_at_scale(base, n, on, off, tuple(efs))
    print(f"recall n={n}: {row}", flush=True)
    return row


def bench_cold(model: str, work: Path, runs: int) -> dict:
    """Fresh `korea-bot ask --json` processes on an existing index: time to first answer and peak memory."""
    exe = Path(sys.executable).parent / "korea-bot"
    out = {}
    for name in ("seed", "seed+wiki"):
        ds = prepare(name, work, model=model)
        env = {
            **os.environ,
            "KOREA_BOT_SOURCES_DIR": str(ds.sources),
            "KOREA_BOT_INDEX_DIR": str(ds.index),
            "KOREA_BOT_MODEL": model,
        }
        times, took = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [str(exe), "ask", "--json", "What did North Korea test on November 29, 2017?"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                text=True,
            )
            assert proc.stdout is not None
            line = proc.stdout.readline()
            times.append(time.perf_counter() - t0)
            _, err = proc.communicate()
            if proc.returncode != 0 or not line:
                raise RuntimeError(f"korea-bot ask failed ({proc.returncode}): {err[-500:]}")
            took.append(json.loads(line)["took_ms"])
        out[name] = {
            "first_answer_seconds": {"min": min(times), "median": float(np.median(times)), "runs": times},
            "ask_took_ms_median": float(np.median(took)),
        }
        print(f"cold {name}: {out[name]['first_answer_seconds']}", flush=True)
    out["peak_rss_mb_child"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections and merge their results into speed.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="corpus sizes for the latency section")
    parser.add_argument("--crossover-sizes", default="50000,100000,200000", help="sizes for flat vs HNSW")
    parser.add_argument("--recall-size", type=int, default=1_000_000, help="size for the recall section")
    parser.add_argument("--ef", default="128,256,512,1024,2048", help="efSearch values for the recall section")
    parser.add_argument("--repeats", type=int, default=2, help="build/encode alternations")
    parser.add_argument("--build-articles", type=int, default=6, help="Wikipedia articles in the build corpus")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=0, help="torch.set_num_threads for latency (0: default)")
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--work", type=Path, default=ROOT / ".korea_bot_eval" / "bench")
    parser.add_argument("--out", type=Path, default=RESULTS / "speed.json")
    args = parser.parse_args(argv)
    sections = chosen_sections(parser, args.only, SECTIONS)
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    embedder = make_embedder(args.model) if {"build", "latency", "crossover", "recall"} & set(sections) else None
    for section in sections:
        started = time.perf_counter()
        if section == "build":
            data = bench_build(embedder, args.model, args.work, args.repeats, args.build_articles)
        elif section == "latency":
            sizes = [int(s) for s in args.sizes.split(",")]
            if args.torch_threads:
                import torch

                torch.set_num_threads(args.torch_threads)
            data = bench_latency(embedder, args.model, args.work, sizes, args.shared)
            data["torch_threads"] = args.torch_threads or "default"
        elif section == "crossover":
            sizes = [int(s) for s in args.crossover_sizes.split(",")]
            data = bench_crossover(embedder, args.model, args.work, sizes, args.shared)
        elif section == "recall":
            efs = [int(e) for e in args.ef.split(",")]
            data = bench_recall(embedder, args.model, args.work, args.recall_size, efs, args.shared)
        else:
            data = bench_cold(args.model, args.work, args.cold_runs)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        save_section(args.out, results, section, data, started, peak_rss_mb_self=peak)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
