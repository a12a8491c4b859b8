"""Loading an index version: checksums, counts, dimensions and offsets verified, with fallback to an older version."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import IndexCorrupt, IndexMissing, IndexOutdated
from ..ingest.sources import collection_of
from ..jsonl import BadLine, read_jsonl
from ..models import Chunk, Document
from .dense import DenseIndex
from .keyword import KeywordIndex
from .layout import (
    CHUNKS,
    DENSE,
    DOCUMENTS,
    FORMAT,
    KEYWORD,
    MANIFEST,
    SENTENCES,
    VECTORS,
    sentence_rows,
    sentence_starts,
)
from .store import VERSIONS, current_version, list_versions, read_json, verify_checksums, version_key

log = logging.getLogger(__name__)
RETRIES = 3  # a build may switch versions while we load; give up after this many switches


# Up to this many bytes of float32, a loaded index keeps its sentence vectors widened from float16 (sentence_vectors_of).
FLOAT32_SENTENCES_MAX_BYTES = 64 << 20
MEMO_ENTRIES = 50_000  # per memo: ~3 KB an entry at most, and more than the bundled corpus' sentences


@lru_cache(maxsize=1)
def _half_table() -> np.ndarray:
    """The float32 value of every float16 bit pattern."""
    return np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)


class BoundedMemo(dict):
    """A dict that empties itself when an insert would take it past `limit` entries (reads cost what a dict's do)."""

    def __init__(self, limit: int) -> None:
        """An empty memo of at most `limit` entries."""
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: object, value: object) -> None:
        """Insert, first emptying the memo when it is full."""
        if len(self) >= self.limit and key not in self:
            self.clear()
        super().__setitem__(key, value)


@dataclass
class LoadedIndex:
    """One whole, verified index version held in memory (vectors memory-mapped read-only)."""

    path: Path
    manifest: dict
    chunks: list[Chunk]
    documents: dict[str, Document]
    vectors: np.ndarray  # one float32 unit vector per passage
    dense: DenseIndex
    keyword: KeywordIndex
    sentence_vectors: np.ndarray  # one float16 unit vector per sentence of each passage, passage after passage
    sentence_start: np.ndarray  # passage i owns sentence_vectors[sentence_start[i] : sentence_start[i + 1]]
    notes: list[str] = field(default_factory=list)
    derived: dict = field(default_factory=dict, repr=False, compare=False)  # lookups later stages compute once

    @property
    def version(self) -> str:
        """The version name, e.g. 000012-20261129T193000-1a2b3c."""
        return str(self.manifest["version"])

    def sentence_vectors_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The float32 sentence vectors of the given passages, flat, and where each passage's run begins.

        The stored float16 vectors are widened without numpy's value-by-value conversion (~0.5 ms of an answer at 10k
        passages): up to FLOAT32_SENTENCES_MAX_BYTES the whole matrix is widened once and kept, beyond that a
        65,536-entry table widens the rows asked for (the same values either way).
        """
        flat, offsets = sentence_rows(self.sentence_start, rows)
        stored = self.sentence_vectors
        if stored.dtype != np.float16:
            return np.asarray(stored[flat], dtype=np.float32), offsets
        wide = self.derived.get("sentence_vectors_f32")
        if wide is None:
            small = stored.size * 4 <= FLOAT32_SENTENCES_MAX_BYTES
            wide = self.derived["sentence_vectors_f32"] = np.asarray(stored, np.float32) if small else False
        if wide is not False:
            return wide.take(flat, axis=0), offsets
        return _half_table().take(np.asarray(stored).view(np.uint16).take(flat, axis=0)), offsets

    def memo(self, name: str) -> dict:
        """A per-passage or per-sentence lookup kept for the life of this version, emptied at MEMO_ENTRIES entries
        (a long-running bot over a big index would otherwise keep one entry for every passage it ever scored)."""
        found = self.derived.get(name)
        if found is None:
            found = self.derived[name] = BoundedMemo(MEMO_ENTRIES)
        return found

    def collections(self) -> dict[str, np.ndarray]:
        """The passage rows of each collection (top-level folder of the sources), computed once."""
        memo = self.derived.get("collections")
        if memo is None:
            names = np.asarray([collection_of(c.source) for c in self.chunks])
            memo = {name: np.flatnonzero(names == name).astype(np.int64) for name in sorted(set(names.tolist()))}
            self.derived["collections"] = memo
        return memo

    def rows_by_source(self) -> dict[str, list[int]]:
        """Row numbers of each source's passages."""
        rows: dict[str, list[int]] = {src: [] for src in self.manifest["files"]}
        for i, c in enumerate(self.chunks):
            rows.setdefault(c.source, []).append(i)
        return rows


