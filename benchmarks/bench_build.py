"""Full-build benchmark in characters of source text per second: korea_bot vs the LangChain-default peer vs the floor.

Run (from the repository root, venv active; ~10 min on the 2-core machine):

    nice -n 10 python benchmarks/bench_build.py            # results into benchmarks/results/build.json

One process, one model load, in one run: the corpus (the bundled article, the 35 Wikipedia articles of
../shared/corpus/wikipedia-korea-2019 and a ~500 KB text of SciFact abstracts) is
- built by korea_bot (`build_index(full=True)`: read, chunk, pack, embed, write, publish),
- split and embedded by the LangChain-default peer (benchmarks/peer.py: 1,000/200-character chunks, same model),
- encoded once by the raw sentence-transformers model in 254-word-piece blocks of each document's body (the floor),
taking turns over --parts slices of the corpus (order rotated per slice, so drift of a shared machine hits all
three alike), --repeats times; every ratio is taken within one repeat, the table shows the medians.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_quality import RESULTS, git_commit
from peer import split_sources
from quality_core import ROOT, SHARED

from korea_bot.embedding.transformer import SentenceTransformerEmbedder
from korea_bot.index import build_index
from korea_bot.ingest.sources import discover, load_document

BIG_TEXT_CHARS = 500_000
FLOOR_TOKENS = 254  # a 256-piece window minus [CLS] and [SEP]


def make_corpus(work: Path) -> Path:
    """Write the benchmark's sources under work/sources (the seed article, the Wikipedia articles, one 500 KB text)."""
    sources = work / "sources"
    shutil.rmtree(sources, ignore_errors=True)
    shutil.copytree(ROOT / "docs_index" / "sources", sources)
    wiki = sources / "wiki"
    wiki.mkdir()
    for path in sorted((SHARED / "corpus" / "wikipedia-korea-2019").glob("*.txt")):
        if path.name != "SOURCE.txt":
            shutil.copyfile(path, wiki / path.name)
    parts, size = ["SciFact abstracts"], 0
    with gzip.open(SHARED / "eval" / "scifact" / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            parts.append(f"{row['title']}\n\n{row['text']}")
            size += len(parts[-1]) + 2
            if size >= BIG_TEXT_CHARS:
                break
    (sources / "scifact-500k.txt").write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return sources


def floor_texts(sources: Path, tokenizer) -> list[str]:  # type: ignore[no-untyped-def]
    """Each document's body cut into consecutive FLOOR_TOKENS-piece blocks (by the model's tokenizer offsets)."""
    out = []
    for name in discover(sources):
        doc = load_document(sources, name)
        body = doc.text[doc.body_start :]
        offsets = tokenizer(body, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        for i in range(0, len(offsets), FLOOR_TOKENS):
            piece = offsets[i : i + FLOOR_TOKENS]
            out.append(body[piece[0][0] : piece[-1][1]])
    return out


def source_chars(sources: Path) -> int:
    """Characters of extracted source text (every document's full text)."""
    return sum(len(load_document(sources, name).text) for name in discover(sources))


def split_parts(sources: Path, work: Path, parts: int) -> list[Path]:
    """The corpus as `parts` folders of about equal size, so the three systems can take turns on the machine."""
    names = sorted(discover(sources), key=lambda n: -(sources / n).stat().st_size)
    sizes, folders = [0] * parts, [work / f"part{i}" for i in range(parts)]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    for name in names:  # largest first into the smallest part
        i = sizes.index(min(sizes))
        sizes[i] += (sources / name).stat().st_size
        (folders[i] / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sources / name, folders[i] / name)
    return folders


def time_floor(embedder, sources: Path, batch_size: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds to encode the sources' text once with the raw model."""
    t0 = time.perf_counter()
    texts = floor_texts(sources, embedder.model.tokenizer)
    embedder.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - t0


def time_build(embedder, sources: Path, index: Path, batch_size: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds of a full korea_bot build."""
    t0 = time.perf_counter()
    build_index(sources, index, embedder, full=True, batch_size=batch_size)
    return time.perf_counter() - t0


def time_peer(embedder, sources: Path, batch_size: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds for the LangChain-default peer to split and embed the sources."""
    t0 = time.perf_counter()
    embedder.embed([c.text for c in split_sources(sources)], batch_size=batch_size)
    return time.perf_counter() - t0


def main() -> None:
    """Take turns (floor, korea_bot, peer, rotated per part) over the corpus' parts; write build.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/korea_bot_bench_build"))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--parts", type=int, default=3, help="turns per repeat (the machine drifts less within one)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS / "build.json")
    args = parser.parse_args()
    sources = make_corpus(args.work)
    chars = source_chars(sources)
    folders = split_parts(sources, args.work, args.parts)
    embedder = SentenceTransformerEmbedder()  # the reference backend for all three
    embedder.embed(["warm up"])
    runs = []
    for _ in range(args.repeats):
        total = {"floor": 0.0, "korea_bot": 0.0, "peer": 0.0}
        for i, folder in enumerate(folders):
            steps = {
                "floor": lambda f=folder: time_floor(embedder, f, args.batch_size),
                "korea_bot": lambda f=folder: time_build(embedder, f, f.with_name(f.name + "-index"), args.batch_size),
                "peer": lambda f=folder: time_peer(embedder, f, args.batch_size),
            }
            order = list(steps)[i % 3 :] + list(steps)[: i % 3]
            for name in order:
                total[name] += steps[name]()
        runs.append(
            {
                **{f"{k}_s": round(v, 2) for k, v in total.items()},
                "korea_bot_vs_peer": round(total["korea_bot"] / total["peer"], 3),
                "korea_bot_vs_floor": round(total["korea_bot"] / total["floor"], 3),
            }
        )
        print(json.dumps(runs[-1]), flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "source_chars": chars,
        "parts": args.parts,
        "chars_per_s": {k: round(chars / med[f"{k}_s"]) for k in ("korea_bot", "peer", "floor")},
        "median": med,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
