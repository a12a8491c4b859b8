"""The command line's renderings: the ask --json object and the terminal text, and the shared citation."""

from __future__ import annotations

import json

from korea_bot.adapters.cli.render import BOLD, RESET, to_dict, to_json, to_text
from korea_bot.formatting import citation, report_lines
from korea_bot.models import Answer, BuildReport, Passage

TEXT = "Russia cannot remain aloof. It borders on North Korea."


def passage(**changes: object) -> Passage:
    """A passage of TEXT with its second sentence highlighted."""
    fields: dict = {
        "rank": 1,
        "source": "seed/a.txt",
        "title": "A Title",
        "url": None,
        "paragraph": 2,
        "start": 100,
        "end": 100 + len(TEXT),
        "highlight": (128, 100 + len(TEXT)),
        "score": 0.712345,
        "text": TEXT,
    }
    fields.update(changes)
    return Passage(**fields)


def answer(*passages: Passage, answered: bool = True, message: str = "") -> Answer:
    """An answer holding the given passages."""
    return Answer(
        question="why?", answered=answered, passages=passages, index_version="v1", took_ms=12.3, message=message
    )


def test_json_object_has_every_contract_field() -> None:
    """The JSON object carries the contract's fields with their meaning; one line of JSON."""
    obj = to_dict(answer(passage(page=3)))
    assert set(obj) == {"question", "answered", "confidence", "followup", "index_version", "took_ms", "passages"}
    assert obj["confidence"] == "high" and obj["followup"] is False
    p = obj["passages"][0]
    assert set(p) == {
        "rank",
        "source",
        "title",
        "url",
        "paragraph",
        "page",
        "start",
        "end",
        "highlight",
        "score",
        "text",
        "author",  # added later (the contract allows new fields; the others keep their meaning)
        "date",
        "link",
        "collection",
    }
    assert p["highlight"] == [128, 100 + len(TEXT)] and p["page"] == 3 and p["text"] == TEXT
    assert p["author"] is None and p["date"] is None and p["link"] is None and p["collection"] == ""
    dated = to_dict(answer(passage(author="A. Writer", date="2019-11-29")))["passages"][0]
    assert (dated["author"], dated["date"]) == ("A. Writer", "2019-11-29")
    line = to_json(answer(passage()))
    assert "\n" not in line and json.loads(line)["passages"][0]["score"] == 0.712345


def test_text_marks_the_highlight_and_cites() -> None:
    """Plain text: the citation line, the quote with its highlight in ** (bold codes on a terminal), the footer."""
    out = to_text(answer(passage(url="https://example.org/a")))
    lines = out.splitlines()
    assert lines[0] == "Q: why?"
    assert lines[2] == "[1] A Title — ¶2  (seed/a.txt, score 0.71)"
    assert lines[3] == "    https://example.org/a"
    assert "Russia cannot remain aloof. **It borders on North Korea.**" in out
    assert out.endswith("index v1 · 12 ms")
    colored = to_text(answer(passage()), color=True)
    assert f"{BOLD}It borders on North Korea.{RESET}" in colored and "**" not in colored


def test_text_of_an_abstention_is_the_message() -> None:
    """An unanswered question shows the reason and no passage."""
    out = to_text(answer(answered=False, message="No passage supports it."))
    assert out == "Q: why?\n\nNo passage supports it."


def test_text_of_the_low_tier_warns_before_the_passages() -> None:
    """The closest passages of a low-confidence reply come under a line saying they may not answer."""
    low = Answer(question="why?", answered=False, passages=(passage(),), confidence="low", message="Check them.")
    lines = to_text(low).splitlines()
    assert lines[2] == "Closest passages — may not answer. Check them."
    assert lines[4].startswith("[1] A Title — ¶2")
    assert to_dict(low)["confidence"] == "low" and to_dict(low)["answered"] is False


def test_citation_names_page_and_paragraph_and_shrinks_only_the_title() -> None:
    """`Title — ¶n`, `Title — p. 3, ¶n` for paged sources; a limit shortens the title, never the place."""
    assert citation(passage()) == "A Title — ¶2"
    assert citation(passage(page=3)) == "A Title — p. 3, ¶2"
    long = citation(passage(title="T" * 500, page=3), limit=40)
    assert len(long) <= 40 and long.endswith("… — p. 3, ¶2")


def test_report_lines_list_every_kind_of_change() -> None:
    """The build report: a summary line, then added, changed, removed and renamed sources."""
    report = BuildReport(
        version="v2", added=("a.txt",), changed=("b.txt",), removed=("c.txt",), renamed=(("d.txt", "e.txt"),)
    )
    lines = report_lines(report)
    assert lines[0].startswith("index v2: 1 added, 1 changed, 1 removed, 0 kept, 1 renamed")
    assert lines[1:] == ["  added: a.txt", "  changed: b.txt", "  removed: c.txt", "  renamed: d.txt -> e.txt"]
