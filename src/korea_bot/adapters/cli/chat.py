"""`korea-bot chat`: a conversation on the terminal (or JSON lines), follow-ups read with the questions before."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from ...config import Settings
from ...errors import BadQuestion
from ...search.conversation import Conversation
from ...service import Service
from ..console import fail
from .render import to_dict, to_text

NEW, QUIT = "/new", "/quit"


def _parse(line: str, as_json: bool, default: str | None) -> tuple[str, str | None]:
    """(question, collection) from an input line: a JSON object with --json (a plain line is a question too)."""
    if as_json and line.lstrip().startswith("{"):
        row = json.loads(line)
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            raise ValueError('expected {"question": "...", "collection": "..."}')
        return row["question"], row.get("collection") or default
    return line, default


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Answer questions line by line, keeping one conversation until /new."""
    service = Service(settings)
    service.ensure_index()
    conversation = Conversation()
    interactive = sys.stdin.isatty() and not settings.output_json
    user = getpass.getuser()
    if interactive:
        print("Ask away (follow-ups are read with the questions before; /new starts over, /quit ends).")
    while True:
        if interactive:
            print("> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line or line.strip() == QUIT:
            return 0
        if not line.strip():
            continue
        if line.strip() == NEW:
            conversation = Conversation()
            continue
        try:
            question, collection = _parse(line.rstrip("\n"), settings.output_json, args.collection)
            answer = service.ask(question, top_k=settings.top_k, context=conversation, collection=collection)
        except (BadQuestion, ValueError) as exc:
            if settings.output_json:
                print(json.dumps({"question": line.strip(), "answered": False, "error": str(exc), "passages": []}))
            else:
                fail(str(exc))
            sys.stdout.flush()
            continue
        service.questions.record(answer, user, where="chat")
        conversation.add_answer(answer)
        if settings.output_json:
            print(json.dumps(to_dict(answer), ensure_ascii=False))
        else:
            note = f"(read as: {answer.searched})\n" if answer.followup else ""
            print(note + to_text(answer, color=sys.stdout.isatty()) + "\n")
        sys.stdout.flush()
