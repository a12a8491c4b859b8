"""What kind of answer a question wants (a person, a date, a place, a number, a reason) and whether a text has one."""

from __future__ import annotations

import re

from .aliases import words_of

QTYPES = ("who", "when", "where", "number", "why", "yesno", "other")
_YESNO = {
    *("is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should", "has", "have"),
    *("had", "may", "might", "must", "shall", "isn't", "aren't", "doesn't", "didn't", "won't", "wasn't", "any"),
}
_NUMBER_WORDS = ("how many", "how much", "how far", "how long", "how big", "how high", "how old", "how large")
_ANSWER = {
    "who": re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+|\b[A-Z]{2,}\b"),  # two capitalised words, or an acronym
    "when": re.compile(
        r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b(January|February|March|April|May|June|July|August|September|October|"
        r"November|December)\b|\b(century|decade|years? ago|since|until|during)\b",
        re.I,
    ),
    "where": re.compile(r"\b(in|at|from|to|near|into|across|on)\s+(the\s+)?[A-Z][a-z]+"),
    "number": re.compile(
        r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion|percent)\b",
        re.I,
    ),
    "why": re.compile(
        r"\b(because|since|due to|owing to|as a result|in order to|so that|so as to|reason|therefore|thus|if only)\b",
        re.I,
    ),
}


def question_type(text: str) -> str:
    """The kind of answer the (alias-rewritten) question asks for."""
    words = words_of(text)
    joined = " ".join(words)
    if any(p in joined for p in _NUMBER_WORDS) or "what percentage" in joined or "number of" in joined:
        return "number"
    if re.search(r"\b(when|what year|which year|what date|what time|how soon)\b", joined):
        return "when"
    if re.search(r"\b(who|whom|whose|which person|what person)\b", joined):
        return "who"
    if re.search(r"\b(where|which country|what country|which city|what city|what place)\b", joined):
        return "where"
    if re.search(r"\b(why|what for|how come|what reason)\b", joined):
        return "why"
    if words and words[0] in _YESNO:
        return "yesno"
    return "other"


def has_answer_type(qtype: str, text: str) -> bool:
    """Whether the text holds something of the wanted kind (always True when the kind has no pattern)."""
    pattern = _ANSWER.get(qtype)
    return True if pattern is None else bool(pattern.search(text))
