"""Question terms: content words, stemmed as the keyword index stems them, grouped into concepts by the aliases."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .aliases import Expansion, words_of

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # the keyword index's token pattern (bm25s / scikit-learn)
# Words that say nothing about which passage answers: function words, question words, chat filler.
FILLER = {
    *("lol", "lmao", "tbh", "imo", "imho", "nah", "yeah", "yep", "ok", "okay", "like", "even", "actually", "really"),
    *("kinda", "sorta", "basically", "literally", "pretty", "much", "just", "wait", "so", "um", "uh", "hey", "guys"),
    *("anyone", "someone", "know", "tell", "explain", "mean", "thing", "things", "stuff", "exactly", "anyway"),
    *("also", "still", "ever", "maybe", "would", "could", "might", "must", "shall", "can", "get", "got", "say"),
    *("said", "does", "did", "doing", "done", "make", "made", "way", "ways", "lot", "lots", "bit", "right", "now"),
    *("article", "author", "text", "according", "view", "think", "please", "thanks", "something", "anything"),
    *("what", "which", "who", "whom", "whose", "when", "where", "why", "how", "many", "whats", "is", "are"),
}


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    """The Snowball English stemmer the keyword index uses (None without PyStemmer)."""
    try:
        import Stemmer
    except ImportError:  # pragma: no cover - optional speed-up
        return None
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English function words (bm25s' extended list) plus question words and chat filler."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset({*STOPWORDS_EN_PLUS, *FILLER})


def stems(words: list[str]) -> list[str]:
    """Stem words as the keyword index does."""
    stemmer = _stemmer()
    return list(stemmer.stemWords(words)) if stemmer is not None else words


def text_terms(text: str) -> set[str]:
    """The stemmed tokens of a text (all of them, stop words included: coverage looks the question's up)."""
    return set(stems(_TOKEN.findall(text.lower())))


def content_terms(text: str) -> list[str]:
    """The stemmed content words of a text, in order, without stop words."""
    return list(_content_terms(text))


@lru_cache(maxsize=4096)
def _content_terms(text: str) -> tuple[str, ...]:
    """content_terms, kept for the texts seen last (a question's words are looked up several times an answer)."""
    stop = stop_words()
    return tuple(stems([t for t in _TOKEN.findall(text.lower()) if t not in stop]))


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about: the ways to say it (stemmed token tuples) and how rare it is (IDF)."""

    alternatives: tuple[tuple[str, ...], ...]
    idf: float
    known: bool = True  # False when no way of saying it occurs anywhere in the index (a typo, or off-topic)

    def covered_by(self, terms: set[str]) -> bool:
        """Whether a text with these stemmed tokens says it in one of its ways."""
        return any(all(t in terms for t in alt) for alt in self.alternatives)


def concepts(expansion: Expansion, doc_freq: dict[str, int], n_docs: int) -> list[Concept]:
    """The question's concepts: each alias group is one concept, every other content word one of its own."""
    stop = stop_words()
    grouped: set[str] = set()
    out: list[Concept] = []
    for group in expansion.groups:
        alts = tuple(dict.fromkeys(tuple(content_terms(member)) for member in group))
        alts = tuple(a for a in alts if a)
        if not alts:
            continue
        grouped.update(t for alt in alts for t in alt)
        known = any(all(doc_freq.get(t, 0) > 0 for t in alt) for alt in alts)
        out.append(Concept(alts, min(_alt_idf(a, doc_freq, n_docs) for a in alts), known))
    for word in words_of(expansion.rewritten):
        if word in stop:
            continue
        for term in content_terms(word):
            if term not in grouped:
                grouped.add(term)
                df = doc_freq.get(term, 0)
                out.append(Concept(((term,),), idf(df, n_docs), df > 0))
    return out


def idf(df: int, n_docs: int) -> float:
    """BM25's inverse document frequency (Lucene's form, always positive)."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def _alt_idf(alt: tuple[str, ...], doc_freq: dict[str, int], n_docs: int) -> float:
    """The IDF of a multi-word way of saying a concept: the mean of its words' IDFs."""
    return float(np.mean([idf(doc_freq.get(t, 0), n_docs) for t in alt]))


class Coverage:
    """The question's known concepts prepared for fast checks against many texts' token sets."""

    def __init__(self, items: list[Concept]) -> None:
        """Keep the known concepts split into one-word ways (a set test) and multi-word ones, and their IDF total."""
        known = [c for c in items if c.known]
        self.total = sum(c.idf for c in known)
        self.vocabulary = frozenset(t for c in known for alt in c.alternatives for t in alt)
        self.parts = [
            (
                c.idf,
                frozenset(alt[0] for alt in c.alternatives if len(alt) == 1),
                [alt for alt in c.alternatives if len(alt) > 1],
            )
            for c in known
        ]
        self._seen: dict[frozenset[str], tuple[float, float]] = {}

    def of(self, terms: set[str]) -> tuple[float, float]:
        """(IDF-weighted share of the known concepts the text covers, IDF of the known ones it misses)."""
        if self.total <= 0:
            return 0.0, 0.0
        return self._of(self.vocabulary.intersection(terms))

    def passage(self, window: set[str], sentences: list[set[str]], best: int) -> tuple[float, ...]:
        """`of` a window, `of` its sentence `best`, and the best share `of` gives any of its sentences, at once.

        A sentence's words are among its window's, so only the question words the window holds are looked for in its
        sentences, and a window covering nothing (most of them) answers for every sentence.
        """
        if self.total <= 0:
            return 0.0, 0.0, 0.0, 0.0, 0.0
        present = self.vocabulary.intersection(window)
        whole = self._of(present)
        if whole[0] == 0.0:  # coverage only grows with the words present: no sentence covers more than nothing
            return (*whole, *whole, whole[0])
        each = [self._of(present.intersection(t)) for t in sentences]
        return (*whole, *each[best], max(share for share, _missed in each))

    def _of(self, present: frozenset[str]) -> tuple[float, float]:
        """`of` for the question words a text holds (a frozenset: the memo key)."""
        found = self._seen.get(present)
        if found is None:  # texts share few question words: most calls repeat an earlier combination
            covered = 0.0
            if present:
                for idf, singles, multis in self.parts:
                    if not singles.isdisjoint(present) or any(all(t in present for t in alt) for alt in multis):
                        covered += idf
            found = self._seen[present] = (covered / self.total, self.total - covered)
        return found


def coverage_of(memo: dict, items: list[Concept]) -> Coverage:
    """The Coverage of a question's concepts, made once per question and kept in `memo` (its own memo then serves
    every passage of the answer)."""
    last = memo.get("coverage")
    if last is not None and last[0] is items:
        return last[1]
    cover = Coverage(items)
    memo["coverage"] = (items, cover)
    return cover


def coverage(items: list[Concept], terms: set[str]) -> tuple[float, float]:
    """(IDF-weighted share of the question's known concepts a text covers, total IDF of the known ones it misses).

    Concepts the index never saw (typos, off-topic words) cannot be covered by any passage, so they are left out here
    and counted by the caller (the `idf_unknown` feature) instead of drowning every passage's coverage.
    """
    known = [c for c in items if c.known]
    total = sum(c.idf for c in known)
    if total <= 0:
        return 0.0, 0.0
    covered = sum(c.idf for c in known if c.covered_by(terms))
    return covered / total, total - covered
