"""Passages: exact offsets on real corpora and random text, sentence-aware cuts, boilerplate skipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.paths import SEED, WIKI
from hypothesis import given, settings
from hypothesis import strategies as st

from korea_bot.config import ChunkSettings
from korea_bot.embedding import HashEmbedder
from korea_bot.ingest.chunking import chunk_document, is_heading
from korea_bot.ingest.sources import discover, load_document
from korea_bot.models import Document
from korea_bot.search.highlight import best_sentence

EMB = HashEmbedder(32)


def _check(doc: Document, max_chars: int = 600) -> int:
    """Assert the passage invariants for one document; return its passage count."""
    chunks = chunk_document(doc, ChunkSettings(max_chars=max_chars))
    qvec = EMB.embed(["what did Russia and North Korea agree on nuclear talks"])[0]
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        assert 0 < len(c.text) <= max_chars
        assert c.text == c.text.strip()
        assert all(c.start <= s < e <= c.end for s, e in c.sentences)
        sims = EMB.embed([doc.text[s:e] for s, e in c.sentences]) @ qvec
        hs, he = best_sentence(c, sims, "Russia North Korea nuclear talks")
        assert c.start <= hs < he <= c.end
    return len(chunks)


@pytest.mark.parametrize(("root", "at_least"), [(SEED, 20), (WIKI, 5000)], ids=["seed", "wikipedia"])
def test_every_passage_is_an_exact_slice(root: Path, at_least: int) -> None:
    """Across the bundled article and the 35 Wikipedia articles every passage is verbatim and in bounds."""
    if not root.exists():
        pytest.skip(f"{root} not present")
    total = sum(_check(load_document(root, name)) for name in discover(root))
    assert total >= at_least


def test_seed_article_boilerplate_is_not_quotable() -> None:
    """Headlines, the disclaimer, 'Related articles' teasers and bylines never become passages."""
    doc = load_document(SEED, discover(SEED)[0])
    texts = " ".join(c.text for c in chunk_document(doc))
    for noise in [
        "Related articles",
        "Why Russia Is Still Playing Second Fiddle",
        "Artyom Lukin",
        "Expert Opinions",
        "Views expressed are",
        "Hwasong-15 Missile: What's Next?",
        "The leaders of the two Koreas",
    ]:
        assert noise not in texts
    assert "the missile flew about 1000 km" in texts


def test_abbreviations_do_not_split_sentences() -> None:
    """'U.S.' and 'Nov. 29' stay inside their sentence."""
    text = "Talks resumed.\n\nThe U.S. envoy arrived on Nov. 29 with a plan. Seoul agreed at once."
    doc = Document(source="a.txt", text=text, title="a", kind="text", sha256="0")
    spans = [text[s:e] for c in chunk_document(doc) for s, e in c.sentences]
    assert "The U.S. envoy arrived on Nov. 29 with a plan." in spans


def test_long_sentence_is_cut_at_words() -> None:
    """A sentence longer than the limit is cut at whitespace into pieces within the limit."""
    text = "Intro line here. " + " ".join(["word"] * 400) + "."
    doc = Document(source="a.txt", text=text, title="a", kind="text", sha256="0")
    chunks = chunk_document(doc, ChunkSettings(max_chars=300, target_chars=200))
    assert all(len(c.text) <= 300 and not c.text.startswith(" ") for c in chunks)
    assert all(c.text == text[c.start : c.end] for c in chunks)


def test_heading_rule() -> None:
    """Short unpunctuated lines are headings; sentences are not."""
    assert is_heading("Related articles") and is_heading("Artyom Lukin") and is_heading("## Results")
    assert not is_heading("Russia borders on North Korea.") and not is_heading("")


_WORDS = st.sampled_from(["Russia", "U.S.", "Nov.", "29", "Dr.", "missile", "talks", "é", "北", "—", "e.g.", "(a)"])
_SENT = st.tuples(st.lists(_WORDS, min_size=1, max_size=30), st.sampled_from(".?!")).map(
    lambda t: " ".join(t[0]) + t[1]
)
_SEP = st.sampled_from([" ", "\n", "\n\n", "\n \n", "  "])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_SENT, _SEP), min_size=1, max_size=25), st.integers(min_value=120, max_value=700))
def test_random_text_keeps_invariants(parts: list[tuple[str, str]], max_chars: int) -> None:
    """Any mix of sentences, abbreviations, unicode and blank lines keeps the offset invariants."""
    text = "".join(s + sep for s, sep in parts)
    _check(Document(source="r.txt", text=text, title="r", kind="text", sha256="0"), max_chars=max_chars)
    assert np.isfinite(EMB.embed([text])).all()
