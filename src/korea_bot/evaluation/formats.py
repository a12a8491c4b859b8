"""Question files korea-bot eval reads (seed, NQ, SQuAD, BEIR, bot feedback) and the corpora that come with them."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EvalError
from ..jsonl import BadLine, read_jsonl

_SAFE = re.compile(r"[^A-Za-z0-9_.()-]")


@dataclass(kw_only=True)
class EvalItem:
    """One question with what counts as a correct passage (answer strings, gold documents or gold spans)."""

    question: str
    answers: list[str] | None = None
    gold_docs: set[str] = field(default_factory=set)
    gold_spans: list[tuple[str, int, int]] = field(default_factory=list)
    kind: str = ""  # a slice label (answerable, off_topic, near_topic, wiki_only…), reported separately
    source: str | None = None  # the source file that must hold the answer (when given)
    also_in: str | None = None  # sources under this folder may answer it too (so it is left out of the headline)
    scored: bool = True  # False: the answer is in text that is never quotable (a title, byline or teaser)

    @property
    def should_abstain(self) -> bool:
        """True for questions the sources do not answer."""
        return self.answers is None and not self.gold_docs and not self.gold_spans

    def expectation(self, indexed: set[str] | None) -> str:
        """'answer', 'abstain' or 'either' (not scored), given the names of the indexed sources (None: unknown)."""
        if not self.scored:
            return "either"
        if indexed is not None and self.also_in and any(s.startswith(self.also_in) for s in indexed):
            return "either"
        if indexed is not None and self.source and not any(same_file(self.source, s) for s in indexed):
            return "abstain"  # the file that answers it is not indexed
        return "abstain" if self.should_abstain else "answer"


def same_file(wanted: str, source: str) -> bool:
    """Whether an indexed source name is the wanted file (same name, in any folder)."""
    return source == wanted or source.rsplit("/", 1)[-1] == wanted.rsplit("/", 1)[-1]


@dataclass(kw_only=True)
class EvalSet:
    """Questions plus, for corpus datasets, the corpus rows to index (id, title, text)."""

    name: str
    items: list[EvalItem]
    corpus: list[tuple[str, str, str]] | None = None
    doc_level: bool = False


# Every format korea-bot eval reads: its name, the fields that identify it, and what a row looks like.
FORMATS = (
    ("seed", ("question", "answer_contains"), '{"question": "…", "answer_contains": "verbatim words" or null}'),
    ("SQuAD", ("question", "paragraph_id"), '{"question": "…", "paragraph_id": "Doc_3"} with corpus.jsonl beside it'),
    ("feedback", ("question", "vote", "passages"), "the bot's 👍/👎 file (KOREA_BOT_FEEDBACK_FILE)"),
    ("NQ", ("question", "answer"), '{"question": "…", "answer": ["one answer", "another"]}'),
    ("BEIR", ("_id", "text"), 'queries.jsonl rows {"_id": "1", "text": "…"} with qrels/train.tsv and corpus.jsonl'),
)
ACCEPTED = "; ".join(f"{name}: {shape}" for name, _keys, shape in FORMATS) + (
    '; conversations: {"turns": [{"question": "…", "answer_contains": "…"}, …]}'
)


def _read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) of a (possibly gzipped) JSONL file read strictly; errors name the file and line."""
    try:
        return list(read_jsonl(path))
    except BadLine as exc:
        raise EvalError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise EvalError(f"{path}: not UTF-8 (byte {exc.start}): save it as UTF-8") from None
    except OSError as exc:
        raise EvalError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _corpus_beside(path: Path) -> list[tuple[str, str, str]] | None:
    """Rows of corpus.jsonl(.gz) in the question file's folder, if present."""
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        corpus = path.parent / name
        if corpus.exists():
            rows = _read_jsonl(corpus)
            for line, row in rows:
                _need(corpus, line, row, "corpus", {"_id": (str, int), "text": str})
            return [(str(r["_id"]), r.get("title") or "", r["text"]) for _line, r in rows]
    return None


def _need(path: Path, line: int, row: dict, fmt: str, fields: dict[str, type | tuple[type, ...]]) -> None:
    """Raise EvalError naming the line when a row lacks one of `fields` or holds the wrong kind of value."""
    for key, kind in fields.items():
        if key not in row:
            raise EvalError(f"{path} line {line}: no {key!r} field (every {fmt} row needs {', '.join(fields)})")
        if not isinstance(row[key], kind) or (kind is str and not row[key].strip()):
            raise EvalError(f"{path} line {line}: {key!r} must be {_kind(kind)}, not {row[key]!r}"[:300])


