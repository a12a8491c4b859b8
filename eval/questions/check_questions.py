"""Check the Discord-style question set: verbatim answers, one-sentence spans, counts, split sizes and duplicates.

Usage: python eval/questions/check_questions.py [--seed-dir DIR] [--wiki-dir DIR] [--seed-dev FILE] [--file PATH]
Defaults are found relative to the repo (this file is eval/questions/ inside it; ../shared is the repo's sibling).
With --file, only that extra file is checked (same per-row checks, no counts or split rules), and its questions are
compared with the seed questions and every other discord_*.jsonl file here (dev, test, fresh, training); the messages name the other rows by id only, never by text.
Exit status 0 when every check passes, 1 otherwise. Plain Python 3.11 standard library.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SHARED = REPO.parent / "shared"
SEED_NAME = "seed/what-russia-can-do-korean-crisis.txt"
SPLITS = {"dev": HERE / "discord_dev.jsonl", "test": HERE / "discord_test.jsonl"}
KINDS = ("answerable", "off_topic", "near_topic", "wiki_only")
MINIMUM = {"answerable": 70, "off_topic": 25, "near_topic": 12, "wiki_only": 20}
MAX_ANSWER_CHARS = 120
# A sentence end inside an answer: . ! or ? (optionally a closing quote) then whitespace and a capital or opening quote,
# unless the full stop follows a one-letter abbreviation such as the S in "U.S.".
SENTENCE_END = re.compile(r"(?<!\b[A-Z])[.!?][\"”’)]?\s+[A-Z“\"]")
NEAR_COPY_RATIO = 0.8


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (folders of the article and the Wikipedia texts, the seed dev file)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed-dir", type=Path, default=REPO / "docs_index" / "sources", help="folder holding seed/…")
    p.add_argument("--wiki-dir", type=Path, default=SHARED / "corpus" / "wikipedia-korea-2019", help="Wikipedia texts")
    p.add_argument("--seed-dev", type=Path, default=SHARED / "eval" / "seed_dev.jsonl", help="existing dev questions")
    p.add_argument("--file", type=Path, help="check this extra question file instead of the dev/test split")
    return p.parse_args(argv)


def load_jsonl(path: Path) -> list[dict]:
    """Read one JSON object per non-empty line of a UTF-8 file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def normalise(question: str) -> str:
    """Lowercase a question and keep only letters, digits and single spaces, for duplicate checks."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", question.lower()).split())


def source_path(row: dict, seed_dir: Path, wiki_dir: Path) -> Path | None:
    """Map a row's source ("seed/…" or "wiki/<file>") to a file on disk, or None if it has no source."""
    source = row.get("source")
    if source is None:
        return None
    if source.startswith("wiki/"):
        return wiki_dir / source.removeprefix("wiki/")
    return seed_dir / source


def check_row_fields(row: dict) -> list[str]:
    """Return the field errors of one row (kind, nullness, flags, source naming)."""
    errors = []
    kind = row.get("kind")
    if kind not in KINDS:
        return [f"unknown kind {kind!r}"]
    if not isinstance(row.get("question"), str) or not row["question"].strip():
        errors.append("empty question")
    answer = row.get("answer_contains")
    if kind in ("off_topic", "near_topic"):
        if answer is not None or row.get("source") is not None:
            errors.append("answer_contains and source must be null")
    elif not isinstance(answer, str) or not answer:
        errors.append("answer_contains missing")
    if kind == "answerable":
        if row.get("source") != SEED_NAME:
            errors.append(f"source must be {SEED_NAME}")
        if not isinstance(row.get("wiki_also_answers"), bool):
            errors.append("wiki_also_answers must be true/false")
    if kind == "near_topic" and not isinstance(row.get("wiki_answers"), bool):
        errors.append("wiki_answers must be true/false")
    if kind == "wiki_only" and not str(row.get("source", "")).startswith("wiki/"):
        errors.append("source must be wiki/<file>")
    return errors


