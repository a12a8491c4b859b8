"""Embedding each sentence once: block packing, characters sent to the embedder, windows assembled from sentences."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from helpers.corpora import make_corpus, sentence

from korea_bot.embedding import HashEmbedder
from korea_bot.embedding.base import Spans
from korea_bot.index import build as build_module
from korea_bot.index import build_index, load_index
from korea_bot.index.blocks import (
    MAX_TITLE_CHARS,
    MODEL_TOKENS,
    SPECIAL_TOKENS,
    estimate_tokens,
    pack,
    short_title,
    unique_sentences,
)
from korea_bot.index.layout import embed_text
from korea_bot.ingest.chunking import chunk_document
from korea_bot.ingest.sources import discover, load_document


class CountingEmbedder(HashEmbedder):
    """The hashing embedder, remembering every text and span it was asked to embed."""

    def __init__(self, dim: int = 64) -> None:
        """Start with nothing seen."""
        super().__init__(dim)
        self.seen: list[tuple[str, Spans]] = []

    def embed_passages(self, texts: list[str], spans: list[Spans], batch_size: int = 64, done=None):  # type: ignore[no-untyped-def]
        """Record, then hash as the parent does."""
        self.seen.extend(zip(texts, spans, strict=True))
        return super().embed_passages(texts, spans, batch_size, done)


def _long_paragraphs(root: Path, n_files: int = 4) -> dict[str, str]:
    """Sources of paragraphs with twelve sentences each, so windows overlap as in real prose."""
    rng = random.Random(5)
    root.mkdir(parents=True)
    texts = {}
    for i in range(n_files):
        paras = [" ".join(sentence(rng, f"Zone{i:03d}") for _ in range(12)) for _ in range(4)]
        texts[f"doc{i}.txt"] = f"Report on Zone{i:03d}\n\n" + "\n\n".join(paras) + "\n"
        (root / f"doc{i}.txt").write_text(texts[f"doc{i}.txt"], "utf-8")
    return texts


def test_every_sentence_is_in_exactly_one_block_under_the_limit(tmp_path: Path) -> None:
    make_corpus(tmp_path, n_files=3, paragraphs=30)
    for name in discover(tmp_path):
        doc = load_document(tmp_path, name)
        chunks = chunk_document(doc)
        sentences = unique_sentences(chunks)
        blocks = pack(doc.text, doc.title, sentences)
        assert len(blocks) > 2  # 90 sentences of ~80 characters do not fit one 256-piece pass
        assert [s for b in blocks for s in b.sentences] == sentences  # each once, in order
        for b in blocks:
            assert b.text.startswith(embed_text(doc.title, ""))
            assert estimate_tokens(b.text) + SPECIAL_TOKENS <= MODEL_TOKENS
            spans = b.spans[1:] if b.titled else b.spans
            assert [b.text[s:e] for s, e in spans] == [doc.text[s:e] for s, e in b.sentences]
            if b.titled:
                assert b.text[slice(*b.spans[0])] == short_title(doc.title) == doc.title


def test_a_sentence_over_the_limit_gets_a_block_of_its_own() -> None:
    text = "Short one. " + "word " * 300 + "end. Another short one."
    first, second = (0, 10), (11, len(text) - len(" Another short one."))
    third = (len(text) - len("Another short one."), len(text))
    blocks = pack(text, "", [first, second, third])
    assert [b.sentences for b in blocks] == [[first], [second], [third]]
    assert not blocks[0].titled and blocks[0].spans == [(0, 10)]


@pytest.mark.parametrize("gap", ["\n\n", "\n  \n", "\nA Heading\n"])
def test_a_block_never_crosses_a_paragraph_or_heading(gap: str) -> None:
    text = "One sentence here." + gap + "Another sentence there."
    blocks = pack(text, "T", [(0, 18), (18 + len(gap), len(text))])
    assert len(blocks) == 2 and blocks[1].text == "T\nAnother sentence there."


def test_lines_of_one_run_share_a_block() -> None:
    text = "One sentence here.\nAnother sentence there. And a third."
    blocks = pack(text, "", [(0, 18), (19, 42), (43, len(text))])
    assert len(blocks) == 1 and blocks[0].spans == [(0, 18), (19, 42), (43, len(text))]


def test_build_embeds_each_character_about_once(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = _long_paragraphs(sources)
    embedder = CountingEmbedder()
    report = build_index(sources, index, embedder)
    loaded = load_index(index)
    sent_chars = sum(len(t) for t in texts.values())
    embedded = sum(len(text) for text, _ in embedder.seen)
    window_chars = sum(len(c.text) for c in loaded.chunks)
    assert window_chars > 2 * sent_chars  # what the previous format embedded
    assert embedded <= 1.1 * sent_chars  # each sentence once, plus a short title per block
    pooled = [text[s:e] for text, spans in embedder.seen for s, e in spans]
    wanted = {loaded.documents[c.source].text[s:e] for c in loaded.chunks for s, e in c.sentences}
    titles = {d.title for d in loaded.documents.values()}
    sentences = [p for p in pooled if p not in titles]
    assert sorted(sentences) == sorted(wanted) and len(sentences) == len(set(sentences))
    assert report.embedded == report.passages == len(loaded.chunks) and len(embedder.seen) < report.passages / 3


def test_window_vectors_are_unit_combinations_of_their_sentences(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    make_corpus(sources, n_files=2, paragraphs=4)
    build_index(sources, index, HashEmbedder(64))
    loaded = load_index(index)
    ref = HashEmbedder(64)
    assert np.allclose(np.linalg.norm(loaded.vectors, axis=1), 1.0, atol=1e-5)
    for row, c in enumerate(loaded.chunks):
        doc = loaded.documents[c.source]
        pieces = [doc.text[s:e] for s, e in c.sentences]
        vecs = ref.embed(pieces)  # the hashing embedder pools a span as the span's own hash
        stored = loaded.sentence_vectors[loaded.sentence_start[row] : loaded.sentence_start[row + 1]]
        assert np.allclose(stored, vecs, atol=2e-3)
        weights = np.array([estimate_tokens(p) for p in pieces], dtype=np.float32)
        combined = weights @ vecs + estimate_tokens(doc.title) * ref.embed([doc.title])[0]  # a short title: whole
        expected = combined / np.linalg.norm(combined)
        assert np.allclose(loaded.vectors[row], expected, atol=1e-5)


def test_blocks_embedded_in_groups_longest_first_land_in_their_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = tmp_path / "sources"
    make_corpus(sources, n_files=3, paragraphs=5)
    build_index(sources, tmp_path / "whole", HashEmbedder(64))
    monkeypatch.setattr(build_module, "GROUP_BLOCKS", 4)
    embedder, steps = CountingEmbedder(), []
    report = build_index(
        sources, tmp_path / "groups", embedder, progress=lambda done, total: steps.append((done, total))
    )
    whole, groups = load_index(tmp_path / "whole"), load_index(tmp_path / "groups")
    assert np.array_equal(whole.vectors, groups.vectors)
    assert np.array_equal(whole.sentence_vectors, groups.sentence_vectors)
    assert embedder.calls >= 3  # more blocks than 2 groups of 4
    costs = [estimate_tokens(text) for text, _ in embedder.seen]
    assert costs == sorted(costs, reverse=True)  # longest first, across the groups
    dones = [d for d, _ in steps]
    assert dones == sorted(dones) and steps[0] == (0, report.passages) and steps[-1] == (report.passages,) * 2
    assert len(set(dones)) > 3  # the bar moves within the build


def test_incremental_build_sends_only_the_changed_file(tmp_path: Path) -> None:
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = make_corpus(sources, n_files=5, paragraphs=6)
    build_index(sources, index, HashEmbedder(64))
    before = load_index(index)
    added = "\nA brand new lighthouse stood in Zone002.\n"
    (sources / "doc002.txt").write_text(texts["doc002.txt"] + added, "utf-8")
    embedder = CountingEmbedder()
    report = build_index(sources, index, embedder)
    after = load_index(index)
    assert report.changed == ("doc002.txt",) and len(report.kept) == 4
    assert sum(len(t) for t, _ in embedder.seen) <= 1.1 * len(texts["doc002.txt"] + added)
    assert any("lighthouse" in t for t, _ in embedder.seen)
    kept = {(c.source, c.start): i for i, c in enumerate(before.chunks) if c.source != "doc002.txt"}
    for i, c in enumerate(after.chunks):
        if (c.source, c.start) in kept:
            assert (after.vectors[i] == before.vectors[kept[(c.source, c.start)]]).all()


@pytest.mark.parametrize("title", ["", "Report on Zone001"])
def test_windows_reach_the_embedder_only_through_their_blocks(tmp_path: Path, title: str) -> None:
    body = " ".join(f"Sentence number {i} talks about the harbor of Zone001." for i in range(40))
    (tmp_path / "a.txt").write_text((f"{title}\n\n" if title else "") + body + "\n", "utf-8")
    doc = load_document(tmp_path, "a.txt")
    chunks = chunk_document(doc)
    blocks = pack(doc.text, doc.title, unique_sentences(chunks))
    assert sum(len(b.sentences) for b in blocks) == len(unique_sentences(chunks)) == 40
    assert all(b.titled == bool(doc.title) for b in blocks)


def test_a_long_title_is_cut_at_a_word_in_every_block() -> None:
    title = "TELECOMMUNICATIONS IN NORTH KOREA refers to the communication services available in the country"
    cut = short_title(title)
    assert len(cut) <= MAX_TITLE_CHARS and title.startswith(cut) and title[len(cut)] == " "
    assert short_title("Korea") == "Korea" and short_title("x" * 90) == "x" * MAX_TITLE_CHARS
    text = "One sentence here. Another one."
    (block,) = pack(text, title, [(0, 18), (19, len(text))])
    assert block.text == f"{cut}\n{text}" and block.text[slice(*block.spans[0])] == cut
