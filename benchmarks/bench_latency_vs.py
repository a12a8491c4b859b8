"""In-process `Service.ask` latency of this checkout against an older commit, in one run, on the same sources.

Run (from the repository root, venv active; the old commit's index is built on first use, ~7 min for format 2):

    git worktree add /work/wt-old d3c91d6           # the commit before issue 12's work (index format 2, torch)
    nice -n 5 python benchmarks/bench_latency_vs.py --old /work/wt-old   # results into benchmarks/results/latency_vs.json

The sources are the bundled article + the 35 Wikipedia articles (bench_start.py --only latency's seed+wiki set,
~7.4k passages). One worker process per side, each importing its own checkout's src/ (PYTHONPATH) and building or
reusing its own index of those sources under --work: the old commit with its default encoder (it has only torch),
this checkout with its default (KOREA_BOT_ENCODER=auto: ONNX Runtime) and, with --with-torch, also with torch. The
workers take turns, a round of every question each, --rounds times (interleaved, so the machine's drift hits all
alike); p50/p95 of each side's asks and the ratio of the p50s to the old commit's. `--also PATH` (repeatable) adds a
checkout of the current index format (e.g. the commit before a change), which serves this checkout's index.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent


def worker(sources: Path, index: Path, encoder: str) -> None:
    """Serve rounds over stdin: a JSON list of questions in, a JSON list of milliseconds per ask out (any checkout)."""
    from korea_bot.config import load_settings
    from korea_bot.service import Service

    overrides: dict[str, object] = {"sources_dir": sources, "index_dir": index, "question_log": "off"}
    if encoder:
        overrides["encoder"] = encoder
    service = Service(load_settings(**overrides))
    t0 = time.perf_counter()
    service.ensure_index()
    ready = {
        "passages": len(service.index.chunks),
        "embedder": type(service.embedder).__name__,
        "ready_s": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        times = []
        for question in json.loads(line):
            t0 = time.perf_counter()
            service.ask(question)
            times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps(times), flush=True)


class Side:
    """One worker process: a checkout, its index of the shared sources, an encoder setting."""

    def __init__(self, label: str, checkout: Path, sources: Path, index: Path, encoder: str) -> None:
        """Start the worker; it builds or loads its index before answering."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOREA_BOT_")}
        env.update(PYTHONPATH=str(checkout / "src"), TOKENIZERS_PARALLELISM="false")
        cmd = [sys.executable, str(HERE), "--worker", str(sources), str(index), encoder]
        self.label, self.checkout, self.encoder = label, checkout, encoder
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ready: dict = {}
        self.times: list[float] = []

    def wait_ready(self) -> dict:
        """The worker's first line: passages, embedder class, seconds to build or load the index."""
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(f"worker {self.label} exited {self.proc.wait()} before its index was ready")
        self.ready = json.loads(line)
        print(f"{self.label}: {self.ready}", flush=True)
        return self.ready

    def round(self, questions: list[str]) -> list[float]:
        """Ask every question once; the milliseconds of each ask."""
        self.proc.stdin.write(json.dumps(questions) + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(f"worker {self.label} exited {self.proc.wait()} during a round")
        return json.loads(line)

    def close(self) -> None:
        """End the worker."""
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=60)


def commit_of(checkout: Path) -> str:
    """The checkout's HEAD commit (short), with '+dirty' when tracked files changed."""
    head = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=checkout, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "-uno"], cwd=checkout, capture_output=True, text=True)
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> int:
    """Start the workers, take turns over the rounds, write latency_vs.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="a checkout (git worktree) of the older commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--with-torch", action="store_true", help="also this checkout with KOREA_BOT_ENCODER=torch")
    parser.add_argument(
        "--also",
        type=Path,
        action="append",
        default=[],
        help="another checkout of the current index format (it shares this checkout's index), e.g. before a change",
    )
    parser.add_argument("--work", type=Path, default=ROOT / ".korea_bot_eval" / "bench")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latency_vs.json")
    args = parser.parse_args(argv)
    from bench_quality import git_commit
    from bench_speed import questions
    from quality_core import SHARED, prepare
    from scale import percentiles

    sources = prepare("seed+wiki", args.work).sources
    folder = args.work / "latency-vs"
    old_commit = commit_of(args.old)
    specs = [("old", args.old, f"index-{old_commit}", ""), ("new", ROOT, "index-new", "auto")]
    if args.with_torch:
        specs.append(("new-torch", ROOT, "index-new", "torch"))
    specs += [(f"{path.name}@{commit_of(path)}", path, "index-new", "auto") for path in args.also]
    sides = []
    for label, checkout, index, encoder in specs:  # one at a time: two builds at once would time each other
        sides.append(Side(label, checkout, sources, folder / index, encoder))
        sides[-1].wait_ready()
    qs = questions(SHARED)
    for side in sides:
        side.round(qs[:10])  # warm-up
    for r in range(args.rounds):
        for side in sides[r % len(sides) :] + sides[: r % len(sides)]:
            side.times += side.round(qs)
    for side in sides:
        side.close()
    rows = {s.label: {**percentiles(s.times), **s.ready, "encoder": s.encoder or "default"} for s in sides}
    base = rows["old"]["p50"]
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": git_commit(),
        "old_commit": old_commit,
        "questions": len(qs),
        "rounds": args.rounds,
        "ask_ms": rows,
        "p50_ratio_to_old": {label: round(row["p50"] / base, 4) for label, row in rows.items()},
        "p95_ratio_to_old": {label: round(row["p95"] / rows["old"]["p95"], 4) for label, row in rows.items()},
        "load_average": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    else:
        raise SystemExit(main())
