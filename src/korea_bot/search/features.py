"""Stage 3b input: interpretable features of each candidate passage for the learned ranking and answerability."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ..index import LoadedIndex
from ..models import Chunk
from . import terms
from .aliases import Expansion
from .highlight import word_bonus_scores
from .qtype import QTYPES, has_answer_type, question_type
from .question import Query
from .scoring import Scored

T = TypeVar("T")
TOP = 40  # candidates (by fused score) the learned stage looks at; the rest keep their fused order below them
DOC_WINDOW = 20  # document-level evidence counts the candidates of a document among the best this many
NAMES = (
    *("cos_sent", "cos_sent_gap", "cos_win", "cos_own", "cos_rewritten"),
    *("bm25_norm", "bm25_log", "bm25_plain_norm", "fused", "fused_gap", "rank_dense", "rank_bm25", "rank_fused"),
    *("by_dense", "by_keyword", "cov_win", "miss_win", "cov_sent", "miss_sent", "cov_sent_max", "cov_title"),
    *("atype_sent", "atype_win"),
    *(f"q_{t}" for t in QTYPES),
    *("n_concepts", "idf_total", "idf_unknown", "aliased", "sent_pos", "n_sentences", "win_chars", "sent_chars"),
    *("para_pos", "doc_share", "doc_best_gap", "top_cos", "top_fused"),
)
COLUMN = {name: i for i, name in enumerate(NAMES)}


@dataclass(frozen=True)
class Candidate:
    """The learned stage's view of the best candidates: positions into Scored, and one feature row each."""

    positions: np.ndarray  # indexes into the Scored arrays, best fused first
    features: np.ndarray  # (len(positions), len(NAMES)) float32
    concepts: list[terms.Concept]
    qtype: str


def question_terms(index: LoadedIndex, query: Query) -> tuple[list[terms.Concept], str]:
    """The question's concepts (IDF from the keyword index) and the kind of answer it wants (the last one is kept)."""
    last = index.derived.get("question_terms")
    if last is not None and last[0] == query.text:
        return last[1]
    found = _question_terms(index, query)
    index.derived["question_terms"] = (query.text, found)
    return found


def _question_terms(index: LoadedIndex, query: Query) -> tuple[list[terms.Concept], str]:
    """question_terms, computed."""
    expansion = query.expansion
    if expansion is None:
        expansion = Expansion(query.text)
    words = sorted({t for w in terms.words_of(expansion.rewritten) for t in terms.content_terms(w)})
    words += sorted({t for g in expansion.groups for m in g for t in terms.content_terms(m)})
    freq = index.keyword.doc_freqs(words)
    return terms.concepts(expansion, freq, max(index.keyword.count(), 1)), question_type(expansion.rewritten)


def sentence_terms(index: LoadedIndex, row: int) -> tuple[set[str], list[set[str]]]:
    """The stemmed tokens of a passage and of each of its sentences (computed once per passage)."""
    memo = index.memo("sentence_terms")
    if row not in memo:
        sents = _per_sentence(index, index.chunks[row], "sentence_terms_by_span", terms.text_terms)
        memo[row] = (set().union(*sents), sents)
    return memo[row]


def answer_types(index: LoadedIndex, row: int, qtype: str) -> tuple[bool, list[bool]]:
    """Whether passage `row`, and each of its sentences, holds the kind of answer `qtype` wants (computed once)."""
    memo = index.memo("answer_types")
    key = (row, qtype)
    if key not in memo:
        chunk = index.chunks[row]
        sents = _per_sentence(index, chunk, f"answer_type_{qtype}_by_span", lambda text: has_answer_type(qtype, text))
        memo[key] = (has_answer_type(qtype, chunk.text), sents)
    return memo[key]


def _per_sentence(index: LoadedIndex, chunk: Chunk, name: str, compute: Callable[[str], T]) -> list[T]:
    """`compute` of each sentence of a passage, kept per sentence (windows overlap: a sentence is in several)."""
    memo = index.memo(name)
    out = []
    for s, e in chunk.sentences:
        if (chunk.source, s, e) not in memo:
            memo[chunk.source, s, e] = compute(chunk.text[s - chunk.start : e - chunk.start])
        out.append(memo[chunk.source, s, e])
    return out