def load_index(index_dir: Path, verify: bool = True) -> LoadedIndex:
    """Load the live version, falling back to an older whole version (and saying so) if it is damaged."""
    for _ in range(RETRIES):
        live = current_version(index_dir)
        if live is None:
            raise IndexMissing(f"no index in {index_dir}: run `korea-bot index` first")
        older = [v for v in list_versions(index_dir) if version_key(v) < version_key(live)]
        first_error: IndexCorrupt | None = None
        for name in [live, *older]:
            try:
                loaded = load_version(index_dir / VERSIONS / name, verify)
            except IndexOutdated:
                if name == live:
                    raise  # the caller rebuilds; an older format is never served
                continue
            except IndexCorrupt as exc:
                if current_version(index_dir) != live:
                    break  # a build switched versions (and may have cleaned this one up) meanwhile: start again
                log.error("index version %s is damaged: %s", name, exc)
                first_error = first_error or exc
                continue
            if first_error is not None:
                note = f"live index {live} is damaged ({first_error}); serving older version {name}"
                log.warning(note)
                loaded.notes.append(note)
            return loaded
        else:
            assert first_error is not None
            raise first_error
    raise IndexCorrupt(f"{index_dir}: the live version changed {RETRIES} times while loading; try again")


def load_version(path: Path, verify: bool = True) -> LoadedIndex:
    """Load and check one version folder; raise IndexCorrupt naming the bad file."""
    mpath = path / MANIFEST
    manifest = read_json(mpath)
    try:
        n, dim = int(manifest["counts"]["passages"]), int(manifest["dim"])
        files, sums, _ = dict(manifest["files"]), dict(manifest["checksums"]), dict(manifest["params"])
        str(manifest["version"])
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexCorrupt(f"{mpath}: missing or malformed field {exc}") from None
    if manifest["params"].get("format") != FORMAT:
        raise IndexOutdated(mpath, manifest["params"].get("format"), FORMAT)
    if n <= 0 or not files:
        raise IndexCorrupt(f"{mpath}: the index holds no passages (an empty index is never served)")
    if verify:
        verify_checksums(path, sums)
    chunks = _chunks(path / CHUNKS)
    documents = _documents(path / DOCUMENTS)
    vectors = _npy(path / VECTORS)
    if vectors.ndim != 2 or vectors.shape != (n, dim) or vectors.dtype != np.float32 or len(chunks) != n:
        raise IndexCorrupt(
            f"{path}: count/dimension mismatch: manifest {n}x{dim}, {VECTORS} {tuple(vectors.shape)} "
            f"{vectors.dtype}, {CHUNKS} {len(chunks)} rows"
        )
    if set(documents) != set(files):
        raise IndexCorrupt(f"{path / DOCUMENTS}: does not list the files the manifest names")
    _check_offsets(path / CHUNKS, chunks, documents)
    starts = sentence_starts(chunks)
    sentences = _npy(path / SENTENCES)
    if sentences.shape != (int(starts[-1]), dim) or sentences.dtype != np.float16:
        raise IndexCorrupt(
            f"{path / SENTENCES}: holds {tuple(sentences.shape)} {sentences.dtype} vectors, "
            f"the passages need {int(starts[-1])}x{dim}"
        )
    return LoadedIndex(
        path=path,
        manifest=manifest,
        chunks=chunks,
        documents=documents,
        vectors=vectors,
        dense=DenseIndex.load(path / DENSE, n, dim),
        keyword=KeywordIndex.load(path / KEYWORD, n),
        sentence_vectors=sentences,
        sentence_start=starts,
    )


def _npy(path: Path) -> np.ndarray:
    """A .npy array, memory-mapped read-only (never unpickled)."""
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path}: unreadable ({exc})") from None


def _check_offsets(path: Path, chunks: list[Chunk], documents: dict[str, Document]) -> None:
    """Every passage must be the verbatim slice [start:end] of its document's text."""
    for line, c in enumerate(chunks, 1):
        doc = documents.get(c.source)
        if doc is None or doc.text[c.start : c.end] != c.text:
            raise IndexCorrupt(f"{path} line {line}: passage is not the text of {c.source}[{c.start}:{c.end}]")


def _rows(path: Path) -> list[tuple[int, dict]]:
    """The (line, object) rows of an index JSONL file, any problem an IndexCorrupt naming the file."""
    try:
        return list(read_jsonl(path))
    except FileNotFoundError:
        raise IndexCorrupt(f"{path}: missing") from None
    except BadLine as exc:
        raise IndexCorrupt(f"{exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{path}: unreadable ({exc})") from None


def _chunks(path: Path) -> list[Chunk]:
    """Passages from chunks.jsonl."""
    out = []
    for line, row in _rows(path):
        try:
            out.append(Chunk.from_row(row))
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorrupt(f"{path} line {line}: malformed passage ({type(exc).__name__}: {exc})") from None
    return out


def _documents(path: Path) -> dict[str, Document]:
    """Document records from documents.jsonl, by source name."""
    docs: dict[str, Document] = {}
    for line, row in _rows(path):
        try:
            if not isinstance(row.get("source"), str) or not isinstance(row.get("text"), str):
                raise ValueError("no source name or text")
            doc = Document.from_row(row)
        except (KeyError, TypeError, ValueError):
            raise IndexCorrupt(f"{path} line {line}: malformed document record") from None
        docs[doc.source] = doc
    return docs
