"""The learned stage's models: a LightGBM lambdarank ranker and a logistic answerability head, cross-validated."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from korea_bot.config import DEFAULT_MODEL
from korea_bot.search.features import NAMES

SEED = 2026
FOLDS = 5
RANKER = {
    "objective": "lambdarank",
    "learning_rate": 0.1,
    "max_depth": 5,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambdarank_truncation_level": 10,
    "label_gain": [0.0, 1.0, 3.0],
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "seed": SEED,
    "verbose": -1,
}
ROUNDS = 150
KOREA_WEIGHT_CAP = 10.0  # a small domain's questions weigh at most this much more than the biggest domain's
# the Korea domain (the questions the bot is for) weighs this many times the others in total; 2-6 all gained about
# 0.02 out-of-fold hit@1 on the Korea questions over 1 (round 4, training/sweep.py), 3 is the middle
KOREA_BOOST = 3.0
HEAD_DEPTH = 3  # the answerability head is fitted on the best this many candidates of each question
HEAD_FEATURES = (
    *("cos_sent", "cos_win", "cos_sent_gap", "bm25_log", "bm25_norm", "cov_win", "miss_win", "cov_sent"),
    *("miss_sent", "cov_sent_max", "atype_sent", "idf_unknown", "idf_total", "n_concepts", "top_cos", "doc_share"),
)
FALSE_ABSTAIN = 0.03  # the share of answerable questions the thresholds let fall below them
RELATIVE = 0.5  # a passage is shown only if its probability is at least this share of the best one's


@dataclass
class Data:
    """All candidate rows of all question sets, with per-row question keys."""

    X: np.ndarray
    y: np.ndarray
    question: np.ndarray  # a unique key per (set, question)
    group: np.ndarray  # CV group (domain / article)
    expect: np.ndarray
    set_name: np.ndarray

    @classmethod
    def from_dumps(cls, dumps: dict[str, dict]) -> Data:
        """Concatenate the per-set dumps."""
        parts = [(name, d) for name, d in dumps.items() if len(d["y"])]
        return cls(
            X=np.concatenate([d["X"] for _, d in parts]).astype(np.float32),
            y=np.concatenate([d["y"] for _, d in parts]),
            question=np.concatenate([np.char.add(f"{name}:", d["qid"].astype(str)) for name, d in parts]),
            group=np.concatenate([d["group"] for _, d in parts]),
            expect=np.concatenate([d["expect"] for _, d in parts]),
            set_name=np.concatenate([[name] * len(d["y"]) for name, d in parts]),
        )

    def folds(self) -> np.ndarray:
        """A fold per row: whole groups (the Korea domain, each SQuAD article, cross-domain quarters) go together."""
        groups = sorted(set(self.group.tolist()))
        rng = np.random.default_rng(SEED)
        order = rng.permutation(len(groups))
        fold_of = {g: int(i % FOLDS) for g, i in zip(groups, order, strict=True)}
        return np.asarray([fold_of[g] for g in self.group])


def _bounds(keys: np.ndarray) -> np.ndarray:
    """Where each run of equal consecutive keys starts, plus the end (one question's or passage's rows)."""
    return np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1, [len(keys)]])


def spans(keys: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of equal consecutive keys."""
    return list(itertools.pairwise(_bounds(keys).tolist()))


def _runs(keys: np.ndarray) -> np.ndarray:
    """Sizes of consecutive runs of equal keys (LightGBM's query groups)."""
    return np.diff(_bounds(keys))


def train_ranker(data: Data, mask: np.ndarray):  # type: ignore[no-untyped-def]
    """A lambdarank booster on the questions (within mask) that have an answer among their candidates."""
    import lightgbm as lgb

    useful = mask & (data.expect == "answer")
    has_answer = {q for q in np.unique(data.question[useful & (data.y > 0)])}
    rows = useful & np.isin(data.question, list(has_answer))
    train = lgb.Dataset(
        data.X[rows],
        label=data.y[rows],
        group=_runs(data.question[rows]),
        weight=domain_weights(data)[rows],
        feature_name=list(NAMES),
    )
    return lgb.train(RANKER, train, num_boost_round=ROUNDS)


