"""The corpora and question sets the ranking stage is trained on, each with its index built (or reused) in place."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from korea_bot.config import load_settings
from korea_bot.embedding import Embedder
from korea_bot.evaluation import EvalItem, load_eval, materialize
from korea_bot.service import Service

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
WORK = ROOT / ".korea_bot_eval" / "train"
SEED_SOURCES = ROOT / "docs_index" / "sources"
WIKI = SHARED / "corpus" / "wikipedia-korea-2019"
KOREA_FOLDS = 5  # Korea questions are few: split them over the folds (a question stays in one fold)
TRAIN_FILES = ("discord_train.jsonl", "discord_train_wiki.jsonl")  # in eval/questions/, training only
CROSS_SAMPLE = 300  # questions of one domain asked of another domain's corpus (all should abstain)


@dataclass(kw_only=True)
class QuestionSet:
    """Questions asked of one corpus, with the CV group each belongs to."""

    name: str
    corpus: str
    items: list[EvalItem]
    groups: list[str]
    doc_ids: dict[str, str] = field(default_factory=dict)  # source -> paragraph / document id (corpus sets)


def corpus_dirs(name: str) -> tuple[Path, Path]:
    """The sources and index folders of a training corpus."""
    if name == "seed":
        return SEED_SOURCES, WORK / "seed" / "index"
    return WORK / name / "sources", WORK / name / "index"


def prepare_corpus(name: str) -> dict[str, str]:
    """Write a corpus's sources (seed+wiki: the article plus the 35 Wikipedia articles under wiki/; squad: paragraphs)."""
    sources, _index = corpus_dirs(name)
    if name == "seed":
        return {}
    if name == "seedwiki":
        _sync(SEED_SOURCES, sources, "*")
        wiki = sources / "wiki"
        wiki.mkdir(parents=True, exist_ok=True)
        for path in sorted(WIKI.glob("*.txt")):
            if path.name != "SOURCE.txt" and not (wiki / path.name).exists():
                shutil.copyfile(path, wiki / path.name)
        return {}
    if name == "squad":
        evalset = load_eval(SHARED / "eval" / "squad2-half" / "questions.jsonl")
        return materialize(evalset.corpus or [], sources)
    raise ValueError(f"unknown training corpus {name!r}")


def _sync(base: Path, target: Path, pattern: str) -> None:
    """Copy the files under base into target (keeping relative paths), skipping ones already there."""
    for src in sorted(p for p in base.rglob(pattern) if p.is_file()):
        dst = target / src.relative_to(base)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)


def service(name: str, embedder: Embedder, model: str) -> Service:
    """A Service over a training corpus with the given embedder, its index built or brought up to date."""
    sources, index = corpus_dirs(name)
    settings = load_settings(sources_dir=sources, index_dir=index, model=model, ranker="off")  # features come before it
    svc = Service(settings, embedder=embedder)
    svc.ensure_index()
    return svc


