"""The index, ask and eval sub-commands, on top of the Service."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ...config import Settings
from ...errors import BadQuestion, KoreaBotError
from ...formatting import report_lines, skip_text, summary
from ...models import BuildReport
from ...progress import LONG_BUILD, ProgressLines, announce, ticking
from ...search.question import clean_question
from ...service import Service
from ..console import fail, note, warn
from .render import to_json, to_text


class TerminalBar:
    """A rich progress bar on stderr that appears only once a build reports progress (nothing when none runs)."""

    def __init__(self) -> None:
        """No bar until the first report."""
        self._bar: Any = None
        self._task: Any = None
        self._embedding = False

    def __call__(self, done: int, total: int) -> None:
        """Show `done` of `total` passages embedded (a spinner while the sources are read: total 0)."""
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
            self._bar = Progress(*columns, TimeRemainingColumn(), transient=True, console=Console(stderr=True))
            self._bar.start()
            self._task = self._bar.add_task("reading the sources", total=None)
        if total and not self._embedding:
            self._embedding = True
            if total >= LONG_BUILD:
                self._bar.console.print(f"korea-bot: {announce(total)}")
            self._bar.update(self._task, description="embedding passages")
        self._bar.update(self._task, completed=done, total=total or None)

    def close(self) -> None:
        """Remove the bar, if one was shown."""
        if self._bar is not None:
            self._bar.stop()


@contextlib.contextmanager
def build_progress() -> Iterator[Callable[[int, int], None]]:
    """Progress of a build: a bar on a terminal, else a line on stderr every few seconds (container logs)."""
    if not sys.stderr.isatty():
        with ticking(ProgressLines(note)) as lines:
            yield lines
        return
    bar = TerminalBar()
    try:
        yield bar
    finally:
        bar.close()


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """Build or update the index and print what changed."""
    service = Service(settings)
    if args.watch:
        from .watch import watch

        return watch(service, full_first=args.full)
    with build_progress() as update:
        report = service.reindex(full=args.full, progress=update)
    for line in report_lines(report):
        print(line)
    if report.notes:  # the files build stands, what came after it (the Milvus publish) failed: the next run retries
        return fail("the files index is built but not published (see the warning above); the next run retries", 3)
    for text in service.index.notes:
        print(f"  note: {text}")
    if args.strict and report.skipped:
        return fail(f"{len(report.skipped)} source(s) skipped, see above (--strict)")
    return 0


def print_build(report: BuildReport | None) -> None:
    """On stderr, after an implicit build: its summary and every skipped source (nothing if no build ran)."""
    if report is None or (report.unchanged and not report.skipped):
        return
    note(summary(report))
    for name, reason in report.skipped:
        warn(f"skipped: {skip_text(name, reason)}")


def ready_service(settings: Settings) -> Service:
    """A Service whose index is built or brought up to date first, with the bar, then the build's summary."""
    service = Service(settings)
    with build_progress() as update:
        report = service.ensure_index(progress=update, warn=warn)
    print_build(report)  # after the bar is gone
    return service


def _questions(args: argparse.Namespace) -> Iterator[str]:
    """The question on the command line, then those of a file or standard input (one per non-empty line)."""
    if args.question:
        yield " ".join(args.question)
    if not args.questions:
        return
    with contextlib.ExitStack() as stack:
        lines = sys.stdin if args.questions == "-" else stack.enter_context(open(args.questions, encoding="utf-8"))
        yield from (line.rstrip("\n") for line in lines if line.strip())


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer each question, as text or one JSON object per line."""
    if not args.question and not args.questions:
        return fail("give a question, or --questions FILE (or - for standard input)", 2)
    if args.question:
        clean_question(" ".join(args.question), settings.max_question_chars)
    service = ready_service(settings)
    color = sys.stdout.isatty()
    failures = 0
    for question in _questions(args):
        try:
            answer = service.ask(question, top_k=settings.top_k, collection=args.collection)
            service.questions.record(answer, getpass.getuser(), where="cli")
        except BadQuestion as exc:
            failures += 1
            if settings.output_json:
                print(
                    json.dumps(
                        {"question": question, "answered": False, "error": str(exc), "passages": []}, ensure_ascii=False
                    )
                )
            else:
                fail(str(exc))
            continue
        print(to_json(answer) if settings.output_json else to_text(answer, color=color))
        if not settings.output_json:
            print()
        sys.stdout.flush()
    return 1 if failures and not args.questions else 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Index the question set's corpus if it has one, then print retrieval metrics."""
    from ...evaluation import evaluate, format_report, load_eval, materialize
    from ...evaluation.conversations import is_conversation_file

    settings = settings.model_copy(update={"question_log": "off"})  # measuring is not asking
    if is_conversation_file(args.file):
        return _eval_conversations(args, settings)
    evalset = load_eval(args.file, args.qrels)
    doc_ids: dict[str, str] = {}
    if evalset.corpus is not None and args.sources is None:
        base = Path(".korea_bot_eval") / evalset.name
        settings = settings.model_copy(
            update={"sources_dir": base / "sources", "index_dir": args.index or base / "index"}
        )
        doc_ids = materialize(evalset.corpus, settings.sources_dir)
        print(f"corpus of {len(doc_ids)} documents written to {settings.sources_dir}", file=sys.stderr)
    service = ready_service(settings)
    metrics = evaluate(evalset, service.search, doc_ids, indexed=set(service.index.documents))
    metrics["index_version"] = service.version
    print(json.dumps(metrics) if settings.output_json else format_report(evalset.name, metrics))
    return 0


def _eval_conversations(args: argparse.Namespace, settings: Settings) -> int:
    """hit@1 of a conversation file's follow-ups with context, without, and standalone."""
    from ...evaluation.conversations import evaluate_conversations, format_conversation_report, load_conversations

    conversations = load_conversations(args.file)
    service = ready_service(settings)
    metrics = evaluate_conversations(conversations, service.ask)
    metrics["index_version"] = service.version
    print(json.dumps(metrics) if settings.output_json else format_conversation_report(args.file.stem, metrics))
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Print the gaps report from the question log and the votes."""
    from ...formatting import gaps_lines
    from ...usage.report import gaps, parse_since

    service = Service(settings)
    if service.questions.path is None:
        return fail("the question log is off (KOREA_BOT_QUESTION_LOG=off): nothing to report", 1)
    report = gaps(service.questions, settings.feedback_file, parse_since(args.since))
    if settings.output_json:
        print(json.dumps(dataclasses.asdict(report), default=str, ensure_ascii=False))
        return 0

    def quote(source: str, start: int, end: int) -> str | None:
        """The quoted text from the live index (None when there is no index or it lacks the source)."""
        try:
            return service.quote(source, start, end)
        except KoreaBotError:
            return None

    print("\n".join(gaps_lines(report, quote)))
    return 0
