"""Retrieval metrics on question sets: hit@k, MRR@10, nDCG@10, abstention and mean quote length."""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .models import Chunk

_SAFE = re.compile(r"[^A-Za-z0-9_.()-]")


class EvalError(Exception):
    """A question file that cannot be read; the message names it."""


@dataclass
class EvalItem:
    """One question with what counts as a correct passage (answer strings, gold documents or gold spans)."""

    question: str
    answers: list[str] | None = None
    gold_docs: set[str] = field(default_factory=set)
    gold_spans: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def should_abstain(self) -> bool:
        """True for questions the sources do not answer."""
        return self.answers is None and not self.gold_docs and not self.gold_spans


@dataclass
class EvalSet:
    """Questions plus, for corpus datasets, the corpus rows to index (id, title, text)."""

    name: str
    items: list[EvalItem]
    corpus: list[tuple[str, str, str]] | None = None
    doc_level: bool = False


def _read_jsonl(path: Path) -> list[dict]:
    """Read a (possibly gzipped) JSONL file strictly."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
            return [json.loads(line) for line in fh if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalError(f"{path}: cannot read ({exc})") from None


def _corpus_beside(path: Path) -> list[tuple[str, str, str]] | None:
    """Rows of corpus.jsonl(.gz) in the question file's folder, if present."""
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (path.parent / name).exists():
            return [(str(r["_id"]), r.get("title") or "", r["text"]) for r in _read_jsonl(path.parent / name)]
    return None


def load_eval(path: Path, qrels: Path | None = None) -> EvalSet:
    """Recognise the question file's format (seed, NQ, SQuAD, BEIR, feedback) and load it."""
    if path.is_dir():
        path = path / "queries.jsonl"
    rows = _read_jsonl(path)
    if not rows:
        raise EvalError(f"{path}: no questions")
    first = rows[0]
    name = path.parent.name if path.name in ("queries.jsonl", "questions.jsonl") else path.stem
    if "answer_contains" in first:
        items = [
            EvalItem(r["question"], None if r["answer_contains"] is None else [r["answer_contains"]]) for r in rows
        ]
        return EvalSet(name, items)
    if "paragraph_id" in first:
        items = [EvalItem(r["question"], gold_docs={r["paragraph_id"]}) for r in rows]
        return EvalSet(name, items, _corpus_beside(path), doc_level=True)
    if "vote" in first:
        items = [
            EvalItem(r["question"], gold_spans=[(p["source"], p["start"], p["end"]) for p in r["passages"]])
            for r in rows
            if r.get("vote") == "up" and r.get("passages")
        ]
        return EvalSet(name, items)
    if "answer" in first:
        return EvalSet(name, [EvalItem(r["question"], list(r["answer"])) for r in rows])
    if "_id" in first and "text" in first:
        qrels = qrels or path.parent / "qrels" / "train.tsv"
        if not qrels.exists():
            qrels = path.parent / "qrels" / "test.tsv"
        gold: dict[str, set[str]] = {}
        try:
            with open(qrels, encoding="utf-8") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    if int(row.get("score", 1)) > 0:
                        gold.setdefault(row["query-id"], set()).add(row["corpus-id"])
        except (OSError, KeyError, ValueError) as exc:
            raise EvalError(f"{qrels}: cannot read relevance labels ({exc})") from None
        items = [EvalItem(r["text"], gold_docs=gold[str(r["_id"])]) for r in rows if str(r["_id"]) in gold]
        return EvalSet(name, items, _corpus_beside(path), doc_level=True)
    raise EvalError(f"{path}: unknown question format (keys: {', '.join(sorted(first))})")


def doc_file(doc_id: str) -> str:
    """The source file name a corpus document is written to."""
    return _SAFE.sub("_", doc_id) + ".md"


