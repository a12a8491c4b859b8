"""The Discord adapter's plain state: per-user cooldowns and token redaction in logs."""

from __future__ import annotations

import io
import logging

import pytest

from korea_bot.adapters.discord.state import Cooldown, Redact


def test_cooldown_is_a_sliding_window_per_user() -> None:
    """Three hits per 10 s for one user; the fourth waits; another user is unaffected; the window slides."""
    cd = Cooldown(rate=3, per=10.0)
    assert [cd.hit(1, now=t) for t in (0.0, 1.0, 2.0)] == [0.0, 0.0, 0.0]
    assert cd.hit(1, now=3.0) == pytest.approx(7.0)
    assert cd.hit(2, now=3.0) == 0.0
    assert cd.hit(1, now=10.5) == 0.0


def test_redaction_hides_the_token_in_messages_and_tracebacks() -> None:
    """The log filter replaces the token in formatted messages and in exception text."""
    secret = "tok-SECRET-42"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redact(secret))
    logger = logging.getLogger("test.redact")
    logger.addHandler(handler)
    try:
        logger.error("token is %s", secret)
        try:
            raise RuntimeError(f"bad {secret}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert secret not in text and text.count("[redacted]") == 2 and "RuntimeError" in text
