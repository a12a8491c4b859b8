"""Aliases: a synonyms file in the search-engine style (`a, b, c` equivalents, `a => b` rewrites) applied to a question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import ConfigError

_WORD = re.compile(r"[\w][\w'’.-]*[\w]|[\w]", re.U)
_KEEP_S = {"what's", "who's", "where's", "how's", "it's", "that's", "there's", "he's", "she's", "let's"}
DEFAULT_FILE = "default"  # the synonyms file shipped in the package (search/data/synonyms.txt)


@dataclass(frozen=True)
class Rule:
    """Token sequences that mean the same (`equivalent`) or are replaced by others (`=>`)."""

    sources: tuple[tuple[str, ...], ...]
    targets: tuple[tuple[str, ...], ...]
    rewrite: bool  # True for `a => b` (the source words go), False for `a, b, c` (all stay equivalent)


@dataclass(frozen=True)
class Expansion:
    """A question after alias expansion: the rewritten text (canonical words) and the extra keyword terms."""

    rewritten: str  # the question with each alias replaced by its canonical form (== the question if none)
    extra_terms: tuple[str, ...] = ()  # the other members of each matched group, for the keyword query
    groups: tuple[tuple[str, ...], ...] = field(default=())  # each matched concept: all the ways to say it

    @property
    def changed(self) -> bool:
        """True when some alias matched."""
        return bool(self.groups)


class Synonyms:
    """Parsed alias rules, matched longest first on lower-cased word sequences."""

    def __init__(self, rules: list[Rule]) -> None:
        """Index the rules by the first word of each source sequence."""
        self.rules = rules
        self._by_first: dict[str, list[tuple[tuple[str, ...], Rule]]] = {}
        for rule in rules:
            for seq in rule.sources:
                self._by_first.setdefault(seq[0], []).append((seq, rule))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))

    def expand(self, question: str) -> Expansion:
        """Rewrite a question: canonical words for its aliases, plus the equivalents to search for."""
        words = words_of(question)
        out: list[str] = []
        extra: list[str] = []
        groups: list[tuple[str, ...]] = []
        i = 0
        while i < len(words):
            match = next(
                (
                    (seq, rule)
                    for seq, rule in self._by_first.get(words[i], ())
                    if tuple(words[i : i + len(seq)]) == seq
                ),
                None,
            )
            if match is None:
                out.append(words[i])
                i += 1
                continue
            seq, rule = match
            if rule.rewrite:
                out.extend(rule.targets[0])
                members = rule.targets
            else:
                out.extend(rule.sources[0])
                members = rule.sources
            groups.append(tuple(" ".join(m) for m in members))
            if not rule.rewrite:
                extra.extend(" ".join(m) for m in members if m != seq)
            i += len(seq)
        return Expansion(" ".join(out), tuple(dict.fromkeys(extra)), tuple(groups))


def words_of(text: str) -> list[str]:
    """Lower-cased words (keeping inner apostrophes, dots and hyphens: u.s, what's, six-party), without a final 's."""
    words = [w.replace("’", "'") for w in _WORD.findall(text.lower())]
    return [w[:-2] if w.endswith("'s") and len(w) > 3 and w not in _KEEP_S else w for w in words]


def parse(text: str, name: str = "synonyms") -> Synonyms:
    """Parse a synonyms file: `#` comments, blank lines, `a, b, c` equivalents, `a, b => c` rewrites."""
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.count("=>") > 1:
            raise ConfigError(f"{name} line {number}: more than one '=>' in {raw.strip()!r}")
        left, arrow, right = line.partition("=>")
        sources = _terms(left, name, number)
        targets = _terms(right, name, number) if arrow else sources
        if arrow and not targets:
            raise ConfigError(f"{name} line {number}: nothing after '=>' in {raw.strip()!r}")
        if len(sources) < (1 if arrow else 2):
            raise ConfigError(f"{name} line {number}: a group needs two or more terms separated by commas")
        rules.append(Rule(sources, targets, bool(arrow)))
    return Synonyms(rules)


def _terms(part: str, name: str, number: int) -> tuple[tuple[str, ...], ...]:
    """The comma-separated terms of one side of a rule, as word sequences."""
    terms = []
    for term in part.split(","):
        if not term.strip():
            if part.strip():
                raise ConfigError(f"{name} line {number}: an empty term (two commas in a row?)")
            continue
        words = tuple(words_of(term))
        if not words:
            raise ConfigError(f"{name} line {number}: {term.strip()!r} has no words")
        terms.append(words)
    return tuple(terms)


@lru_cache(maxsize=8)
def load(path: str) -> Synonyms:
    """The synonyms of a file (or of the shipped default file, for `default`); empty rules for `none`."""
    if path == "none":
        return Synonyms([])
    if path == DEFAULT_FILE:
        text = resources.files(__package__).joinpath("data", "synonyms.txt").read_text(encoding="utf-8")
        return parse(text, "the default synonyms file")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the synonyms file {path} (KOREA_BOT_SYNONYMS_FILE): {exc}") from None
    return parse(text, path)
