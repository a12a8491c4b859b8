"""Follow-up questions: each conversation asked turn by turn with its context, without, and as standalone questions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import EvalError
from ..models import Answer
from ..search.conversation import Conversation
from .formats import _read_jsonl, same_file

Ask = Callable[..., Answer]  # Service.ask(question, top_k=..., context=...)


@dataclass(frozen=True, kw_only=True)
class Step:
    """One turn of a conversation file: what is typed, what it means on its own, and what a right quote holds."""

    question: str
    standalone: str
    answer: str
    source: str | None
    new_topic: bool


def is_conversation_file(path: Path) -> bool:
    """Whether a question file holds conversations (rows with `turns`)."""
    rows = _read_jsonl(path) if path.is_file() else []
    return bool(rows) and "turns" in rows[0][1]


def load_conversations(path: Path) -> list[list[Step]]:
    """The conversations of a file, each a list of steps; errors name the row."""
    out = []
    for line, row in _read_jsonl(path):
        try:
            out.append(
                [
                    Step(
                        question=t["question"],
                        standalone=t.get("standalone") or t["question"],
                        answer=t["answer_contains"],
                        source=t.get("source"),
                        new_topic=bool(t.get("new_topic")),
                    )
                    for t in row["turns"]
                ]
            )
        except (KeyError, TypeError) as exc:
            raise EvalError(
                f"{path} line {line}: a turn lacks {exc} (each turn needs question and answer_contains; "
                "standalone, source, new_topic are optional)"
            ) from None
    return out


def _hit(answer: Answer, step: Step) -> bool:
    """Whether the first quote shown holds the turn's answer (from its source, when one is named)."""
    if not answer.passages:
        return False
    top = answer.passages[0]
    wanted = " ".join(step.answer.lower().split())
    return wanted in " ".join(top.text.lower().split()) and (step.source is None or same_file(step.source, top.source))


def evaluate_conversations(conversations: list[list[Step]], ask: Ask) -> dict:
    """hit@1 of follow-ups with context, without, and standalone; of new-topic turns after a conversation vs alone."""
    tallies: dict[str, list[bool]] = {}

    def tally(name: str, ok: bool) -> None:
        tallies.setdefault(name, []).append(ok)

    read_as_followup = 0
    for steps in conversations:
        conversation = Conversation()
        for i, step in enumerate(steps):
            with_context = ask(step.question, top_k=1, context=conversation)
            kind = "first" if i == 0 else "new_topic" if step.new_topic else "followup"
            tally(f"{kind}_with_context", _hit(with_context, step))
            if kind != "first":
                tally(f"{kind}_standalone", _hit(ask(step.standalone, top_k=1), step))
                read_as_followup += with_context.followup and kind == "followup"
            if kind == "followup":
                tally("followup_without_context", _hit(ask(step.question, top_k=1), step))
            conversation.add_answer(with_context)
    out = {name: {"n": len(v), "hit@1": sum(v) / len(v)} for name, v in sorted(tallies.items()) if v}
    for kind in ("followup", "new_topic"):
        mine, alone = out.get(f"{kind}_with_context"), out.get(f"{kind}_standalone")
        if mine and alone and alone["hit@1"]:
            out[f"{kind}_ratio"] = mine["hit@1"] / alone["hit@1"]
    out["followups_read_in_context"] = read_as_followup
    return out


def format_conversation_report(name: str, metrics: dict) -> str:
    """The conversation figures as lines of text."""
    lines = [f"{name}: conversations"]
    for key, value in metrics.items():
        if isinstance(value, dict):
            lines.append(f"  {key}: hit@1 {value['hit@1']:.3f} of {value['n']}")
        elif isinstance(value, float):
            lines.append(f"  {key}: {value:.3f}")
        else:
            lines.append(f"  {key}: {value}")
    return "\n".join(lines)
