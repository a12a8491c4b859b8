"""The data passed between the stages: Document, Chunk, Passage, Answer, BuildReport, IndexStats."""

from __future__ import annotations

from dataclasses import dataclass

Span = tuple[int, int]  # a [start, end) character range of a document's text


@dataclass(frozen=True, kw_only=True)
class Document:
    """One source text: its path relative to the sources folder, its text and its metadata."""

    source: str
    text: str
    title: str
    kind: str
    sha256: str
    url: str | None = None
    author: str | None = None
    date: str | None = None
    page_starts: tuple[int, ...] = ()
    body_start: int = 0  # where the quotable body begins (after Markdown front matter)

    def to_row(self) -> dict:
        """The documents.jsonl row."""
        return {
            "source": self.source,
            "title": self.title,
            "url": self.url,
            "author": self.author,
            "date": self.date,
            "kind": self.kind,
            "sha256": self.sha256,
            "page_starts": list(self.page_starts),
            "body_start": self.body_start,
            "text": self.text,
        }

    @classmethod
    def from_row(cls, row: dict, source: str | None = None, sha256: str | None = None) -> Document:
        """A Document from its documents.jsonl row (optionally under another name or digest)."""
        return cls(
            source=source or str(row["source"]),
            text=str(row["text"]),
            title=str(row["title"]),
            kind=str(row["kind"]),
            sha256=sha256 or str(row["sha256"]),
            url=row.get("url"),
            author=row.get("author"),
            date=row.get("date"),
            page_starts=tuple(int(p) for p in row.get("page_starts") or ()),
            body_start=int(row.get("body_start") or 0),
        )


@dataclass(frozen=True, kw_only=True)
class Chunk:
    """A quotable window of a document: text == document.text[start:end], cut into sentences."""

    source: str
    start: int
    end: int
    paragraph: int
    text: str
    sentences: tuple[Span, ...] = ()  # each sentence gets a vector of its own and can be highlighted
    page: int | None = None

    def __post_init__(self) -> None:
        """A window without sentence offsets is one sentence: itself."""
        if not self.sentences:
            object.__setattr__(self, "sentences", ((self.start, self.end),))

    def to_row(self, row_id: int) -> dict:
        """The chunks.jsonl row of the passage stored at row_id."""
        return {
            "id": row_id,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "paragraph": self.paragraph,
            "page": self.page,
            "sentences": [list(s) for s in self.sentences],
            "text": self.text,
        }

    @classmethod
    def from_row(cls, row: dict) -> Chunk:
        """A Chunk from its chunks.jsonl row (raises KeyError / TypeError / ValueError when malformed)."""
        page = row.get("page")
        return cls(
            source=str(row["source"]),
            start=int(row["start"]),
            end=int(row["end"]),
            paragraph=int(row["paragraph"]),
            text=str(row["text"]),
            sentences=tuple((int(a), int(b)) for a, b in row.get("sentences", ())),
            page=None if page is None else int(page),
        )


@dataclass(frozen=True, kw_only=True)
class Passage:
    """A retrieved chunk with its rank, score, citation data and highlighted sentence."""

    rank: int
    source: str
    title: str
    url: str | None
    paragraph: int
    start: int
    end: int
    highlight: Span
    score: float
    text: str
    page: int | None = None
    chunk_id: int = -1
    author: str | None = None
    date: str | None = None
    link: str | None = None  # the source's URL pointing at the highlighted sentence (a text fragment), when it has one
    collection: str = ""  # the top-level folder of the source ("" for files at the top)

    def highlight_text(self) -> str:
        """Return the highlighted sentence."""
        return self.text[self.highlight[0] - self.start : self.highlight[1] - self.start]


@dataclass(frozen=True, kw_only=True)
class Answer:
    """The reply to one question: passages (maybe empty) and whether anything supports an answer."""

    question: str
    answered: bool
    passages: tuple[Passage, ...] = ()
    index_version: str = ""
    took_ms: float = 0.0
    message: str = ""
    confidence: str = "high"  # the reply tier: high (answered), low (closest passages, may not answer), none
    searched: str = ""  # what was searched: the question, or a follow-up read with the conversation before it

    @property
    def followup(self) -> bool:
        """True when the question was read as a follow-up of the conversation."""
        return bool(self.searched) and self.searched != self.question


@dataclass(frozen=True, kw_only=True)
class BuildReport:
    """What one index build did: sources added, changed, removed, kept, and why it was full."""

    version: str
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    full: bool = False
    reason: str = ""
    passages: int = 0
    embedded: int = 0
    seconds: float = 0.0
    rebuilt: tuple[str, ...] = ()  # unchanged sources re-embedded by a full rebuild
    skipped: tuple[tuple[str, str], ...] = ()  # (source, why it could not be indexed)
    notes: tuple[str, ...] = ()  # what failed after the build itself succeeded (e.g. a Milvus publish)

    @property
    def unchanged(self) -> bool:
        """True when nothing was added, changed, removed or renamed."""
        return not (self.added or self.changed or self.removed or self.renamed or self.full)


@dataclass(frozen=True, kw_only=True)
class DocumentStats:
    """One indexed source, for /sources and `korea-bot index`."""

    source: str
    title: str
    passages: int


@dataclass(frozen=True, kw_only=True)
class IndexStats:
    """What the live index holds."""

    version: str
    built_at: str
    model: str
    documents: tuple[DocumentStats, ...]
    passages: int
    skipped: tuple[tuple[str, str], ...] = ()  # (source, why it could not be indexed)
