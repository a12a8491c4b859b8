"""What an index version folder holds: the format number, the file names, and how sentence rows are laid out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..models import Chunk

FORMAT = 3  # 2: a vector per sentence (sentences.npy); 3: each sentence embedded once, windows assembled from them
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"  # one passage per line, in row order
DOCUMENTS = "documents.jsonl"  # one source per line, with its full (extracted) text
VECTORS = "vectors.npy"  # float32, one unit vector per passage
SENTENCES = "sentences.npy"  # float16, one unit vector per sentence, passage after passage
DENSE = "vectors.faiss"  # the FAISS index over VECTORS
KEYWORD = "keyword"  # the bm25s index folder


def embed_text(title: str, chunk_text: str) -> str:
    """What is embedded and keyword-indexed for a passage: its document title, then its text."""
    return f"{title}\n{chunk_text}" if title else chunk_text


def sentence_starts(chunks: Sequence[Chunk]) -> np.ndarray:
    """Where each passage's sentence vectors begin, plus the total at the end (len(chunks) + 1 entries)."""
    return np.concatenate([[0], np.cumsum([len(c.sentences) for c in chunks], dtype=np.int64)]).astype(np.int64)


def sentence_rows(starts: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sentence-vector rows of the given passages, flat, and where each passage's run begins in that list."""
    first = starts[rows]
    counts = starts[rows + 1] - first
    offsets = np.cumsum(counts) - counts
    return np.repeat(first - offsets, counts) + np.arange(int(counts.sum())), offsets
