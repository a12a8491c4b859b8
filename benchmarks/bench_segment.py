"""Sentence segmentation of the 35 Wikipedia articles with pysbd on plain `re` and on ingest/pattern_cache, in one run.

Run (from the repository root, venv active):

    nice -n 5 python benchmarks/bench_segment.py --rounds 3

Rounds alternate plain and cached, so the machine's drift hits both alike; each round prints its time, and the last
line the ratio of the medians. The first cached round fills the cache (what one `korea-bot index` process
pays); later ones are a long-running bot's reindex. The sentence counts must agree (the cache does not change what pysbd returns).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from korea_bot.ingest import pattern_cache
from korea_bot.ingest.chunking import _segmenter
from korea_bot.ingest.sources import discover, load_document

WIKI = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "wikipedia-korea-2019"


def main() -> None:
    """Time the rounds and print the ratio of the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = [load_document(WIKI, name).text for name in discover(WIKI)]
    segmenter = _segmenter()
    times: dict[str, list[float]] = {"plain": [], "cached": []}
    counts: set[int] = set()
    for _ in range(args.rounds):
        for mode in times:
            (pattern_cache.install if mode == "cached" else pattern_cache.uninstall)()
            started = time.perf_counter()
            counts.add(sum(len(segmenter.segment(text)) for text in texts))
            times[mode].append(time.perf_counter() - started)
            print(f"{mode:6} {times[mode][-1]:6.2f} s")
    assert len(counts) == 1, f"sentence counts differ: {sorted(counts)}"
    plain, cached = (statistics.median(times[m]) for m in ("plain", "cached"))
    print(f"{len(texts)} articles, {counts.pop()} sentences: cached/plain = {cached / plain:.2f} ({cached:.2f} s / {plain:.2f} s)")


if __name__ == "__main__":
    main()
