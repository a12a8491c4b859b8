"""The LangChain-default peer: RecursiveCharacterTextSplitter 1000/200 + the same model + FAISS flat, top-k by cosine."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from korea_bot.embedding import Embedder
from korea_bot.errors import SourceError
from korea_bot.ingest.sources import discover, load_document
from korea_bot.models import Chunk

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200


def split_sources(sources: Path) -> list[Chunk]:
    """Split every readable source's body with LangChain's default recursive splitter, keeping character offsets."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
    chunks: list[Chunk] = []
    for name in discover(sources):
        try:
            doc = load_document(sources, name)
        except SourceError:  # the files korea_bot skips (nothing quotable, unreadable) are left out here too
            continue
        body_start = doc.body_start
        body = doc.text[body_start:]
        for part in splitter.create_documents([body]):
            start = body_start + int(part.metadata.get("start_index", 0))
            end = start + len(part.page_content)
            chunks.append(Chunk(source=name, start=start, end=end, paragraph=0, text=part.page_content))
    return chunks


def cache_key(model: str, chunks: list[Chunk]) -> str:
    """A digest of everything the peer's vectors depend on (model, splitter settings, chunk texts)."""
    h = hashlib.sha256(json.dumps([model, CHUNK_SIZE, CHUNK_OVERLAP]).encode())
    for c in chunks:
        h.update(c.source.encode() + b"\0" + c.text.encode() + b"\0")
    return h.hexdigest()[:16]


class LangChainPeer:
    """What a user gets from the LangChain defaults: 1,000-character chunks, exact cosine search, no abstention."""

    def __init__(self, sources: Path, embedder: Embedder, cache_dir: Path | None = None) -> None:
        """Split, embed (or reuse cached vectors) and build an IndexFlatIP."""
        import faiss

        self.embedder = embedder
        self.chunks = split_sources(sources)
        vectors = None
        cache_file = None
        if cache_dir is not None:
            cache_file = cache_dir / f"peer-{cache_key(embedder.name, self.chunks)}.npy"
            if cache_file.exists():
                vectors = np.load(cache_file, allow_pickle=False)
                if vectors.shape != (len(self.chunks), embedder.dim):
                    vectors = None
        if vectors is None:
            vectors = embedder.embed([c.text for c in self.chunks])
            if cache_file is not None:
                cache_file.parent.mkdir(parents=True, exist_ok=True)
                np.save(cache_file, vectors, allow_pickle=False)
        self.index = faiss.IndexFlatIP(embedder.dim)
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, question: str, k: int) -> tuple[bool, list[tuple[str, Chunk, float]]]:
        """Top-k chunks by cosine; always answers (LangChain has no abstain threshold)."""
        qvec = self.embedder.embed([question])[0]
        k = min(k, self.index.ntotal)
        scores, ids = self.index.search(qvec.reshape(1, -1).astype(np.float32), k)
        out = [
            (self.chunks[i].source, self.chunks[i], float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0
        ]
        return True, out
