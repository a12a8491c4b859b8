"""Follow-ups read with the conversation, collections that never quote one another, and deep links."""

from __future__ import annotations

from pathlib import Path

import pytest

from korea_bot.config import load_settings
from korea_bot.embedding import HashEmbedder
from korea_bot.errors import UnknownCollection
from korea_bot.formatting import text_fragment_link
from korea_bot.search.conversation import Conversation, leans_on_context, prefer_context, starts_new_topic
from korea_bot.service import Service


def two_collections(tmp_path: Path) -> Service:
    """A Service over two collections (folders) and a file at the top, with the hashing embedder."""
    src = tmp_path / "sources"
    (src / "alpha").mkdir(parents=True)
    (src / "beta").mkdir()
    (src / "alpha" / "a.txt").write_text("Alpha notes\n\nThe copper mine near the river closed in 1990.\n", "utf-8")
    (src / "beta" / "b.txt").write_text("Beta notes\n\nThe copper factory by the river opened in 1995.\n", "utf-8")
    (src / "top.txt").write_text("Top notes\n\nThe river flooded the copper town twice.\n", "utf-8")
    settings = load_settings(sources_dir=src, index_dir=tmp_path / "index", model="hash:64", min_score=-1.0)
    service = Service(settings, embedder=HashEmbedder(64))
    service.ensure_index()
    return service


def test_a_collection_search_never_quotes_another(tmp_path: Path) -> None:
    """With a collection, every quote comes from its folder; without, all folders; a bad name lists the real ones."""
    service = two_collections(tmp_path)
    assert service.collections() == ["", "alpha", "beta"]
    for name in ("alpha", "beta"):
        answer = service.ask("copper river", top_k=5, collection=name)
        assert answer.passages and {p.collection for p in answer.passages} == {name}
        assert all(p.source.startswith(f"{name}/") for p in answer.passages)
    assert {p.source for p in service.ask("copper river", top_k=5).passages} >= {"alpha/a.txt", "beta/b.txt"}
    with pytest.raises(UnknownCollection, match="no collection 'gamma'; the collections are: alpha, beta"):
        service.ask("copper", collection="gamma")


def test_follow_up_cues_and_the_choice_between_readings() -> None:
    """Pronouns, openers and very short questions lean on the conversation; the better-supported reading wins."""
    assert leans_on_context("and japan?") and leans_on_context("why tho") and leans_on_context("who said that")
    assert not leans_on_context("when did the korean war start in the peninsula")
    assert prefer_context("and japan?", alone=0.5, with_context=0.45)  # a follow-up gets the benefit of the doubt
    assert not prefer_context("when did the korean war start in the peninsula", alone=0.5, with_context=0.55)
    assert prefer_context("when did the korean war start in the peninsula", alone=0.2, with_context=0.6)


def test_ask_reads_a_follow_up_with_the_conversation(tmp_path: Path) -> None:
    """After a question, a short follow-up is searched with it; a new conversation searches the follow-up alone."""
    service = two_collections(tmp_path)
    conversation = Conversation()
    first = service.ask("when did the copper mine close", context=conversation)
    assert not first.followup and first.searched == first.question
    conversation.add_answer(first)
    follow = service.ask("and the factory?", context=conversation)
    assert follow.followup and follow.searched == "when did the copper mine close and the factory?"
    assert follow.question == "and the factory?"
    alone = service.ask("and the factory?", context=Conversation())
    assert not alone.followup


def test_an_expired_conversation_is_ignored(tmp_path: Path) -> None:
    """A conversation idle past its TTL no longer colours the next question."""
    service = two_collections(tmp_path)
    conversation = Conversation()
    conversation.add_answer(service.ask("when did the copper mine close"))
    conversation.updated -= 10**6
    assert conversation.expired() and not service.ask("and the factory?", context=conversation).followup


@pytest.mark.parametrize(
    ("url", "sentence", "link"),
    [
        (
            "https://ex.org/a",
            "It borders on North-Korea, if only.",
            "https://ex.org/a#:~:text=It%20borders%20on%20North%2DKorea%2C%20if%20only.",
        ),
        ("https://ex.org/a#sec", "“No” & yes", "https://ex.org/a#sec:~:text=%E2%80%9CNo%E2%80%9D%20%26%20yes"),
        (
            "https://ex.org/p?q=1",
            "The double freeze plan is the best way so far of avoiding escalating tensions and stabilizing it.",
            "https://ex.org/p?q=1#:~:text=The%20double%20freeze%20plan,tensions%20and%20stabilizing%20it.",
        ),
        ("https://ex.org/a", "Line one\n  line  two", "https://ex.org/a#:~:text=Line%20one%20line%20two"),
    ],
)
def test_text_fragment_links_encode_the_directive(url: str, sentence: str, link: str) -> None:
    """Dashes, commas, ampersands and quotes are percent-encoded; long sentences become textStart,textEnd."""
    assert text_fragment_link(url, sentence) == link


def test_a_question_that_says_the_topic_changes_is_never_read_in_context() -> None:
    """ "unrelated, …", "ok diff q: …", "btw …" start afresh even when the conversation reading scores better."""
    for q in ("unrelated, what language do they speak", "ok diff q: when was it signed", "btw who is kim", "new q: x"):
        assert starts_new_topic(q) and not prefer_context(q, alone=0.1, with_context=0.9), q
    for q in ("and why?", "what about japan", "is that true", "so what did russia do"):
        assert not starts_new_topic(q), q
    assert prefer_context("and why?", alone=0.1, with_context=0.9)
