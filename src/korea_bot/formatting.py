"""Words shared by every adapter: a passage's citation and a build report, as plain text."""

from __future__ import annotations

from .models import BuildReport, Passage

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
    return lines
