"""The Service: staleness after a settings change, odd questions, cleaning, context and settings files."""

from __future__ import annotations

from pathlib import Path

import pytest

from korea_bot.config import load_settings
from korea_bot.embedding import HashEmbedder
from korea_bot.errors import BadQuestion, NotInIndex, SourceError
from korea_bot.service import Service


def test_passage_setting_change_makes_index_stale(fake_service: Service, seed_sources: Path) -> None:
    """A new passage length is noticed by ensure_index, which rebuilds in full and says why."""
    assert not fake_service.is_stale()
    settings = fake_service.settings.model_copy(update={"max_passage_chars": 300})
    other = Service(settings, embedder=HashEmbedder(64))
    assert other.is_stale()
    report = other.ensure_index()
    assert report is not None and report.full and "chunking" in report.reason
    assert max(len(c.text) for c in other.index.chunks) <= 300


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("\x00\u200b\u202e", "empty"), ("?!…", "words"), ("a" * 6000, "characters long")],
)
def test_odd_questions_get_clear_messages(fake_service: Service, question: str, message: str) -> None:
    """Empty, NUL/zero-width/RTL-only, wordless and 6,000-character questions are refused clearly."""
    with pytest.raises(BadQuestion, match=message):
        fake_service.ask(question)


def test_question_with_controls_is_cleaned(fake_service: Service) -> None:
    """NUL, zero-width and bidi characters inside a real question are dropped before searching."""
    answer = fake_service.ask("double\u200b freeze\x00 initiative\u202e")
    assert answer.question == "double freeze initiative"
    assert answer.passages


def test_context_is_the_whole_paragraph(fake_service: Service) -> None:
    """Show-context returns the verbatim paragraph around a passage, highlighting the passage."""
    p = fake_service.ask("double freeze initiative").passages[0]
    ctx = fake_service.context(p.source, p.start, p.end)
    text = (fake_service.settings.sources_dir / p.source).read_text(encoding="utf-8")
    assert ctx.text == text[ctx.start : ctx.end]
    assert ctx.start <= p.start and p.end <= ctx.end
    assert ctx.highlight == (p.start, p.end)
    with pytest.raises(SourceError, match="source name"):
        fake_service.context("../../etc/passwd", 0, 1)
    with pytest.raises(NotInIndex, match="not in index"):
        fake_service.context("seed/missing.txt", 0, 1)
    with pytest.raises(NotInIndex, match="covers offset"):
        fake_service.context(p.source, 10**7, 10**7 + 1)


def test_settings_from_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .env file in the working folder is read."""
    (tmp_path / ".env").write_text("KOREA_BOT_TOP_K=7\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOREA_BOT_TOP_K", raising=False)
    assert load_settings().top_k == 7
