"""Retrieval metrics on a question set: hit@k, MRR@10, nDCG@10, abstention and mean quote length."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..models import Chunk
from .formats import EvalItem, EvalSet, same_file

Searcher = Callable[[str, int], tuple[bool, list[tuple[str, Chunk, float]]]]


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What happened to one question: expected, answered, where the first relevant passage was."""

    kind: str
    expected: str  # answer / abstain / either
    answered: bool
    first: int | None  # 0-based rank of the first relevant passage in the top k (None: none)
    ndcg: float
    quote_chars: list[int]


def judge(
    item: EvalItem,
    answered: bool,
    results: list[tuple[str, Chunk, float]],
    doc_level: bool,
    doc_ids: dict[str, str],
    k: int,
    indexed: set[str] | None,
) -> Outcome:
    """Score one question's reply."""
    expected = item.expectation(indexed)
    rel = relevance(item, results, doc_level, doc_ids)[:k] if expected == "answer" and answered else []
    first = next((i for i, r in enumerate(rel) if r), None)
    n_rel = len(item.gold_docs) if doc_level else max(1, sum(rel))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(n_rel, k)))
    ndcg = sum(1 / math.log2(i + 2) for i, r in enumerate(rel) if r) / ideal
    quotes = [len(c.text) for _s, c, _sc in results[:3]] if answered else []
    return Outcome(kind=item.kind, expected=expected, answered=answered, first=first, ndcg=ndcg, quote_chars=quotes)


def summarise(outcomes: list[Outcome]) -> dict:
    """hit@k, MRR, nDCG and false abstentions over the questions to answer; abstention over those to refuse."""
    answer = [o for o in outcomes if o.expected == "answer"]
    refuse = [o for o in outcomes if o.expected == "abstain"]
    n = max(len(answer), 1)
    lengths = [c for o in answer for c in o.quote_chars]

    def hit(cut: int) -> float:
        return sum(o.first is not None and o.first < cut for o in answer) / n

    return {
        "questions": len(outcomes),
        "answerable": len(answer),
        "hit@1": hit(1),
        "hit@3": hit(3),
        "hit@5": hit(5),
        "mrr@10": sum(1.0 / (o.first + 1) for o in answer if o.first is not None) / n,
        "ndcg@10": sum(o.ndcg for o in answer) / n,
        "false_abstain": sum(not o.answered for o in answer) / n,
        "abstain_questions": len(refuse),
        "abstain_correct": sum(not o.answered for o in refuse) / len(refuse) if refuse else None,
        "not_scored": sum(o.expected == "either" for o in outcomes),
        "mean_quote_chars": sum(lengths) / len(lengths) if lengths else 0.0,
    }


def evaluate(
    evalset: EvalSet,
    search: Searcher,
    doc_ids: dict[str, str] | None = None,
    k: int = 10,
    indexed: set[str] | None = None,
) -> dict:
    """Run every question through search and compute the metrics, overall and per kind of question."""
    outcomes = []
    for item in evalset.items:
        answered, results = search(item.question, 100 if evalset.doc_level else k)
        outcomes.append(judge(item, answered, results, evalset.doc_level, doc_ids or {}, k, indexed))
    metrics = summarise(outcomes)
    kinds = sorted({o.kind for o in outcomes if o.kind})
    if kinds:
        metrics["by_kind"] = {kind: summarise([o for o in outcomes if o.kind == kind]) for kind in kinds}
    return metrics


def relevance(
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
    return [
        (item.source is None or same_file(item.source, c.source))
        and any(a in " ".join(c.text.lower().split()) for a in answers)
        for _src, c, _sc in results
    ]


def format_report(name: str, metrics: dict) -> str:
    """A short human-readable summary of the metrics, with a line per kind of question when there are kinds."""
    parts = [
        f"{name}: {metrics['answerable']} answerable questions",
        f"hit@1 {metrics['hit@1']:.3f}  hit@3 {metrics['hit@3']:.3f}  hit@5 {metrics['hit@5']:.3f}",
        f"MRR@10 {metrics['mrr@10']:.3f}  nDCG@10 {metrics['ndcg@10']:.3f}",
        f"false abstentions {metrics['false_abstain']:.3f}  mean quote {metrics['mean_quote_chars']:.0f} chars",
    ]
    if metrics["abstain_questions"]:
        parts.append(
            f"unanswerable questions abstained: {metrics['abstain_correct']:.3f} of {metrics['abstain_questions']}"
        )
    if metrics.get("not_scored"):
        parts.append(f"not scored (also answered by other indexed sources): {metrics['not_scored']}")
    for kind, m in metrics.get("by_kind", {}).items():
        line = f"  {kind}: {m['questions']} questions"
        if m["answerable"]:
            line += f", hit@1 {m['hit@1']:.3f}, false abstentions {m['false_abstain']:.3f}"
        if m["abstain_questions"]:
            line += f", abstained {m['abstain_correct']:.3f} of {m['abstain_questions']}"
        if m["not_scored"]:
            line += f", {m['not_scored']} not scored"
        parts.append(line)
    return "\n".join(parts)
