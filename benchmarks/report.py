"""Print the Markdown tables of docs/BENCHMARKS.md from benchmarks/results/*.json.

Run (from the repository root):

    python benchmarks/report.py > /tmp/tables.md
"""

from __future__ import annotations

import json

from quality_core import LABELS, ROOT

RESULTS = ROOT / "benchmarks" / "results"
NAMES = {key: f"**{label}**" if key == "hybrid" else label for key, label in LABELS.items()}


def quality_tables(q: dict) -> str:
    """One table per dataset: the four retrievers' metrics."""
    out = []
    for name, d in q["datasets"].items():
        out.append(
            f"#### {name} — {d['questions']} questions; passages: ours {d['passages']['ours']:,}, "
            f"LangChain {d['passages']['langchain']:,} (commit `{d['commit'][:12]}`)\n"
        )
        out.append(
            "| retriever | hit@1 | hit@3 | MRR@10 | nDCG@10 | off-topic abstained | false abstentions | mean quote (chars) |"
        )
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for key, m in d["rows"].items():
            abst = "–" if m["abstain_correct"] is None else f"{m['abstain_correct']:.2f} of {m['abstain_questions']}"
            out.append(
                f"| {NAMES[key]} | {m['hit@1']:.3f} | {m['hit@3']:.3f} | {m['mrr@10']:.3f} | {m['ndcg@10']:.3f} | "
                f"{abst} | {m['false_abstain']:.3f} | {m['mean_quote_chars']:.0f} |"
            )
        out.append("")
    return "\n".join(out)


def latency_table(s: dict) -> str:
    """Latency, memory and recall per corpus size."""
    lat = s["latency"]
    out = [
        "| passages | FAISS index | ask p50 | ask p95 | rank p50 | BM25 p50 | FAISS p50 | recall@10 (on-topic) | "
        "recall@10 (off-topic) | RSS (MiB) | answered |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in [lat["real"], *lat["rows"]]:
        label = r.get("label", f"{r['passages']:,}")
        ann = r["ann"]["type"] + (f" (ef {r['ann']['ef_search']})" if r["ann"]["type"] == "hnsw" else "")
        off = r.get("recall@10_off_topic")
        out.append(
            f"| {label} | {ann} | {r['ask_ms']['p50']:.1f} | {r['ask_ms']['p95']:.1f} | {r['rank_ms']['p50']:.1f} | "
            f"{r['keyword_ms']['p50']:.1f} | {r['ann_ms']['p50']:.2f} | {r['recall@10']:.3f} | "
            f"{'–' if off is None else f'{off:.3f}'} | {r['rss_mb']:.0f} | {r['answered']}/{r['questions']} |"
        )
    return "\n".join(out)


def sweep_table(s: dict) -> str:
    """The efSearch sweep at the largest HNSW size."""
    rows = [r for r in s["latency"]["rows"] if "ef_sweep" in r]
    if not rows:
        return ""
    r = rows[-1]
    off = {x["ef_search"]: x for x in r.get("ef_sweep_off_topic", [])}
    out = [
        f"efSearch sweep at {r['passages']:,} passages (HNSW M={r['ann']['m']}, efConstruction={r['ann']['ef_construction']}):\n",
        "| efSearch | recall@10 on-topic | recall@10 off-topic | FAISS p50 (ms, k=100) |",
        "|---:|---:|---:|---:|",
    ]
    for x in r["ef_sweep"]:
        o = off.get(x["ef_search"])
        off_recall = "–" if o is None else f"{o['recall@10']:.3f}"
        out.append(f"| {x['ef_search']} | {x['recall@10']:.3f} | {off_recall} | {x['p50']:.2f} |")
    return "\n".join(out)


def crossover_table(s: dict) -> str:
    """Flat against HNSW at the sizes around the switch."""
    out = [
        "| passages | flat p50 (ms) | HNSW p50 (ms) | HNSW recall@10 | HNSW build (s) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in s["crossover"]["rows"]:
        out.append(
            f"| {r['passages']:,} | {r['flat_ms']['p50']:.1f} | {r['hnsw_ms']['p50']:.2f} | {r['hnsw_recall@10']:.3f} | "
            f"{r['hnsw_build_seconds']:.0f} |"
        )
    return "\n".join(out)


def main() -> int:
    """Print every table that has results."""
    q_file, s_file = RESULTS / "quality.json", RESULTS / "speed.json"
    if q_file.exists():
        print(quality_tables(json.loads(q_file.read_text())))
    if s_file.exists():
        s = json.loads(s_file.read_text())
        for key, fn in (("latency", latency_table), ("latency", sweep_table), ("crossover", crossover_table)):
            if key in s:
                print(fn(s) + "\n")
        for key in ("build", "cold"):
            if key in s:
                print(f"{key}: {json.dumps({k: v for k, v in s[key].items() if k != 'runs'})}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
