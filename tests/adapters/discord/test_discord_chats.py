"""Plain parts of issue 14's Discord side: conversation store, the new settings, upload names, the hand-off rule."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers.passages import passage

from korea_bot.adapters.discord import uploads
from korea_bot.adapters.discord.answering import forum_question, hand_off, thread_name, with_line
from korea_bot.adapters.discord.bot import KoreaBot
from korea_bot.adapters.discord.conversations import Chat, Chats
from korea_bot.adapters.discord.render import Rendered
from korea_bot.config import load_settings
from korea_bot.errors import ConfigError, SourceError
from korea_bot.models import Answer

PASSAGE = passage(text="Hello", chunk_id=0)


def test_chats_are_bounded_and_expire() -> None:
    """The oldest conversation goes beyond the size; an idle one is forgotten after the TTL."""
    chats = Chats(size=2, ttl=60.0)
    for key in ("t1", "t2", "t3"):
        chats.open(key)
    assert chats.get("t1") is None and chats.get("t2") is not None and chats.get("t3") is not None
    chat = chats.get("t2")
    assert chat is not None
    assert chats.get("t2", now=chat.conversation.updated + 61.0) is None
    assert chats.get("t2") is None, "an expired conversation is dropped"


def test_a_reply_chain_finds_its_conversation_and_only_quoted_answers_become_context() -> None:
    """A remembered bot message maps to its conversation; a no-answer turn adds no context."""
    chats = Chats()
    chat = Chat(collection="seed")
    chat.remember(Answer(question="nothing here?", answered=False, confidence="none"))
    assert chat.context() is None
    chat.remember(Answer(question="hello?", answered=True, passages=(PASSAGE,), searched="hello?"))
    context = chat.context()
    assert context is not None and [t.question for t in context.turns] == ["hello?"]
    chats.put("m10", chat)
    chats.answered_with(10, "m10")
    chats.answered_with(11, "m10")
    assert chats.key_of_answer(11) == "m10" and chats.get("m10") is chat
    assert chats.key_of_answer(12) is None and chats.key_of_answer(None) is None


def test_channel_collections_and_forum_ids_parse_with_clear_errors() -> None:
    """`123:seed,456:wikipedia`, a JSON object, forum ids like the other id lists; bad values name the setting."""
    settings = load_settings(channel_collections="123:seed, 456:wikipedia/", forum_channel_ids="7,8")
    assert settings.channel_collections == {123: "seed", 456: "wikipedia"} and settings.forum_channel_ids == [7, 8]
    assert load_settings(channel_collections='{"9": "seed"}').channel_collections == {9: "seed"}
    assert load_settings().reply_in_thread is True and load_settings().helper_role_id is None
    for bad, why in [
        ("123seed", "'123seed' is not channel_id:collection"),
        ("abc:seed", "'abc:seed' is not channel_id:collection"),
        ("123:", "'123:' is not channel_id:collection"),
        ("1:a,1:b", "channel 1 is listed twice"),
        ("{nope", "is not a JSON object"),
    ]:
        with pytest.raises(ConfigError, match="KOREA_BOT_CHANNEL_COLLECTIONS") as err:
            load_settings(channel_collections=bad)
        assert why in str(err.value)


def test_message_content_intent_is_only_requested_when_configured() -> None:
    """The privileged intent stays off by default (mentions, replies to the bot and DMs carry content anyway)."""
    assert KoreaBot(load_settings(), None).intents.message_content is False
    assert KoreaBot(load_settings(message_content_intent=True), None).intents.message_content is True


@pytest.mark.parametrize(
    ("filename", "collection", "expected"),
    [("a.txt", "", "a.txt"), ("a.md", "seed", "seed/a.md"), ("A.PDF", "wiki/2024", "wiki/2024/A.PDF")],
)
def test_upload_names_inside_the_sources_folder(filename: str, collection: str, expected: str) -> None:
    """A plain file name, optionally in a collection folder."""
    assert uploads.upload_name(filename, collection) == expected


@pytest.mark.parametrize(
    ("filename", "collection"),
    [
        ("../a.txt", ""),
        ("/etc/a.txt", ""),
        ("a\\b.txt", ""),
        (".a.txt", ""),
        ("a.txt", ".."),
        ("a.txt", "x/../y"),
        ("a.txt", ".git"),
        ("a.exe", ""),
        ("", ""),
        ("~a.txt", ""),
    ],
)
def test_unsafe_upload_names_are_refused(filename: str, collection: str) -> None:
    """Folders, absolute paths, hidden names, `..`, unsupported types."""
    with pytest.raises(SourceError):
        uploads.upload_name(filename, collection)


def test_add_source_never_clobbers_without_replace_and_leaves_no_temp_file(tmp_path: Path) -> None:
    """The write is atomic; an existing file needs replace; a symlinked folder out of the root is refused."""
    data = b"Title\n\nA sentence that can be quoted here.\n"
    assert uploads.add_source(tmp_path, "seed/a.txt", data, False, 10_000) is False
    with pytest.raises(SourceError, match="already exists"):
        uploads.add_source(tmp_path, "seed/a.txt", data + b"More.\n", False, 10_000)
    assert (tmp_path / "seed" / "a.txt").read_bytes() == data
    assert uploads.add_source(tmp_path, "seed/a.txt", data + b"More.\n", True, 10_000) is True
    assert sorted(p.name for p in (tmp_path / "seed").iterdir()) == ["a.txt"]
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (tmp_path / "link").symlink_to(outside)
    with pytest.raises(SourceError, match="outside the sources folder"):
        uploads.add_source(tmp_path, "link/b.txt", data, False, 10_000)
    assert not list(outside.iterdir())
    with pytest.raises(SourceError, match="size limit"):
        uploads.add_source(tmp_path, "seed/big.txt", data, False, 10)


def test_hand_off_mentions_the_role_once_per_conversation_and_only_for_no_answer_in_a_server() -> None:
    """The line and allowed mentions: exactly the role, once; nothing otherwise."""
    bot = SimpleNamespace(settings=SimpleNamespace(helper_role_id=55))
    none = Answer(question="q", answered=False, confidence="none")
    chat = Chat()
    line, allowed = hand_off(bot, chat, none, in_guild=True)
    assert "<@&55>" in line and allowed.to_dict() == {"parse": [], "roles": [55]}
    assert hand_off(bot, chat, none, in_guild=True)[0] == "", "once per conversation"
    assert hand_off(bot, None, none, in_guild=False)[0] == ""
    low = Answer(question="q", answered=False, confidence="low", passages=(PASSAGE,))
    assert hand_off(bot, None, low, in_guild=True)[1].to_dict() == {"parse": []}
    assert with_line(Rendered(content="x" * 2000), line).content.endswith(line)


def test_thread_names_and_forum_questions_fit_discord() -> None:
    """Thread names are one line of at most 90 characters; a forum question fits the question limit."""
    assert thread_name("What  is\nthis?") == "What is this?"
    assert len(thread_name("word " * 50)) <= 90
    assert forum_question("Title", "body text here", 500) == "Title\nbody text here"
    assert len(forum_question("T" * 10, "word " * 200, 100)) <= 100


def test_a_read_only_sources_folder_is_a_clear_error_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EROFS / EACCES while writing or deleting becomes a SourceError pointing at the volume setup."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "a.txt").write_text("A\n\nQuotable text here.\n", encoding="utf-8")
    monkeypatch.setattr(uploads.tempfile, "mkstemp", refuse)
    with pytest.raises(SourceError, match=r"Read-only file system.*mounted read-only"):
        uploads.add_source(tmp_path, "seed/b.txt", b"B\n\nMore quotable text.\n", False, 10_000)
    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.raises(SourceError, match=r"cannot change seed/a\.txt"):
        uploads.remove_source(tmp_path, "seed/a.txt")


def test_a_linked_source_is_removed_itself_and_never_replaced_through(tmp_path: Path) -> None:
    """/sources remove on a link deletes the link, not the file it points to; replace refuses to write through it."""
    data = b"Title\n\nA sentence that can be quoted here.\n"
    uploads.add_source(tmp_path, "seed/b.txt", data, False, 10_000)
    (tmp_path / "seed" / "a.txt").symlink_to(tmp_path / "seed" / "b.txt")
    with pytest.raises(SourceError, match="is a link"):
        uploads.add_source(tmp_path, "seed/a.txt", data + b"More.\n", True, 10_000)
    assert (tmp_path / "seed" / "b.txt").read_bytes() == data
    uploads.remove_source(tmp_path, "seed/a.txt")
    assert not (tmp_path / "seed" / "a.txt").is_symlink()
    assert (tmp_path / "seed" / "b.txt").read_bytes() == data
