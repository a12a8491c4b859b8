"""The pysbd compiled-pattern cache leaves passages and offsets byte-identical."""

from __future__ import annotations

import re
import sys

from helpers.paths import SEED

from korea_bot.config import ChunkSettings
from korea_bot.ingest import pattern_cache
from korea_bot.ingest.chunking import _segmenter, chunk_document
from korea_bot.ingest.sources import discover, load_document
from korea_bot.models import Document

AWKWARD = (
    "Dr. Kim met Gen. Park at 3 p.m. on Jan. 5 in Seoul, Rep. of Korea. The U.S. envoy, Mr. J. R. Smith Jr., "
    "arrived from Washington, D.C. via Tokyo (approx. 2 hrs. late). Cf. Fig. 3 and pp. 12-14, i.e. the "
    "appendix; e.g. Sec. 4.2 vs. Art. 7! Did Prof. Lee say \"No.\"? 1. First item. 2. Second item. a) one "
    "b) two. Sen. O'Neil et al. disagreed... Lt. Col. Choi (Ret.) said: 'It's done.' Inc. and Co. Ltd. too."
)


def _docs() -> list[Document]:
    """The bundled article plus an abbreviation-heavy text."""
    docs = [load_document(SEED, name) for name in discover(SEED)]
    text = AWKWARD + "\n\n" + AWKWARD.upper()
    docs.append(Document(source="awkward.txt", text=text, title="Awkward", kind="text", sha256="0" * 64))
    return docs


def _segment(docs: list[Document]) -> list[object]:
    """Every chunk's text, offsets and sentence spans plus the raw pysbd sentences."""
    settings = ChunkSettings(max_chars=600)
    out: list[object] = []
    for doc in docs:
        out.extend((c.text, c.start, c.end, tuple(c.sentences)) for c in chunk_document(doc, settings))
        out.append(tuple(_segmenter().segment(doc.text)))
    return out


def test_cache_keeps_segmentation_identical() -> None:
    """Segmenting with the real `re` and with the cached one gives the same chunks and sentences."""
    docs = _docs()
    _segmenter()
    pattern_cache.uninstall()
    assert sys.modules["pysbd.abbreviation_replacer"].re is re
    try:
        plain = _segment(docs)
    finally:
        pattern_cache.install()
    assert isinstance(sys.modules["pysbd.abbreviation_replacer"].re, pattern_cache.CachedRe)
    cached = _segment(docs)
    assert len(plain) > 10
    assert cached == plain
