"""The korea-bot entry point: parse, read settings, set up logging, run the sub-command, map errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ...config import Settings, load_settings
from ...errors import ConfigError, user_message
from ..console import fail
from .parser import FLAGS, build_parser

QUIET_LIBRARIES = ("faiss", "sentence_transformers", "transformers", "httpx", "urllib3", "bm25s", "trafilatura")
PARSERS = ("pypdf",)  # their warnings about a damaged file repeat what the skipped-file line says
# discord.py warns at start-up that voice needs PyNaCl and davey; the bot never joins a voice channel.
VOICE_WARNING = "voice will NOT be supported"


class _NoVoiceWarning(logging.Filter):
    """Drop discord.py's "voice will NOT be supported" warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every other record."""
        return VOICE_WARNING not in record.getMessage()


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment with command-line overrides on top."""
    return load_settings(
        flags=FLAGS,
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
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.WARNING)
        for name in PARSERS:
            logging.getLogger(name).setLevel(logging.ERROR)
    voice = logging.getLogger("discord.client")
    if not any(isinstance(f, _NoVoiceWarning) for f in voice.filters):
        voice.addFilter(_NoVoiceWarning())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `korea-bot` console script; the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
        level = settings.log_level
        if args.command == "run" and "KOREA_BOT_LOG_LEVEL" not in os.environ and not args.log_level:
            level = "INFO"
        setup_logging(level)
        return _dispatch(args, settings)
    except ConfigError as exc:
        return fail(str(exc), 2)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except BrokenPipeError:
        # the reader went away (e.g. `korea-bot ask ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        message = user_message(exc)
        if message is None:
            raise
        return fail(message)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run the chosen sub-command."""
    if args.command == "health":
        from ..heartbeat import check

        ok, message = check(settings.heartbeat_file, settings.heartbeat_max_age)
        print(message)
        return 0 if ok else 1
    if args.command in ("run", "sync"):
        from ..discord import run

        if args.command == "sync":
            return run.sync_commands(settings)
        return run.run_bot(settings, sync=args.sync)
    if args.command == "export-onnx":
        from .export import cmd_export_onnx

        return cmd_export_onnx(args, settings)
    from .chat import cmd_chat
    from .commands import cmd_ask, cmd_eval, cmd_index, cmd_report

    commands = {"index": cmd_index, "ask": cmd_ask, "eval": cmd_eval, "chat": cmd_chat, "report": cmd_report}
    return commands[args.command](args, settings)


def entry() -> None:
    """`python -m korea_bot` and the console script."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