def _kind(kind: type | tuple[type, ...]) -> str:
    """A readable name of the expected value type."""
    names = {str: "a non-empty string", list: "a list", int: "a number", type(None): "null"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def detect(path: Path, line: int, row: dict) -> str:
    """The name of the format whose identifying fields the first row has; EvalError listing the accepted ones."""
    for name, keys, _shape in FORMATS:
        if all(k in row for k in keys):
            return name
    keys = ", ".join(sorted(row)) or "none"
    raise EvalError(
        f"{path}: unknown question format (line {line} has the fields {keys}); accepted formats: {ACCEPTED} "
        "(see docs/EVALUATION.md)"
    )


def load_eval(path: Path, qrels: Path | None = None) -> EvalSet:
    """Recognise the question file's format (seed, SQuAD, feedback, NQ, BEIR) and load it, checking every row."""
    if path.is_dir():
        path = path / "queries.jsonl"
    rows = _read_jsonl(path)
    if not rows:
        raise EvalError(f"{path}: no questions (one JSON object per line; formats in docs/EVALUATION.md)")
    fmt = detect(path, *rows[0])
    name = path.parent.name if path.name in ("queries.jsonl", "questions.jsonl") else path.stem
    if fmt == "seed":
        for line, r in rows:
            _need(path, line, r, fmt, {"question": str, "answer_contains": (str, type(None))})
        items = [
            EvalItem(
                question=r["question"],
                answers=None if r["answer_contains"] is None else [r["answer_contains"]],
                kind=r.get("kind", ""),
                source=r.get("source"),
                also_in="wiki/" if r.get("wiki_also_answers") or r.get("wiki_answers") else None,
                scored=r.get("quotable", True),
            )
            for _line, r in rows
        ]
        return EvalSet(name=name, items=items)
    if fmt == "SQuAD":
        for line, r in rows:
            _need(path, line, r, fmt, {"question": str, "paragraph_id": (str, int)})
        items = [
            EvalItem(question=r["question"], gold_docs={str(r["paragraph_id"])}, answers=r["answers"])
            if r.get("answers")
            else EvalItem(question=r["question"], kind="unanswerable")  # SQuAD 2.0's questions without an answer
            for _line, r in rows
        ]
        return EvalSet(name=name, items=items, corpus=_corpus_beside(path), doc_level=True)
    if fmt == "feedback":
        for line, r in rows:
            _need(path, line, r, fmt, {"question": str, "vote": str, "passages": list})
        items = [
            EvalItem(question=r["question"], gold_spans=_spans(path, line, r["passages"]))
            for line, r in rows
            if r["vote"] == "up" and r["passages"]
        ]
        return EvalSet(name=name, items=items)
    if fmt == "NQ":
        for line, r in rows:
            _need(path, line, r, fmt, {"question": str, "answer": list})
        return EvalSet(name=name, items=[EvalItem(question=r["question"], answers=list(r["answer"])) for _, r in rows])
    for line, r in rows:
        _need(path, line, r, fmt, {"_id": (str, int), "text": str})
    gold = _qrels(qrels or _default_qrels(path))
    items = [EvalItem(question=r["text"], gold_docs=gold[str(r["_id"])]) for _, r in rows if str(r["_id"]) in gold]
    return EvalSet(name=name, items=items, corpus=_corpus_beside(path), doc_level=True)


def _spans(path: Path, line: int, passages: list) -> list[tuple[str, int, int]]:
    """The (source, start, end) of each passage of a feedback row."""
    for p in passages:
        if not isinstance(p, dict):
            raise EvalError(f"{path} line {line}: each passage must be an object with source, start and end")
        _need(path, line, p, "feedback passage", {"source": str, "start": int, "end": int})
    return [(p["source"], p["start"], p["end"]) for p in passages]


def _default_qrels(path: Path) -> Path:
    """qrels/train.tsv beside BEIR queries, else qrels/test.tsv."""
    train = path.parent / "qrels" / "train.tsv"
    return train if train.exists() else path.parent / "qrels" / "test.tsv"


def _qrels(qrels: Path) -> dict[str, set[str]]:
    """Relevant corpus ids per query id from a BEIR qrels TSV (query-id, corpus-id, score > 0)."""
    gold: dict[str, set[str]] = {}
    try:
        with open(qrels, encoding="utf-8") as fh:
            for line, row in enumerate(csv.DictReader(fh, delimiter="\t"), 2):
                try:
                    if int(row.get("score") or 1) > 0:
                        gold.setdefault(row["query-id"], set()).add(row["corpus-id"])
                except (KeyError, TypeError, ValueError):
                    raise EvalError(
                        f"{qrels} line {line}: expected the columns query-id, corpus-id, score (tab-separated)"
                    ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"{qrels}: cannot read relevance labels ({exc}); give them with --qrels FILE") from None
    return gold


def doc_file(doc_id: str) -> str:
    """The source file name a corpus document is written to."""
    return _SAFE.sub("_", doc_id) + ".md"


def materialize(corpus: list[tuple[str, str, str]], folder: Path) -> dict[str, str]:
    """Write each corpus row as a Markdown source with front matter; return source name -> doc id."""
    folder.mkdir(parents=True, exist_ok=True)
    mapping: dict[str, str] = {}
    for doc_id, title, text in corpus:
        name = doc_file(doc_id)
        mapping[name] = doc_id
        body = f"---\ntitle: {json.dumps(title or doc_id)}\n---\n{text}\n"
        target = folder / name
        if not target.exists() or target.read_text(encoding="utf-8") != body:
            target.write_text(body, encoding="utf-8")
    return mapping