def materialize(corpus: list[tuple[str, str, str]], folder: Path) -> dict[str, str]:
    """Write each corpus row as a Markdown source with front matter; return source name -> doc id."""
    folder.mkdir(parents=True, exist_ok=True)
    mapping: dict[str, str] = {}
    for doc_id, title, text in corpus:
        name = doc_file(doc_id)
        mapping[name] = doc_id
        body = f"---\ntitle: {json.dumps(title or doc_id)}\n---\n{text}\n"
        target = folder / name
        if not target.exists() or target.read_text(encoding="utf-8") != body:
            target.write_text(body, encoding="utf-8")
    return mapping


Searcher = Callable[[str, int], tuple[bool, list[tuple[str, Chunk, float]]]]


def evaluate(evalset: EvalSet, search: Searcher, doc_ids: dict[str, str] | None = None, k: int = 10) -> dict:
    """Run every question through search and compute the metrics."""
    hits = {1: 0, 3: 0, 5: 0}
    mrr = ndcg = 0.0
    answerable = abstain_ok = abstain_total = false_abstain = 0
    lengths: list[int] = []
    for item in evalset.items:
        answered, results = search(item.question, 100 if evalset.doc_level else k)
        if item.should_abstain:
            abstain_total += 1
            abstain_ok += not answered
            continue
        answerable += 1
        if not answered:
            false_abstain += 1
            continue
        lengths.extend(len(c.text) for _, c, _ in results[:3])
        rel = _relevance(item, results, evalset.doc_level, doc_ids or {})[:k]
        first = next((i for i, r in enumerate(rel) if r), None)
        for cut in hits:
            hits[cut] += first is not None and first < cut
        mrr += 1.0 / (first + 1) if first is not None else 0.0
        n_rel = len(item.gold_docs) if evalset.doc_level else max(1, sum(rel))
        ideal = sum(1 / math.log2(i + 2) for i in range(min(n_rel, k)))
        ndcg += sum(1 / math.log2(i + 2) for i, r in enumerate(rel) if r) / ideal
    n = max(answerable, 1)
    return {
        "questions": len(evalset.items),
        "answerable": answerable,
        "hit@1": hits[1] / n,
        "hit@3": hits[3] / n,
        "hit@5": hits[5] / n,
        "mrr@10": mrr / n,
        "ndcg@10": ndcg / n,
        "false_abstain": false_abstain / n,
        "abstain_questions": abstain_total,
        "abstain_correct": abstain_ok / abstain_total if abstain_total else None,
        "mean_quote_chars": sum(lengths) / len(lengths) if lengths else 0.0,
    }


def _relevance(
    item: EvalItem, results: list[tuple[str, Chunk, float]], doc_level: bool, doc_ids: dict[str, str]
) -> list[bool]:
    """Binary relevance of each ranked result (documents deduplicated for document-level sets)."""
    if doc_level:
        seen: list[str] = []
        for source, _c, _s in results:
            doc = doc_ids.get(source, source)
            if doc not in seen:
                seen.append(doc)
        return [d in item.gold_docs for d in seen]
    if item.gold_spans:
        return [
            any(s == c.source and c.start < e and st < c.end for s, st, e in item.gold_spans)
            for _src, c, _sc in results
        ]
    answers = [" ".join(a.lower().split()) for a in item.answers or []]
    return [any(a in " ".join(c.text.lower().split()) for a in answers) for _src, c, _sc in results]


def format_report(name: str, metrics: dict) -> str:
    """A short human-readable summary of the metrics."""
    parts = [
        f"{name}: {metrics['answerable']} answerable questions",
        f"hit@1 {metrics['hit@1']:.3f}  hit@3 {metrics['hit@3']:.3f}  hit@5 {metrics['hit@5']:.3f}",
        f"MRR@10 {metrics['mrr@10']:.3f}  nDCG@10 {metrics['ndcg@10']:.3f}",
        f"false abstentions {metrics['false_abstain']:.3f}  mean quote {metrics['mean_quote_chars']:.0f} chars",
    ]
    if metrics["abstain_questions"]:
        parts.append(
            f"off-topic questions abstained: {metrics['abstain_correct']:.3f} of {metrics['abstain_questions']}"
        )
    return "\n".join(parts)
