"""Retrieval metrics on a question set: hit@k, MRR@10, nDCG@10, abstention and mean quote length."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..models import Chunk
from .formats import EvalItem, EvalSet

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
        rel = relevance(item, results, evalset.doc_level, doc_ids or {})[:k]
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
