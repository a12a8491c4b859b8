"""The Discord adapter (the only code importing discord): process lifecycle, bot, commands, rendering."""
