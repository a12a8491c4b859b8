"""Unit and property tests for the Discord renderer: limits, escaping, verbatim quotes, citations."""

from __future__ import annotations

import re

from helpers.discord_harness import visible
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from korea_bot.adapters.discord import render as R
from korea_bot.models import Answer, BuildReport, DocumentStats, IndexStats, Passage

SPECIALS = set("\\*_~`|<>[]#@")


def unescaped_specials(md: str) -> list[int]:
    """Positions of markdown/mention characters not protected by a backslash (bold markers excluded)."""
    bad, i = [], 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md):
            i += 2
            continue
        if md.startswith("**", i):
            i += 2
            continue
        if md[i] in SPECIALS:
            bad.append(i)
        i += 1
    return bad


def quote_body(description: str) -> tuple[str, bool, bool]:
    """The visible quote without the block-quote prefix and ellipsis markers, and which ends were cut."""
    assert description.startswith(R.QUOTE_PREFIX)
    body = visible(description[len(R.QUOTE_PREFIX) :])
    left = body.startswith(R.ELLIPSIS + " ")
    body = body[2:] if left else body
    right = body.endswith(R.ELLIPSIS)
    body = body[:-1].rstrip() if right else body
    return body, left, right


def passage(text: str, rank: int = 1, hl: tuple[int, int] | None = None, **kw: object) -> Passage:
    """A passage at offset 100 of some source, highlighting ``hl`` (relative) or the whole text."""
    lo, hi = hl or (0, len(text))
    base = {"source": "seed/a.txt", "title": "A Title", "url": None, "paragraph": 12, "score": 0.7}
    base.update(kw)
    span = {"start": 100, "end": 100 + len(text), "highlight": (100 + lo, 100 + hi)}
    return Passage(rank=rank, text=text, **span, **base)


def answer(*ps: Passage) -> Answer:
    """An answered Answer holding ``ps``."""
    return Answer(question="q?", answered=True, passages=tuple(ps), index_version="v1", took_ms=12.0)


def test_markdown_from_a_source_renders_as_text() -> None:
    """Code fences, spoilers, links, headings and quotes are escaped, and display verbatim."""
    cases = ["```py\nprint(1)\n```", "||x||", "[a](http://x)", "# h", "> q", "-# s", "*a* ~~c~~", "1. x"]
    for raw in cases:
        out = R.escape(raw)
        assert visible(out) == raw
        assert unescaped_specials(out) == []
        assert not re.search(r"(?m)^\s*(#|>|-\s|\d+\.\s)", out)


def test_mentions_are_neutralised() -> None:
    """@everyone, role and user mentions cannot form a mention token."""
    out = R.escape("hi @everyone and @here, <@&123> and <@456> <#789>")
    assert "<@" not in out and "<#" not in out
    assert not re.search(r"(?<!\\)@(everyone|here)", out)
    assert visible(out) == "hi @everyone and @here, <@&123> and <@456> <#789>"


def test_citation_formats() -> None:
    """Paragraph citations use ¶, paged ones p., and a huge title shrinks without breaking the citation."""
    assert R.citation(passage("x.")) == "[1] A Title — ¶12"
    assert R.citation(passage("x.", rank=3, page=4)) == "[3] A Title — p. 4, ¶12"  # the CLI's citation too
    long = R.citation(passage("x.", rank=7, title="T" * 900))
    assert len(long) <= R.TITLE_MAX and long.startswith("[7] TTT") and long.endswith("… — ¶12")


def test_short_answer_is_quoted_whole_with_bold_highlight_and_link() -> None:
    """A normal answer: the full passage verbatim, highlighted sentence bold, link and footer present."""
    text = "First sentence. The key fact is here! Last one."
    p = passage(text, hl=(16, 37), url="https://example.org/a")
    msg = R.render_answer(answer(p))
    (embed,) = msg.embeds
    assert embed["title"] == "[1] A Title — ¶12"
    assert embed["url"] == "https://example.org/a"
    assert "**The key fact is here!**" in embed["description"]
    assert quote_body(embed["description"]) == (text, False, False)
    assert embed["footer"]["text"].startswith("index v1")


def test_unsafe_urls_are_not_linked() -> None:
    """Only http(s) urls become embed links."""
    msg = R.render_answer(answer(passage("x.", url="javascript:alert(1)")))
    assert "url" not in msg.embeds[0]


