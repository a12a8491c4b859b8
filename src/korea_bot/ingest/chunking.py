"""Split a document into sentence windows with exact character offsets, skipping headings and boilerplate."""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

from ..config import ChunkSettings
from ..models import Chunk, Document

TAIL_SHARE = 3  # tail windows shorter than target_chars / TAIL_SHARE, inside the previous window, are dropped
_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n")
_END_PUNCT = tuple(".!?;:…\"”'’")
_CUTOFF = re.compile(
    r"^(related (articles|posts|stories|content|reading)|read (more|also|next)|more (from|on) this|"
    r"you (may|might) also like|recommended( for you)?|share this( article)?|comments?)\s*:?$",
    re.I,
)
_BOILERPLATE = re.compile(
    r"^(views expressed (are|in)|the views expressed|all rights reserved|©|copyright\b|"
    r"subscribe to|sign up for|follow us)",
    re.I,
)


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    """The pysbd English sentence segmenter (built once, lazily)."""
    import pysbd

    from . import pattern_cache, pysbd_fast

    pattern_cache.install()
    pysbd_fast.install()
    return pysbd.Segmenter(language="en", clean=False)


def is_heading(line: str) -> bool:
    """A short line without sentence-final punctuation: a title, heading, byline or teaser label."""
    stripped = line.strip()
    if not stripped:
        return False
    if stripped.startswith("#"):
        return True
    return len(stripped) <= 100 and len(stripped.split()) <= 14 and not stripped.endswith(_END_PUNCT)


def text_runs(doc: Document) -> list[tuple[int, list[tuple[int, int]]]]:
    """Return (paragraph number, [(start, end) of quotable text runs]) for each quotable block.

    Paragraphs are numbered from 1 in the document, or from 1 on each page of a paged one (a PDF).
    """
    text = doc.text
    body = doc.body_start
    blocks: list[tuple[int, int]] = []
    pos = body
    for match in _BLOCK_SPLIT.finditer(text, body):
        blocks.append((pos, match.start()))
        pos = match.end()
    blocks.append((pos, len(text)))
    out: list[tuple[int, list[tuple[int, int]]]] = []
    number = 0
    page = 0
    for b_start, b_end in blocks:
        if doc.page_starts and bisect.bisect_right(doc.page_starts, b_start) != page:
            page, number = bisect.bisect_right(doc.page_starts, b_start), 0
        runs: list[tuple[int, int]] = []
        run_start: int | None = None
        prev_end = b_start
        line_start = b_start
        stop = False
        for line in text[b_start:b_end].split("\n"):
            line_end = line_start + len(line)
            stripped = line.strip()
            if _CUTOFF.match(stripped):
                stop = True
                break
            skip = not stripped or is_heading(line) or bool(_BOILERPLATE.match(stripped))
            if skip:
                if run_start is not None:
                    runs.append((run_start, prev_end))
                    run_start = None
            else:
                if run_start is None:
                    run_start = line_start + (len(line) - len(line.lstrip()))
                prev_end = line_start + len(line.rstrip())
            line_start = line_end + 1
        if run_start is not None:
            runs.append((run_start, prev_end))
        if runs:
            number += 1
            out.append((number, runs))
        if stop:
            break
    return out


def sentence_spans(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets inside text[start:end], long sentences cut at word boundaries."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for sent in _segmenter().segment(text[start:end]):
        piece = sent.strip()
        if not piece:
            continue
        found = text.find(piece, cursor, end)
        if found < 0:
            spans.append((cursor, end))
            cursor = end
            break
        spans.append((found, found + len(piece)))
        cursor = found + len(piece)
    if cursor < end and text[cursor:end].strip():
        rest = cursor + len(text[cursor:end]) - len(text[cursor:end].lstrip())
        spans.append((rest, end))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        out.extend(_cut_long(text, s, e, max_chars))
    return out


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut a too-long sentence into pieces of at most max_chars at whitespace."""
    pieces: list[tuple[int, int]] = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        if cut <= start:
            cut = start + max_chars
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def chunk_document(doc: Document, settings: ChunkSettings | None = None) -> list[Chunk]:
    """Cut a document into overlapping sentence windows (one starting at each sentence)."""
    cfg = settings or ChunkSettings()
    limit = min(cfg.target_chars, cfg.max_chars)
    text = doc.text
    chunks: list[Chunk] = []
    for number, runs in text_runs(doc):
        for r_start, r_end in runs:
            sents = sentence_spans(text, r_start, r_end, cfg.max_chars)
            last_end = -1
            for i in range(len(sents)):
                j = i
                while j + 1 < len(sents) and sents[j + 1][1] - sents[i][0] <= limit:
                    j += 1
                start, end = sents[i][0], sents[j][1]
                if end <= last_end and i > 0 and j == len(sents) - 1 and end - start < cfg.target_chars // TAIL_SHARE:
                    continue  # a short tail window lying inside the previous one adds nothing quotable
                last_end = end
                page = None
                if doc.page_starts:
                    page = bisect.bisect_right(doc.page_starts, start)
                chunks.append(
                    Chunk(
                        source=doc.source,
                        start=start,
                        end=end,
                        paragraph=number,
                        text=text[start:end],
                        sentences=tuple(sents[i : j + 1]),
                        page=page,
                    )
                )
    return chunks
