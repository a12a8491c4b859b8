"""korea_bot: answer questions about source texts by quoting verbatim passages with citations."""

__version__ = "0.1.0"
