"""`korea-bot chat` (follow-ups in JSON lines), `korea-bot report` (the gaps), `ask --collection`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers.corpora import run_cli
from helpers.paths import SEED


def corpus(tmp_path: Path) -> Path:
    """The bundled article in collection `seed/`, a small note in `notes/`."""
    sources = tmp_path / "sources"
    shutil.copytree(SEED, sources)
    (sources / "notes").mkdir()
    (sources / "notes" / "memo.txt").write_text("Memo\n\nThe lighthouse keeper counted forty ships.\n", "utf-8")
    return sources


def test_chat_reads_follow_ups_with_the_question_before(tmp_path: Path) -> None:
    """JSON lines in and out: the follow-up is searched with the first question; /new starts afresh; bad lines answer."""
    sources = corpus(tmp_path)
    lines = [
        json.dumps({"question": "What did North Korea test on November 29, 2017?"}),
        json.dumps({"question": "and how far did it fly?"}),
        "/new",
        "and how far did it fly?",
        json.dumps({"question": "ships?", "collection": "notes"}),
        "{not json",
    ]
    proc = run_cli(
        "chat",
        "--json",
        "--sources",
        str(sources),
        "--index",
        str(tmp_path / "i"),
        cwd=tmp_path,
        stdin="\n".join(lines),
    )
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["followup"] for o in out[:3]] == [False, True, False]
    assert out[1]["question"] == "and how far did it fly?"
    assert out[3]["passages"] and {p["collection"] for p in out[3]["passages"]} == {"notes"}
    assert out[4]["answered"] is False and "error" in out[4]
    log = [json.loads(line) for line in (tmp_path / "docs_index" / "questions.jsonl").read_text("utf-8").splitlines()]
    assert [row["where"] for row in log] == ["chat"] * 4 and [row["followup"] for row in log][:2] == [False, True]


def test_ask_collection_and_the_report(tmp_path: Path) -> None:
    """ask --collection quotes only that folder; an unknown one is a one-line error; report lists what was asked."""
    sources = corpus(tmp_path)
    common = ["--sources", str(sources), "--index", str(tmp_path / "i")]
    asked = run_cli("ask", "--json", "--collection", "notes", "how many ships", *common, cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["passages"] and all(p["source"].startswith("notes/") for p in answer["passages"])
    bad = run_cli("ask", "--collection", "gamma", "ships", *common, cwd=tmp_path)
    assert bad.returncode == 1 and bad.stderr.strip() == (
        "korea-bot: error: there is no collection 'gamma'; the collections are: notes, seed"
    )
    run_cli("ask", "how many ships", *common, cwd=tmp_path)
    report = run_cli("report", "--since", "1d", *common, cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "2 questions since" in report.stdout and "2× how many ships" in report.stdout
    off = run_cli("report", *common, cwd=tmp_path, KOREA_BOT_QUESTION_LOG="off")
    assert off.returncode == 1 and "question log is off" in off.stderr


def test_eval_reads_a_conversation_file_and_logs_nothing(tmp_path: Path) -> None:
    """A file of conversations gives follow-up hit@1 with context, without and standalone; eval is not logged."""
    sources = corpus(tmp_path)
    turns = [
        {
            "question": "What did North Korea test on November 29, 2017?",
            "standalone": "What did North Korea test on November 29, 2017?",
            "answer_contains": "Hwasong-15",
        },
        {"question": "and how far did it fly?", "standalone": "how far did the Hwasong-15 fly", "answer_contains": "km"},
        {
            "question": "unrelated: how many ships did the lighthouse keeper count",
            "standalone": "how many ships did the lighthouse keeper count",
            "answer_contains": "forty ships",
            "source": "notes/memo.txt",
            "new_topic": True,
        },
    ]
    convs = tmp_path / "convs.jsonl"
    convs.write_text(json.dumps({"id": "c1", "turns": turns}) + "\n", "utf-8")
    common = ["--sources", str(sources), "--index", str(tmp_path / "i")]
    proc = run_cli("eval", "--json", str(convs), *common, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)
    assert metrics["first_with_context"]["n"] == 1
    assert {metrics[k]["n"] for k in ("followup_with_context", "followup_without_context", "followup_standalone")} == {1}
    assert metrics["new_topic_with_context"]["n"] == 1 and metrics["new_topic_standalone"]["hit@1"] == 1.0
    text = run_cli("eval", str(convs), *common, cwd=tmp_path)
    assert "followup_with_context: hit@1" in text.stdout
    assert not (tmp_path / "docs_index" / "questions.jsonl").exists()
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"turns": [{"question": "x"}]}) + "\n", "utf-8")
    bad = run_cli("eval", str(broken), *common, cwd=tmp_path)
    assert bad.returncode != 0 and "broken.jsonl" in bad.stderr and "Traceback" not in bad.stderr
