"""Short-lived conversations per thread or reply chain: what was asked there, its collection, the hand-off ping."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from ...models import Answer
from ...search.conversation import TTL_SECONDS, Conversation

MAX_CONVERSATIONS = 1000  # the oldest conversation is forgotten beyond this
MAX_MESSAGES = 5000  # bot answer message ids remembered for replies


@dataclass
class Chat:
    """One conversation on Discord: its turns, the collection it searches, whether the helper role was pinged."""

    conversation: Conversation = field(default_factory=Conversation)
    collection: str | None = None
    pinged_helpers: bool = False

    def remember(self, answer: Answer) -> None:
        """Add an answered question as a turn (a question with nothing quoted is not context)."""
        if answer.passages:
            self.conversation.add_answer(answer)
        else:
            self.conversation.updated = time.monotonic()

    def context(self) -> Conversation | None:
        """The conversation to read a follow-up with (None when nothing was quoted yet or it went stale)."""
        conv = self.conversation
        return conv if conv.turns and not conv.expired() else None


class Chats:
    """Bounded, expiring conversations keyed by thread (``t<id>``) or by reply chain (``m<first answer id>``)."""

    def __init__(self, size: int = MAX_CONVERSATIONS, ttl: float = TTL_SECONDS) -> None:
        """Keep at most ``size`` conversations, each for ``ttl`` seconds after its last question."""
        self.size, self.ttl = size, ttl
        self._chats: OrderedDict[str, Chat] = OrderedDict()
        self._answers: OrderedDict[int, str] = OrderedDict()  # bot message id -> conversation key
        self._threads: OrderedDict[int, float] = OrderedDict()  # thread ids the bot opened

    def get(self, key: str, now: float | None = None) -> Chat | None:
        """The live conversation under ``key`` (an expired one is dropped)."""
        chat = self._chats.get(key)
        if chat is None:
            return None
        if (time.monotonic() if now is None else now) - chat.conversation.updated > self.ttl:
            del self._chats[key]
            return None
        self._chats.move_to_end(key)
        return chat

    def open(self, key: str, collection: str | None = None) -> Chat:
        """The conversation under ``key``, started afresh when there is none (or it expired)."""
        chat = self.get(key)
        if chat is None:
            chat = Chat(collection=collection)
            self.put(key, chat)
        return chat

    def put(self, key: str, chat: Chat) -> None:
        """Keep ``chat`` under ``key`` (a reply chain gets its key once the first answer is sent)."""
        self._chats[key] = chat
        while len(self._chats) > self.size:
            self._chats.popitem(last=False)

    def answered_with(self, message_id: int, key: str) -> None:
        """Remember that the bot's message ``message_id`` answered in conversation ``key`` (a reply continues it)."""
        self._answers[message_id] = key
        while len(self._answers) > MAX_MESSAGES:
            self._answers.popitem(last=False)

    def key_of_answer(self, message_id: int | None) -> str | None:
        """The conversation a bot message belongs to (None for a message that is not a remembered answer)."""
        return None if message_id is None else self._answers.get(message_id)

    def opened_thread(self, thread_id: int) -> None:
        """Remember a thread the bot opened."""
        self._threads[thread_id] = time.monotonic()
        while len(self._threads) > MAX_CONVERSATIONS:
            self._threads.popitem(last=False)

    def is_bot_thread(self, thread_id: int) -> bool:
        """True for a thread the bot opened (since it started)."""
        return thread_id in self._threads