def check_answer(row: dict, text: str) -> tuple[list[str], list[str]]:
    """Return (errors, warnings) for a row's answer_contains against its source text."""
    answer = row["answer_contains"]
    errors, warnings = [], []
    if answer not in text:
        errors.append(f"answer_contains not found verbatim in {row['source']}: {answer!r}")
    if "\n" in answer or "\r" in answer:
        errors.append("answer_contains spans a line break")
    if len(answer) > MAX_ANSWER_CHARS:
        errors.append(f"answer_contains is {len(answer)} characters (max {MAX_ANSWER_CHARS})")
    if SENTENCE_END.search(answer):
        errors.append(f"answer_contains seems to cross a sentence end: {answer!r}")
    words = len(answer.split())
    if not 3 <= words <= 12:
        warnings.append(f"answer_contains has {words} words (aim 3-12): {answer!r}")
    return errors, warnings


def paragraph_coverage(text: str, answers: list[str]) -> list[tuple[int, str, int]]:
    """Count, for each blank-line-separated paragraph of the article, the answers found inside it."""
    out = []
    for i, para in enumerate(re.split(r"\n\s*\n", text), 1):
        if para.strip():
            out.append((i, para.strip().splitlines()[0][:60], sum(a in para for a in answers)))
    return out


def check_rows(rows: list[dict], args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Return (errors, warnings) of the per-row checks: fields, and each answer against its source file."""
    errors: list[str] = []
    warnings: list[str] = []
    texts: dict[Path, str] = {}
    for r in rows:
        rid = r.get("id")
        errors += [f"{rid}: {e}" for e in check_row_fields(r)]
        path = source_path(r, args.seed_dir, args.wiki_dir)
        if path is None or not isinstance(r.get("answer_contains"), str):
            continue
        if not path.is_file():
            errors.append(f"{rid}: source file missing: {path}")
            continue
        if path not in texts:
            texts[path] = path.read_text(encoding="utf-8")
        e, w = check_answer(r, texts[path])
        errors += [f"{rid}: {x}" for x in e]
        warnings += [f"{rid}: {x}" for x in w]
    return errors, warnings


def check_extra_file(args: argparse.Namespace) -> int:
    """Check one extra question file (--file) row by row and against the other sets; return the exit status."""
    rows = load_jsonl(args.file)
    paths = [*SPLITS.values(), *sorted(HERE.glob("discord_*.jsonl"))]
    others = [r for path in dict.fromkeys(paths) if path.resolve() != args.file.resolve() for r in load_jsonl(path)]
    if args.seed_dev.is_file():
        others += load_jsonl(args.seed_dev)
    errors, warnings = check_rows(rows, args)
    ids = Counter(r.get("id") for r in rows)
    errors += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    other_ids = {r.get("id") for r in others}
    errors += [f"{i}: id also used by another set" for i in ids if i in other_ids]
    rids = [r.get("id") for r in rows]
    if rids != sorted(rids):
        errors.append("rows are not sorted by id")

    keys = [(normalise(r["question"]), r["id"]) for r in rows if isinstance(r.get("question"), str)]
    for i, (a, ida) in enumerate(keys):
        for b, idb in keys[i + 1 :]:
            if a == b or difflib.SequenceMatcher(None, a, b).ratio() >= 0.9:
                errors.append(f"{idb}: near-duplicate of {ida}: {b!r} / {a!r}")
    for o in others:
        oq = normalise(str(o.get("question", "")))
        for key, rid in keys:
            ratio = difflib.SequenceMatcher(None, key, oq).ratio()
            if ratio >= NEAR_COPY_RATIO:
                errors.append(f"{rid}: close copy of {o.get('id')} ({ratio:.2f}): {key!r}")

    print(f"{'kind':<12}{'rows':>6}")
    for kind in KINDS:
        print(f"{kind:<12}{sum(r.get('kind') == kind for r in rows):>6}")
    print(f"{'all':<12}{len(rows):>6}")
    flags = [r for r in rows if r.get("kind") == "answerable"]
    print(f"answerable with wiki_also_answers=true: {sum(r.get('wiki_also_answers') is True for r in flags)}")
    print(f"answerable with quotable=false: {sum(r.get('quotable') is False for r in flags)}")
    near = [r for r in rows if r.get("kind") == "near_topic"]
    print(f"near_topic with wiki_answers=true: {sum(r.get('wiki_answers') is True for r in near)}")
    warnings += print_coverage(args, flags)
    return report(errors, warnings)


def print_coverage(args: argparse.Namespace, flags: list[dict]) -> list[str]:
    """Print how many answerable answers fall in each article paragraph; return warnings for empty paragraphs."""
    warnings = []
    seed_path = args.seed_dir / SEED_NAME
    if seed_path.is_file():
        answers = [r["answer_contains"] for r in flags if isinstance(r.get("answer_contains"), str)]
        print("\narticle paragraphs (answers inside each):")
        for i, head, n in paragraph_coverage(seed_path.read_text(encoding="utf-8"), answers):
            print(f"  ¶{i:<3}{n:>3}  {head}")
            if n == 0:
                warnings.append(f"article paragraph {i} has no question: {head!r}")
    return warnings


def report(errors: list[str], warnings: list[str]) -> int:
    """Print warnings, errors and the verdict; return the exit status."""
    for w in warnings:
        print(f"warning: {w}")
    for e in errors:
        print(f"ERROR: {e}")
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 0 if not errors else 1


def main(argv: list[str] | None = None) -> int:
    """Run every check, print counts and problems, and return the exit status."""
    args = parse_args(argv)
    if args.file is not None:
        return check_extra_file(args)
    errors: list[str] = []
    warnings: list[str] = []
    by_split = {name: load_jsonl(path) for name, path in SPLITS.items()}
    all_rows = [r for rows in by_split.values() for r in rows]

    ids = Counter(r.get("id") for r in all_rows)
    errors += [f"duplicate id {i}" for i, n in ids.items() if n > 1]

    e, w = check_rows(all_rows, args)
    errors += e
    warnings += w

    seen: dict[str, str] = {}
    for r in all_rows:
        key = normalise(r["question"])
        if key in seen:
            errors.append(f"{r['id']}: duplicate of {seen[key]}: {r['question']!r}")
        seen[key] = r["id"]
    keys = list(seen.items())
    for i, (a, ida) in enumerate(keys):
        for b, idb in keys[i + 1 :]:
            if difflib.SequenceMatcher(None, a, b).ratio() >= 0.9:
                errors.append(f"{idb}: near-duplicate of {ida}: {b!r} / {a!r}")

    if args.seed_dev.is_file():
        for s in load_jsonl(args.seed_dev):
            sq = normalise(s["question"])
            for key, rid in seen.items():
                ratio = difflib.SequenceMatcher(None, key, sq).ratio()
                if ratio >= NEAR_COPY_RATIO:
                    errors.append(f"{rid}: close copy of seed dev {s.get('id')} ({ratio:.2f}): {key!r} / {sq!r}")
    else:
        warnings.append(f"seed dev file not found, copy check skipped: {args.seed_dev}")

    print(f"{'kind':<12}{'dev':>6}{'test':>6}{'total':>7}")
    for kind in KINDS:
        n = {name: sum(r.get("kind") == kind for r in rows) for name, rows in by_split.items()}
        total = n["dev"] + n["test"]
        print(f"{kind:<12}{n['dev']:>6}{n['test']:>6}{total:>7}")
        if total < MINIMUM[kind]:
            errors.append(f"{kind}: {total} questions, need at least {MINIMUM[kind]}")
        if n["test"] != total // 3:
            errors.append(f"{kind}: test holds {n['test']}, expected {total // 3} (a third, rounded down)")
    print(f"{'all':<12}{len(by_split['dev']):>6}{len(by_split['test']):>6}{len(all_rows):>7}")
    flags = [r for r in all_rows if r.get("kind") == "answerable"]
    print(f"answerable with wiki_also_answers=true: {sum(r['wiki_also_answers'] is True for r in flags)}")
    near = [r for r in all_rows if r.get("kind") == "near_topic"]
    print(f"near_topic with wiki_answers=true: {sum(r['wiki_answers'] is True for r in near)}")

    warnings += print_coverage(args, flags)
    return report(errors, warnings)


if __name__ == "__main__":
    sys.exit(main())
