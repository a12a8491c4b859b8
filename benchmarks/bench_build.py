"""Full-build benchmark in characters of source text per second: korea_bot vs the LangChain-default peer vs the floor.

Run (from the repository root, venv active; ~10 min on the 2-core machine):

    nice -n 10 python benchmarks/bench_build.py            # results into benchmarks/results/build.json

One process, one model load, in one run: the corpus (the bundled article, the 35 Wikipedia articles of
../shared/corpus/wikipedia-korea-2019 and a ~500 KB text of SciFact abstracts) is
- built by korea_bot (`build_index(full=True)`: read, chunk, pack, embed, write, publish),
- split and embedded by the LangChain-default peer (benchmarks/peer.py: 1,000/200-character chunks, same model),
- encoded once by the raw sentence-transformers model in 254-word-piece blocks of each document's body (the floor),
alternated --repeats times; every ratio is taken within one repeat, the table shows the medians.
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


def main() -> None:
    """Alternate korea_bot build, peer embed and raw floor encode; write build.json and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/korea_bot_bench_build"))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS / "build.json")
    args = parser.parse_args()
    sources = make_corpus(args.work)
    chars = source_chars(sources)
    embedder = SentenceTransformerEmbedder()  # the reference backend for all three
    embedder.embed(["warm up"])
    runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        texts = floor_texts(sources, embedder.model.tokenizer)
        embedder.model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False)
        floor_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = build_index(sources, args.work / "index", embedder, full=True, batch_size=args.batch_size)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        chunks = split_sources(sources)
        embedder.embed([c.text for c in chunks], batch_size=args.batch_size)
        peer_s = time.perf_counter() - t0
        runs.append(
            {
                "korea_bot_s": round(build_s, 2),
                "peer_s": round(peer_s, 2),
                "floor_s": round(floor_s, 2),
                "korea_bot_vs_peer": round(build_s / peer_s, 3),
                "korea_bot_vs_floor": round(build_s / floor_s, 3),
                "passages": report.passages,
                "peer_chunks": len(chunks),
                "floor_blocks": len(texts),
            }
        )
        print(json.dumps(runs[-1]), flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "source_chars": chars,
        "chars_per_s": {k: round(chars / med[f"{k}_s"]) for k in ("korea_bot", "peer", "floor")},
        "median": med,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
