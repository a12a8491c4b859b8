"""Exact stand-ins for two slow pysbd methods: the same sentences, without a regex compiled per sentence."""

from __future__ import annotations

import re
from typing import Any

from .pattern_cache import compiled

CHECKED_VERSION = "0.3.4"  # the pysbd release whose two methods these copy; another one keeps its own
_SPACES = re.compile(r"\s*")

# The only characters re's IGNORECASE matches with an ASCII letter or digit although their lower() differs from it
# (checked over every code point): dotless i and long s.
_FOLD = str.maketrans({"ı": "i", "ſ": "s"})
_plain: dict[Any, tuple[frozenset[str], frozenset[int]]] = {}  # by pysbd language
_ORIGINAL: dict[str, Any] = {}  # pysbd's own methods, kept by install()


def _plain_abbreviations(lang: Any) -> tuple[frozenset[str], frozenset[int]]:
    """The lowercase ASCII letters-and-digits abbreviations of a pysbd language (no regex meaning), and their
    lengths (worked out once per language)."""
    if lang not in _plain:
        plain = frozenset(
            a.strip() for a in lang.Abbreviation.ABBREVIATIONS if a.strip().isascii() and a.strip().isalnum()
        )
        _plain[lang] = (frozenset(a for a in plain if a == a.lower()), frozenset(len(a) for a in plain))
    return _plain[lang]


def dotted_starts(line: str, lowered: str, lengths: frozenset[int]) -> set[str] | None:
    """The starts of the line's words that contain a dot, cut one past each abbreviation length and case-folded as
    re's IGNORECASE compares ASCII (`lowered` is line.lower()); None when lowercasing changes the line's length
    (then pysbd's path is taken)."""
    folded = lowered.translate(_FOLD)
    if len(folded) != len(line):
        return None
    return {word[: n + 1] for word in folded.split() if "." in word for n in lengths}


def search_for_abbreviations_in_string(self: Any, text: str) -> str:
    """pysbd's `AbbreviationReplacer.search_for_abbreviations_in_string`, with one added skip.

    pysbd runs `findall("(?:^|\\s)" + abbreviation, line, IGNORECASE)` for every abbreviation that occurs anywhere in
    the line (as in "al" of "also"), then a substitution per match; each substitution only turns the "." right after
    an abbreviation that follows whitespace into "∯". So an abbreviation of plain letters and digits that starts no
    word of the line followed by a dot changes nothing and is skipped (str.split() splits on exactly re's \\s;
    the replacements change no letter or space, so the line's words stay valid for the whole loop).
    """
    plain, lengths = _plain_abbreviations(self.lang)
    lowered = text.lower()
    starts = dotted_starts(text, lowered, lengths)
    for abbr in self.lang.Abbreviation.ABBREVIATIONS:
        stripped = abbr.strip()
        if stripped not in lowered:
            continue
        if starts is not None and stripped in plain and stripped + "." not in starts:
            continue
        abbrev_match = compiled(rf"(?:^|\s|\r|\n){stripped}", re.IGNORECASE).findall(text)
        if not abbrev_match:
            continue
        next_word_start = r"(?<={" + str(re.escape(stripped)) + "} ).{1}"  # "{...}": literal braces
        char_array = compiled(next_word_start, 0).findall(text) if "{" in text else []
        for ind, match in enumerate(abbrev_match):
            text = self.scan_for_replacements(text, match, ind, char_array)
    return text


def sentences_with_char_spans(self: Any, sentences: list[str]) -> list[Any]:
    """pysbd's `Segmenter.sentences_with_char_spans` without compiling `re.escape(sentence) + "\\s*"` per sentence.

    Each sentence is found as pysbd finds it: the first of its non-overlapping occurrences (searched from the start
    of the text, each followed by its whitespace) that ends after the previous sentence's span; one it cannot find
    is left out, as pysbd leaves it out. An empty sentence takes pysbd's own path.
    """
    from pysbd.utils import TextSpan

    if not all(sentences):
        return _ORIGINAL["sentences_with_char_spans"](self, sentences)
    text = self.original_text
    spans: list[Any] = []
    prior_end = 0
    for sent in sentences:
        pos = 0
        while (start := text.find(sent, pos)) >= 0:
            end = _SPACES.match(text, start + len(sent)).end()  # type: ignore[union-attr]
            if end > prior_end:
                spans.append(TextSpan(text[start:end], start, end))
                prior_end = end
                break
            pos = end
    return spans


def install() -> bool:
    """Use the two methods above in pysbd (idempotent); False, changing nothing, under another pysbd release."""
    import pysbd
    from pysbd.abbreviation_replacer import AbbreviationReplacer
    from pysbd.segmenter import Segmenter

    if getattr(pysbd, "__version__", None) != CHECKED_VERSION:
        return False
    if "sentences_with_char_spans" not in _ORIGINAL:
        _ORIGINAL["sentences_with_char_spans"] = Segmenter.sentences_with_char_spans
        _ORIGINAL["search_for_abbreviations_in_string"] = AbbreviationReplacer.search_for_abbreviations_in_string
    AbbreviationReplacer.search_for_abbreviations_in_string = search_for_abbreviations_in_string  # type: ignore[method-assign]
    Segmenter.sentences_with_char_spans = sentences_with_char_spans  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    """Give pysbd its own two methods back."""
    from pysbd.abbreviation_replacer import AbbreviationReplacer
    from pysbd.segmenter import Segmenter

    if _ORIGINAL:
        AbbreviationReplacer.search_for_abbreviations_in_string = _ORIGINAL["search_for_abbreviations_in_string"]  # type: ignore[method-assign]
        Segmenter.sentences_with_char_spans = _ORIGINAL["sentences_with_char_spans"]  # type: ignore[method-assign]
