"""The question as the search sees it: normalised text and its vector, or a refusal the user can act on."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..errors import BadQuestion

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
RAW_SLACK = 4  # a raw question may be this many times the limit before cleaning (whitespace, invisibles)


@dataclass(frozen=True)
class Query:
    """A cleaned question and its unit vector."""

    text: str
    vector: np.ndarray


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
