"""/sources list | add | remove and /report: what the bot has read, admin uploads, and the gaps report."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands

from ...errors import ConfigError, KoreaBotError, user_message
from ...formatting import gaps_lines
from ...usage.report import gaps, parse_since
from . import render, uploads
from .commands import Bot, admin_refusal, refuse_or_defer, reindex_and_reply
from .ui import payload

log = logging.getLogger(__name__)


def _bot(interaction: discord.Interaction) -> Bot:
    """The bot an interaction arrived at."""
    bot: Bot = interaction.client  # type: ignore[assignment]
    return bot


async def sources_list(interaction: discord.Interaction) -> None:
    """/sources list: what the live index holds, by collection."""
    stats = _bot(interaction).service.stats()
    await interaction.response.send_message(**payload(render.render_sources(stats)), ephemeral=True)


@app_commands.describe(
    file="A .txt, .md, .html or .pdf file (UTF-8 text)",
    collection="The folder (collection) to put it in; empty: the top level",
    replace="Overwrite a source of the same name",
)
async def sources_add(
    interaction: discord.Interaction, file: discord.Attachment, collection: str = "", replace: bool = False
) -> None:
    """/sources add (admins, in a server): check the file as the index would, write it atomically, reindex."""
    bot = _bot(interaction)
    refusal = admin_refusal(bot, interaction, "/sources add")
    try:
        name = uploads.upload_name(file.filename, collection)
        uploads.check_size(name, file.size, bot.settings.max_file_bytes)
    except KoreaBotError as exc:
        refusal = refusal or _failed("Not added", exc)
    started = await refuse_or_defer(interaction, refusal)
    if started is None:
        return
    data = await file.read()
    root, limit = bot.settings.sources_dir, bot.settings.max_file_bytes
    try:
        replaced = await bot.run_search(uploads.add_source, root, name, data, replace, limit)
    except KoreaBotError as exc:
        await bot.send_followup(interaction, started, render.Rendered(content=_failed("Not added", exc)))
        return
    what = "replaced" if replaced else "added"
    log.info("source %s %s by admin %s (%d bytes)", name, what, interaction.user.id, len(data))  # an audit line
    head = f"{'Replaced' if replaced else 'Added'} `{name.replace('`', '')}`."
    await reindex_and_reply(bot, interaction, started, head)


@app_commands.describe(name="The source's name as /sources list shows it, e.g. seed/article.md")
async def sources_remove(interaction: discord.Interaction, name: str) -> None:
    """/sources remove (admins, in a server): delete a source file, then reindex."""
    bot = _bot(interaction)
    started = await refuse_or_defer(interaction, admin_refusal(bot, interaction, "/sources remove"))
    if started is None:
        return
    try:
        await bot.run_search(uploads.remove_source, bot.settings.sources_dir, name)
    except KoreaBotError as exc:
        await bot.send_followup(interaction, started, render.Rendered(content=_failed("Not removed", exc)))
        return
    log.info("source %s removed by admin %s", name, interaction.user.id)  # an audit line
    await reindex_and_reply(bot, interaction, started, f"Removed `{name.strip().replace('`', '')}`.")


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
@app_commands.describe(since="How far back: e.g. 24h, 7d, 2w (default 7d)")
async def report(interaction: discord.Interaction, since: str = "7d") -> None:
    """/report (admins, in a server, ephemeral): the most asked questions, the unanswered ones, the 👎 answers."""
    bot = _bot(interaction)
    refusal = admin_refusal(bot, interaction, "/report")
    log_file = bot.service.questions
    if not refusal and log_file.path is None:
        refusal = "The question log is off (KOREA_BOT_QUESTION_LOG=off): there is nothing to report."
    try:
        since_at = parse_since(since)
    except ConfigError as exc:
        refusal = refusal or render.escape(str(exc).replace("--since", "since:"))
    started = await refuse_or_defer(interaction, refusal)
    if started is None:
        return
    found = await asyncio.to_thread(gaps, log_file, bot.settings.feedback_file, since_at)

    def quote(source: str, start: int, end: int) -> str | None:
        """The quoted text from the live index (None when it no longer has the source)."""
        try:
            return bot.service.quote(source, start, end)
        except KoreaBotError:
            return None

    lines = [render.escape(line) for line in gaps_lines(found, quote)]
    body = render.clip("\n".join(lines), render.DESCRIPTION_MAX)
    embed = {"type": "rich", "title": "Questions asked (gaps report)", "description": body, "color": render.COLOR}
    await bot.send_followup(interaction, started, render.Rendered(embeds=[embed]))


def _failed(what: str, exc: KoreaBotError) -> str:
    """`what: <the error's one line>`, escaped and within a message's length."""
    return render.clip(f"{what}: {render.escape(user_message(exc) or str(exc))}", 2000)


def register(tree: app_commands.CommandTree) -> None:
    """Add the /sources group (list, add, remove) and /report to the tree (fresh objects for each bot)."""
    group = app_commands.Group(name="sources", description="What I have read; admins: add or remove a source.")
    for callback, name, description in (
        (sources_list, "list", "What I have read: documents by collection, passages, index version."),
        (sources_add, "add", "Admins: add a source file (then the index is updated)."),
        (sources_remove, "remove", "Admins: remove a source file (then the index is updated)."),
    ):
        group.add_command(app_commands.Command(name=name, description=description, callback=callback))
    tree.add_command(group)
    tree.add_command(
        app_commands.Command(
            name="report", description="Admins: the questions asked, unanswered ones, 👎 answers.", callback=report
        )
    )
