"""Stage 3b, learned ranking and answerability: reorder the best candidates, give each a calibrated probability."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..index import LoadedIndex
from ..models import Span
from .collapse import Hit
from .features import NAMES, SENTENCE_NAMES, candidate_features, question_terms, sentence_features
from .gbdt import Forest
from .question import Query
from .scoring import Scored

log = logging.getLogger(__name__)
DEFAULT = "default"  # the model shipped in the package (search/data/ranker.json), trained by training/train_ranker.py
FORMAT = 1
REST = 60  # candidates kept after the learned ones (probability 0), for document-level lists of ten documents


@dataclass(frozen=True)
class SentenceHead:
    """The highlight head: standardised logistic regression over a passage's sentence features."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def best(self, features: np.ndarray) -> int:
        """The index of the sentence most likely to hold the answer."""
        return int(np.argmax(((features - self.mean) / self.scale) @ self.coef))


@dataclass(frozen=True)
class Head:
    """The answerability head: standardised logistic regression over some features, the ranker score and its gap."""

    columns: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, features: np.ndarray, score: np.ndarray) -> np.ndarray:
        """P(this candidate holds the answer) for candidate rows of one question."""
        z = np.column_stack([features[:, self.columns], score, score - score.max()])
        return 1.0 / (1.0 + np.exp(-(((z - self.mean) / self.scale) @ self.coef + self.intercept)))


class LearnedStage:
    """The trained ranker and answerability head, with the thresholds of the reply tiers."""

    def __init__(self, model: dict, name: str = "ranker.json") -> None:
        """Check the model fits this code's features, then build the forest and the head."""
        if model.get("format") != FORMAT:
            raise ConfigError(f"{name}: ranking model format {model.get('format')!r}, this korea_bot reads {FORMAT}")
        if model.get("features") != list(NAMES):
            missing = sorted(set(NAMES) ^ set(model.get("features") or []))
            raise ConfigError(
                f"{name}: the ranking model was trained on other features than this korea_bot computes "
                f"({', '.join(missing[:5]) or 'different order'}): retrain it with training/train_ranker.py"
            )
        head = model["head"]
        self.embedding_model = str(model.get("embedding_model", ""))
        self.forest = Forest(model["ranker"]["trees"], len(NAMES))
        self.head = Head(
            columns=np.asarray([NAMES.index(f) for f in head["features"]]),
            mean=np.asarray(head["mean"]),
            scale=np.asarray(head["scale"]),
            coef=np.asarray(head["coef"]),
            intercept=float(head["intercept"]),
        )
        sentence = model.get("highlight")
        if sentence is not None and sentence.get("features") != list(SENTENCE_NAMES):
            raise ConfigError(f"{name}: the highlight model was trained on other sentence features: retrain it")
        self.sentence_head = (
            None
            if sentence is None
            else SentenceHead(
                mean=np.asarray(sentence["mean"]),
                scale=np.asarray(sentence["scale"]),
                coef=np.asarray(sentence["coef"]),
                intercept=float(sentence["intercept"]),
            )
        )
        self.confident = float(model["thresholds"]["confident"])
        self.shown = float(model["thresholds"]["shown"])
        self.relative = float(model["thresholds"].get("relative", 0.5))

    def applies_to(self, index: LoadedIndex) -> bool:
        """Whether the index was embedded by the model the ranker was trained with (its cosines mean the same)."""
        return not self.embedding_model or index.manifest.get("model") == self.embedding_model

    def rerank(self, index: LoadedIndex, query: Query, scored: Scored) -> list[Hit]:
        """The best candidates by learned score, each with its probability; the rest after them with probability 0."""
        cand = candidate_features(index, query, scored)
        if not len(cand.positions):
            return []
        raw = self.forest.predict(cand.features)
        prob = self.head.probability(cand.features, raw)
        order = np.argsort(-raw, kind="stable")
        seen = set(cand.positions.tolist())
        rest = [p for p in scored.order()[: len(seen) + REST].tolist() if p not in seen]
        positions = cand.positions[order].tolist() + rest
        probabilities = prob[order].tolist() + [0.0] * len(rest)
        rows = scored.found.rows.tolist()  # Python numbers once, not one numpy scalar per hit and field
        dense, keyword = scored.dense.tolist(), scored.keyword.tolist()
        return [
            Hit(row=rows[p], score=pr, dense=dense[p], keyword=keyword[p])
            for p, pr in zip(positions, probabilities, strict=True)
        ]

    def highlight(self, index: LoadedIndex, query: Query, row: int) -> Span | None:
        """The sentence of passage `row` the highlight head picks (None without one)."""
        if self.sentence_head is None:
            return None
        concepts, qtype = question_terms(index, query)
        best = self.sentence_head.best(sentence_features(index, query, row, concepts, qtype))
        return index.chunks[row].sentences[best]


@lru_cache(maxsize=4)
def load(path: str) -> LearnedStage | None:
    """The learned stage from a model file (`default`: the shipped one; `off`: none)."""
    if path == "off":
        return None
    if path == DEFAULT:
        text = resources.files(__package__).joinpath("data", "ranker.json").read_text(encoding="utf-8")
        return LearnedStage(json.loads(text), "the shipped ranker.json")
    try:
        model = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the ranking model {path} (KOREA_BOT_RANKER): {exc}") from None
    return LearnedStage(model, path)
