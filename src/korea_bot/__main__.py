"""`python -m korea_bot`: the same as the korea-bot command."""

from .adapters.cli.main import entry

entry()
