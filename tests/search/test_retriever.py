"""The retrieval stages on the bundled article with the hashing embedder: candidates, scoring, fusion, collapse."""

from __future__ import annotations

import numpy as np
import pytest

from korea_bot.config import RetrievalSettings
from korea_bot.models import Chunk
from korea_bot.search.candidates import gather
from korea_bot.search.collapse import Hit, collapse
from korea_bot.search.highlight import best_sentence
from korea_bot.search.question import Query
from korea_bot.search.retriever import Retriever, to_passages
from korea_bot.search.scoring import closest_sentence, fuse
from korea_bot.service import Service

QUESTION = "What did Russia say about the double freeze and the six-party talks?"


def query(service: Service, text: str = QUESTION) -> Query:
    """The question as the stages see it."""
    return Query(text=text, vector=service.embedder.embed([text])[0])


def hit(row: int, score: float, dense: float) -> Hit:
    """A hit with the given fused and dense scores."""
    return Hit(row=row, score=score, dense=dense, keyword=0.0)


def test_candidates_unite_both_retrievers(fake_service: Service) -> None:
    """The candidates hold the dense top-k and the BM25 top-k, each row once, with its raw BM25 score."""
    index, q = fake_service.index, query(fake_service)
    found = gather(index, q, 5)
    _s, dense_rows = index.dense.search(q.vector, 5)
    _s, kw_rows = index.keyword.search(q.text, 5)
    assert set(found.rows) == set(dense_rows) | set(kw_rows)
    assert list(found.rows) == sorted(set(found.rows))
    np.testing.assert_allclose(found.keyword, index.keyword.scores(q.text)[found.rows])


def test_closest_sentence_is_the_best_sentence_cosine(fake_service: Service) -> None:
    """A passage's dense score is the maximum over its own sentence vectors, not its window vector."""
    index, q = fake_service.index, query(fake_service)
    rows = np.arange(len(index.chunks), dtype=np.int64)
    scores, which = closest_sentence(index, rows, q.vectors)
    for row in (0, 5, len(rows) - 1):
        start, end = index.sentence_start[row], index.sentence_start[row + 1]
        own = np.asarray(index.sentence_vectors[start:end], dtype=np.float32) @ q.vector
        assert scores[row] == pytest.approx(float(own.max()), abs=1e-6)
        assert which[row] == int(np.argmax(own))


def test_fusion_puts_bm25_on_the_cosine_scale() -> None:
    """The best BM25 candidate gets (1 - w) times the best cosine; without keyword scores, only the cosine counts."""
    dense = np.asarray([0.6, 0.2, 0.4], dtype=np.float32)
    keyword = np.asarray([0.0, 8.0, 4.0], dtype=np.float32)
    fused, norm = fuse(dense, keyword, 0.5)
    np.testing.assert_allclose(norm, [0.0, 1.0, 0.5])
    np.testing.assert_allclose(fused, [0.3, 0.1 + 0.3, 0.2 + 0.15], rtol=1e-6)
    fused, norm = fuse(dense, np.zeros(3, np.float32), 0.5)
    np.testing.assert_allclose(fused, dense * 0.5)
    np.testing.assert_array_equal(norm, 0)


def test_collapse_drops_overlaps_and_near_repeats() -> None:
    """A window overlapping a better one of the same file, or repeating its words in another file, is dropped."""
    text = "alpha beta gamma delta epsilon"
    chunks = [
        Chunk(source="a.txt", start=0, end=16, paragraph=1, text=text[:16]),
        Chunk(source="a.txt", start=6, end=22, paragraph=1, text=text[6:22]),  # overlaps the first
        Chunk(source="b.txt", start=0, end=16, paragraph=1, text=text[:16]),  # same words, other file
        Chunk(source="a.txt", start=23, end=30, paragraph=2, text="epsilon"),
    ]
    hits = [hit(i, 1.0 - i / 10, 0.5) for i in range(4)]
    assert [h.row for h in collapse(chunks, hits, jaccard=0.7)] == [0, 3]
    assert [h.row for h in collapse(chunks, hits, jaccard=0.7, limit=1)] == [0]


def test_limit_keeps_the_same_best_hits(fake_service: Service) -> None:
    """Stopping the de-duplication early returns exactly the first hits of the full ranking."""
    q = query(fake_service)
    full = fake_service.retriever.rank(fake_service.index, q)
    assert len(full) > 3
    assert fake_service.retriever.rank(fake_service.index, q, limit=3) == full[:3]
    assert [h.score for h in full] == sorted((h.score for h in full), reverse=True)


def test_support_looks_at_the_sentence_cosine_of_the_top_hits() -> None:
    """Abstain unless one of the first support_depth hits has a sentence at min_score or above."""
    retriever = Retriever(RetrievalSettings(min_score=0.3, support_depth=2))
    assert retriever.supported([hit(0, 0.9, 0.1), hit(1, 0.5, 0.35)])
    assert not retriever.supported([hit(0, 0.9, 0.1), hit(1, 0.5, 0.2), hit(2, 0.4, 0.9)])
    assert not retriever.supported([])


def test_passages_are_verbatim_with_the_highlight_inside(fake_service: Service) -> None:
    """to_passages cites the chunk's source, numbers ranks from first_rank and highlights one of its sentences."""
    q = query(fake_service)
    hits = fake_service.retriever.rank(fake_service.index, q, limit=3)
    passages = to_passages(fake_service.index, hits, q, first_rank=4)
    text = (fake_service.settings.sources_dir / passages[0].source).read_text(encoding="utf-8")
    assert [p.rank for p in passages] == [4, 5, 6]
    for p, hit in zip(passages, hits, strict=True):
        assert p.text == text[p.start : p.end] and p.chunk_id == hit.row
        assert p.highlight in fake_service.index.chunks[hit.row].sentences


def test_best_sentence_prefers_the_question_words_on_a_tie() -> None:
    """With equal cosines, the sentence holding the question's longer words is highlighted."""
    text = "Nothing here. The double freeze plan is best."
    chunk = Chunk(source="a.txt", start=0, end=len(text), paragraph=1, text=text, sentences=((0, 13), (14, 45)))
    assert best_sentence(chunk, np.asarray([0.5, 0.5]), "what is the double freeze") == (14, 45)
    assert best_sentence(chunk, np.asarray([0.9, 0.5]), "what is the double freeze") == (0, 13)
