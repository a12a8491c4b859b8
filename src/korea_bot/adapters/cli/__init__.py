"""The command line adapter: korea-bot index / ask / eval / run / sync / health."""
