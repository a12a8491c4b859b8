"""The ONNX Runtime embedder: the same vectors as sentence-transformers, without torch (onnxruntime + tokenizers)."""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import EmbedderError
from .base import Done, Spans, normalise, pool_spans
from .onnx_files import onnx_file, read_meta

log = logging.getLogger(__name__)
SMALL_BATCH = 16  # up to this many texts (a question) run as one batch on one thread
Row = tuple[int, np.ndarray, np.ndarray, np.ndarray]  # text index, token vectors, token offsets, mean-pooled vector


class OnnxEmbedder:
    """A sentence-transformers model exported to ONNX: mean pooling over the attention mask, then L2 normalising."""

    def __init__(self, name: str, model_path: Path, folder: Path, variant: str = "fp32", threads: int = 0) -> None:
        """Load the export of `variant` in `folder` and the model's tokenizer.json; EmbedderError when unusable."""
        meta = read_meta(folder, variant)
        path = onnx_file(folder, variant)
        if meta is None or not path.is_file():
            raise EmbedderError(f"no ONNX export of {name!r} in {folder}: run `korea-bot export-onnx`")
        if path.stat().st_size != meta.get("bytes"):
            raise EmbedderError(
                f"the ONNX export {path} is damaged ({path.stat().st_size} bytes, expected {meta.get('bytes')}): "
                "delete it and run `korea-bot export-onnx`"
            )
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EmbedderError(
                f"the ONNX encoder needs onnxruntime and tokenizers ({exc}): pip install korea-bot"
            ) from None
        self.name = name if variant == "fp32" else f"{name}+onnx-{variant}"  # int8 vectors differ: own index
        self.dim = int(meta["dim"])
        self.variant = variant
        self._inputs = list(meta["inputs"])
        self._tokenizer, self._pad_id = _tokenizer(Tokenizer, model_path / "tokenizer.json", int(meta["max_length"]))
        self._workers = threads or default_threads()
        self._path, self._ort = path, ort
        self._lock = threading.Lock()
        self._side_by_side: object | None = None  # the one-thread session for batches run side by side, made on use
        try:  # a run of this one (a question, one batch) spreads over the cores: each matrix product is split
            self._session = self._new_session(min(2, default_threads()))
        except Exception as exc:  # onnxruntime raises its own types for a truncated or foreign file
            raise EmbedderError(
                f"cannot load the ONNX export {path} ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}): "
                "delete it and run `korea-bot export-onnx`"
            ) from None

    def _new_session(self, threads: int):  # type: ignore[no-untyped-def]
        """An ONNX Runtime session of the export running each model run on `threads` threads, never busy-waiting."""
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting on shared cores
        # the threads take blocks of a split loop as they come free, not halves decided up front: a question's run
        # took 0.92x the time on an idle machine and 0.94x with the other core busy (same vectors)
        options.add_session_config_entry("session.dynamic_block_base", "4")
        return self._ort.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])

    def _batch_session(self):  # type: ignore[no-untyped-def]
        """The session for batches run side by side, one thread each (made once: on a busy machine a run's second
        thread waits for a core; the split runs win for a question, side-by-side batches for a build)."""
        with self._lock:
            if self._side_by_side is None:
                self._side_by_side = self._new_session(1)
            return self._side_by_side

    def embed(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Encode texts in batches into normalised float32 vectors."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for index, _tokens, _offsets, vec in self._rows(texts, batch_size):
            out[index] = vec
        return normalise(out)

    def embed_passages(
        self, texts: list[str], spans: list[Spans], batch_size: int = 64, done: Done | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass per text: its mean-pooled vector, and each span's mean of the token vectors in it."""
        vecs = np.zeros((len(texts), self.dim), dtype=np.float32)
        parts: list[list[np.ndarray]] = [[] for _ in texts]
        for count, (index, tokens, offsets, vec) in enumerate(self._rows(texts, batch_size), 1):
            vecs[index] = vec
            parts[index] = pool_spans(tokens, offsets, spans[index], vec)
            if done and (count % batch_size == 0 or count == len(texts)):
                done(batch_size if count % batch_size == 0 else count % batch_size)
        flat = [part for row in parts for part in row]
        return normalise(vecs), normalise(np.stack(flat) if flat else np.zeros((0, self.dim), dtype=np.float32))

    def _rows(self, texts: list[str], batch_size: int) -> Iterator[Row]:
        """Forward passes over batches of equal token counts (every text tokenised first, longest first).

        Sorting by word pieces, not characters as sentence-transformers does, leaves almost no padding: a build's
        blocks padded in character order cost a third more tokens (573k for 425k real ones, docs/BENCHMARKS.md).
        A question (or any single batch) is one run split over two threads; bigger inputs run batches side by side,
        one thread each, on `workers` threads (onnxruntime releases the GIL), at most two batches per worker in
        flight. The vectors are the same either way (the thread count splits rows and columns, not the sums).
        """
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        if len(texts) > SMALL_BATCH:  # enough text to keep every worker busy
            batch_size = min(batch_size, -(-len(texts) // self._workers))
        batch_size = max(1, batch_size)
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        if len(batches) == 1 or self._workers == 1:
            if len(texts) <= SMALL_BATCH and self._side_by_side is not None:
                with self._lock:  # a question after a build: the build's session goes (~100 MB)
                    self._side_by_side = None
            for chosen in batches:
                yield from self._split(chosen, *self._forward(self._session, [encodings[i] for i in chosen]))
            return
        session = self._batch_session()
        with ThreadPoolExecutor(self._workers) as pool:
            pending: deque = deque()
            for chosen in batches:
                pending.append((chosen, pool.submit(self._forward, session, [encodings[i] for i in chosen])))
                if len(pending) >= 2 * self._workers:
                    done, future = pending.popleft()
                    yield from self._split(done, *future.result())
            while pending:
                done, future = pending.popleft()
                yield from self._split(done, *future.result())

    def _forward(self, session, encodings: list) -> tuple[list, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
        """Run one batch of encodings padded to its longest: the encodings, the attention mask and the token vectors."""
        width = max(len(e.ids) for e in encodings)
        feed = {
            "input_ids": np.full((len(encodings), width), self._pad_id, dtype=np.int64),
            "attention_mask": np.zeros((len(encodings), width), dtype=np.int64),
            "token_type_ids": np.zeros((len(encodings), width), dtype=np.int64),
        }
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            feed["input_ids"][row, :n] = enc.ids
            feed["attention_mask"][row, :n] = enc.attention_mask
            feed["token_type_ids"][row, :n] = enc.type_ids
        (tokens,) = session.run(None, {name: feed[name] for name in self._inputs})
        return encodings, feed["attention_mask"], tokens

    def _split(self, chosen: list[int], encodings: list, attention: np.ndarray, tokens: np.ndarray) -> Iterator[Row]:
        """Mean pooling over the attention mask, and each text's real tokens with their character offsets."""
        mask = attention.astype(np.float32)[:, :, None]
        pooled = (tokens * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        for row, (index, enc) in enumerate(zip(chosen, encodings, strict=True)):
            real = int(attention[row].sum())
            offsets = np.asarray(enc.offsets[:real], dtype=np.int64).reshape(-1, 2)
            yield index, tokens[row, :real], offsets, pooled[row]


def default_threads() -> int:
    """Worker threads for batches: one per core, up to 4 (each batch run on one thread; docs/BENCHMARKS.md)."""
    return max(1, min(4, os.cpu_count() or 1))


def _tokenizer(factory: type, path: Path, max_length: int):  # type: ignore[no-untyped-def]
    """The model's fast tokenizer truncating at the model's max_seq_length, unpadded (batches pad), and its pad id."""
    try:
        tokenizer = factory.from_file(str(path))
    except Exception as exc:
        raise EmbedderError(f"cannot read the tokenizer {path}: {exc}") from None
    pad = tokenizer.padding or {}
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer, int(pad.get("pad_id", 0))
