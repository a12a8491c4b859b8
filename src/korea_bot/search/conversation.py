"""Conversations: what was asked and quoted so far, and how a follow-up question is read in that light."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from ..models import Answer
from .aliases import words_of
from .terms import content_terms

TTL_SECONDS = 30 * 60  # a conversation left alone this long is forgotten (the next question starts afresh)
MAX_TURNS = 6  # only the last few turns are kept
CONTEXT_TURNS = 2  # how many earlier questions a follow-up is read with
SHORT = 3  # a question with at most this many content words leans on what came before
_CUE = re.compile(
    r"^(and|but|so|also|then|what about|how about|why|how come|source|who said|where is that|is that|was that)\b"
    r"|\b(it|its|they|them|their|theirs|that|this|those|these|he|him|his|she|her|there|then|one)\b",
    re.I,
)

_NEW_TOPIC = re.compile(  # "unrelated, …", "ok diff q: …", "btw …": the asker says the conversation is over
    r"^(?:(?:ok|okay|so|also|anyway|hey)\b[\s,:]*)*"
    r"(?:(?:totally |completely |kinda )?unrelated|diff(?:erent)?\s+(?:q|qs|question|topic)|new\s+(?:q|question|topic)"
    r"|switching\s+topics?|chang(?:e|ing)\s+(?:the\s+)?(?:topic|subject)|random(?:\s+q(?:uestion)?)?\s*(?:but\b|[,:])"
    r"|btw|by the way|off[- ]topic|another\s+(?:q|question|thing))\b",
    re.I,
)


@dataclass(frozen=True, kw_only=True)
class Turn:
    """One answered question of a conversation: as asked, as searched, and the passages quoted."""

    question: str
    searched: str
    sources: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()


@dataclass
class Conversation:
    """The recent turns of one thread (or one `korea-bot chat` session); forgotten after TTL_SECONDS idle."""

    turns: list[Turn] = field(default_factory=list)
    updated: float = field(default_factory=time.monotonic)

    def add(self, turn: Turn, now: float | None = None) -> None:
        """Remember a turn (keeping the last MAX_TURNS)."""
        self.turns = [*self.turns, turn][-MAX_TURNS:]
        self.updated = time.monotonic() if now is None else now

    def add_answer(self, answer: Answer) -> None:
        """Remember an answered question: as asked, as searched, and the passages it quoted."""
        self.add(
            Turn(
                question=answer.question,
                searched=answer.searched or answer.question,
                sources=tuple(p.source for p in answer.passages),
                rows=tuple(p.chunk_id for p in answer.passages),
            )
        )

    def expired(self, now: float | None = None) -> bool:
        """True when nothing was asked for TTL_SECONDS."""
        return (time.monotonic() if now is None else now) - self.updated > TTL_SECONDS

    def context_text(self, question: str) -> str:
        """The follow-up read with the conversation: the last CONTEXT_TURNS questions as asked, then the new one.

        On the dev conversations this beat weighting the new question's vector up (a mean of the vectors), chaining
        the earlier readings, and adding the previous answer's text (docs/EVALUATION.md, "Conversations").
        """
        earlier = [t.question for t in self.turns[-CONTEXT_TURNS:]]
        return " ".join([*earlier, question])


def leans_on_context(question: str) -> bool:
    """Whether a question looks like a follow-up: a pronoun or follow-up opener, or very few content words."""
    return bool(_CUE.search(" ".join(words_of(question)))) or len(content_terms(question)) <= SHORT


MARGIN = 0.1  # how much better (in probability) the other reading must be to win against the cues


def starts_new_topic(question: str) -> bool:
    """Whether the question opens by saying it is about something else ("unrelated, …", "diff q: …", "btw …")."""
    return bool(_NEW_TOPIC.match(question.strip()))


def prefer_context(question: str, alone: float, with_context: float) -> bool:
    """Decide from the evidence whether a question continues the conversation: the better-supported reading wins,
    with the benefit of the doubt going to the conversation when the question looks like a follow-up, and never
    when the asker says the topic changes."""
    if starts_new_topic(question):
        return False
    if leans_on_context(question):
        return with_context >= alone - MARGIN
    return with_context > alone + MARGIN
