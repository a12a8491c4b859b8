"""Loading an index version: checksums, counts, dimensions and offsets verified, with fallback to an older version."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .keyword import KeywordIndex
from .models import Chunk
from .store import (
    VERSIONS,
    IndexCorrupt,
    IndexOutdated,
    current_version,
    list_versions,
    read_json,
    verify_checksums,
    version_key,
)
from .vectors import load_ann

log = logging.getLogger("korea_bot.index")
RETRIES = 3
FORMAT = 2  # 2: a vector per sentence (sentences.npy) next to the passage vectors


@dataclass
class LoadedIndex:
    """One whole, verified index version held in memory (vectors memory-mapped read-only)."""

    path: Path
    manifest: dict
    chunks: list[Chunk]
    documents: dict[str, dict]
    vectors: np.ndarray
    ann: object
    keyword: KeywordIndex
    parts: np.ndarray  # one float16 unit vector per sentence (Chunk.parts), passage after passage
    part_start: np.ndarray  # passage i owns parts[part_start[i] : part_start[i + 1]]
    notes: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        """The version name, e.g. 000012-20261129T193000-1a2b3c."""
        return str(self.manifest["version"])


def load_index(index_dir: Path, verify: bool = True) -> LoadedIndex:
    """Load the live version, falling back to an older whole version (and saying so) if it is damaged."""
    for _ in range(RETRIES):
        live = current_version(index_dir)
        if live is None:
            raise FileNotFoundError(f"no index in {index_dir}: run `korea-bot index` first")
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
    mpath = path / "manifest.json"
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
    chunks = _chunks(path / "chunks.jsonl")
    documents = _documents(path / "documents.jsonl")
    try:
        vectors = np.load(path / "vectors.npy", allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path / 'vectors.npy'}: unreadable ({exc})") from None
    if vectors.ndim != 2 or vectors.shape != (n, dim) or vectors.dtype != np.float32 or len(chunks) != n:
        raise IndexCorrupt(
            f"{path}: count/dimension mismatch: manifest {n}x{dim}, vectors.npy {tuple(vectors.shape)} "
            f"{vectors.dtype}, chunks.jsonl {len(chunks)} rows"
        )
    if set(documents) != set(files):
        raise IndexCorrupt(f"{path / 'documents.jsonl'}: does not list the files the manifest names")
    _check_offsets(path / "chunks.jsonl", chunks, documents)
    part_start = part_starts(chunks)
    parts = _parts(path / "sentences.npy", int(part_start[-1]), dim)
    ann = load_ann(path / "vectors.faiss", n, dim)
    keyword = KeywordIndex.load(path / "keyword")
    kw_docs = int(getattr(keyword.retriever, "scores", {}).get("num_docs", -1))
    if kw_docs != n:
        raise IndexCorrupt(f"{path / 'keyword'}: holds {kw_docs} passages, manifest says {n}")
    return LoadedIndex(path, manifest, chunks, documents, vectors, ann, keyword, parts, part_start)


def part_starts(chunks: list[Chunk]) -> np.ndarray:
    """Where each passage's sentence vectors begin, plus the total at the end (len(chunks) + 1 entries)."""
    return np.concatenate([[0], np.cumsum([len(c.parts) for c in chunks], dtype=np.int64)]).astype(np.int64)


def part_rows(part_start: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sentence-vector rows of the given passages, flat, and where each passage's run begins in that list."""
    starts = part_start[rows]
    counts = part_start[rows + 1] - starts
    firsts = np.cumsum(counts) - counts
    return np.repeat(starts - firsts, counts) + np.arange(int(counts.sum())), firsts


def _parts(path: Path, count: int, dim: int) -> np.ndarray:
    """The sentence vectors, memory-mapped, checked against the passages' sentence counts."""
    try:
        parts = np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path}: unreadable ({exc})") from None
    if parts.shape != (count, dim) or parts.dtype != np.float16:
        raise IndexCorrupt(f"{path}: holds {tuple(parts.shape)} {parts.dtype} vectors, the passages need {count}x{dim}")
    return parts


def _check_offsets(path: Path, chunks: list[Chunk], documents: dict[str, dict]) -> None:
    """Every passage must be the verbatim slice [start:end] of its document's text."""
    for line, c in enumerate(chunks, 1):
        doc = documents.get(c.source)
        if doc is None or not isinstance(doc.get("text"), str) or doc["text"][c.start : c.end] != c.text:
            raise IndexCorrupt(f"{path} line {line}: passage is not the text of {c.source}[{c.start}:{c.end}]")


def _chunks(path: Path) -> list[Chunk]:
    """Passages from chunks.jsonl."""
    out = []
    for line, row in enumerate(_read_jsonl(path), 1):
        try:
            sentences = tuple((int(a), int(b)) for a, b in row.get("sentences", ()))
            page = row.get("page")
            out.append(
                Chunk(
                    str(row["source"]),
                    int(row["start"]),
                    int(row["end"]),
                    int(row["paragraph"]),
                    str(row["text"]),
                    sentences,
                    None if page is None else int(page),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorrupt(f"{path} line {line}: malformed passage ({type(exc).__name__}: {exc})") from None
    return out


def _documents(path: Path) -> dict[str, dict]:
    """Document records from documents.jsonl, by source name."""
    docs: dict[str, dict] = {}
    for line, row in enumerate(_read_jsonl(path), 1):
        if not isinstance(row.get("source"), str) or not isinstance(row.get("text"), str):
            raise IndexCorrupt(f"{path} line {line}: malformed document record")
        docs[row["source"]] = row
    return docs


def _read_jsonl(path: Path) -> list[dict]:
    """Read a JSONL file strictly (UTF-8, every line an object)."""
    rows = []
    try:
        with open(path, encoding="utf-8", newline="\n") as fh:
            for line in fh:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
                rows.append(row)
    except FileNotFoundError:
        raise IndexCorrupt(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise IndexCorrupt(f"{path}: unreadable ({exc})") from None
    return rows
