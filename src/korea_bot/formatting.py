"""Words shared by every adapter: a passage's citation and a build report, as plain text."""

from __future__ import annotations

from .models import BuildReport, Passage

ELLIPSIS = "…"


def citation(p: Passage, limit: int | None = None) -> str:
    """`Title — ¶12` (`Title — p. 3, ¶12` for paged sources); over `limit` characters, only the title shrinks."""
    where = f"p. {p.page}, ¶{p.paragraph}" if p.page is not None else f"¶{p.paragraph}"
    tail = f" — {where}"
    title = " ".join((p.title or p.source).split())
    if limit is not None and len(title) + len(tail) > limit:
        room = max(0, limit - len(tail) - 1)
        title = title[:room].rstrip() + ELLIPSIS
    return title + tail


def summary(report: BuildReport) -> str:
    """One line: what a build added / changed / removed / kept, and how long it took."""
    text = (
        f"index {report.version}: {len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.removed)} removed, {len(report.kept)} kept"
    )
    if report.renamed:
        text += f", {len(report.renamed)} renamed"
    text += f"; {report.passages} passages ({report.embedded} embedded) in {report.seconds:.1f}s"
    if report.full and report.reason:
        text += f" [full rebuild: {report.reason}]"
    return text


def report_lines(report: BuildReport) -> list[str]:
    """The summary, then one line per source that was added, changed, removed or renamed."""
    lines = [summary(report)]
    for label, names in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        lines.extend(f"  {label}: {name}" for name in names)
    lines.extend(f"  renamed: {old} -> {new}" for old, new in report.renamed)
    return lines
