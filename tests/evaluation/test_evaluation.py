"""Retrieval metrics and question-file formats of `korea-bot eval`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from helpers.passages import passage
from helpers.paths import SHARED

from korea_bot import feedback
from korea_bot.errors import EvalError
from korea_bot.evaluation import EvalItem, EvalSet, evaluate, load_eval
from korea_bot.models import Chunk


def _chunk(source: str, text: str) -> Chunk:
    """A chunk with the given text."""
    return Chunk(source=source, start=0, end=len(text), paragraph=1, text=text)


def test_metrics_on_a_known_ranking() -> None:
    """hit@k, MRR, nDCG and abstention are computed exactly on a hand-made ranking."""
    items = [
        EvalItem(question="q1", answers=["alpha"]),
        EvalItem(question="q2", answers=["beta"]),
        EvalItem(question="off-topic"),
    ]
    ranking = {
        "q1": (True, [("a", _chunk("a", "x"), 1.0), ("b", _chunk("b", "has alpha"), 0.5)]),
        "q2": (True, [("c", _chunk("c", "beta here"), 1.0)]),
        "off-topic": (False, []),
    }
    m = evaluate(EvalSet(name="t", items=items), lambda q, k: ranking[q])
    assert m["hit@1"] == 0.5 and m["hit@3"] == 1.0
    assert m["mrr@10"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1.0) / 2)
    assert m["abstain_correct"] == 1.0 and m["false_abstain"] == 0.0
    assert 0.0 <= m["ndcg@10"] <= 1.0


def test_ndcg_never_exceeds_one_with_many_matching_passages() -> None:
    """Several passages containing the answer string still give nDCG <= 1."""
    results = [(s, _chunk(s, "the won is the currency"), 1.0) for s in "abc"]
    m = evaluate(EvalSet(name="t", items=[EvalItem(question="money?", answers=["won"])]), lambda q, k: (True, results))
    assert m["ndcg@10"] == pytest.approx(1.0)


def test_document_level_dedupes_passages_of_one_document() -> None:
    """For corpus datasets, two passages of one wrong document count as one rank."""
    results = [
        ("d1.md", _chunk("d1.md", "x"), 1.0),
        ("d1.md", _chunk("d1.md", "y"), 0.9),
        ("d2.md", _chunk("d2.md", "z"), 0.8),
    ]
    m = evaluate(
        EvalSet(name="t", items=[EvalItem(question="q", gold_docs={"d2"})], doc_level=True),
        lambda q, k: (True, results),
        {"d1.md": "d1", "d2.md": "d2"},
    )
    assert m["hit@1"] == 0.0 and m["mrr@10"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("rel", "count", "corpus"),
    [
        ("seed_dev.jsonl", 15, False),
        ("squad2-half/questions.jsonl", 1278, True),
        ("scifact/queries.jsonl", 809, True),
        ("nq-korea/core_korea_nuclear.jsonl", 11, False),
    ],
)
def test_shared_formats_load(rel: str, count: int, corpus: bool) -> None:
    """Each question file in ../shared/eval is recognised, with its corpus when it has one."""
    path = SHARED / "eval" / rel
    if not path.exists():
        pytest.skip(f"{path} not present")
    evalset = load_eval(path)
    assert len(evalset.items) == count
    assert (evalset.corpus is not None) == corpus


def test_feedback_file_reads_back_as_labels(tmp_path: Path) -> None:
    """Thumbs-up feedback written by the bot becomes gold spans; thumbs-down rows are not labels."""
    shown = [
        passage("a.txt", 0, 9, score=0.5)
    ]
    path = tmp_path / "feedback.jsonl"
    feedback.append(path, feedback.record("q2", "down", shown, "v1", 42, path))
    feedback.append(path, feedback.record("q1", "up", shown, "v1", 42, path))
    evalset = load_eval(path)
    assert [i.question for i in evalset.items] == ["q1"]
    m = evaluate(
        evalset,
        lambda q, k: (True, [("a.txt", Chunk(source="a.txt", start=5, end=20, paragraph=1, text="x" * 15), 1.0)]),
    )
    assert m["hit@1"] == 1.0
    m = evaluate(
        evalset,
        lambda q, k: (True, [("a.txt", Chunk(source="a.txt", start=9, end=20, paragraph=1, text="x" * 11), 1.0)]),
    )
    assert m["hit@1"] == 0.0


def test_unknown_format_is_named(tmp_path: Path) -> None:
    """A JSONL file of another shape is refused with its name and keys."""
    path = tmp_path / "odd.jsonl"
    path.write_text('{"foo": 1}\n', encoding="utf-8")
    with pytest.raises(EvalError, match=r"odd\.jsonl: unknown question format"):
        load_eval(path)


def test_a_broken_line_is_named_by_its_real_number(tmp_path: Path) -> None:
    """Line 4 of the file is reported as line 4 (blank lines counted), whatever JSON's own position says."""
    path = tmp_path / "q.jsonl"
    good = '{"question": "Who?", "answer_contains": "Russia"}\n'
    path.write_text(good + "\n" + good + '{"question": "Why?", "answer_contains": \n', encoding="utf-8")
    with pytest.raises(EvalError, match=r"q\.jsonl line 4: not valid JSON"):
        load_eval(path)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (['{"question": "Q", "answer_contains": null}', '{"answer_contains": "x"}'], r"line 2: no 'question' field"),
        (
            ['{"question": "Q", "answer": ["a"]}', '{"question": "", "answer": ["a"]}'],
            r"line 2: 'question' must be a non-empty string",
        ),
        (
            ['{"question": "Q", "answer": ["a"]}', '{"question": "R", "answer": "a"}'],
            r"line 2: 'answer' must be a list",
        ),
        (['{"question": "Q", "vote": "up", "passages": [{"source": "a.txt"}]}'], r"line 1: no 'start' field"),
    ],
)
def test_a_row_missing_a_field_is_a_line_numbered_error(tmp_path: Path, rows: list[str], message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(EvalError, match=message):
        load_eval(path)


def test_unknown_format_lists_the_accepted_formats(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('{"query": "Who?"}\n', encoding="utf-8")
    with pytest.raises(EvalError) as err:
        load_eval(path)
    message = str(err.value)
    assert "line 1 has the fields query" in message
    for name in ("seed:", "SQuAD:", "feedback:", "NQ:", "BEIR:", "docs/EVALUATION.md"):
        assert name in message


def test_the_question_sets_shipped_in_the_repository_load(tmp_path: Path) -> None:
    """docs/EVALUATION.md's first commands use these files: a clone has them (the training files too)."""
    from helpers.paths import ROOT

    paths = sorted((ROOT / "eval" / "questions").glob("*.jsonl"))
    assert {"discord_dev.jsonl", "discord_test.jsonl", "discord_train.jsonl"} <= {p.name for p in paths}
    for path in paths:
        items = load_eval(path).items
        wiki_only = all(i.source is not None and i.source.startswith("wiki/") for i in items)
        assert len(items) > 50 and (any(i.should_abstain for i in items) or wiki_only), path.name
