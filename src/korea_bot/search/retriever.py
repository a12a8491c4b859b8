"""The retrieval pipeline: candidates -> closest-sentence score -> fusion -> collapse -> support -> passages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config import RetrievalSettings
from ..index import LoadedIndex
from ..models import Passage
from .candidates import gather
from .collapse import Hit, collapse
from .highlight import highlight
from .question import Query
from .scoring import closest_sentence, fuse


class Retriever:
    """Ranks the passages of an index for a query, stage by stage, with one set of knobs."""

    def __init__(self, settings: RetrievalSettings) -> None:
        """Keep the knobs (weights, candidate depth, abstain threshold, de-duplication)."""
        self.settings = settings

    def rank(self, index: LoadedIndex, query: Query, limit: int | None = None) -> list[Hit]:
        """Candidates of both retrievers by fused score, best first, near-duplicates removed (the first `limit`)."""
        if not index.chunks:
            return []
        cfg = self.settings
        found = gather(index, query, cfg.candidates)
        dense = closest_sentence(index, found.rows, query.vector)
        fused, keyword = fuse(dense, found.keyword, cfg.dense_weight)
        order = np.argsort(-fused, kind="stable")
        hits = [
            Hit(row=int(found.rows[i]), score=float(fused[i]), dense=float(dense[i]), keyword=float(keyword[i]))
            for i in order
        ]
        return collapse(index.chunks, hits, cfg.dedupe_jaccard, limit)

    def supported(self, hits: Sequence[Hit]) -> bool:
        """Whether one of the best few hits has a sentence similar enough to the question to quote at all.

        A fused score can be high on keywords alone; the abstain decision looks at the sentence cosine, so a question
        sharing only words with the texts ("who won the 2018 world cup") is not answered.
        """
        return any(h.dense >= self.settings.min_score for h in hits[: self.settings.support_depth])


def to_passages(index: LoadedIndex, hits: Sequence[Hit], query: Query, first_rank: int = 1) -> list[Passage]:
    """Turn hits into Passages with citation data and a highlighted sentence."""
    out: list[Passage] = []
    for offset, hit in enumerate(hits):
        c = index.chunks[hit.row]
        doc = index.documents.get(c.source)
        out.append(
            Passage(
                rank=first_rank + offset,
                source=c.source,
                title=(doc.title if doc else "") or c.source,
                url=doc.url if doc else None,
                paragraph=c.paragraph,
                start=c.start,
                end=c.end,
                highlight=highlight(index, hit.row, query.vector, query.text),
                score=round(hit.score, 4),
                text=c.text,
                page=c.page,
                chunk_id=hit.row,
            )
        )
    return out
