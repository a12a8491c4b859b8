"""The question as the search sees it: normalised text and its vector, or a refusal the user can act on."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..errors import BadQuestion
from .aliases import Expansion, words_of

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
RAW_SLACK = 4  # a raw question may be this many times the limit before cleaning (whitespace, invisibles)


@dataclass(frozen=True, kw_only=True)
class Query:
    """A cleaned question, its unit vector, and its alias-rewritten forms for both retrievers."""

    text: str
    vector: np.ndarray  # the question's own vector
    rewritten_vector: np.ndarray | None = None  # the vector of the alias-rewritten question, when it differs
    expansion: Expansion | None = None
    rows: np.ndarray | None = None  # search only these passage rows (a collection), or all when None

    @property
    def vectors(self) -> np.ndarray:
        """Every vector sentences are matched against (a sentence scores its best match): (1 or 2, dim)."""
        if self.rewritten_vector is None:
            return self.vector[None, :]
        return np.stack([self.vector, self.rewritten_vector])

    @property
    def keywords(self) -> str:
        """What the keyword index searches: the question plus the canonical words its aliases were rewritten to.

        Adding every equivalent of every alias (north korea, pyongyang, dprk, the north…) made BM25 worse on the dev
        questions (hit@1 0.35 -> 0.22 with the Wikipedia articles), so only the canonical forms are added.
        """
        if self.expansion is None or not self.expansion.changed:
            return self.text
        typed = set(words_of(self.text))
        added = [w for w in self.expansion.rewritten.split() if w not in typed]
        return " ".join([self.text, *added])


def clean_question(text: str | None, max_chars: int) -> str:
    """Normalise a question (NFC, no invisible or control characters, single spaces), or raise BadQuestion."""
    if text is None:
        raise BadQuestion("Please ask a question.")
    if len(text) > max_chars * RAW_SLACK:
        raise BadQuestion(f"That question is {len(text):,} characters long; please keep it under {max_chars}.")
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())
    if not text:
        raise BadQuestion("Please ask a question: the text was empty.")
    if len(text) > max_chars:
        raise BadQuestion(f"That question is {len(text):,} characters long; please keep it under {max_chars}.")
    if not re.search(r"\w", text):
        raise BadQuestion("I could not find any words in that question.")
    return text
