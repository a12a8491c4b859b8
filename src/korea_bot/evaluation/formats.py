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


def _read_jsonl(path: Path) -> list[dict]:
    """Read a (possibly gzipped) JSONL file strictly; errors name the file and line."""
    try:
        return [row for _line, row in read_jsonl(path)]
    except BadLine as exc:
        raise EvalError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"{path}: cannot read ({exc})") from None


def _corpus_beside(path: Path) -> list[tuple[str, str, str]] | None:
    """Rows of corpus.jsonl(.gz) in the question file's folder, if present."""
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (path.parent / name).exists():
            return [(str(r["_id"]), r.get("title") or "", r["text"]) for r in _read_jsonl(path.parent / name)]
    return None


def load_eval(path: Path, qrels: Path | None = None) -> EvalSet:
    """Recognise the question file's format (seed, NQ, SQuAD, BEIR, feedback) and load it."""
    if path.is_dir():
        path = path / "queries.jsonl"
    rows = _read_jsonl(path)
    if not rows:
        raise EvalError(f"{path}: no questions")
    first = rows[0]
    name = path.parent.name if path.name in ("queries.jsonl", "questions.jsonl") else path.stem
    if "answer_contains" in first:
        items = [
            EvalItem(
                question=r["question"],
                answers=None if r["answer_contains"] is None else [r["answer_contains"]],
                kind=r.get("kind", ""),
                source=r.get("source"),
                also_in="wiki/" if r.get("wiki_also_answers") or r.get("wiki_answers") else None,
                scored=r.get("quotable", True),
            )
            for r in rows
        ]
        return EvalSet(name=name, items=items)
    if "paragraph_id" in first:
        items = [
            EvalItem(question=r["question"], gold_docs={r["paragraph_id"]}, answers=r["answers"])
            if r.get("answers")
            else EvalItem(question=r["question"], kind="unanswerable")  # SQuAD 2.0's questions without an answer
            for r in rows
        ]
        return EvalSet(name=name, items=items, corpus=_corpus_beside(path), doc_level=True)
    if "vote" in first:
        items = [
            EvalItem(question=r["question"], gold_spans=[(p["source"], p["start"], p["end"]) for p in r["passages"]])
            for r in rows
            if r.get("vote") == "up" and r.get("passages")
        ]
        return EvalSet(name=name, items=items)
    if "answer" in first:
        return EvalSet(name=name, items=[EvalItem(question=r["question"], answers=list(r["answer"])) for r in rows])
    if "_id" in first and "text" in first:
        qrels = qrels or path.parent / "qrels" / "train.tsv"
        if not qrels.exists():
            qrels = path.parent / "qrels" / "test.tsv"
        gold: dict[str, set[str]] = {}
        try:
            with open(qrels, encoding="utf-8") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    if int(row.get("score", 1)) > 0:
                        gold.setdefault(row["query-id"], set()).add(row["corpus-id"])
        except (OSError, KeyError, ValueError) as exc:
            raise EvalError(f"{qrels}: cannot read relevance labels ({exc})") from None
        items = [EvalItem(question=r["text"], gold_docs=gold[str(r["_id"])]) for r in rows if str(r["_id"]) in gold]
        return EvalSet(name=name, items=items, corpus=_corpus_beside(path), doc_level=True)
    raise EvalError(f"{path}: unknown question format (keys: {', '.join(sorted(first))})")


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
