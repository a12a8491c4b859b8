"""Compare passage scorings on a built index: window vector, separately encoded sentences, pooled sentences.

Run (from the repository root, venv active, after `korea-bot eval QUESTIONS --index INDEX` has built the index):

    python benchmarks/sentence_vectors.py ../shared/eval/squad2-half/questions.jsonl .korea_bot_eval/squad2-half/index
    python benchmarks/sentence_vectors.py ../shared/eval/seed_dev.jsonl /tmp/eval/seed

Every passage is scored (no candidate cut), so the figures isolate the scoring from the candidate lists. For each
scoring it prints hit@1 dense only and fused with BM25 at several weights (the fusion of retriever.rank), and
how often the highlight picked by each kind of sentence vector holds the answer (sets with answer strings).
"Separately encoded" embeds every sentence on its own (a second pass over the corpus); "pooled" is what the
index stores: the mean of each sentence's contextual token vectors from the passage's own forward pass.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from korea_bot.embedding import make_embedder
from korea_bot.evaluation import doc_file, load_eval, relevance
from korea_bot.index import LoadedIndex, load_index
from korea_bot.search.highlight import best_sentence

WEIGHTS = (1.0, 0.4, 0.5, 0.6, 0.7)


def max_per_passage(sims: np.ndarray, index: LoadedIndex) -> np.ndarray:
    """Row-wise max of sentence similarities (questions x sentences) within each passage's run."""
    return np.maximum.reduceat(sims, index.sentence_start[:-1], axis=1)


def fused_top(dense: np.ndarray, kw: np.ndarray, w: float) -> np.ndarray:
    """The top passage per question under retriever.rank's fusion."""
    kw_norm = kw / np.maximum(kw.max(axis=1, keepdims=True), 1e-9)
    return (w * dense + (1 - w) * kw_norm * np.maximum(dense.max(axis=1, keepdims=True), 0)).argmax(axis=1)


def answer_strings(path: Path) -> dict[str, list[str]]:
    """Answer strings by question, straight from the file (SQuAD `answers`, seed `answer_contains`)."""
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        found = row.get("answers") or ([row["answer_contains"]] if row.get("answer_contains") else [])
        if found:
            out[" ".join(row["question"].split())] = [a.lower() for a in found]
    return out


def highlight_rate(
    index: LoadedIndex, items: list, q: np.ndarray, vecs: np.ndarray, answers: dict
) -> tuple[float, int]:
    """Share of multi-sentence passages (of the gold documents) whose best_sentence holds an answer string."""
    hits = cases = 0
    for item, qv in zip(items, q, strict=True):
        found = answers.get(" ".join(item.question.split()), [])
        gold = {doc_file(d) for d in item.gold_docs}
        for row, c in enumerate(index.chunks):
            if not found or (gold and c.source not in gold):
                continue
            good = {
                (s, e) for s, e in c.sentences if any(a in c.text[s - c.start : e - c.start].lower() for a in found)
            }
            if len(c.sentences) < 2 or not good or len(good) == len(c.sentences):
                continue
            cases += 1
            sims = vecs[index.sentence_start[row] : index.sentence_start[row + 1]] @ qv
            hits += best_sentence(c, sims, item.question) in good
    return (hits / cases if cases else float("nan")), cases


def main() -> None:
    """Print one line per scoring."""
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", type=Path)
    parser.add_argument("index", type=Path)
    args = parser.parse_args()
    index = load_index(args.index)
    emb = make_embedder(index.manifest["model"])
    evalset = load_eval(args.questions)
    items = [i for i in evalset.items if not i.should_abstain]
    q = emb.embed([i.question for i in items])
    kw = np.stack([index.keyword.scores(i.question) for i in items])
    separate = emb.embed([index.chunks[r].text[s - index.chunks[r].start : e - index.chunks[r].start]
                          for r, c in enumerate(index.chunks) for s, e in c.sentences], batch_size=64)  # fmt: skip
    pooled = np.asarray(index.sentence_vectors, dtype=np.float32)
    scorings = {
        "window vector": q @ np.asarray(index.vectors, dtype=np.float32).T,
        "closest sentence, encoded separately": max_per_passage(q @ separate.T, index),
        "closest sentence, pooled (shipped)": max_per_passage(q @ pooled.T, index),
    }

    def hit1(top: np.ndarray) -> float:
        if evalset.doc_level:
            return float(np.mean([index.chunks[t].source in {doc_file(d) for d in i.gold_docs}
                                  for i, t in zip(items, top, strict=True)]))  # fmt: skip
        c = index.chunks
        return float(
            np.mean([relevance(i, [(c[t].source, c[t], 0.0)], False, {})[0] for i, t in zip(items, top, strict=True)])
        )

    print(f"{args.questions.name}: {len(items)} questions, {len(index.chunks)} passages; hit@1 at weight {WEIGHTS}")
    for name, dense in scorings.items():
        print(f"{name:40s}", " ".join(f"{hit1(fused_top(dense, kw, w)):.3f}" for w in WEIGHTS), flush=True)
    answers = answer_strings(args.questions) if args.questions.suffix == ".jsonl" else {}
    if answers:
        for name, vecs in (("separately encoded", separate), ("pooled (shipped)", pooled)):
            rate, cases = highlight_rate(index, items, q, vecs, answers)
            print(f"highlight holds the answer, {name}: {rate:.3f} of {cases} passages")


if __name__ == "__main__":
    main()
