"""Aliases: the synonyms file format, question rewriting, and what the keyword query gets from it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from korea_bot.errors import ConfigError
from korea_bot.search import aliases
from korea_bot.search.question import Query

RULES = """
# countries by capital
north korea, pyongyang, dprk, nk
russia, moscow, the kremlin   # a trailing comment
wat, wut => what
nukes => nuclear weapons
"""


def test_equivalents_rewrite_to_the_first_term_and_search_the_others() -> None:
    """`a, b, c`: any member is read as the first, and the others become extra keyword terms."""
    rules = aliases.parse(RULES)
    e = rules.expand("Does the Kremlin trust Pyongyang?")
    assert e.rewritten == "does russia trust north korea"
    assert set(e.extra_terms) == {"russia", "moscow", "north korea", "dprk", "nk"}  # all but the words typed
    assert e.changed and len(e.groups) == 2


def test_rewrites_replace_and_add_no_extras() -> None:
    """`a, b => c`: the words are replaced; multi-word targets and the longest match win."""
    rules = aliases.parse(RULES)
    e = rules.expand("wut about NK nukes")
    assert e.rewritten == "what about north korea nuclear weapons"
    assert "what" not in e.extra_terms and "nuclear weapons" not in e.extra_terms
    assert aliases.parse("korea, the korean peninsula\nthe korean => korean").expand(
        "the korean peninsula"
    ).rewritten == ("korea")


def test_no_alias_leaves_the_question_alone() -> None:
    """A question without aliases is unchanged; a final 's is dropped from words, keeping what's and who's."""
    e = aliases.parse(RULES).expand("Who won the 2018 FIFA World Cup?")
    assert e.rewritten == "who won the 2018 fifa world cup" and not e.changed and e.extra_terms == ()
    assert aliases.words_of("Russia's stance, what's it? Kim’s") == ["russia", "stance", "what's", "it", "kim"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a, b\nx => y => z", "line 2: more than one '=>'"),
        ("solo", "line 1: a group needs two or more terms"),
        ("a,, b", "line 1: an empty term"),
        ("a => ", "line 1: nothing after '=>'"),
        ("a, ?!", "line 1: '?!' has no words"),
    ],
)
def test_bad_lines_name_the_line(text: str, problem: str) -> None:
    """Every malformed rule is a ConfigError naming the file and the line."""
    with pytest.raises(ConfigError, match=re.escape(f"my.txt {problem}")):
        aliases.parse(text, "my.txt")


def test_files_load_by_path_default_and_none(tmp_path: Path) -> None:
    """`default` is the shipped file (countries, capitals, acronyms, chat words), `none` has no rules, a path its own."""
    shipped = aliases.load("default").expand("y does moscow care abt dprk")
    assert shipped.rewritten == "why does russia care about north korea"
    assert aliases.load("none").rules == []
    path = tmp_path / "syn.txt"
    path.write_text("seoul, south korea\n", encoding="utf-8")
    assert aliases.load(str(path)).expand("seoul").rewritten == "seoul"
    with pytest.raises(ConfigError, match="cannot read the synonyms file"):
        aliases.load(str(tmp_path / "missing.txt"))


def test_keyword_query_adds_only_the_canonical_words() -> None:
    """The keyword index searches the typed question plus the words its aliases were rewritten to."""
    e = aliases.parse(RULES).expand("wat does moscow want")
    q = Query(text="wat does moscow want", vector=np.zeros(4, np.float32), expansion=e)
    assert q.keywords == "wat does moscow want what russia"
    plain = Query(text="hello there", vector=np.zeros(4, np.float32), expansion=aliases.parse(RULES).expand("hi"))
    assert plain.keywords == "hello there" and plain.vectors.shape == (1, 4)