def title_terms(index: LoadedIndex, source: str) -> set[str]:
    """The stemmed tokens of a source's title (computed once per source)."""
    memo = index.memo("title_terms")
    if source not in memo:
        doc = index.documents.get(source)
        memo[source] = terms.text_terms(doc.title if doc else "")
    return memo[source]


def paragraph_counts(index: LoadedIndex) -> dict[str, int]:
    """The highest paragraph number of each source (for a passage's relative position in its document)."""
    memo = index.derived.get("paragraphs")
    if memo is None:
        memo = {}
        for c in index.chunks:
            memo[c.source] = max(memo.get(c.source, 1), c.paragraph)
        index.derived["paragraphs"] = memo
    return memo


def candidate_features(index: LoadedIndex, query: Query, scored: Scored, top: int = TOP) -> Candidate:
    """Feature rows for the `top` candidates by fused score (see NAMES for the columns)."""
    concepts, qtype = question_terms(index, query)
    order = scored.order()[:top]
    rows = scored.found.rows[order]
    n = len(order)
    X = np.zeros((n, len(NAMES)), dtype=np.float32)
    if n == 0:
        return Candidate(order, X, concepts, qtype)
    col = COLUMN
    vecs = query.vectors
    own, rewritten = _sentence_cos(index, rows, vecs)
    dense, fused, kw = scored.dense[order], scored.fused[order], scored.found.keyword[order]
    plain = scored.found.keyword_plain[order]
    X[:, col["cos_sent"]] = dense
    X[:, col["cos_sent_gap"]] = dense - dense.max()
    X[:, col["cos_win"]] = (np.asarray(index.vectors[rows], np.float32) @ vecs.T).max(axis=1)
    X[:, col["cos_own"]] = own
    X[:, col["cos_rewritten"]] = rewritten
    X[:, col["bm25_norm"]] = kw / kw.max() if kw.max() > 0 else 0.0
    X[:, col["bm25_log"]] = np.log1p(kw)
    X[:, col["bm25_plain_norm"]] = plain / plain.max() if plain.max() > 0 else 0.0
    X[:, col["fused"]] = fused
    X[:, col["fused_gap"]] = fused - fused.max()
    X[:, col["rank_dense"]] = np.log1p(_ranks(-dense))
    X[:, col["rank_bm25"]] = np.log1p(np.where(kw > 0, _ranks(-kw), n))
    X[:, col["rank_fused"]] = np.log1p(np.arange(n))
    X[:, col["by_dense"]] = scored.found.by_dense[order]
    X[:, col["by_keyword"]] = scored.found.by_keyword[order]
    X[:, col[f"q_{qtype}"]] = 1.0
    X[:, col["n_concepts"]] = len(concepts)
    X[:, col["idf_total"]] = sum(c.idf for c in concepts)
    X[:, col["idf_unknown"]] = sum(c.idf for c in concepts if not c.known)
    X[:, col["aliased"]] = float(query.rewritten_vector is not None)
    X[:, col["top_cos"]] = dense.max()
    X[:, col["top_fused"]] = fused.max()
    cover = terms.coverage_of(index.derived, concepts)
    _per_passage(index, X, rows.tolist(), scored.sentence[order].tolist(), dense, cover, qtype)
    return Candidate(order, X, concepts, qtype)


PER_PASSAGE = ("cov_win", "miss_win", "cov_sent", "miss_sent", "cov_sent_max", "cov_title", "atype_sent", "atype_win")
PER_PASSAGE += ("sent_pos", "n_sentences", "win_chars", "sent_chars", "para_pos", "doc_share", "doc_best_gap")
PER_PASSAGE_COLUMNS = [COLUMN[name] for name in PER_PASSAGE]


