"""The command line: korea-bot index / ask / eval / run / sync / health."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .config import ConfigError, Settings, load_settings

log = logging.getLogger("korea_bot")
EPILOG = "Every option can also be set as an environment variable KOREA_BOT_<NAME> or in a .env file."


def _common(p: argparse.ArgumentParser) -> None:
    """Options every index-using command takes."""
    p.add_argument("--sources", type=Path, help="sources folder (KOREA_BOT_SOURCES_DIR, default docs_index/sources)")
    p.add_argument("--index", type=Path, help="index folder (KOREA_BOT_INDEX_DIR, default docs_index/index)")
    p.add_argument("--model", help="embedding model name or folder (KOREA_BOT_MODEL)")


def build_parser() -> argparse.ArgumentParser:
    """All sub-commands and their options."""
    parser = argparse.ArgumentParser(
        prog="korea-bot", description="Answer questions by quoting source texts.", epilog=EPILOG
    )
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING… (KOREA_BOT_LOG_LEVEL)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
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


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment with command-line overrides on top."""
    return load_settings(
        sources_dir=getattr(args, "sources", None),
        index_dir=getattr(args, "index", None),
        model=getattr(args, "model", None),
        top_k=getattr(args, "top_k", None),
        log_level=args.log_level,
        output_json=getattr(args, "json", None),
    )


def setup_logging(level: str) -> None:
    """Log to stderr at the configured level; keep chatty libraries at WARNING unless debugging."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if level != "DEBUG":
        for name in ("faiss", "sentence_transformers", "transformers", "httpx", "urllib3", "bm25s", "trafilatura"):
            logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `korea-bot` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
        level = settings.log_level
        if args.command == "run" and "KOREA_BOT_LOG_LEVEL" not in os.environ and not args.log_level:
            level = "INFO"
        setup_logging(level)
        return _dispatch(args, settings)
    except ConfigError as exc:
        print(f"korea-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("korea-bot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `korea-bot ask ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        from .errors import explain

        message = explain(exc)
        if message is None:
            raise
        print(f"korea-bot: {message}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run the chosen sub-command."""
    if args.command == "health":
        from .heartbeat import check

        ok, message = check(settings.heartbeat_file, settings.heartbeat_max_age)
        print(message)
        return 0 if ok else 1
    if args.command in ("run", "sync"):
        from . import discord_bot

        if args.command == "sync":
            return discord_bot.sync_commands(settings)
        return discord_bot.run_bot(settings, sync=args.sync)
    from .commands import cmd_ask, cmd_eval, cmd_index

    return {"index": cmd_index, "ask": cmd_ask, "eval": cmd_eval}[args.command](args, settings)


def entry() -> None:
    """`python -m korea_bot`."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
