"""Words shared by every adapter: a passage's citation and a build report, as plain text."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from .models import BuildReport, Passage

if TYPE_CHECKING:
    from .usage.report import Gaps

QUOTE_CHARS = 160  # how much of a voted-down quote the report shows

ELLIPSIS = "…"
AUTHOR_MAX = 60  # a longer author list is shortened in citations


def byline(author: str | None, date: str | None) -> str:
    """`Author, 2019-11-29` (either part may be missing; '' when both are)."""
    who = " ".join((author or "").split())
    if len(who) > AUTHOR_MAX:
        who = who[: AUTHOR_MAX - 1].rstrip(" ,;") + ELLIPSIS
    return ", ".join(part for part in (who, (date or "").strip()) if part)


def citation(p: Passage, limit: int | None = None) -> str:
    """`Title (Author, 2019) — ¶12` (`— p. 3, ¶12` for paged sources); over `limit` characters, only the title shrinks."""
    where = f"p. {p.page}, ¶{p.paragraph}" if p.page is not None else f"¶{p.paragraph}"
    by = byline(p.author, p.date)
    tail = (f" ({by})" if by else "") + f" — {where}"
    title = " ".join((p.title or p.source).split())
    if limit is not None and len(title) + len(tail) > limit:
        room = max(0, limit - len(tail) - 1)
        title = title[:room].rstrip() + ELLIPSIS
    return title + tail


def skip_text(source: str, reason: str) -> str:
    """One line for a skipped source: its name and why (the reason usually names it already)."""
    return reason if reason.startswith(source) else f"{source}: {reason}"


def summary(report: BuildReport) -> str:
    """One line: what a build added / changed / removed / kept / skipped, and how long it took."""
    text = f"index {report.version}: {len(report.added)} added, {len(report.changed)} changed, "
    if report.rebuilt:
        text += f"{len(report.rebuilt)} rebuilt, "
    text += f"{len(report.removed)} removed, {len(report.kept)} kept"
    if report.renamed:
        text += f", {len(report.renamed)} renamed"
    if report.skipped:
        text += f", {len(report.skipped)} skipped"
    text += f"; {report.passages} passages ({report.embedded} embedded) in {report.seconds:.1f}s"
    if report.full and report.reason:
        text += f" [full rebuild: {report.reason}]"
    return text


def report_lines(report: BuildReport) -> list[str]:
    """The summary, then one line per source that was added, changed, rebuilt, removed, renamed or skipped."""
    lines = [summary(report)]
    for label, names in (
        ("added", report.added),
        ("changed", report.changed),
        ("rebuilt", report.rebuilt),
        ("removed", report.removed),
    ):
        lines.extend(f"  {label}: {name}" for name in names)
    lines.extend(f"  renamed: {old} -> {new}" for old, new in report.renamed)
    lines.extend(f"  skipped: {skip_text(name, reason)}" for name, reason in report.skipped)
    lines.extend(f"  warning: {note}" for note in report.notes)
    return lines


FRAGMENT_WORDS = 4  # a long sentence is linked by its first and last few words (textStart,textEnd)
FRAGMENT_WHOLE = 80  # a sentence up to this many characters is linked whole


def text_fragment_link(url: str, sentence: str) -> str:
    """`url#:~:text=…`: a link that opens the page scrolled to the sentence and highlights it.

    The URL Fragment Text Directive (WICG scroll-to-text): the text is percent-encoded, with `-`, `,` and `&`
    encoded too because they separate the directive's parts; a long sentence is given as `textStart,textEnd`.
    """
    words = sentence.split()
    if len(" ".join(words)) <= FRAGMENT_WHOLE or len(words) <= 2 * FRAGMENT_WORDS:
        directive = _fragment_text(" ".join(words))
    else:
        start, end = " ".join(words[:FRAGMENT_WORDS]), " ".join(words[-FRAGMENT_WORDS:])
        directive = f"{_fragment_text(start)},{_fragment_text(end)}"
    base, hash_, fragment = url.partition("#")
    return f"{base}#{fragment}:~:text={directive}" if hash_ else f"{url}#:~:text={directive}"


def _fragment_text(text: str) -> str:
    """Percent-encode text for a text directive (everything but unreserved characters; `-` included)."""
    return quote(text, safe="").replace("-", "%2D")


def gaps_lines(report: Gaps, quote: Callable[[str, int, int], str | None]) -> list[str]:
    """The gaps report as lines: counts, most asked, unanswered, low confidence, voted down with their quotes."""
    lines = [f"{report.questions} questions since {report.since:%Y-%m-%d %H:%M} UTC"]
    for title, rows in (
        ("Most asked", report.most_asked),
        ("No supporting passage (texts to add?)", report.unanswered),
        ("Only closest passages (may not answer)", report.low_confidence),
    ):
        lines.append(f"{title}:")
        lines.extend(f"  {n}× {q}" for q, n in rows)
        if not rows:
            lines.append("  (none)")
    lines.append("Voted down:")
    for question, passages in report.voted_down:
        lines.append(f"  {question}")
        for source, start, end in passages[:3]:
            text = quote(source, start, end)
            shown = " ".join(text.split())[:QUOTE_CHARS] if text else "(no longer in the index)"
            lines.append(f"    {source}: {shown}")
    if not report.voted_down:
        lines.append("  (none)")
    return lines
