"""`python -m korea_bot`: the same as the korea-bot command."""

from .cli import entry

entry()
