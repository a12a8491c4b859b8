"""Incremental-rebuild benchmark: full build vs re-indexing one changed file of a 100-file corpus, real model.

Run (from the repository root, venv active; ~3 min on 2 CPU cores):

    nice -n 10 python benchmarks/bench_incremental.py [--repeats 3] [--files 100]

What it measures, in one process and one run:
- start-up: loading the bundled all-MiniLM-L6-v2 model and embedding one text (paid once per process; reported
  separately and excluded from the ratio);
- full: `Service.reindex(full=True)` (what `korea-bot index --full` does after start-up: read, chunk, embed,
  write, publish, load) on the 35 Wikipedia articles of ../shared/corpus/wikipedia-korea-2019 split at paragraph
  boundaries into ~100 files, written to a temporary folder, default settings;
- incremental: `Service.reindex()` after appending one paragraph to one file (a different file each repeat); the
  median of --repeats runs; plus a no-change run (only hashing and the up-to-date check).
Goal: incremental / full <= 0.10. Results go to benchmarks/results/incremental.json; docs/LIFECYCLE.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from korea_bot.config import DEFAULT_MODEL, load_settings
from korea_bot.embedding import make_embedder
from korea_bot.service import Service

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "wikipedia-korea-2019"
RESULTS = ROOT / "benchmarks" / "results" / "incremental.json"
GOAL = 0.10


def split_corpus(target: Path, files: int) -> dict[str, int]:
    """Write the Wikipedia articles split at paragraph boundaries into about `files` files; name -> bytes."""
    articles = {p.stem: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt")) if p.name != "SOURCE.txt"}
    total = sum(len(t) for t in articles.values())
    out: dict[str, int] = {}
    for stem, text in articles.items():
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        parts = max(1, min(len(paragraphs), round(files * len(text) / total)))
        size = -(-len(paragraphs) // parts)
        for i in range(0, len(paragraphs), size):
            name = f"{stem}-{i // size + 1:02d}.txt"
            body = "\n\n".join(paragraphs[i : i + size]) + "\n"
            (target / name).write_text(body, encoding="utf-8")
            out[name] = len(body.encode("utf-8"))
    return out


def git_commit() -> str:
    """The current commit, '+dirty' when tracked files have local changes."""
    run = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    return run("rev-parse", "HEAD") + ("+dirty" if run("status", "--porcelain", "-uno") else "")


def main() -> int:
    """Measure start-up, a full build and incremental builds; write and print the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="incremental builds to take the median of")
    parser.add_argument("--files", type=int, default=100, help="about how many files to split the corpus into")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="korea-bot-bench-") as tmp:
        sources, index = Path(tmp) / "sources", Path(tmp) / "index"
        sources.mkdir()
        sizes = split_corpus(sources, args.files)
        settings = load_settings(sources_dir=sources, index_dir=index, model=args.model)
        started = time.perf_counter()
        embedder = make_embedder(settings.model)
        embedder.embed(["warm-up"])
        startup = time.perf_counter() - started
        service = Service(settings, embedder=embedder)
        started = time.perf_counter()
        full = service.reindex(full=True)
        full_s = time.perf_counter() - started
        print(f"full: {full.summary()} (wall {full_s:.1f}s)", file=sys.stderr)
        names = sorted(sizes, key=sizes.get)  # type: ignore[arg-type]
        runs = []
        for i in range(args.repeats):
            name = names[len(names) // 2 + i]  # median-sized files
            with open(sources / name, "a", encoding="utf-8") as fh:
                fh.write(f"\nAn added paragraph, edit number {i}, about the Korean peninsula and its history.\n")
            started = time.perf_counter()
            report = service.reindex()
            wall = time.perf_counter() - started
            assert report.changed == (name,) and report.embedded < full.embedded / 20, report.summary()
            print(f"incremental: {report.summary()} (wall {wall:.2f}s)", file=sys.stderr)
            runs.append({"file": name, "seconds": round(wall, 3), "embedded": report.embedded})
        started = time.perf_counter()
        same = service.reindex()
        unchanged_s = time.perf_counter() - started
        assert same.unchanged
    incremental_s = statistics.median(r["seconds"] for r in runs)
    result = {
        "command": "nice -n 10 python benchmarks/bench_incremental.py" + (f" --repeats {args.repeats}"),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "model": args.model,
        "corpus": {"files": len(sizes), "bytes": sum(sizes.values()), "passages": full.passages},
        "startup_s": round(startup, 2),
        "full_s": round(full_s, 2),
        "full_embedded": full.embedded,
        "incremental_runs": runs,
        "incremental_s": round(incremental_s, 3),
        "unchanged_s": round(unchanged_s, 3),
        "ratio": round(incremental_s / full_s, 4),
        "goal": GOAL,
        "goal_met": incremental_s / full_s <= GOAL,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0 if result["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
