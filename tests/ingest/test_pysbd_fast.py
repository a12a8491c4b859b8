"""pysbd's two replaced methods give the very sentences pysbd's own give, on real and abbreviation-dense text."""

from __future__ import annotations

import random

import pytest
from helpers.paths import SEED, SHARED
from pysbd.segmenter import Segmenter

from korea_bot.ingest import pysbd_fast
from korea_bot.ingest.chunking import _segmenter
from korea_bot.ingest.sources import discover, load_document

AWKWARD = [
    "Dr. Smith met Mr. Jones at 5 p.m. on Jan. 3. He left. DR. who? no. 5 is here. No. 6 too. pp. 3-4 say so.",
    "ſt. Louis and ıe. i.e. this. e.g. that. E.G. THAT. İnc. and Inc. Corp. Ltd. were sued. Then {dr} Smith spoke.",
    "See art. 5 and Art. 6.\tthe U.S. Army.\x1cGen. Lee. Capt. Kirk. a. b. c. d. The a.m. train. The AM train.",
    "Vol. 3, No. 4. Fig. 2 shows it. Figs. 3 and 4. et al. reported. Al. said. St. Paul's. ST. PAUL. Mt. Fuji.",
    "word.word. Prof.Dr. X. Hon. Y. Rev. Z. Sr. Jr. Jr.. Gov.-elect Brown. {no} 5 and {No} (3).",
    "No.",
    ". . .",
    "a.\n\nb. c.\r\nd. e.",
    "The same sentence. The same sentence. The same sentence.",
    "The stone and ſt. a thing. Yes.",  # re's IGNORECASE matches "st" with "ſt", lower() does not
    "The incline and ınc. a thing. Yes.",  # and "inc" with "ınc"
]
TOKENS = "Dr. dr. DR. Mr. no. No. p. pp. Art. art. i.e. e.g. U.S. U.S.A. St. ſt. ıe. İnc. {no} 5 (3) : - ? , I I'm a "
TOKENS += "b The he . ! \n \t"


def _texts() -> list[str]:
    """The bundled article's and three Wikipedia articles' paragraphs, the awkward lines and 300 random token soups."""
    texts = list(AWKWARD)
    folders = [SEED, SHARED / "corpus" / "wikipedia-korea-2019"]
    for folder in folders:
        for name in sorted(discover(folder))[:3]:
            texts.extend(p for p in load_document(folder, name).text.split("\n\n") if p.strip())
    rng = random.Random(7)
    texts.extend(" ".join(rng.choices(TOKENS.split(" "), k=40)) for _ in range(300))
    return texts


def test_fast_methods_give_pysbd_sentences() -> None:
    """Segmenting with pysbd's own methods and with the stand-ins gives equal sentence lists for every text."""
    texts = _texts()
    segmenter = _segmenter()
    assert Segmenter.sentences_with_char_spans is pysbd_fast.sentences_with_char_spans
    pysbd_fast.uninstall()
    try:
        assert Segmenter.sentences_with_char_spans is not pysbd_fast.sentences_with_char_spans
        own = [segmenter.segment(t) for t in texts]
    finally:
        pysbd_fast.install()
    fast = [segmenter.segment(t) for t in texts]
    assert len(texts) > 350 and sum(len(s) for s in own) > 2000
    assert fast == own


def test_other_pysbd_release_keeps_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a pysbd release other than the one the stand-ins copy, install changes nothing."""
    import pysbd

    _segmenter()
    pysbd_fast.uninstall()
    try:
        monkeypatch.setattr(pysbd, "__version__", "0.4.0")
        assert pysbd_fast.install() is False
        assert Segmenter.sentences_with_char_spans is not pysbd_fast.sentences_with_char_spans
    finally:
        monkeypatch.undo()
        assert pysbd_fast.install() is True
    assert Segmenter.sentences_with_char_spans is pysbd_fast.sentences_with_char_spans


def test_dotted_starts() -> None:
    """Word starts with a dot, case-folded as re compares ASCII; None when lowercasing changes the length."""
    for line, lengths, expected in [("Dr. ſt. x", {1, 2}, {"dr", "dr.", "st", "st."}), ("İnc. here", {3}, None)]:
        assert pysbd_fast.dotted_starts(line, line.lower(), frozenset(lengths)) == expected
