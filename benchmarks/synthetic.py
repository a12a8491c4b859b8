"""Semi-synthetic indexes of any size: real passages repeated, their real vectors perturbed, a real BM25 index."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from korea_bot.index import LoadedIndex, embed_text
from korea_bot.index.dense import DenseIndex
from korea_bot.index.keyword import BM25_B, BM25_K1, KeywordIndex, tokenize
from korea_bot.index.layout import sentence_rows, sentence_starts
from korea_bot.models import Chunk, Document

PER_SOURCE = 50


def perturbed_vectors(base: np.ndarray, n: int, noise: float, seed: int = 0, block: int = 65_536) -> np.ndarray:
    """n unit vectors: row i is base[i % len(base)] plus Gaussian noise of relative size `noise`, renormalised.

    noise=0.75 puts a copy at cosine ~0.8 from its original and ~0.64 from its siblings; noise=inf (or base of
    random vectors) gives the worst case of uniformly random unit vectors.
    """
    rng = np.random.default_rng(seed)
    dim = base.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        g = rng.standard_normal((hi - lo, dim), dtype=np.float32)
        part = g if np.isinf(noise) else base[np.arange(lo, hi) % len(base)] + (noise / np.sqrt(dim)) * g
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        out[lo:hi] = part
    return out


def perturbed_sentences(
    base: np.ndarray, base_start: np.ndarray, starts: np.ndarray, noise: float, seed: int = 1, block: int = 16_384
) -> np.ndarray:
    """Sentence vectors for passages cycling through the real ones (perturbed like their passage vectors), float16."""
    rng = np.random.default_rng(seed)
    n = len(starts) - 1
    out = np.empty((int(starts[-1]), base.shape[1]), dtype=np.float16)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        flat, _ = sentence_rows(base_start, np.arange(lo, hi) % (len(base_start) - 1))
        part = base[flat] + (noise / np.sqrt(base.shape[1])) * rng.standard_normal(
            (len(flat), base.shape[1]), np.float32
        )
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        out[starts[lo] : starts[hi]] = part
    return out


def synthetic_chunks(base: list[Chunk], n: int) -> list[Chunk]:
    """n chunks cycling through the real ones, spread over synthetic sources of PER_SOURCE passages each."""
    out = []
    for i in range(n):
        c = base[i % len(base)]
        out.append(replace(c, source=f"synthetic/{i // PER_SOURCE:06d}.txt"))
    return out


def repeated_keyword_index(texts: list[str], n: int) -> KeywordIndex:
    """A real bm25s index over n passages cycling through texts (tokenised once, so 1M passages build quickly)."""
    import bm25s
    from bm25s.tokenization import Tokenized

    tokens = tokenize(texts)
    retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    retriever.index(
        Tokenized(ids=[tokens.ids[i % len(texts)] for i in range(n)], vocab=tokens.vocab), show_progress=False
    )
    return KeywordIndex(retriever)


def synthetic_index(reals: list[LoadedIndex], n: int, noise: float = 0.75, seed: int = 0) -> LoadedIndex:
    """An in-memory LoadedIndex of n passages cycling through the real ones; FAISS index from DenseIndex.build."""
    base_chunks = [c for real in reals for c in real.chunks]
    base_vecs = np.concatenate([np.asarray(real.vectors, dtype=np.float32) for real in reals])
    chunks = synthetic_chunks(base_chunks, n)
    vectors = perturbed_vectors(base_vecs, n, noise, seed)
    base_sentences = np.concatenate([np.asarray(real.sentence_vectors, dtype=np.float32) for real in reals])
    starts = sentence_starts(chunks)
    sentences = perturbed_sentences(base_sentences, sentence_starts(base_chunks), starts, noise, seed + 1)
    titles = {src: doc.title for real in reals for src, doc in real.documents.items()}
    keyword = repeated_keyword_index([embed_text(titles.get(c.source, ""), c.text) for c in base_chunks], n)
    dense = DenseIndex.build(vectors)
    sources = sorted({c.source for c in chunks})
    documents = {s: Document(source=s, text="", title=s, kind="text", sha256="") for s in sources}
    manifest = {
        "version": f"synthetic-{n}",
        "model": reals[0].manifest["model"],
        "dim": reals[0].manifest["dim"],
        "ann": dense.describe(),
        "counts": {"documents": len(sources), "passages": n},
        "files": {},
    }
    return LoadedIndex(
        path=Path(f"/synthetic/{n}"),
        manifest=manifest,
        chunks=chunks,
        documents=documents,
        vectors=vectors,
        dense=dense,
        keyword=keyword,
        sentence_vectors=sentences,
        sentence_start=starts,
    )
