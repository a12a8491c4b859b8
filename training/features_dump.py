"""Candidate features and labels for every training question, computed with the shipped code and cached."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from corpora import WORK, QuestionSet, question_sets, service

from korea_bot.config import DEFAULT_MODEL
from korea_bot.embedding import Embedder, make_embedder
from korea_bot.evaluation import EvalItem
from korea_bot.evaluation.formats import same_file
from korea_bot.models import Chunk
from korea_bot.search import aliases
from korea_bot.search.features import NAMES, SENTENCE_NAMES, TOP, candidate_features, sentence_features
from korea_bot.search.highlight import best_sentence
from korea_bot.service import Service


def label(item: EvalItem, chunk: Chunk, doc_ids: dict[str, str]) -> int:
    """2: the passage holds the answer (in the gold paragraph, if one is named); 1: gold paragraph only; 0: neither."""
    text = " ".join(chunk.text.lower().split())
    has = any(" ".join(a.lower().split()) in text for a in item.answers or [])
    if item.gold_docs:
        inside = doc_ids.get(chunk.source, chunk.source) in item.gold_docs
        return 2 if inside and (has or not item.answers) else int(inside)
    if item.source is not None and not same_file(item.source, chunk.source):
        return 0
    return 2 if has else 0


HIGHLIGHT_DEPTH = 5  # sentence rows come from the answer-holding passages among the best this many candidates


def _holds(item: EvalItem, text: str) -> bool:
    """Whether a sentence holds one of the item's answer strings (whitespace and case folded)."""
    flat = " ".join(text.lower().split())
    return any(" ".join(a.lower().split()) in flat for a in item.answers or [])


def dump_set(qs: QuestionSet, svc: Service) -> dict[str, np.ndarray]:
    """Features, labels and bookkeeping for one question set (one row per candidate)."""
    index = svc.index
    indexed = set(index.documents)
    X, y, qid, expect, rows_out = [], [], [], [], []
    SX, sy, sqid, sbase = [], [], [], []
    for n, item in enumerate(qs.items):
        expected = item.expectation(indexed)
        if expected == "either":
            continue
        query = svc.query(item.question)
        scored = svc.retriever.score(index, query)
        cand = candidate_features(index, query, scored, TOP)
        rows = scored.found.rows[cand.positions]
        labels = [label(item, index.chunks[int(r)], qs.doc_ids) if expected == "answer" else 0 for r in rows]
        X.append(cand.features)
        y.extend(labels)
        qid.extend([n] * len(rows))
        expect.extend([expected] * len(rows))
        rows_out.extend(int(r) for r in rows)
        for r in [r for r, lab in zip(rows[:HIGHLIGHT_DEPTH], labels, strict=False) if lab == 2]:
            chunk = index.chunks[int(r)]
            marks = [_holds(item, chunk.text[a - chunk.start : b - chunk.start]) for a, b in chunk.sentences]
            if not any(marks) or all(marks):
                continue  # nothing to choose between
            SX.append(sentence_features(index, query, int(r), cand.concepts, cand.qtype))
            sy.extend(marks)
            sqid.extend([n] * len(marks))
            vecs, _ = index.sentence_vectors_of(np.asarray([r]))
            pick = best_sentence(chunk, vecs @ query.vector, query.text)
            sbase.extend([span == pick for span in chunk.sentences])
    return {
        "SX": np.concatenate(SX) if SX else np.zeros((0, len(SENTENCE_NAMES)), np.float32),
        "sy": np.asarray(sy, np.int8),
        "sqid": np.asarray(sqid, np.int32),
        "sbase": np.asarray(sbase, np.int8),
        "X": np.concatenate(X) if X else np.zeros((0, len(NAMES)), np.float32),
        "y": np.asarray(y, np.int8),
        "qid": np.asarray(qid, np.int32),
        "expect": np.asarray(expect),
        "row": np.asarray(rows_out, np.int64),
    }


def cache_key(qs: QuestionSet, svc: Service) -> str:
    """A digest of what the dump depends on: questions, index version, feature names, aliases."""
    h = hashlib.sha256(json.dumps([qs.name, svc.version, list(NAMES), list(SENTENCE_NAMES), TOP]).encode())
    for item in qs.items:
        h.update(item.question.encode() + b"\0")
    h.update(repr([(r.sources, r.targets, r.rewrite) for r in svc.synonyms.rules]).encode())
    return h.hexdigest()[:16]


def dump_all(sets: list[QuestionSet], embedder: Embedder, model: str, feature_code: str) -> dict[str, dict]:
    """Dump (or load from the cache) every question set; feature_code is a digest of the feature modules."""
    out: dict[str, dict] = {}
    for qs in sets:
        svc = service(qs.corpus, embedder, model)
        path = WORK / "features" / f"{qs.name}-{cache_key(qs, svc)}-{feature_code}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                out[qs.name] = {k: data[k] for k in data.files}
        else:
            print(f"features: {qs.name} ({len(qs.items)} questions on {qs.corpus})", flush=True)
            out[qs.name] = dump_set(qs, svc)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **out[qs.name])
        groups = np.asarray(qs.groups)  # CV groups are not part of the cache
        out[qs.name]["group"] = groups[out[qs.name]["qid"]]
        out[qs.name]["sgroup"] = groups[out[qs.name]["sqid"]]
    return out


def feature_code_digest() -> str:
    """A digest of the source of the modules that compute features (a change invalidates the cache)."""
    h = hashlib.sha256()
    base = Path(aliases.__file__).parent
    names = ("features.py", "terms.py", "qtype.py", "aliases.py", "question.py", "candidates.py", "scoring.py")
    for name in (*names, "highlight.py"):
        h.update((base / name).read_bytes())
    return h.hexdigest()[:8]


def training_dumps() -> tuple[list[QuestionSet], dict[str, dict]]:
    """Every training question set and its features, with the bundled model (the cache is built on first use)."""
    sets = question_sets()
    return sets, dump_all(sets, make_embedder(DEFAULT_MODEL), DEFAULT_MODEL, feature_code_digest())