def _rows(path: Path) -> list[dict]:
    """The JSON rows of a question file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _sample(items: list[EvalItem], n: int, seed: int) -> list[EvalItem]:
    """A deterministic sample of n questions, each turned into one that should abstain (asked of another corpus)."""
    picked = random.Random(seed).sample(items, min(n, len(items)))
    return [EvalItem(question=i.question, kind="cross_domain") for i in picked]


def _korea_group(question: str) -> str:
    """The CV group of a Korea question: one of KOREA_FOLDS, by a stable hash of its text (same in both corpora)."""
    return f"korea:{int(hashlib.sha256(question.encode()).hexdigest(), 16) % KOREA_FOLDS}"


def question_sets() -> list[QuestionSet]:
    """Every (corpus, questions) pair used for training; never the discord test split."""
    seed_dev = load_eval(SHARED / "eval" / "seed_dev.jsonl").items
    discord = load_eval(ROOT / "eval" / "questions" / "discord_dev.jsonl").items
    # the team's training questions (written blind, never run before training): more on the article, and questions
    # the Wikipedia articles answer, which the article alone should abstain on
    train = [i for name in TRAIN_FILES for i in load_eval(ROOT / "eval" / "questions" / name).items]
    nq = load_eval(SHARED / "eval" / "nq-korea" / "core_korea_nuclear.jsonl").items
    squad = load_eval(SHARED / "eval" / "squad2-half" / "questions.jsonl")
    unanswerable = [
        EvalItem(question=r["question"], kind="squad_unanswerable")
        for r in _rows(SHARED / "eval" / "squad2-half" / "unanswerable.jsonl")
    ]
    scifact = [
        EvalItem(question=r["text"], kind="cross_domain") for r in _rows(SHARED / "eval" / "scifact" / "queries.jsonl")
    ]
    korea = [*seed_dev, *discord, *train]
    korea_groups = [_korea_group(i.question) for i in korea]
    squad_groups = [f"squad:{next(iter(i.gold_docs)).rsplit('_', 1)[0]}" for i in squad.items]
    un_groups = [
        f"squad:{r['paragraph_id'].rsplit('_', 1)[0]}"
        for r in _rows(SHARED / "eval" / "squad2-half" / "unanswerable.jsonl")
    ]
    cross_seed = [*_sample(squad.items, CROSS_SAMPLE, 1), *_sample(scifact, CROSS_SAMPLE, 2)]
    # the same kind of questions asked of the article with the Wikipedia articles: off-topic questions find near-topic
    # encyclopedia sentences there, and without these the head saw only the 69 Korea off-topic ones on that corpus
    cross_seedwiki = [*_sample(squad.items, CROSS_SAMPLE, 4), *_sample(scifact, CROSS_SAMPLE, 5)]
    cross_squad = [
        *[EvalItem(question=i.question, kind="cross_domain") for i in korea + nq],
        *_sample(scifact, CROSS_SAMPLE, 3),
    ]
    # a Korea question asked of SQuAD stays in its own Korea fold, so no fold trains on a question it is scored on
    cross_squad_groups = [
        *(_korea_group(i.question) for i in korea + nq),
        *(f"cross:{i % 4}" for i in range(len(cross_squad) - len(korea) - len(nq))),
    ]
    prepare_corpus("seedwiki")  # on a fresh clone the folder does not exist yet
    squad_ids = prepare_corpus("squad")
    return [
        QuestionSet(name="seed", corpus="seed", items=korea, groups=korea_groups),
        QuestionSet(
            name="seedwiki",
            corpus="seedwiki",
            items=[*korea, *nq],
            groups=[*korea_groups, *(_korea_group(i.question) for i in nq)],
        ),
        QuestionSet(
            name="squad",
            corpus="squad",
            items=squad.items + unanswerable,
            groups=squad_groups + un_groups,
            doc_ids=squad_ids,
        ),
        QuestionSet(
            name="cross-seed",
            corpus="seed",
            items=cross_seed,
            groups=[f"cross:{i % 4}" for i in range(len(cross_seed))],
        ),
        QuestionSet(
            name="cross-seedwiki",
            corpus="seedwiki",
            items=cross_seedwiki,
            groups=[f"cross:{i % 4}" for i in range(len(cross_seedwiki))],
        ),
        QuestionSet(
            name="cross-squad",
            corpus="squad",
            items=cross_squad,
            groups=cross_squad_groups,
        ),
    ]


def discord_keys(sets: list[QuestionSet]) -> dict[str, set[str]]:
    """Question keys ("set:qid", as in modeling.Data) of the discord dev questions in the seed and seedwiki sets."""
    discord = {i.question for i in load_eval(ROOT / "eval" / "questions" / "discord_dev.jsonl").items}
    out = {}
    for qs in sets:
        if qs.name in ("seed", "seedwiki"):
            out[f"discord-{qs.name}"] = {f"{qs.name}:{n}" for n, i in enumerate(qs.items) if i.question in discord}
    return out
