"""Turn answers into Discord message payloads (content + embed dicts) within every Discord limit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ... import formatting
from ...ingest.sources import collection_of
from ...models import Answer, BuildReport, IndexStats, Passage

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
EMBEDS_MAX = 10
COLOR = 0x2F6FB5
LOW_COLOR = 0x99AAB5  # grey: the closest passages, which may not answer the question
ELLIPSIS = formatting.ELLIPSIS
QUOTE_PREFIX = ">>> "
SKIPPED_ROOM = 1500  # /sources keeps up to this much of its description for the skipped files

NO_ANSWER = (
    "I couldn't find a passage in my sources that answers that, so I'd rather not guess. "
    "Try rephrasing it, or use /sources to see what I have read."
)
LOW_CONFIDENCE = "⚠️ **I'm not sure these answer it** — these are the closest passages I found:"
_SPECIAL = re.compile(r"([\\*_~`|<>\[\]#@])")
_LINE_START = re.compile(r"(?m)^(\s*)([-+]|\d+)(\.?)(?=\s)")
_SENTENCE_END = re.compile(r"(?:[.!?…]+[\"'”’)\]]*\s+|\n\s*)")


@dataclass(frozen=True)
class Rendered:
    """A message payload: plain content and a list of embed dicts (``discord.Embed.from_dict`` format)."""

    content: str = ""
    embeds: list[dict] = field(default_factory=list)


def escape(text: str) -> str:
    """Backslash-escape markdown and mention syntax so the text renders as typed and pings nobody."""
    return _LINE_START.sub(_escape_line_start, _SPECIAL.sub(r"\\\1", text))


def _escape_line_start(match: re.Match[str]) -> str:
    """Escape a list marker at the start of a line: ``- x`` -> ``\\- x``, ``1. x`` -> ``1\\. x``."""
    space, mark, dot = match.groups()
    if mark.isdigit():
        return f"{space}{mark}\\{dot}" if dot else match.group(0)
    return f"{space}\\{mark}{dot}"


def clip(text: str, limit: int) -> str:
    """Shorten already-safe text to at most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    if (len(cut) - len(cut.rstrip("\\"))) % 2:
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


def citation(p: Passage, limit: int = TITLE_MAX) -> str:
    """``[n] Title — ¶12`` (``— p. 3, ¶12`` for paged sources) within ``limit``; only the title ever shrinks."""
    head = f"[{p.rank}] "
    return head + formatting.citation(p, limit - len(head))


def _split_units(text: str) -> list[str]:
    """Split text into sentences, each keeping its trailing whitespace."""
    units, last = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > last:
            units.append(text[last : match.end()])
            last = match.end()
    if last < len(text):
        units.append(text[last:])
    return units


def _bold(raw: str) -> str:
    """Escape ``raw`` and make it bold, keeping surrounding whitespace outside the markers."""
    core = raw.strip()
    if not core:
        return escape(raw)
    lead = raw[: len(raw) - len(raw.lstrip())]
    trail = raw[len(raw.rstrip()) :]
    return f"{escape(lead)}**{escape(core)}**{escape(trail)}"


def _compose(before: str, high: str, after: str, cut_left: bool, cut_right: bool) -> str:
    """Build the quoted description: escaped text, bold highlight, ellipses where sentences were dropped."""
    body = (escape(before) + _bold(high) + escape(after)).strip()
    if cut_left:
        body = ELLIPSIS + " " + body
    if cut_right:
        body = body + " " + ELLIPSIS
    return QUOTE_PREFIX + body


