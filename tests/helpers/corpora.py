"""Helpers for the index lifecycle tests: generated corpora, verbatim checks, a fake-model CLI environment."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from korea_bot.config import load_settings
from korea_bot.embedding import HashEmbedder
from korea_bot.models import Answer
from korea_bot.service import Service

WORDS = [
    *("river", "mountain", "treaty", "harbor", "railway", "province", "festival", "alliance", "harvest"),
    *("library", "garrison", "copper", "lantern", "orchard", "monsoon", "border", "frigate", "summit"),
    *("ledger", "parliament", "vineyard", "glacier", "factory", "cathedral"),
]


def sentence(rng: random.Random, tag: str) -> str:
    """One generated sentence mentioning a tag word."""
    words = rng.sample(WORDS, 6)
    return f"The {words[0]} near the {words[1]} of {tag} shaped the {words[2]} and the {words[3]} {words[4]}s."


def make_corpus(root: Path, n_files: int = 12, paragraphs: int = 3, seed: int = 0) -> dict[str, str]:
    """Write n_files small .txt sources (each with its own tag word) and return name -> text."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    texts = {}
    for i in range(n_files):
        tag = f"Zone{i:03d}"
        paras = [" ".join(sentence(rng, tag) for _ in range(3)) for _ in range(paragraphs)]
        name = f"doc{i:03d}.txt"
        texts[name] = f"Report on {tag}\n\n" + "\n\n".join(paras) + "\n"
        (root / name).write_text(texts[name], encoding="utf-8")
    return texts


def snapshot(root: Path) -> dict[str, str]:
    """The text of every .txt source under root, by relative name."""
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.txt"))}


def service(sources: Path, index: Path, dim: int = 64) -> Service:
    """A Service with the hashing embedder that quotes anything (no abstain threshold)."""
    settings = load_settings(sources_dir=sources, index_dir=index, model=f"hash:{dim}", min_score=-1.0)
    return Service(settings, embedder=HashEmbedder(dim))


def assert_verbatim(answer: Answer, texts: dict[str, str]) -> None:
    """Every quoted passage is exactly texts[source][start:end]."""
    assert answer.passages, f"no passage for {answer.question!r}"
    for p in answer.passages:
        assert p.source in texts, f"{p.source} quoted but not in this version's sources"
        assert p.text == texts[p.source][p.start : p.end]


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for a `korea-bot` subprocess with the fake model."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOREA_BOT_")}
    env.update({"KOREA_BOT_MODEL": "hash:64", "PYTHONUNBUFFERED": "1", "KOREA_BOT_LOG_LEVEL": "INFO"}, **extra)
    return env


PYTHON = sys.executable


def run_cli(
    *args: str, cwd: Path, stdin: str | None = None, prefix: list[str] | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m korea_bot ARGS` with the fake model, quoting anything (no abstain threshold), WARNING logs."""
    return subprocess.run(
        [*(prefix or []), PYTHON, "-m", "korea_bot", *args],
        cwd=cwd,
        env=cli_env(KOREA_BOT_LOG_LEVEL="WARNING", KOREA_BOT_MIN_SCORE="-1", **env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def private_mount(script: str, folder: Path, probe: list[str]) -> list[str] | None:
    """A command prefix running `script "$0"=folder` then the command in a private mount namespace (root only);
    None when one cannot be made or `probe` fails under it."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or not unshare:
        return None
    prefix = [unshare, "-m", "--propagation", "private", "sh", "-c", f'{script} && exec "$@"', str(folder)]
    ok = subprocess.run([*prefix, *probe], capture_output=True, timeout=30, check=False)
    return prefix if ok.returncode == 0 else None
