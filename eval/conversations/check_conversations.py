"""Check the conversation evaluation set against its source texts and print its counts."""

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ROOTS = {
    "seed": REPO / "docs_index" / "sources" / "seed",
    "wiki": REPO.parent / "shared" / "corpus" / "wikipedia-korea-2019",
}
SPLITS = ("dev", "test")
MAX_CHARS = 120
MIN_WORDS, MAX_WORDS = 3, 12
MIN_TURNS, MAX_TURNS = 2, 3
SEED = 7
NOT_INDEXED = {"wiki/SOURCE.txt"}


def load(split: str) -> list[dict]:
    """The conversations of one split, one JSON object a line."""
    path = HERE / f"conversations_{split}.jsonl"
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def source_text(name: str, cache: dict[str, str | None]) -> str | None:
    """The text of an indexed source name such as wiki/Korea.txt, or None if there is no such file."""
    if name in NOT_INDEXED:
        return None
    if name not in cache:
        folder, _, file = name.partition("/")
        root = ROOTS.get(folder)
        path = root / file if root and file and "/" not in file else None
        cache[name] = path.read_text(encoding="utf-8") if path and path.is_file() else None
    return cache[name]


def normalise(text: str) -> str:
    """Lower case with runs of whitespace collapsed, as the retrieval scorer compares answers."""
    return " ".join(text.lower().split())


def check_turn(where: str, turn: dict, first: bool, cache: dict[str, str | None]) -> list[str]:
    """Problems with one turn."""
    problems = []
    for key in ("question", "standalone", "answer_contains", "source"):
        if not isinstance(turn.get(key), str) or not turn[key].strip():
            return [f"{where}: missing or empty {key!r}"]
    answer, question, standalone = turn["answer_contains"], turn["question"], turn["standalone"]
    if "\n" in answer or "\r" in answer:
        problems.append(f"{where}: newline in answer_contains")
    if len(answer) > MAX_CHARS:
        problems.append(f"{where}: answer_contains is {len(answer)} chars (> {MAX_CHARS})")
    if not MIN_WORDS <= len(answer.split()) <= MAX_WORDS:
        problems.append(f"{where}: answer_contains has {len(answer.split())} words")
    text = source_text(turn["source"], cache)
    if text is None:
        problems.append(f"{where}: unknown source {turn['source']!r}")
    elif answer not in text:
        problems.append(f"{where}: answer_contains not verbatim in {turn['source']}: {answer!r}")
    if first or turn.get("new_topic"):
        if standalone != question:
            problems.append(f"{where}: standalone must equal the question on a first or new-topic turn")
    elif standalone == question:
        problems.append(f"{where}: follow-up has no standalone version of its own")
    if first and turn.get("new_topic"):
        problems.append(f"{where}: the first turn cannot be a new topic")
    return problems


def check_conversation(conv: dict, cache: dict[str, str | None]) -> list[str]:
    """Problems with one conversation: its shape and each of its turns."""
    cid, turns = conv.get("id", "?"), conv.get("turns") or []
    flags = [bool(t.get("new_topic")) for t in turns]
    ordinary = flags.count(False)
    problems = []
    if not MIN_TURNS <= ordinary <= MAX_TURNS:
        problems.append(f"{cid}: {ordinary} ordinary turns (want {MIN_TURNS}-{MAX_TURNS})")
    if any(flags[:-1]):
        problems.append(f"{cid}: a new-topic turn must be the last turn")
    for i, turn in enumerate(turns):
        problems += check_turn(f"{cid} turn {i + 1}", turn, i == 0, cache)
    return problems


def check_split(convs: dict[str, list[dict]]) -> list[str]:
    """Problems with the split: unique ids, and test = the first third after random.Random(7) shuffles them."""
    ids = [c["id"] for split in SPLITS for c in convs[split]]
    if len(ids) != len(set(ids)):
        return ["conversation ids are not unique across the splits"]
    order = sorted(ids)
    random.Random(SEED).shuffle(order)
    expected = set(order[: len(order) // 3])
    if {c["id"] for c in convs["test"]} != expected:
        return ["the test split is not the first third of the ids shuffled with random.Random(7)"]
    return []


def counts(rows: list[dict], normalised: dict[str, str]) -> dict[str, int]:
    """How many conversations, turns, follow-ups, new-topic turns and turns per corpus a list holds."""
    turns = [t for c in rows for t in c["turns"]]
    new = sum(bool(t.get("new_topic")) for t in turns)
    kinds = {k: 0 for k in ("seed", "wiki", "mixed")}
    for conv in rows:
        kinds[corpora(conv)] += 1
    return {
        "conversations": len(rows),
        "turns": len(turns),
        "follow-ups": len(turns) - len(rows) - new,
        "new-topic turns": new,
        "with a new-topic turn": sum(any(t.get("new_topic") for t in c["turns"]) for c in rows),
        "seed turns": sum(t.get("source", "").startswith("seed/") for t in turns),
        "wiki turns": sum(t.get("source", "").startswith("wiki/") for t in turns),
        **{f"{k} conversations": v for k, v in kinds.items()},
        "answers also in another file": sum(elsewhere(t, normalised) for t in turns),
    }


def corpora(conv: dict) -> str:
    """Which corpus the ordinary (not new-topic) turns of a conversation quote: seed, wiki or mixed."""
    found = {t.get("source", "").split("/")[0] for t in conv["turns"] if not t.get("new_topic")}
    return found.pop() if len(found) == 1 else "mixed"


def normalised_sources(cache: dict[str, str | None]) -> dict[str, str]:
    """Every indexed source name with its normalised text."""
    names = [f"{folder}/{p.name}" for folder, root in ROOTS.items() for p in sorted(root.glob("*.txt"))]
    return {n: normalise(text) for n in names if (text := source_text(n, cache)) is not None}


def elsewhere(turn: dict, normalised: dict[str, str]) -> bool:
    """Whether the answer string, normalised as the scorer does, also occurs in some other source file."""
    answer = normalise(turn.get("answer_contains", ""))
    return any(name != turn.get("source") and answer in text for name, text in normalised.items())


def main() -> int:
    """Run every check, print the counts per split and return 1 if anything is wrong."""
    cache: dict[str, str | None] = {}
    convs = {split: load(split) for split in SPLITS}
    problems = check_split(convs)
    for split in SPLITS:
        for conv in convs[split]:
            problems += check_conversation(conv, cache)
    normalised = normalised_sources(cache)
    for split in (*SPLITS, "all"):
        rows = convs["dev"] + convs["test"] if split == "all" else convs[split]
        print(f"{split:>4}: " + ", ".join(f"{k} {v}" for k, v in counts(rows, normalised).items()))
    for problem in problems:
        print("PROBLEM", problem)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
