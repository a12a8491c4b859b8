"""Discord UI pieces of the bot: the answer buttons, the slash commands and command sync."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import discord
from discord import app_commands

from . import discord_render as render

log = logging.getLogger("korea_bot.discord")


class AnswerButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"kb:(?P<action>more|ctx|up|down):(?P<key>[0-9a-f]{16})"
):
    """One of the buttons under an answer; its custom id names the action and the answer it belongs to."""

    LOOK: ClassVar[dict[str, tuple[str | None, str | None, discord.ButtonStyle]]] = {
        "more": ("More passages", None, discord.ButtonStyle.primary),
        "ctx": ("Show context", None, discord.ButtonStyle.secondary),
        "up": (None, "👍", discord.ButtonStyle.secondary),
        "down": (None, "👎", discord.ButtonStyle.secondary),
    }

    def __init__(self, action: str, key: str) -> None:
        """Build the button for ``action`` on the answer stored under ``key``."""
        label, emoji, style = self.LOOK[action]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=f"kb:{action}:{key}"))
        self.action, self.key = action, key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: Any, /
    ) -> AnswerButton:
        """Rebuild the button from a click (works across restarts; the answer may have expired)."""
        return cls(match["action"], match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the click to the bot."""
        bot: Any = interaction.client  # the KoreaBot
        try:
            await bot.on_button(interaction, self.action, self.key)
        except Exception as exc:
            await bot.report_error(interaction, exc)


def to_embeds(msg: render.Rendered) -> list[discord.Embed]:
    """Embed objects from the renderer's dicts."""
    return [discord.Embed.from_dict(e) for e in msg.embeds]


def add_commands(bot: Any) -> None:
    """Register /ask, /sources and /reindex on the bot's tree."""

    @bot.tree.command(name="ask", description="Ask a question; I answer by quoting my sources, with citations.")
    @app_commands.describe(question="What do you want to know?", private="Show the answer only to you")
    async def ask(interaction: discord.Interaction, question: str, private: bool = False) -> None:
        await bot.handle_ask(interaction, question, private)

    @bot.tree.command(name="sources", description="What I have read: documents, passages, index version.")
    async def sources(interaction: discord.Interaction) -> None:
        await bot.handle_sources(interaction)

    @bot.tree.command(name="reindex", description="Admins: re-read the sources and update the index.")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reindex(interaction: discord.Interaction) -> None:
        await bot.handle_reindex(interaction)


async def sync_tree(tree: app_commands.CommandTree, guild_ids: list[int]) -> list[str]:
    """Sync commands to each guild in ``guild_ids`` (instant), or globally when there are none."""
    done = []
    for gid in guild_ids:
        guild = discord.Object(id=gid)
        tree.copy_global_to(guild=guild)
        done.append(f"{len(await tree.sync(guild=guild))} commands to guild {gid}")
    if not guild_ids:
        done.append(f"{len(await tree.sync())} commands globally")
    for line in done:
        log.info("synced %s", line)
    return done