def test_abstain_is_a_friendly_message_not_a_quote() -> None:
    """When the core abstains, the reply is a short message and no embed."""
    msg = R.render_answer(Answer(question="q", answered=False, message="best score 0.1 < 0.3 @everyone"))
    assert msg.embeds == [] and "couldn't find a passage" in msg.content
    assert "\\@everyone" in msg.content and len(msg.content) <= R.CONTENT_MAX


def test_long_passage_is_cut_at_sentence_boundaries() -> None:
    """A 20,000-char passage keeps whole sentences around the highlight, marked with ellipses."""
    sentences = [f"Sentence number {i} says something rather long about topic {i}. " for i in range(300)]
    text = "".join(sentences)
    hs = sum(len(s) for s in sentences[:150])
    p = passage(text, hl=(hs, hs + len(sentences[150].strip())))
    msg = R.render_answer(answer(p))
    assert R.limit_problems(msg) == []
    body, left, right = quote_body(msg.embeds[0]["description"])
    assert left and right and body in text
    assert sentences[150].strip() in body
    assert body.startswith("Sentence number ") and body.endswith(".")


def test_one_giant_sentence_is_cut_at_a_word() -> None:
    """A single sentence longer than the budget is cut at a word boundary, still verbatim."""
    text = " ".join(f"word{i}" for i in range(3000))
    msg = R.render_answer(answer(passage(text)))
    body, _, right = quote_body(msg.embeds[0]["description"])
    assert right and text.startswith(body) and text[len(body)] == " "
    assert R.limit_problems(msg) == []


def test_sources_and_report_fit() -> None:
    """/sources with 800 documents and a reindex report with 2,000 names stay within limits."""
    docs = tuple(DocumentStats(source=f"dir/doc{i}.txt", title=f"Document *{i}*", passages=i) for i in range(800))
    stats = IndexStats(version="v9", built_at="2024-01-01", model="hash:64", documents=docs, passages=9)
    msg = R.render_sources(stats)
    assert R.limit_problems(msg) == [] and "more" in msg.embeds[0]["description"]
    assert "Document \\*0\\*" in msg.embeds[0]["description"]
    report = BuildReport(version="v2", added=tuple(f"x{i}.txt" for i in range(2000)), passages=5)
    assert len(R.render_report(report)) <= R.CONTENT_MAX


ALPHABET = st.sampled_from([*"abc xyz.!?\n", *"*_~`|<>[]#@-+1\\()", "ǅ", "한", "\u202e", "\u200b"])


@st.composite
def passages(draw: st.DrawFn) -> Passage:
    """Random passages: long texts, markdown-heavy, random highlight and title."""
    text = draw(st.text(ALPHABET, min_size=1, max_size=draw(st.sampled_from([50, 800, 6000]))))
    lo = draw(st.integers(0, len(text)))
    hi = draw(st.integers(lo, len(text)))
    title = draw(st.text(ALPHABET, max_size=draw(st.sampled_from([10, 400]))))
    page = draw(st.none() | st.integers(1, 9999))
    rank = draw(st.integers(1, 100))
    para = draw(st.integers(0, 99999))
    return passage(text, rank=rank, hl=(lo, hi), title=title, page=page, paragraph=para)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(passages(), min_size=1, max_size=12), st.text(ALPHABET, max_size=3000))
def test_any_answer_fits_every_limit_and_quotes_verbatim(ps: list[Passage], content: str) -> None:
    """Property: limits always hold; each quote is a verbatim span; citations are never cut."""
    msg = R.render_answer(answer(*ps), content=content)
    assert R.limit_problems(msg) == []
    assert len(msg.embeds) == min(len(ps), R.EMBEDS_MAX)
    for p, embed in zip(ps, msg.embeds, strict=False):
        assert embed["title"].startswith(f"[{p.rank}] ")
        assert embed["title"].endswith(f"p. {p.page}, ¶{p.paragraph}" if p.page is not None else f" — ¶{p.paragraph}")
        body, _, _ = quote_body(embed["description"])
        assert body.strip() in p.text
        assert unescaped_specials(embed["description"][len(R.QUOTE_PREFIX) :]) == []


@settings(max_examples=200, deadline=None)
@given(st.text(ALPHABET, max_size=300))
def test_escape_round_trips(raw: str) -> None:
    """Escaping never changes what is displayed and leaves no live markdown or mention character."""
    out = R.escape(raw)
    assert visible(out) == raw
    assert unescaped_specials(out) == []
