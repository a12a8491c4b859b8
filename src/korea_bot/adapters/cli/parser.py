"""The command line's grammar: every sub-command with its options and help text."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from ..console import fail

EPILOG = "Every option can also be set as an environment variable KOREA_BOT_<NAME> or in a .env file."
USAGE_ERROR = 2
# The command-line flag behind each setting, so a bad value blames the flag that was given.
FLAGS = {
    "sources_dir": "--sources",
    "index_dir": "--index",
    "model": "--model",
    "top_k": "--top-k",
    "log_level": "--log-level",
}
COMMANDS = {
    "index": (
        "build or update the index",
        "Read the sources folder and bring the index up to date: only new or changed files are embedded, removed "
        "ones are dropped. A file that cannot be read or has no quotable text is skipped and named with the reason.",
    ),
    "ask": (
        "answer questions by quoting passages",
        "Answer each question with verbatim passages of the sources and their citations (or say that nothing "
        "supports an answer). Builds or updates the index first when it is missing or stale.",
    ),
    "eval": (
        "retrieval metrics on a question set",
        "Measure retrieval on a question file (formats: docs/EVALUATION.md): hit@1/3/5, MRR@10, nDCG@10, "
        "abstention and quote length. A file with a corpus beside it (SQuAD, BEIR) is indexed first. A conversation "
        "file (rows with `turns`) gives hit@1 of follow-ups with context, without it, and asked on their own.",
    ),
    "chat": (
        "a conversation: follow-up questions read with the ones before",
        'Answer questions typed one per line, reading each follow-up ("and japan?", "why?") with the questions '
        "before it when that finds better support. /new starts a new conversation, /quit or Ctrl-D ends. With "
        '--json, each input line is {"question": ..., "collection": ...} (or a plain line) and each answer '
        "one JSON object.",
    ),
    "report": (
        "what is asked, unanswered and voted down",
        "The gaps report from the question log (KOREA_BOT_QUESTION_LOG) and the votes (KOREA_BOT_FEEDBACK_FILE): "
        "the most asked questions, those with no supporting passage or only closest passages, and the answers "
        "voted down with their quotes: which texts to add.",
    ),
    "export-onnx": (
        "export the model to ONNX for the torch-free encoder",
        "Export the configured model (KOREA_BOT_MODEL) to ONNX once, into KOREA_BOT_ONNX_DIR (default "
        "~/.cache/korea_bot/onnx), so `ask` and `run` answer without importing torch (KOREA_BOT_ENCODER=auto or "
        "onnx). Needs torch; nothing is downloaded. `index` and `ask` make the export themselves when it is missing.",
    ),
    "run": (
        "run the Discord bot",
        "Bring the index up to date, then connect to Discord and answer /ask, mentions and the answer buttons until "
        "SIGTERM or Ctrl-C (docs/DISCORD.md).",
    ),
    "sync": (
        "push the slash commands to Discord and exit",
        "Register /ask, /sources and /reindex with Discord: in the guilds of KOREA_BOT_GUILD_IDS (at once), or "
        "globally when it is empty (Discord may take up to an hour). Needed once, and after commands change.",
    ),
    "health": (
        "exit 0 if the running bot is alive",
        "Exit 0 if the running bot's heartbeat file (KOREA_BOT_HEARTBEAT_FILE) is fresher than "
        "KOREA_BOT_HEARTBEAT_MAX_AGE seconds, 1 if it is stale or missing (a container health check).",
    ),
}


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in the one korea-bot error style."""

    def error(self, message: str) -> NoReturn:
        """Print usage and a one-line error, exit 2."""
        self.print_usage(sys.stderr)
        sys.exit(fail(f"{message} (see `{self.prog} --help`)", USAGE_ERROR))


def _global_options(p: argparse.ArgumentParser, default: object) -> None:
    """Options accepted before or after the sub-command."""
    p.add_argument("--log-level", default=default, help="DEBUG, INFO, WARNING… (KOREA_BOT_LOG_LEVEL)")


def _common(p: argparse.ArgumentParser) -> None:
    """Options every index-using command takes."""
    p.add_argument("--sources", type=Path, help="sources folder (KOREA_BOT_SOURCES_DIR, default docs_index/sources)")
    p.add_argument("--index", type=Path, help="index folder (KOREA_BOT_INDEX_DIR, default docs_index/index)")
    p.add_argument("--model", help="embedding model name or folder (KOREA_BOT_MODEL)")


def build_parser() -> argparse.ArgumentParser:
    """All sub-commands and their options."""
    parser = Parser(prog="korea-bot", description="Answer questions by quoting source texts.", epilog=EPILOG)
    _global_options(parser, None)
    shared = argparse.ArgumentParser(add_help=False)
    _global_options(shared, argparse.SUPPRESS)  # given after the sub-command, it overrides the one before
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    def command(name: str) -> argparse.ArgumentParser:
        short, long = COMMANDS[name]
        return sub.add_parser(name, help=short, description=long, epilog=EPILOG, parents=[shared])

    p = command("index")
    _common(p)
    p.add_argument("--full", action="store_true", help="re-embed everything")
    p.add_argument("--watch", action="store_true", help="keep running and rebuild when sources change")
    p.add_argument("--strict", action="store_true", help="exit 1 if any source was skipped (for CI pipelines)")
    p = command("ask")
    _common(p)
    p.add_argument("--top-k", type=int, help="passages per answer, 1-10 (KOREA_BOT_TOP_K)")
    p.add_argument("--json", action="store_true", default=None, help="one JSON object per question (KOREA_BOT_JSON)")
    p.add_argument(
        "--questions", help="file with one question per line, or - for standard input (after QUESTION, if given)"
    )
    p.add_argument("--collection", help="answer from this collection only (a top-level folder of the sources)")
    p.add_argument("question", nargs="*", help="the question")
    p = command("chat")
    _common(p)
    p.add_argument("--top-k", type=int, help="passages per answer, 1-10 (KOREA_BOT_TOP_K)")
    p.add_argument("--json", action="store_true", default=None, help="JSON lines in and out (KOREA_BOT_JSON)")
    p.add_argument("--collection", help="answer from this collection only")
    p = command("report")
    _common(p)
    p.add_argument("--since", default="7d", help="how far back: 24h, 7d, 2w (default 7d)")
    p.add_argument("--json", action="store_true", default=None, help="print the report as JSON")
    p = command("eval")
    _common(p)
    p.add_argument(
        "file", type=Path, help="questions (.jsonl): seed, NQ, SQuAD, BEIR queries, bot feedback or conversations"
    )
    p.add_argument("--qrels", type=Path, help="relevance labels for BEIR queries (default qrels/train.tsv)")
    p.add_argument("--json", action="store_true", default=None, help="print the metrics as JSON")
    p = command("export-onnx")
    p.add_argument("--model", help="embedding model name or folder (KOREA_BOT_MODEL)")
    p.add_argument("--int8", action="store_true", help="write the int8 (dynamically quantised) export instead, for KOREA_BOT_ENCODER=onnx-int8")
    p = command("run")
    _common(p)
    p.add_argument("--sync", action="store_true", help="sync slash commands before connecting")
    command("sync")
    command("health")
    return parser
