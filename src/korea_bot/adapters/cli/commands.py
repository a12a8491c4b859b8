"""The index, ask and eval sub-commands, on top of the Service."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from ...config import Settings
from ...errors import BadQuestion
from ...formatting import report_lines, summary
from ...search.question import clean_question
from ...service import Service
from ..console import fail
from .render import to_json, to_text


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal; nothing when output is redirected."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """Build or update the index and print what changed."""
    service = Service(settings)
    if args.watch:
        from .watch import watch

        return watch(service, full_first=args.full)
    with progress_bar("embedding passages") as update:
        report = service.reindex(full=args.full, progress=update)
    for line in report_lines(report):
        print(line)
    for note in service.index.notes:
        print(f"  note: {note}")
    return 0


def _questions(args: argparse.Namespace) -> Iterator[str]:
    """Questions from the command line, a file, or standard input (one per non-empty line)."""
    if not args.questions:
        yield " ".join(args.question)
        return
    with contextlib.ExitStack() as stack:
        lines = sys.stdin if args.questions == "-" else stack.enter_context(open(args.questions, encoding="utf-8"))
        yield from (line.rstrip("\n") for line in lines if line.strip())


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer each question, as text or one JSON object per line."""
    if not args.question and not args.questions:
        return fail("ask: give a question, or --questions FILE (or - for standard input)", 2)
    if not args.questions:
        clean_question(" ".join(args.question), settings.max_question_chars)
    service = Service(settings)
    with progress_bar("indexing sources") as update:
        report = service.ensure_index(progress=update)
    if report is not None and not report.unchanged:
        print(summary(report), file=sys.stderr)
    color = sys.stdout.isatty()
    failures = 0
    for question in _questions(args):
        try:
            answer = service.ask(question, top_k=settings.top_k)
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

    evalset = load_eval(args.file, args.qrels)
    doc_ids: dict[str, str] = {}
    if evalset.corpus is not None and args.sources is None:
        base = Path(".korea_bot_eval") / evalset.name
        settings = settings.model_copy(
            update={"sources_dir": base / "sources", "index_dir": args.index or base / "index"}
        )
        doc_ids = materialize(evalset.corpus, settings.sources_dir)
        print(f"corpus of {len(doc_ids)} documents written to {settings.sources_dir}", file=sys.stderr)
    service = Service(settings)
    with progress_bar("indexing sources") as update:
        report = service.ensure_index(progress=update)
    if report is not None:
        print(summary(report), file=sys.stderr)
    metrics = evaluate(evalset, service.search, doc_ids, indexed=set(service.index.documents))
    metrics["index_version"] = service.version
    print(json.dumps(metrics) if settings.output_json else format_report(evalset.name, metrics))
    return 0
