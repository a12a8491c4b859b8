"""Sweep the fusion weight and abstain threshold on the dev sets, reusing built indexes.

Usage: python benchmarks/tune_fusion.py NAME=QUESTIONS:SOURCES:INDEX [...] [--weights 0.3,0.5] [--min-scores 0.2,0.3]
Each NAME=... names a question file, the sources folder and an already built index folder (build it with
`korea-bot index --sources S --index I`, or `korea-bot eval` for corpus datasets). Prints one line per setting.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from korea_bot.config import load_settings
from korea_bot.embedding.base import Done
from korea_bot.evaluation import doc_file, evaluate, load_eval
from korea_bot.service import Service


class CachedEmbedder:
    """Wrap an embedder and remember query vectors so a sweep embeds each question once."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        """Wrap inner."""
        self.inner, self.name, self.dim, self.cache = inner, inner.name, inner.dim, {}

    def embed(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed, from the cache when possible."""
        missing = [t for t in texts if t not in self.cache]
        if missing:
            for t, v in zip(missing, self.inner.embed(missing), strict=True):
                self.cache[t] = v
        return np.stack([self.cache[t] for t in texts])

    def embed_passages(
        self, texts: list[str], spans: list, batch_size: int = 64, done: Done | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Passage and sentence vectors, straight from the inner embedder."""
        return self.inner.embed_passages(texts, spans, batch_size, done)


def main() -> None:
    """Run the sweep."""
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--weights", default="0.3,0.4,0.5,0.6,0.7")
    parser.add_argument("--min-scores", default="0.3")
    args = parser.parse_args()
    runs = []
    for spec in args.sets:
        name, rest = spec.split("=", 1)
        questions, sources, index = rest.split(":")
        evalset = load_eval(Path(questions))
        doc_ids = {doc_file(d): d for d, _t, _x in evalset.corpus} if evalset.corpus else {}
        service = Service(load_settings(sources_dir=sources, index_dir=index))
        service._embedder = CachedEmbedder(service.embedder)
        service._embedder.embed([" ".join(item.question.split()) for item in evalset.items])
        runs.append((name, evalset, service, doc_ids))
    for w in [float(x) for x in args.weights.split(",")]:
        for m in [float(x) for x in args.min_scores.split(",")]:
            line = {"w": w, "min": m}
            for name, evalset, service, doc_ids in runs:
                service.retrieval = replace(service.retrieval, dense_weight=w, min_score=m)
                r = evaluate(evalset, service.search, doc_ids)
                line[name] = {k: round(r[k], 3) for k in ("hit@1", "hit@3", "ndcg@10", "false_abstain")}
                if r["abstain_questions"]:
                    line[name]["abstain"] = r["abstain_correct"]
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
