"""Frozen dataclasses passed between the core modules: Document, Chunk, Passage, Answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Chunk:
    """A quotable window of a document: text == document.text[start:end]."""

    source: str
    start: int
    end: int
    paragraph: int
    text: str
    sentences: tuple[tuple[int, int], ...] = ()
    page: int | None = None

    @property
    def parts(self) -> tuple[tuple[int, int], ...]:
        """The document ranges that get a vector of their own (and can be highlighted): its sentences, or itself."""
        return self.sentences or ((self.start, self.end),)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its rank, score, citation data and highlighted sentence."""

    rank: int
    source: str
    title: str
    url: str | None
    paragraph: int
    start: int
    end: int
    highlight: tuple[int, int]
    score: float
    text: str
    page: int | None = None
    chunk_id: int = -1

    def highlight_text(self) -> str:
        """Return the highlighted sentence."""
        return self.text[self.highlight[0] - self.start : self.highlight[1] - self.start]


@dataclass(frozen=True)
class Answer:
    """The reply to one question: passages (maybe empty) and whether anything supports an answer."""

    question: str
    answered: bool
    passages: tuple[Passage, ...] = ()
    index_version: str = ""
    took_ms: float = 0.0
    message: str = ""


@dataclass(frozen=True)
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

    @property
    def unchanged(self) -> bool:
        """True when nothing was added, changed, removed or renamed."""
        return not (self.added or self.changed or self.removed or self.renamed or self.full)

    def summary(self) -> str:
        """One line: what was added / changed / removed / kept and how long it took."""
        text = (
            f"index {self.version}: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {len(self.kept)} kept"
        )
        if self.renamed:
            text += f", {len(self.renamed)} renamed"
        text += f"; {self.passages} passages ({self.embedded} embedded) in {self.seconds:.1f}s"
        if self.full and self.reason:
            text += f" [full rebuild: {self.reason}]"
        return text


@dataclass(frozen=True)
class IndexStats:
    """What the live index holds, for /sources and `korea-bot index`."""

    version: str
    built_at: str
    model: str
    documents: tuple[tuple[str, str, int], ...]  # (source, title, passages)
    passages: int
