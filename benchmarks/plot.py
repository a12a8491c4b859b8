"""Plots for docs/BENCHMARKS.md from benchmarks/results/*.json: latency vs corpus size, quality per retriever.

Run (from the repository root, after bench_quality.py and bench_speed.py):

    python benchmarks/plot.py        # writes docs/img/latency.png and docs/img/quality.png
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from quality_core import LABELS, ROOT

RESULTS = ROOT / "benchmarks" / "results"
IMG = ROOT / "docs" / "img"
COLORS = {"dense": "#8da0cb", "keyword": "#66c2a5", "hybrid": "#e5554f", "langchain": "#999999"}


def plot_latency(speed: dict, out: Path) -> None:
    """Service.ask p50/p95 and its parts against corpus size (log x), with the goals marked."""
    rows = speed["latency"]["rows"]
    sizes = [r["passages"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    series = [
        ("ask_ms", "p50", "ask p50 (whole Service.ask)", "-", "o", "#e5554f"),
        ("ask_ms", "p95", "ask p95", "--", "o", "#e5554f"),
        ("rank_ms", "p50", "retrieval only (rank) p50", "-", "s", "#4c72b0"),
        ("keyword_ms", "p50", "BM25 scoring p50", ":", "^", "#55a868"),
        ("ann_ms", "p50", "FAISS search p50", ":", "v", "#8172b2"),
    ]
    for key, stat, label, style, marker, color in series:
        ax.plot(sizes, [r[key][stat] for r in rows], style, marker=marker, color=color, label=label)
    ax.scatter([10_000, 1_000_000], [25, 60], marker="*", s=220, color="black", zorder=5, label="goal (p50)")
    for r in rows:
        ax.annotate(
            r["ann"]["type"],
            (r["passages"], r["ask_ms"]["p50"]),
            textcoords="offset points",
            xytext=(6, -14),
            fontsize=8,
        )
    real = speed["latency"].get("real")
    if real:
        ax.scatter([real["passages"]], [real["ask_ms"]["p50"]], marker="D", s=60, color="#e5554f", zorder=6)
        ax.annotate(
            "real seed+wiki",
            (real["passages"], real["ask_ms"]["p50"]),
            textcoords="offset points",
            xytext=(6, 6),
            fontsize=8,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages in the index (log scale; beyond the real corpora: semi-synthetic)")
    ax.set_ylabel("milliseconds per question (log scale)")
    ax.set_title("Question latency against corpus size (in-process, 2 shared CPU cores)")
    ax.grid(True, which="both", alpha=0.3)
    threads = speed["latency"].get("torch_threads")
    if threads:
        ax.text(0.99, 0.02, f"torch threads: {threads}", transform=ax.transAxes, ha="right", fontsize=8)
    ax.legend(fontsize=8, loc="upper left", framealpha=0.9)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def plot_quality(quality: dict, out: Path) -> None:
    """Grouped bars per dataset: hit@1, nDCG@10 and mean quote length for each retriever."""
    order = (
        *("discord-dev", "discord-test", "discord-fresh", "discord-dev+wiki", "discord-test+wiki", "discord-fresh+wiki"),
        *("seed", "seed+wiki", "squad", "scifact"),
    )
    datasets = [d for d in order if d in quality["datasets"]]
    retrievers = list(LABELS)
    panels = [("hit@1", "hit@1"), ("ndcg@10", "nDCG@10"), ("mean_quote_chars", "mean quote length (characters)")]
    fig, axes = plt.subplots(1, 3, figsize=(22, 5.2), dpi=110)
    width = 0.8 / len(retrievers)
    for ax, (key, title) in zip(axes, panels, strict=True):
        for j, name in enumerate(retrievers):
            values = [quality["datasets"][d]["rows"][name][key] for d in datasets]
            xs = [i + (j - (len(retrievers) - 1) / 2) * width for i in range(len(datasets))]
            bars = ax.bar(xs, values, width, label=LABELS[name], color=COLORS[name])
            fmt = "{:.0f}" if key == "mean_quote_chars" else "{:.2f}"
            ax.bar_label(bars, [fmt.format(v) for v in values], fontsize=6, rotation=90, padding=2)
        ax.set_xticks(range(len(datasets)), [d.replace("discord-", "discord\n") for d in datasets], fontsize=8)
        ax.set_title(title)
        ax.grid(True, axis="y", alpha=0.3)
        ax.margins(y=0.15)
    axes[0].set_ylim(0, 1.15)
    axes[2].axhline(600, color="black", linestyle="--", linewidth=1)
    axes[2].annotate("quote goal ≤ 600", (len(datasets) - 0.5, 600), fontsize=8, ha="right", va="bottom")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(retrievers), fontsize=9, frameon=False)
    fig.suptitle(
        "Retrieval quality per retriever (same index, same metric code). Held out from all tuning and training: "
        "discord test and fresh (alone and +wiki); the learned stage was trained on the others' questions"
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(out)
    plt.close(fig)


def main() -> int:
    """Draw whichever plots have results."""
    IMG.mkdir(parents=True, exist_ok=True)
    speed_file, quality_file = RESULTS / "speed.json", RESULTS / "quality.json"
    if speed_file.exists() and "latency" in (speed := json.loads(speed_file.read_text())):
        plot_latency(speed, IMG / "latency.png")
        print(f"wrote {IMG / 'latency.png'}")
    if quality_file.exists():
        plot_quality(json.loads(quality_file.read_text()), IMG / "quality.png")
        print(f"wrote {IMG / 'quality.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