def domain_weights(data: Data) -> np.ndarray:
    """Row weights giving each domain (SQuAD, cross-domain) the same total weight, the Korea questions KOREA_BOOST×."""
    domain = np.asarray([g.split(":")[0] for g in data.group])
    out = np.ones(len(domain))
    questions = {d: len(np.unique(data.question[domain == d])) for d in np.unique(domain)}
    biggest = max(questions.values())
    for d, n in questions.items():
        out[domain == d] = min(biggest / n, KOREA_WEIGHT_CAP) * (KOREA_BOOST if d == "korea" else 1.0)
    return out


def head_matrix(data: Data, score: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The answerability head's inputs for the given rows: chosen features, the ranker score and its gap to the best."""
    cols = [NAMES.index(n) for n in HEAD_FEATURES]
    best = _per_question_max(data.question, score)
    return np.column_stack([data.X[rows][:, cols], score[rows], score[rows] - best[rows]])


def _per_question_max(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row, the maximum of `values` over the rows of its question."""
    out = np.empty_like(values)
    for a, b in spans(keys):
        out[a:b] = values[a:b].max()
    return out


def top_rows(data: Data, score: np.ndarray, depth: int) -> np.ndarray:
    """Row indices of the best `depth` candidates of each question by score."""
    out = []
    for a, b in spans(data.question):
        out.extend(a + np.argsort(-score[a:b], kind="stable")[:depth])
    return np.asarray(sorted(out), np.int64)


def train_head(data: Data, score: np.ndarray, mask: np.ndarray):  # type: ignore[no-untyped-def]
    """Standardised logistic regression: does this candidate (one of its question's best) hold the answer?"""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rows = top_rows(data, score, HEAD_DEPTH)
    rows = rows[mask[rows]]
    Z = head_matrix(data, score, rows)
    scaler = StandardScaler().fit(Z)
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=SEED).fit(scaler.transform(Z), data.y[rows] > 0)
    return scaler, model


def head_probability(scaler, model, Z: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The head's probability for rows of head inputs."""
    return model.predict_proba(scaler.transform(Z))[:, 1]


def cross_validate(data: Data) -> dict[str, np.ndarray]:
    """Out-of-fold ranker scores and head probabilities for every row (each fold predicted by models not fit on it)."""
    fold = data.folds()
    score = np.zeros(len(data.y))
    for k in range(FOLDS):
        booster = train_ranker(data, fold != k)
        score[fold == k] = booster.predict(data.X[fold == k])
    prob = np.zeros(len(data.y))
    for k in range(FOLDS):
        scaler, model = train_head(data, score, fold != k)
        rows = np.flatnonzero(fold == k)
        prob[rows] = head_probability(scaler, model, head_matrix(data, score, rows))
    return {"score": score, "prob": prob, "fold": fold}


def question_table(data: Data, score: np.ndarray, prob: np.ndarray) -> list[dict]:
    """Per question: its set, expectation, whether the best-scored candidate holds the answer, and its probability."""
    out = []
    for a, b in spans(data.question):
        best = a + int(np.argmax(score[a:b]))
        fused_best = a  # rows are stored best fused first
        top = a + np.argsort(-score[a:b], kind="stable")[:HEAD_DEPTH]
        prob_best = int(top[np.argmax(prob[top])])  # the order the probabilities shown would give
        out.append(
            {
                "set": str(data.set_name[a]),
                "key": str(data.question[a]),
                "group": str(data.group[a]),
                "expect": str(data.expect[a]),
                "hit": bool(data.y[best] > 0),
                "hit_fused": bool(data.y[fused_best] > 0),
                "hit_prob": bool(data.y[prob_best] > 0),
                "recall": bool((data.y[a:b] > 0).any()),
                "p": float(prob[best]),
            }
        )
    return out


def thresholds(table: list[dict]) -> tuple[float, float]:
    """(confident, shown): at most 3 % of answerable questions fall below `confident` in every domain (the Korea
    questions pooled over both corpora, SQuAD), and at most 3 % get no passage at all (below `shown`) in every
    corpus setting — the article alone, the article with Wikipedia, SQuAD; between the two, the low tier."""
    per_domain: dict[str, list[float]] = {}
    per_setting: dict[str, list[float]] = {}
    for row in table:
        if row["expect"] == "answer":
            per_domain.setdefault(row["group"].split(":")[0], []).append(row["p"])
            per_setting.setdefault(row["set"], []).append(row["p"])
    confident = min(float(np.quantile(ps, FALSE_ABSTAIN)) for ps in per_domain.values())
    shown = min(float(np.quantile(ps, FALSE_ABSTAIN)) for ps in per_setting.values())
    return confident, min(confident, shown)


def report(data: Data, oof: dict[str, np.ndarray], subsets: dict[str, set[str]] | None = None) -> dict:
    """Cross-validated figures per set and per named subset (question keys): hit@1, recall, abstention."""
    table = question_table(data, oof["score"], oof["prob"])
    confident, shown = thresholds(table)
    out: dict = {"thresholds": {"confident": confident, "shown": shown}, "sets": {}}
    parts = {name: [r for r in table if r["set"] == name] for name in sorted({r["set"] for r in table})}
    for sub, keys in (subsets or {}).items():
        parts[sub] = [r for r in table if r["key"] in keys]
    for name, rows in parts.items():
        ans = [r for r in rows if r["expect"] == "answer"]
        ref = [r for r in rows if r["expect"] == "abstain"]
        entry = {"questions": len(rows)}
        if ans:
            entry.update(
                answerable=len(ans),
                hit1_fused=np.mean([r["hit_fused"] for r in ans]),
                hit1=np.mean([r["hit"] for r in ans]),
                hit1_by_probability=np.mean([r["hit_prob"] for r in ans]),
                recall=np.mean([r["recall"] for r in ans]),
                false_abstain=np.mean([r["p"] < confident for r in ans]),
                hit1_answered=np.mean([r["hit"] and r["p"] >= confident for r in ans]),
            )
        if ref:
            entry.update(
                unanswerable=len(ref),
                abstained=np.mean([r["p"] < confident for r in ref]),
                not_shown=np.mean([r["p"] < shown for r in ref]),
            )
        out["sets"][name] = {
            k: round(float(v), 4) if isinstance(v, float | np.floating) else v for k, v in entry.items()
        }
    return out


def fit(data: Data, oof: dict[str, np.ndarray], summary: dict) -> dict:
    """The final models on all data, as JSON: trees, head, thresholds, and check rows to verify the export."""
    booster = train_ranker(data, np.ones(len(data.y), bool))
    score = booster.predict(data.X)
    scaler, model = train_head(data, score, np.ones(len(data.y), bool))
    rng = np.random.default_rng(SEED)
    check = rng.choice(len(data.y), size=min(64, len(data.y)), replace=False)
    head_in = head_matrix(data, score, check)
    return {
        "format": 1,
        "embedding_model": DEFAULT_MODEL,
        "features": list(NAMES),
        "ranker": {"trees": [_compact(t["tree_structure"]) for t in booster.dump_model()["tree_info"]]},
        "head": {
            "features": list(HEAD_FEATURES),
            "mean": scaler.mean_.tolist(),
            "scale": scaler.scale_.tolist(),
            "coef": model.coef_[0].tolist(),
            "intercept": float(model.intercept_[0]),
        },
        "thresholds": {**summary["thresholds"], "relative": RELATIVE},
        "check": {
            "features": data.X[check].tolist(),
            "scores": score[check].tolist(),
            "head_inputs": head_in.tolist(),
            "probabilities": head_probability(scaler, model, head_in).tolist(),
        },
        "cross_validated": summary["sets"],
    }


def _compact(node: dict) -> dict:
    """A tree node with only what prediction needs (LightGBM's dump also carries gains and counts)."""
    if "leaf_value" in node:
        return {"leaf_value": node["leaf_value"]}
    if node.get("decision_type") != "<=" or node.get("missing_type") not in (None, "None"):
        raise ValueError(
            f"unexpected split in the trained trees: {node.get('decision_type')}, {node.get('missing_type')}"
        )
    return {
        "split_feature": node["split_feature"],
        "threshold": node["threshold"],
        "left_child": _compact(node["left_child"]),
        "right_child": _compact(node["right_child"]),
    }
