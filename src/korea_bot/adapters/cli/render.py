"""The command line's renderings of an Answer: text for a terminal, and the `ask --json` object (the contract)."""

from __future__ import annotations

import json
import textwrap

from ...formatting import citation
from ...models import Answer, Passage

BOLD, RESET = "\033[1m", "\033[0m"


def to_dict(answer: Answer) -> dict:
    """The JSON contract of `ask --json` (README.md, "ask --json"): fields may be added, never changed."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "confidence": answer.confidence,
        "followup": answer.followup,
        "index_version": answer.index_version,
        "took_ms": answer.took_ms,
        "passages": [
            {
                "rank": p.rank,
                "source": p.source,
                "title": p.title,
                "url": p.url,
                "paragraph": p.paragraph,
                "page": p.page,
                "start": p.start,
                "end": p.end,
                "highlight": list(p.highlight),
                "score": p.score,
                "text": p.text,
                "author": p.author,
                "date": p.date,
                "link": p.link,
                "collection": p.collection,
            }
            for p in answer.passages
        ],
    }


def to_json(answer: Answer) -> str:
    """One line of JSON."""
    return json.dumps(to_dict(answer), ensure_ascii=False)


def _marked(p: Passage, before: str, after: str) -> str:
    """The passage text with the highlighted sentence wrapped in markers."""
    hs, he = p.highlight[0] - p.start, p.highlight[1] - p.start
    return p.text[:hs] + before + p.text[hs:he] + after + p.text[he:]


def to_text(answer: Answer, color: bool = False, width: int = 100) -> str:
    """A readable terminal rendering: each quote with its citation, the best sentence in bold."""
    lines = [f"Q: {answer.question}", ""]
    if not answer.passages:
        lines.append(answer.message or "No supporting passage found.")
        return "\n".join(lines)
    if answer.confidence == "low":
        lines.extend([f"Closest passages — may not answer. {answer.message}".rstrip(), ""])
    for p in answer.passages:
        lines.append(f"[{p.rank}] {citation(p)}  ({p.source}, score {p.score:.2f})")
        if p.link or p.url:
            lines.append(f"    {p.link or p.url}")
        body = _marked(p, BOLD, RESET) if color else _marked(p, "**", "**")
        for para in body.split("\n"):
            lines.extend(textwrap.wrap(para, width=width, initial_indent="    ", subsequent_indent="    ") or [""])
        lines.append("")
    lines.append(f"index {answer.index_version} · {answer.took_ms:.0f} ms")
    return "\n".join(lines)
