"""The per-answer speed-ups give exactly what they replace: the same tokens, vectors, coverage and answers."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from korea_bot.index import load
from korea_bot.index.keyword import query_terms, tokenize
from korea_bot.index.layout import sentence_rows
from korea_bot.search.collapse import word_set
from korea_bot.search.features import candidate_features, sentence_features
from korea_bot.search.terms import Concept, Coverage
from korea_bot.service import Service

QUESTIONS = [
    "What did Russia say about the double freeze and the six-party talks?",
    "what does pyongyang want from moscow",  # an alias: two forms embedded, the keyword query expanded
    "How far did the Hwasong-15 missile fly?",
    "who won the 2018 world cup",
]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a",
        "The the THE of",
        "U.S.-Korea's über naïve 2019 café",
        "don't won't it's",
        "ｆｕｌｌ　ｗｉｄｔｈ",
        *QUESTIONS,
    ],
)
def test_query_terms_are_the_tokens_bm25s_makes(text: str) -> None:
    """query_terms (no bm25s.tokenize per question) gives tokenize's stemmed tokens, in order, repeats kept."""
    tokens = tokenize([text])
    by_id = {i: t for t, i in tokens.vocab.items()}
    assert query_terms(text) == [by_id[i] for i in tokens.ids[0]]


@pytest.mark.parametrize("kept", [True, False])
def test_sentence_vectors_are_the_index_own(fake_service: Service, monkeypatch: pytest.MonkeyPatch, kept: bool) -> None:
    """The float32 copy (small index) and the float16 table (large) widen exactly as a plain float32 conversion does."""
    if not kept:
        monkeypatch.setattr(load, "FLOAT32_SENTENCES_MAX_BYTES", 0)
    index = fake_service.index
    index.sentence_vectors = index.sentence_vectors.astype(np.float16)  # the stored layout, whatever the fake wrote
    index.derived.pop("sentence_vectors_f32", None)
    rows = np.asarray([0, 3, 4, len(index.chunks) - 1], dtype=np.int64)
    flat, want_offsets = sentence_rows(index.sentence_start, rows)
    want = np.asarray(index.sentence_vectors[flat], dtype=np.float32)
    got, offsets = index.sentence_vectors_of(rows)
    assert got.dtype == np.float32 and np.array_equal(got.view(np.uint32), want.view(np.uint32))
    assert np.array_equal(offsets, want_offsets)
    assert (index.derived["sentence_vectors_f32"] is False) is not kept


def test_coverage_of_a_passage_is_coverage_of_each_part() -> None:
    """Coverage.passage equals `of` the window, `of` the chosen sentence and the best `of` any sentence."""
    items = [Concept((("korea",), ("north", "korea")), 1.5), Concept((("missil",),), 2.0), Concept((("test",),), 0.5)]
    words = ["korea", "north", "missil", "test", "other"]
    cover = Coverage(items)
    subsets = [set(c) for r in range(len(words) + 1) for c in combinations(words, r)]
    for sentences in ([subsets[5]], [subsets[1], subsets[9]], [subsets[0], subsets[-1], subsets[12]], [set(), set()]):
        window = set().union(*sentences)
        for best in range(len(sentences)):
            want = (*cover.of(window), *cover.of(sentences[best]), max(cover.of(s)[0] for s in sentences))
            assert cover.passage(window, sentences, best) == want
    assert Coverage([]).passage({"korea"}, [{"korea"}], 0) == (0.0,) * 5


def test_word_sets_are_the_lower_cased_words() -> None:
    """The cached word sets of collapse and the highlight are the words findall gives."""
    assert word_set("Moscow, MOSCOW and moscow's U.S. talks") == {"moscow", "and", "s", "u", "talks"}


def test_features_are_the_same_whatever_the_caches_hold(fake_service: Service) -> None:
    """Candidate and sentence features of a question are the same asked first (every cache empty) or after the
    others (passages, sentences, words and coverage cached by earlier questions)."""
    index = fake_service.index

    def features(question: str) -> list[np.ndarray]:
        """Both feature matrices of a question: its candidates', and the sentences' of its best passage."""
        query = fake_service.query(question)
        found = candidate_features(index, query, fake_service.retriever.score(index, query))
        concepts, qtype = found.concepts, found.qtype
        row = int(fake_service.retriever.score(index, query).found.rows[found.positions[0]])
        return [found.features, found.positions, sentence_features(index, query, row, concepts, qtype)]

    first = {}
    for question in QUESTIONS:
        index.derived.clear()
        first[question] = features(question)
    for question in QUESTIONS[::-1] + QUESTIONS:
        for got, want in zip(features(question), first[question], strict=True):
            assert got.dtype == want.dtype and np.array_equal(got, want)


def test_memos_stay_bounded_and_answers_do_not_change(fake_service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """With memos of 5 entries (emptied again and again), every question gets the same features; no memo grows past
    its bound."""
    index = fake_service.index

    def features(question: str) -> list[np.ndarray]:
        """The candidates' feature matrix and positions of a question."""
        query = fake_service.query(question)
        found = candidate_features(index, query, fake_service.retriever.score(index, query))
        return [found.features, found.positions]

    index.derived.clear()
    unbounded = {q: features(q) for q in QUESTIONS}
    assert max(len(m) for m in index.derived.values() if isinstance(m, load.BoundedMemo)) > 5
    monkeypatch.setattr(load, "MEMO_ENTRIES", 5)
    index.derived.clear()
    for question in QUESTIONS + QUESTIONS[::-1]:
        for got, want in zip(features(question), unbounded[question], strict=True):
            assert np.array_equal(got, want)
    memos = [m for m in index.derived.values() if isinstance(m, load.BoundedMemo)]
    assert len(memos) >= 3 and all(0 < len(m) <= 5 for m in memos)
    assert index.memo("sentence_terms") is index.memo("sentence_terms")