def _per_passage(
    index: LoadedIndex,
    X: np.ndarray,
    rows: list[int],
    bests: list[int],
    dense: np.ndarray,
    cover: terms.Coverage,
    qtype: str,
) -> None:
    """The columns computed passage by passage (coverage, answer type, position, document evidence), into X.

    Each value is computed as a Python number, then a column is written at once (the same float32 rounding as writing
    each cell, without a numpy scalar assignment per cell).
    """
    chunks, paragraphs = index.chunks, paragraph_counts(index)
    sources = [chunks[r].source for r in rows]
    head = sources[:DOC_WINDOW]
    top = dense.max()
    best_by_doc: dict[str, float] = {}
    for src, d in zip(sources, dense.tolist(), strict=True):
        best_by_doc[src] = max(best_by_doc.get(src, -1.0), d)
    values: list[tuple] = []
    titles: dict[str, float] = {}
    for row, best, src in zip(rows, bests, sources, strict=True):
        chunk = chunks[row]
        window, sentences = sentence_terms(index, row)
        s, e = chunk.sentences[best]
        in_window, in_sentences = answer_types(index, row, qtype)
        if src not in titles:
            titles[src] = cover.of(title_terms(index, src))[0]
        n = len(chunk.sentences)
        values.append(
            (
                *cover.passage(window, sentences, best),
                titles[src],
                in_sentences[best],
                in_window,
                best / max(n, 1),
                n,
                len(chunk.text) / 600.0,
                (e - s) / 300.0,
                chunk.paragraph / paragraphs.get(src, 1),
                head.count(src) / len(head),
                best_by_doc[src] - top,
            )
        )
    X[:, PER_PASSAGE_COLUMNS] = values


def _sentence_cos(index: LoadedIndex, rows: np.ndarray, vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closest-sentence cosine of each passage to the question as typed, and to its rewritten form."""
    flat, offsets = index.sentence_vectors_of(rows)
    sims = flat @ vecs.astype(np.float32).T
    best = np.maximum.reduceat(sims, offsets, axis=0)
    return best[:, 0], best[:, -1]


def _ranks(keys: np.ndarray) -> np.ndarray:
    """0-based rank of each value when sorted ascending (ties by position)."""
    ranks = np.empty(len(keys), dtype=np.float32)
    ranks[np.argsort(keys, kind="stable")] = np.arange(len(keys))
    return ranks


SENTENCE_NAMES = (
    *("s_cos", "s_cos_own", "s_cos_rewritten", "s_cos_gap", "s_cos_rank", "s_cov", "s_miss", "s_atype"),
    *("s_pos", "s_first", "s_last", "s_chars", "s_prev_cos", "s_next_cos", "s_overlap", "s_heuristic"),
)


def sentence_features(
    index: LoadedIndex, query: Query, row: int, concepts: list[terms.Concept], qtype: str
) -> np.ndarray:
    """One feature row per sentence of passage `row` (see SENTENCE_NAMES), for choosing the highlight."""
    chunk = index.chunks[row]
    vecs, _offsets = index.sentence_vectors_of(np.asarray([row], dtype=np.int64))
    sims = vecs @ query.vectors.astype(np.float32).T  # (sentences, forms of the question)
    best = sims.max(axis=1)
    _window, sentence_sets = sentence_terms(index, row)
    n = len(chunk.sentences)
    X = np.zeros((n, len(SENTENCE_NAMES)), dtype=np.float32)
    question_words = set(terms.content_terms(query.text))
    order = _ranks(-best)
    heuristic = word_bonus_scores(chunk, sims[:, 0], query.text)
    cover = terms.coverage_of(index.derived, concepts)
    _in_window, in_sentences = answer_types(index, row, qtype)
    top, values = best.max(), []
    for i, (s, e) in enumerate(chunk.sentences):
        cov, miss = cover.of(sentence_sets[i])
        overlap = len(question_words & sentence_sets[i]) / max(len(question_words), 1)
        values.append(
            (
                best[i],
                sims[i, 0],
                sims[i, -1],
                best[i] - top,
                np.log1p(order[i]),
                cov,
                miss,
                in_sentences[i],
                i / max(n - 1, 1),
                i == 0,
                i == n - 1,
                (e - s) / 300.0,
                best[i - 1] if i > 0 else 0.0,
                best[i + 1] if i + 1 < n else 0.0,
                overlap,
                heuristic[i],
            )
        )
    if values:  # one write of every row (the same float32 rounding as row by row)
        X[:] = values
    return X
