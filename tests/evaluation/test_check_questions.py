"""eval/questions/check_questions.py --file: one extra question set checked row by row, other sets named by id only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "eval" / "questions" / "check_questions.py"
SEED = "seed/what-russia-can-do-korean-crisis.txt"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the checker with the given arguments and capture its output."""
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def _write(path: Path, rows: list[dict]) -> Path:
    """Write rows as JSON Lines and return the path."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_fresh_set_passes() -> None:
    """The bundled fresh set passes every check and is counted per kind."""
    result = _run("--file", str(REPO / "eval" / "questions" / "discord_fresh.jsonl"))
    assert result.returncode == 0, result.stdout
    assert "answerable      60" in result.stdout
    assert result.stdout.rstrip().endswith("OK")


def test_bad_rows_are_reported(tmp_path: Path) -> None:
    """A missing answer, a sentence-crossing answer, a reused id, unsorted ids and a copied question all fail."""
    dev = json.loads((REPO / "eval" / "questions" / "discord_dev.jsonl").read_text(encoding="utf-8").splitlines()[0])
    rows = [
        {
            "id": "fq-002",
            "question": "zzq unique one",
            "answer_contains": "not in the article at all",
            "source": SEED,
            "kind": "answerable",
            "wiki_also_answers": False,
        },
        {
            "id": "fq-001",
            "question": "qqz another",
            "answer_contains": "the situation. First, although Russia",
            "source": SEED,
            "kind": "answerable",
            "wiki_also_answers": False,
        },
        {"id": dev["id"], "question": dev["question"], "answer_contains": None, "source": None, "kind": "off_topic"},
    ]
    result = _run("--file", str(_write(tmp_path / "bad.jsonl", rows)))
    assert result.returncode == 1
    out = result.stdout
    assert "fq-002: answer_contains not found verbatim" in out
    assert "fq-001: answer_contains seems to cross a sentence end" in out
    assert f"{dev['id']}: id also used by another set" in out
    assert "rows are not sorted by id" in out
    assert f"close copy of {dev['id']} (1.00)" in out
    assert "need at least" not in out and "expected" not in out  # no split or minimum-count rules with --file
