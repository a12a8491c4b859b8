"""The retrieval pipeline: candidates -> closest-sentence score -> fusion -> collapse -> support -> passages."""

from __future__ import annotations

from collections.abc import Sequence

from ..config import RetrievalSettings
from ..formatting import text_fragment_link
from ..index import LoadedIndex
from ..ingest.sources import collection_of
from ..models import Passage
from .candidates import gather
from .collapse import Hit, collapse
from .highlight import highlight
from .question import Query
from .rerank import LearnedStage
from .scoring import Scored, closest_sentence, fuse

# A passage whose closest sentence is this similar to the question is shown (as "may not answer") even when the
# learned stage finds no support: its model was trained on corpora of hundreds of passages and can be too strict on
# an admin's tiny corpus or a generic question ("what does the text say about the lighthouse?").
SAFETY_COSINE = 0.35


class Retriever:
    """Ranks the passages of an index for a query, stage by stage, with one set of knobs."""

    def __init__(self, settings: RetrievalSettings, learned: LearnedStage | None = None) -> None:
        """Keep the knobs (weights, candidate depth, abstain threshold, de-duplication) and the learned stage."""
        self.settings = settings
        self.learned = learned

    def learned_for(self, index: LoadedIndex) -> LearnedStage | None:
        """The learned stage, when it was trained on vectors of the model this index was built with."""
        if self.learned is not None and self.learned.applies_to(index):
            return self.learned
        return None

    def score(self, index: LoadedIndex, query: Query) -> Scored:
        """Stages 1-3: gather both retrievers' candidates, score each by its closest sentence, fuse with BM25."""
        found = gather(index, query, self.settings.candidates)
        dense, sentence = closest_sentence(index, found.rows, query.vectors)
        fused, keyword = fuse(dense, found.keyword, self.settings.dense_weight)
        return Scored(found=found, dense=dense, sentence=sentence, keyword=keyword, fused=fused)

    def rank(self, index: LoadedIndex, query: Query, limit: int | None = None) -> list[Hit]:
        """Candidates of both retrievers by fused score, best first, near-duplicates removed (the first `limit`)."""
        if not index.chunks:
            return []
        scored = self.score(index, query)
        learned = self.learned_for(index)
        if learned is not None:
            hits = learned.rerank(index, query, scored)
        else:
            rows, dense, keyword, fused = scored.found.rows, scored.dense, scored.keyword, scored.fused
            hits = [
                Hit(row=int(rows[i]), score=float(fused[i]), dense=float(dense[i]), keyword=float(keyword[i]))
                for i in scored.order()
            ]
        return collapse(index.chunks, hits, self.settings.dedupe_jaccard, limit)

    def confidence(self, index: LoadedIndex, hits: Sequence[Hit]) -> str:
        """Stage 5, the reply tier: "high" (answered), "low" (closest passages, may not answer) or "none".

        With the learned stage, the best hit's calibrated probability decides (thresholds chosen in training for at
        most 3 % false abstentions); without it, the closest-sentence cosine cut of `supported`.
        """
        learned = self.learned_for(index)
        if learned is None:
            return "high" if self.supported(hits) else "none"
        if not hits:
            return "none"
        if hits[0].score >= learned.confident:
            return "high"
        if hits[0].score >= learned.shown or hits[0].dense >= SAFETY_COSINE:
            return "low"
        return "none"

    def worth_showing(self, index: LoadedIndex, hits: Sequence[Hit]) -> list[Hit]:
        """The hits that earn their place: with the learned stage, those not far below the best (a relative cut)."""
        learned = self.learned_for(index)
        if learned is None or not hits:
            return list(hits)
        floor = max(learned.shown, learned.relative * hits[0].score)
        return [h for i, h in enumerate(hits) if h.score >= floor or i == 0]

    def supported(self, hits: Sequence[Hit]) -> bool:
        """Whether one of the best few hits has a sentence similar enough to the question to quote at all.

        A fused score can be high on keywords alone; the abstain decision looks at the sentence cosine, so a question
        sharing only words with the texts ("who won the 2018 world cup") is not answered.
        """
        return any(h.dense >= self.settings.min_score for h in hits[: self.settings.support_depth])


def to_passages(
    index: LoadedIndex, hits: Sequence[Hit], query: Query, first_rank: int = 1, learned: LearnedStage | None = None
) -> list[Passage]:
    """Turn hits into Passages with citation data and a highlighted sentence (stage 6: the learned head's pick)."""
    out: list[Passage] = []
    for offset, hit in enumerate(hits):
        c = index.chunks[hit.row]
        doc = index.documents.get(c.source)
        chosen = learned.highlight(index, query, hit.row) if learned is not None else None
        span = chosen or highlight(index, hit.row, query.vector, query.text)
        url = doc.url if doc else None
        out.append(
            Passage(
                rank=first_rank + offset,
                source=c.source,
                title=(doc.title if doc else "") or c.source,
                url=doc.url if doc else None,
                paragraph=c.paragraph,
                start=c.start,
                end=c.end,
                highlight=span,
                score=round(hit.score, 4),
                text=c.text,
                page=c.page,
                chunk_id=hit.row,
                author=doc.author if doc else None,
                date=doc.date if doc else None,
                link=_link(url, c.text[span[0] - c.start : span[1] - c.start]),
                collection=collection_of(c.source),
            )
        )
    return out


def _link(url: str | None, sentence: str) -> str | None:
    """A link to the sentence in the original web page (None when the source has no http(s) URL)."""
    if not url or not url.startswith(("http://", "https://")):
        return None
    return text_fragment_link(url, sentence)