def render_quote(p: Passage, budget: int) -> str:
    """The passage as a block quote of at most ``budget`` characters, shortened at sentence boundaries."""
    hs = min(max(p.highlight[0] - p.start, 0), len(p.text))
    he = min(max(p.highlight[1] - p.start, hs), len(p.text))
    before, high, after = p.text[:hs], p.text[hs:he], p.text[he:]
    full = _compose(before, high, after, False, False)
    if len(full) <= budget:
        return full
    left, right = _split_units(before), _split_units(after)
    a, b = len(left), 0  # keep left[a:] and right[:b]
    grew = True
    while grew:
        grew = False
        if b < len(right):
            trial = _compose("".join(left[a:]), high, "".join(right[: b + 1]), a > 0, b + 1 < len(right))
            if len(trial) <= budget:
                b, grew = b + 1, True
        if a > 0:
            trial = _compose("".join(left[a - 1 :]), high, "".join(right[:b]), a - 1 > 0, b < len(right))
            if len(trial) <= budget:
                a, grew = a - 1, True
    best = _compose("".join(left[a:]), high, "".join(right[:b]), a > 0, b < len(right))
    if len(best) <= budget:
        return best
    return _cut_sentence(high, budget, bool(before.strip()))


def _cut_sentence(high: str, budget: int, cut_left: bool) -> str:
    """Fallback for a single over-long sentence: keep its longest prefix ending at a word boundary."""
    lo, hi = 0, len(high)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(_compose("", high[:mid].rstrip() + " ", "", cut_left, True)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    prefix = high[:lo]
    space = prefix.rfind(" ")
    if space > len(prefix) // 2:
        prefix = prefix[:space]
    if not prefix.strip():
        return clip(QUOTE_PREFIX + ELLIPSIS, budget)
    return _compose("", prefix.rstrip() + " ", "", cut_left, True)


def embed_size(embed: dict) -> int:
    """Characters Discord counts toward the 6000 total: title, description, fields, footer, author."""
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    return size + sum(len(f.get("name", "")) + len(f.get("value", "")) for f in embed.get("fields", []))


def limit_problems(msg: Rendered) -> list[str]:
    """Every Discord limit the payload breaks (empty when it is safe to send)."""
    problems = []
    if len(msg.content) > CONTENT_MAX:
        problems.append(f"content {len(msg.content)} > {CONTENT_MAX}")
    if len(msg.embeds) > EMBEDS_MAX:
        problems.append(f"{len(msg.embeds)} embeds > {EMBEDS_MAX}")
    total = sum(embed_size(e) for e in msg.embeds)
    if total > EMBED_TOTAL_MAX:
        problems.append(f"embed total {total} > {EMBED_TOTAL_MAX}")
    for e in msg.embeds:
        if len(e.get("title", "")) > TITLE_MAX:
            problems.append("title too long")
        if len(e.get("description", "")) > DESCRIPTION_MAX:
            problems.append("description too long")
        if len(e.get("footer", {}).get("text", "")) > FOOTER_MAX:
            problems.append("footer too long")
        if any(len(f.get("value", "")) > FIELD_VALUE_MAX for f in e.get("fields", [])):
            problems.append("field value too long")
        if len(e.get("fields", [])) > 25:
            problems.append("too many fields")
    return problems


def _budgets(needs: list[int], total: int) -> list[int]:
    """Share ``total`` characters among descriptions: small ones get all they need."""
    out = [0] * len(needs)
    remaining = total
    order = sorted(range(len(needs)), key=lambda i: needs[i])
    for done, i in enumerate(order):
        share = remaining // (len(needs) - done)
        out[i] = max(0, min(needs[i], share, DESCRIPTION_MAX))
        remaining -= out[i]
    return out


def render_passages(passages: Sequence[Passage], footer: str, content: str = "", color: int = COLOR) -> Rendered:
    """One embed per passage: citation title (linked when there is a url), quote, footer on the last one."""
    shown = list(passages)[:EMBEDS_MAX]
    footer = clip(footer, FOOTER_MAX)
    content = clip(content, CONTENT_MAX)
    titles = [citation(p) for p in shown]
    fixed = sum(len(t) for t in titles) + len(footer)
    needs = [len(render_quote(p, 10**9)) for p in shown]
    budgets = _budgets(needs, EMBED_TOTAL_MAX - fixed)
    embeds = []
    for p, title, budget in zip(shown, titles, budgets, strict=True):
        embed: dict = {"type": "rich", "title": title, "description": render_quote(p, budget), "color": color}
        if p.link:
            embed["url"] = p.link  # opens the original page at the quoted sentence
        elif p.url and p.url.startswith(("http://", "https://")):
            embed["url"] = p.url
        embeds.append(embed)
    if embeds and footer:
        embeds[-1]["footer"] = {"text": footer}
    return Rendered(content=content, embeds=embeds)


def footer_text(answer: Answer) -> str:
    """``index <version> · <ms> ms``."""
    return f"index {answer.index_version or '?'} · {answer.took_ms:.0f} ms"


def render_answer(answer: Answer, content: str = "") -> Rendered:
    """The answer's passages as embeds; low confidence in grey under a warning; a friendly no-answer message."""
    if not answer.passages:
        text = NO_ANSWER
        if answer.message and answer.message.strip():
            text = f"{NO_ANSWER}\n-# {escape(' '.join(answer.message.split()))}"
        return Rendered(content=clip(text, CONTENT_MAX))
    if answer.confidence == "low":
        head = f"{LOW_CONFIDENCE}\n{escape(content)}".strip()
        return render_passages(answer.passages, footer_text(answer) + " · low confidence", head, LOW_COLOR)
    return render_passages(answer.passages, footer_text(answer), escape(content))


def render_more(answer: Answer) -> Rendered:
    """The next results for a question, or a note that there are no more."""
    if not answer.passages:
        return Rendered(content="No more passages for that question.")
    head = "More passages for: " + " ".join(answer.question.split())
    return render_passages(answer.passages, footer_text(answer), escape(head))


def render_context(passages: Sequence[Passage], version: str) -> Rendered:
    """The surrounding paragraphs of the shown passages, quoted verbatim."""
    if not passages:
        return Rendered(content="No context available for this answer.")
    return render_passages(passages, f"context · index {version}", "The surrounding paragraphs:")


def render_sources(stats: IndexStats) -> Rendered:
    """What is indexed: documents by collection with passage counts, the files skipped and why, index version, build, model."""
    lines, shown = [], None
    for d in sorted(stats.documents, key=lambda d: (collection_of(d.source), d.source)):
        if collection_of(d.source) != shown:  # one heading per collection (top-level folder)
            shown = collection_of(d.source)
            lines.append(f"__{escape(shown)}__" if shown else "__(top level)__")
        lines.append(f"• {escape(d.title or d.source)} (`{d.source.replace('`', '')}`) — {d.passages} passages")
    footer = f"index {stats.version} · built {stats.built_at} · model {stats.model}"
    head = f"**{len(stats.documents)} documents, {stats.passages} passages**\n"
    skipped = [f"• `{name.replace('`', '')}`: {escape(reason)}" for name, reason in stats.skipped]
    room = DESCRIPTION_MAX - len(head) - 40
    reserve = min(SKIPPED_ROOM, 60 + sum(len(s) + 1 for s in skipped)) if skipped else 0
    body = _listed(head, lines, room - reserve)
    if skipped:
        body = _listed(body + f"\n**{len(skipped)} skipped** (not indexed, fix them and /reindex):\n", skipped, room)
    embed = {"type": "rich", "title": "Sources", "description": body.strip(), "color": COLOR}
    embed["footer"] = {"text": clip(footer, FOOTER_MAX)}
    return Rendered(embeds=[embed])


def _listed(body: str, lines: list[str], room: int) -> str:
    """Append lines (each clipped to 300 characters) while they fit in `room`, then "… and N more"."""
    for i, line in enumerate(lines):
        line = clip(line, 300)
        if len(body) + len(line) + 1 > room:
            return body + f"… and {len(lines) - i} more\n"
        body += line + "\n"
    return body


def render_report(report: BuildReport) -> str:
    """A reindex result as message content: the summary plus the sources added, changed, removed or renamed."""
    return clip("\n".join(escape(line) for line in formatting.report_lines(report)), CONTENT_MAX)
