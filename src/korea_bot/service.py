"""The façade over the pipeline: answers questions from the live index (ask, search, context, stats, collections)."""

from __future__ import annotations

import time

import numpy as np

from .config import Settings
from .embedding import Embedder
from .errors import NotInIndex, UnknownCollection
from .index import LoadedIndex, read_skipped
from .ingest.sources import safe_relative
from .live import LiveIndex
from .models import Answer, Chunk, DocumentStats, IndexStats, Passage
from .search import aliases, rerank
from .search.aliases import words_of
from .search.conversation import Conversation, prefer_context
from .search.question import Query, clean_question
from .search.retriever import Hit, Retriever, to_passages
from .usage.questions import QuestionLog

NO_SUPPORT = "No passage in the indexed texts supports an answer to that question."
LOW_CONFIDENCE = "These are the closest passages, but they may not answer the question."


class Service(LiveIndex):
    """Answers questions from the live index, which it rebuilds and reloads safely (LiveIndex)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        """Keep the settings and the retrieval stages; the embedder and index are loaded on first use."""
        super().__init__(settings, embedder)
        self.retrieval = settings.retrieval()
        self.retriever = Retriever(self.retrieval, rerank.load(settings.ranker))
        self.synonyms = aliases.load(settings.synonyms_file)
        self.questions = QuestionLog.from_setting(settings.question_log, settings.question_log_days)

    def _ranked(
        self, text: str, limit: int, context: Conversation | None = None, collection: str | None = None
    ) -> tuple[LoadedIndex, Query, list[Hit]]:
        """Embed and rank a cleaned question (one index version for the whole call), in one collection when given;
        with a conversation, also read it in context and keep the better-supported reading (the query's text is
        what was searched)."""
        index = self.index
        rows = self._collection_rows(index, collection)
        query = self.query(text, rows)
        hits = self.retriever.rank(index, query, limit=limit)
        if context is None or not context.turns or context.expired():
            return index, query, hits
        in_context = self.query(context.context_text(text), rows)
        context_hits = self.retriever.rank(index, in_context, limit=limit)
        if prefer_context(text, _top(hits), _top(context_hits)):
            return index, in_context, context_hits
        return index, query, hits

    def query(self, text: str, rows: np.ndarray | None = None) -> Query:
        """A cleaned question as the search sees it: its aliases expanded, it and its rewritten form embedded."""
        expansion = self.synonyms.expand(text)
        if expansion.rewritten == " ".join(words_of(text)):
            return Query(text=text, vector=self.embedder.embed([text])[0], expansion=expansion, rows=rows)
        vectors = self.embedder.embed([text, expansion.rewritten])
        return Query(text=text, vector=vectors[0], rewritten_vector=vectors[1], expansion=expansion, rows=rows)

    def collections(self) -> list[str]:
        """The collections of the live index (top-level folders of the sources; "" for files at the top)."""
        return list(self.index.collections())

    @staticmethod
    def _collection_rows(index: LoadedIndex, collection: str | None) -> np.ndarray | None:
        """The rows of a named collection (None: search everything); an unknown name lists the known ones."""
        if not collection:
            return None
        found = index.collections().get(collection.strip().strip("/"))
        if found is None:
            names = ", ".join(n for n in index.collections() if n) or "none (all sources are at the top level)"
            raise UnknownCollection(f"there is no collection {collection!r}; the collections are: {names}")
        return found

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        offset: int = 0,
        context: Conversation | None = None,
        collection: str | None = None,
    ) -> Answer:
        """Answer one question with up to top_k verbatim passages (after `offset` better ones), in its reply tier;
        with a conversation, a follow-up is read in its light; with a collection, only its sources are quoted."""
        started = time.perf_counter()
        k = top_k or self.settings.top_k
        text = clean_question(question, self.settings.max_question_chars)
        index, query, hits = self._ranked(text, offset + k, context, collection)
        confidence = self.retriever.confidence(index, hits)
        chosen = self.retriever.worth_showing(index, hits)[offset : offset + k] if confidence != "none" else []
        passages = to_passages(index, chosen, query, offset + 1, self.retriever.learned_for(index))
        took = (time.perf_counter() - started) * 1000
        return Answer(
            question=text,
            answered=confidence == "high",
            passages=tuple(passages),
            index_version=index.version,
            took_ms=round(took, 1),
            message={"high": "", "low": LOW_CONFIDENCE, "none": NO_SUPPORT}[confidence],
            confidence=confidence,
            searched=query.text,
        )

    def search(self, question: str, k: int = 10) -> tuple[bool, list[tuple[str, Chunk, float]]]:
        """Whether the question is supported, and the top k (source, chunk, score) regardless (for eval)."""
        index, _query, hits = self._ranked(clean_question(question, self.settings.max_question_chars), k)
        return self.retriever.confidence(index, hits) == "high", [
            (index.chunks[h.row].source, index.chunks[h.row], h.score) for h in hits[:k]
        ]

    def stats(self) -> IndexStats:
        """What the live index holds."""
        index = self.index
        files, skipped = index.manifest["files"], read_skipped(self.settings.index_dir)
        docs = tuple(
            DocumentStats(source=src, title=meta.get("title", src), passages=int(meta.get("passages", 0)))
            for src, meta in sorted(files.items())
        )
        return IndexStats(
            version=index.version,
            built_at=index.manifest.get("built_at", ""),
            model=index.manifest.get("model", ""),
            documents=docs,
            passages=len(index.chunks),
            skipped=tuple((src, str(entry["reason"])) for src, entry in sorted(skipped.items()) if src not in files),
        )

    def quote(self, source: str, start: int, end: int) -> str | None:
        """The text of [start, end) of an indexed source (None when the live index no longer has it)."""
        doc = self.index.documents.get(source)
        return doc.text[start:end] if doc is not None and 0 <= start < end <= len(doc.text) else None

    def context(self, source: str, start: int, end: int) -> Passage:
        """The whole paragraph around [start, end) of a source, verbatim, with that range highlighted."""
        index = self.index
        safe_relative(source)
        doc = index.documents.get(source)
        if doc is None:
            raise NotInIndex(f"{source} is not in index {index.version}")
        rows = [c for c in index.chunks if c.source == source and c.start <= start < c.end]
        if not rows:
            raise NotInIndex(f"no passage of {source} covers offset {start}")
        para = rows[0].paragraph
        same = [c for c in index.chunks if c.source == source and c.paragraph == para]
        p_start, p_end = min(c.start for c in same), max(c.end for c in same)
        return Passage(
            rank=1,
            source=source,
            title=doc.title or source,
            url=doc.url,
            paragraph=para,
            start=p_start,
            end=p_end,
            highlight=(max(start, p_start), min(end, p_end)),
            score=1.0,
            text=doc.text[p_start:p_end],
            page=rows[0].page,
            author=doc.author,
            date=doc.date,
        )


def _top(hits: list[Hit]) -> float:
    """The best hit's score (the learned probability, or the fused score without the learned stage)."""
    return hits[0].score if hits else 0.0
