"""Quality benchmark: dense only, keyword only, our hybrid and the LangChain-default peer on ../shared/eval.

Run (from the repository root, venv active; SciFact's first run embeds 5k abstracts twice, ~10 min on 2 cores):

    nice -n 10 python benchmarks/bench_quality.py                      # all four datasets
    nice -n 10 python benchmarks/bench_quality.py --only seed,squad    # a subset

Datasets: seed (seed_dev.jsonl on docs_index/sources), seed+wiki (the same questions with the 35 Wikipedia articles
added), squad (squad2-half, paragraph-level), scifact (BEIR, train labels, document-level), and the repository's
Discord-style sets (eval/questions/): discord-dev, discord-test (the bundled article alone), discord-dev+wiki,
discord-test+wiki (with the Wikipedia articles under wiki/); discord-test is for final measurements only, and so
are discord-fresh(+wiki), a set written blind after the learned stage was tuned. Our indexes are built
incrementally under .korea_bot_eval/bench/<dataset>/ and the peer's vectors cached under benchmarks/results/cache/
(both git-ignored), so a second run only re-embeds what changed. Results are merged into
benchmarks/results/quality.json (one entry per dataset, with the git commit and the index version they were
measured on).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from quality_core import DATASETS, ROOT, SHARED, prepare, run_dataset

from korea_bot.embedding import make_embedder

RESULTS = ROOT / "benchmarks" / "results"


def git_commit() -> str:
    """The current commit hash, with '+dirty' when tracked files have local changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "-uno"], cwd=ROOT, capture_output=True, text=True)
        return head + ("+dirty" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def chosen_sections(parser: argparse.ArgumentParser, only: str, known: tuple[str, ...]) -> list[str]:
    """The sections named in --only (comma-separated), or a parser error naming the known ones."""
    sections = [s.strip() for s in only.split(",") if s.strip()]
    if any(s not in known for s in sections):
        parser.error(f"--only takes a subset of {','.join(known)}")
    return sections


def save_section(out: Path, results: dict, section: str, data: dict, started: float, **extra: object) -> None:
    """Stamp a benchmark section (commit, time, wall seconds, extra fields), note the machine, write the results."""
    data.update(
        commit=git_commit(),
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        wall_seconds=round(time.perf_counter() - started, 1),
        **extra,
    )
    results[section] = data
    results["machine"] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def format_table(entry: dict) -> str:
    """A plain-text table of one dataset's rows."""
    lines = [f"{entry['dataset']} ({entry['questions']} questions, index {entry['index_version']})"]
    lines.append(
        f"  {'retriever':<10} {'hit@1':>6} {'hit@3':>6} {'MRR@10':>7} {'nDCG@10':>8} {'abstain':>8} {'quote':>6}"
    )
    for name, m in entry["rows"].items():
        abst = "-" if m["abstain_correct"] is None else f"{m['abstain_correct']:.2f}"
        lines.append(
            f"  {name:<10} {m['hit@1']:6.3f} {m['hit@3']:6.3f} {m['mrr@10']:7.3f} {m['ndcg@10']:8.3f} "
            f"{abst:>8} {m['mean_quote_chars']:6.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen datasets and merge their results into quality.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(DATASETS), help=f"comma-separated subset of {','.join(DATASETS)}")
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2", help="embedding model (hash:64 for a dry run)")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument("--work", type=Path, default=ROOT / ".korea_bot_eval" / "bench", help="dataset/index folder")
    parser.add_argument("--out", type=Path, default=RESULTS / "quality.json")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}")
    embedder = make_embedder(args.model)
    results = json.loads(args.out.read_text()) if args.out.exists() else {"datasets": {}}
    for name in names:
        started = time.perf_counter()
        ds = prepare(name, args.work, args.shared, model=args.model)
        entry = run_dataset(ds, embedder, args.model, RESULTS / "cache")
        entry.update(
            commit=git_commit(),
            model=args.model,
            measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
            wall_seconds=round(time.perf_counter() - started, 1),
        )
        results["datasets"][name] = entry
        results["machine"] = {"python": sys.version.split()[0], "platform": platform.platform()}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(format_table(entry), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
