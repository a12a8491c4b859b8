"""Full-build benchmark in characters of source text per second: korea_bot vs the LangChain-default peer vs the floor.

Run (from the repository root, venv active; ~15 min on the 2-core machine):

    nice -n 10 python benchmarks/bench_build.py            # results into benchmarks/results/build.json

One process, one model load per encoder, in one run: the corpus (the bundled article, the 35 Wikipedia articles of
../shared/corpus/wikipedia-korea-2019 and a ~500 KB text of SciFact abstracts) is
- built by korea_bot (`build_index(full=True)`: read, chunk, pack, embed, write, publish) on each --encoders
  backend (onnx = the default `auto` encoder, torch = sentence-transformers),
- split and embedded by the LangChain-default peer (benchmarks/peer.py: 1,000/200-character chunks, same model, on
  sentence-transformers as LangChain's HuggingFaceEmbeddings runs it),
- encoded once by each raw backend in 254-word-piece blocks of each document's body (the floor of that backend),
taking turns over --parts slices of the corpus (order rotated per slice, so drift of a shared machine hits all
systems alike), --repeats times; every ratio is taken within one repeat, the table shows the medians.
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

from korea_bot.embedding import make_embedder
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


def time_floor(embedder, tokenizer, sources: Path, batch_size: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds to encode the sources' text once with the raw backend (sentence-transformers' encode or ONNX's embed)."""
    t0 = time.perf_counter()
    texts = floor_texts(sources, tokenizer)
    if isinstance(embedder, SentenceTransformerEmbedder):
        embedder.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    else:
        embedder.embed(texts, batch_size=batch_size)
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
    """Take turns (floors, korea_bot builds, peer, rotated per part) over the corpus' parts; write build.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/korea_bot_bench_build"))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--parts", type=int, default=3, help="turns per repeat (the machine drifts less within one)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--encoders", default="onnx,torch", help="korea_bot's encoders to time (onnx, torch)")
    parser.add_argument("--out", type=Path, default=RESULTS / "build.json")
    args = parser.parse_args()
    sources = make_corpus(args.work)
    chars = source_chars(sources)
    folders = split_parts(sources, args.work, args.parts)
    torch = SentenceTransformerEmbedder()  # the peer's backend, and the reference one
    tokenizer = torch.model.tokenizer
    embedders = {"torch": torch}
    if "onnx" in args.encoders.split(","):
        embedders["onnx"] = make_embedder(torch.name, "onnx")
    for embedder in embedders.values():
        embedder.embed(["warm up"])
    chosen = [e for e in args.encoders.split(",") if e in embedders]
    runs = []
    for _ in range(args.repeats):
        total: dict[str, float] = {}
        for i, folder in enumerate(folders):
            steps = {"peer": lambda f=folder: time_peer(torch, f, args.batch_size)}
            for enc in chosen:
                emb, index = embedders[enc], folder.with_name(f"{folder.name}-index-{enc}")
                steps[f"floor_{enc}"] = lambda f=folder, e=emb: time_floor(e, tokenizer, f, args.batch_size)
                steps[f"korea_bot_{enc}"] = lambda f=folder, e=emb, x=index: time_build(e, f, x, args.batch_size)
            names = list(steps)
            for name in names[i % len(names) :] + names[: i % len(names)]:
                total[name] = total.get(name, 0.0) + steps[name]()
        run = {f"{k}_s": round(v, 2) for k, v in total.items()}
        for enc in chosen:
            run[f"korea_bot_{enc}_vs_peer"] = round(total[f"korea_bot_{enc}"] / total["peer"], 3)
            run[f"korea_bot_{enc}_vs_floor_{enc}"] = round(total[f"korea_bot_{enc}"] / total[f"floor_{enc}"], 3)
        runs.append(run)
        print(json.dumps(runs[-1]), flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "source_chars": chars,
        "parts": args.parts,
        "chars_per_s": {k.removesuffix("_s"): round(chars / v) for k, v in med.items() if k.endswith("_s")},
        "median": med,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
