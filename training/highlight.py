"""The highlight head: which sentence of an answer-holding passage holds the answer (logistic regression, CV'd)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from modeling import FOLDS, SEED, spans

from korea_bot.search.features import SENTENCE_NAMES


@dataclass
class Sentences:
    """Sentence rows of answer-holding passages: features, whether each holds the answer, the heuristic's pick."""

    X: np.ndarray
    y: np.ndarray
    passage: np.ndarray  # a key per passage (its sentences are consecutive rows)
    group: np.ndarray
    baseline: np.ndarray

    @classmethod
    def from_dumps(cls, dumps: dict[str, dict]) -> Sentences:
        """Concatenate the sentence rows of every set; a passage key changes where a sentence run restarts at 0."""
        parts = [(name, d) for name, d in dumps.items() if len(d["sy"])]
        keys = []
        for name, d in parts:
            first = d["SX"][:, SENTENCE_NAMES.index("s_first")] > 0
            keys.append(np.char.add(f"{name}:", np.cumsum(first).astype(str)))
        return cls(
            X=np.concatenate([d["SX"] for _, d in parts]),
            y=np.concatenate([d["sy"] for _, d in parts]),
            passage=np.concatenate(keys),
            group=np.concatenate([d["sgroup"] for _, d in parts]),
            baseline=np.concatenate([d["sbase"] for _, d in parts]),
        )


def _fit_sentence_head(S: Sentences, rows: np.ndarray):  # type: ignore[no-untyped-def]
    """Standardised logistic regression: does this sentence hold the answer?"""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(S.X[rows])
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=SEED).fit(scaler.transform(S.X[rows]), S.y[rows])
    return scaler, model


def highlight_report(S: Sentences, fold_of: dict[str, int]) -> dict:
    """Cross-validated: how often the chosen sentence holds the answer, learned vs the cosine + overlap heuristic."""
    fold = np.asarray([fold_of.get(g, 0) for g in S.group])
    prob = np.zeros(len(S.y))
    for k in range(FOLDS):
        scaler, model = _fit_sentence_head(S, fold != k)
        prob[fold == k] = model.predict_proba(scaler.transform(S.X[fold == k]))[:, 1]
    learned, heuristic, domain_rows = [], [], []
    for a, b in spans(S.passage):
        learned.append(bool(S.y[a + int(np.argmax(prob[a:b]))]))
        heuristic.append(bool((S.y[a:b] * S.baseline[a:b]).any()))
        domain_rows.append(S.group[a].split(":")[0])
    out = {}
    for domain in sorted(set(domain_rows)):
        pick = [i for i, d in enumerate(domain_rows) if d == domain]
        out[domain] = {
            "passages": len(pick),
            "learned": round(float(np.mean([learned[i] for i in pick])), 4),
            "heuristic": round(float(np.mean([heuristic[i] for i in pick])), 4),
        }
    return out


def fit_highlight(S: Sentences) -> dict:
    """The sentence head on all rows, as JSON."""
    scaler, model = _fit_sentence_head(S, np.ones(len(S.y), bool))
    return {
        "features": list(SENTENCE_NAMES),
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "coef": model.coef_[0].tolist(),
        "intercept": float(model.intercept_[0]),
    }
