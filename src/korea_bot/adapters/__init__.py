"""Adapters: the command line and the Discord bot, thin layers over the Service."""
