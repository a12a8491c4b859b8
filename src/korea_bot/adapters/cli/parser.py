"""The command line's grammar: every sub-command with its options and help text."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from ..console import fail

EPILOG = "Every option can also be set as an environment variable KOREA_BOT_<NAME> or in a .env file."
USAGE_ERROR = 2


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in the one korea-bot error style."""

    def error(self, message: str) -> NoReturn:
        """Print usage and a one-line error, exit 2."""
        self.print_usage(sys.stderr)
        sys.exit(fail(f"{self.prog.removeprefix('korea-bot').strip() or 'usage'}: {message}", USAGE_ERROR))


def _common(p: argparse.ArgumentParser) -> None:
    """Options every index-using command takes."""
    p.add_argument("--sources", type=Path, help="sources folder (KOREA_BOT_SOURCES_DIR, default docs_index/sources)")
    p.add_argument("--index", type=Path, help="index folder (KOREA_BOT_INDEX_DIR, default docs_index/index)")
    p.add_argument("--model", help="embedding model name or folder (KOREA_BOT_MODEL)")


def build_parser() -> argparse.ArgumentParser:
    """All sub-commands and their options."""
    parser = Parser(prog="korea-bot", description="Answer questions by quoting source texts.", epilog=EPILOG)
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING… (KOREA_BOT_LOG_LEVEL)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    p = sub.add_parser("index", help="build or update the index", epilog=EPILOG)
    _common(p)
    p.add_argument("--full", action="store_true", help="re-embed everything")
    p.add_argument("--watch", action="store_true", help="keep running and rebuild when sources change")
    p = sub.add_parser("ask", help="answer questions by quoting passages", epilog=EPILOG)
    _common(p)
    p.add_argument("--top-k", type=int, help="passages per answer (KOREA_BOT_TOP_K)")
    p.add_argument("--json", action="store_true", default=None, help="one JSON object per question (KOREA_BOT_JSON)")
    p.add_argument("--questions", help="file with one question per line, or - for standard input")
    p.add_argument("question", nargs="*", help="the question")
    p = sub.add_parser("eval", help="retrieval metrics on a question set", epilog=EPILOG)
    _common(p)
    p.add_argument("file", type=Path, help="questions (.jsonl): seed, NQ, SQuAD, BEIR queries or bot feedback")
    p.add_argument("--qrels", type=Path, help="relevance labels for BEIR queries (default qrels/train.tsv)")
    p.add_argument("--json", action="store_true", default=None, help="print the metrics as JSON")
    p = sub.add_parser("run", help="run the Discord bot", epilog=EPILOG)
    _common(p)
    p.add_argument("--sync", action="store_true", help="sync slash commands before connecting")
    sub.add_parser("sync", help="sync slash commands to KOREA_BOT_GUILD_IDS (or globally) and exit")
    sub.add_parser("health", help="exit 0 if the running bot's heartbeat is fresh, 1 if not")
    return parser
