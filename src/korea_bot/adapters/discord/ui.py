"""Discord UI pieces: the buttons under an answer, embeds from rendered dicts, and command sync."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import discord
from discord import app_commands

from ...models import Answer
from . import render
from .state import RecentAnswers, Shown

log = logging.getLogger(__name__)
ACTIONS = ("more", "ctx", "up", "down")


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
        """Hand the click to the bot (KoreaBot.on_answer_button)."""
        bot: Any = interaction.client
        try:
            await bot.on_answer_button(interaction, self.action, self.key)
        except Exception as exc:
            await bot.report_error(interaction, exc)


def answer_view(
    recent: RecentAnswers, answer: Answer, private: bool = False, collection: str | None = None
) -> tuple[discord.ui.View | None, str]:
    """The buttons under an answer with passages (any tier) and their key ("" without passages); the answer is kept
    in ``recent`` for them (the key also joins 👍 / 👎 to the question log)."""
    if not answer.passages:
        return None, ""
    key = recent.add(Shown(answer, private, collection))
    view = discord.ui.View(timeout=None)
    for action in ACTIONS:
        view.add_item(AnswerButton(action, key))
    return view, key


def to_embeds(msg: render.Rendered) -> list[discord.Embed]:
    """Embed objects from the renderer's dicts."""
    return [discord.Embed.from_dict(e) for e in msg.embeds]


def payload(
    msg: render.Rendered, view: discord.ui.View | None = None, mentions: discord.AllowedMentions | None = None
) -> dict[str, Any]:
    """Keyword arguments for send / reply / followup.send: content, embeds, the view and allowed mentions (when set;
    the client default is none)."""
    kwargs: dict[str, Any] = {"content": msg.content or None, "embeds": to_embeds(msg)}
    if view is not None:
        kwargs["view"] = view
    if mentions is not None:
        kwargs["allowed_mentions"] = mentions
    return kwargs


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
