"""Core of the quality benchmark: the datasets, the four retrievers, and one metric code for all of them."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from peer import LangChainPeer

from korea_bot.config import load_settings
from korea_bot.embedding import Embedder
from korea_bot.embedding.base import Done
from korea_bot.evaluation import EvalSet, evaluate, load_eval, materialize
from korea_bot.index import index_params
from korea_bot.models import Chunk
from korea_bot.search.collapse import Hit, collapse
from korea_bot.search.question import clean_question
from korea_bot.search.scoring import closest_sentence
from korea_bot.service import Service

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATASETS = (
    *("seed", "seed+wiki", "squad", "scifact", "discord-dev", "discord-dev+wiki", "discord-test", "discord-test+wiki"),
    *("discord-fresh", "discord-fresh+wiki"),
)
LABELS = {  # retriever -> display name, in report order (plot.py, report.py)
    "dense": "dense only",
    "keyword": "keyword only (BM25)",
    "hybrid": "korea_bot hybrid",
    "langchain": "LangChain default",
}
RETRIEVERS = tuple(LABELS)
CANDIDATES = 100
Searcher = Callable[[str, int], tuple[bool, list[tuple[str, Chunk, float]]]]


@dataclass(kw_only=True)
class Dataset:
    """A question set, the sources folder it is answered from, and (for corpus sets) source -> document id."""

    name: str
    evalset: EvalSet
    sources: Path
    index: Path
    doc_ids: dict[str, str]
    indexed: set[str] | None = None  # source names, for question files whose expectation depends on them


class CachingEmbedder:
    """Wraps an embedder and remembers single-question vectors, so four retrievers embed each question once."""

    def __init__(self, inner: Embedder) -> None:
        """Wrap inner."""
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._memo: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed texts; one-text calls are memoised."""
        if len(texts) == 1:
            vec = self._memo.get(texts[0])
            if vec is None:
                vec = self._memo[texts[0]] = self.inner.embed(texts, batch_size)[0]
            return vec[None, :]
        return self.inner.embed(texts, batch_size, progress)

    def embed_passages(
        self, texts: list[str], spans: list[list[tuple[int, int]]], batch_size: int = 64, done: Done | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Passage and sentence vectors, straight from the inner embedder."""
        return self.inner.embed_passages(texts, spans, batch_size, done)


def sync_tree(files: list[Path], base: Path, target: Path) -> None:
    """Copy files (paths under base) into target, keeping relative paths, skipping identical ones."""
    for src in files:
        dst = target / src.relative_to(base)
        if dst.exists() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def prepare(name: str, work: Path, shared: Path = SHARED, seed_sources: Path | None = None, model: str = "") -> Dataset:
    """Write the dataset's sources under work/<name>/ (where needed) and load its questions; one index per model."""
    seed_sources = seed_sources or ROOT / "docs_index" / "sources"
    folder = work / re.sub(r"^discord-(dev|test|fresh)", "discord", name).replace("+", "_")  # both splits share an index
    index = folder / ("index-" + re.sub(r"[^A-Za-z0-9_.-]", "_", model) if model else "index")
    if name == "seed":
        return Dataset(
            name=name,
            evalset=load_eval(shared / "eval" / "seed_dev.jsonl"),
            sources=seed_sources,
            index=index,
            doc_ids={},
        )
    if name == "seed+wiki":
        sources = _with_wiki(seed_sources, shared, folder / "sources", "wikipedia")
        return Dataset(
            name=name, evalset=load_eval(shared / "eval" / "seed_dev.jsonl"), sources=sources, index=index, doc_ids={}
        )
    if name.startswith("discord-"):  # the repository's Discord-style sets (eval/questions/), article alone or + wiki
        split, wiki = name.removeprefix("discord-").partition("+")[::2]
        evalset = load_eval(ROOT / "eval" / "questions" / f"discord_{split}.jsonl")
        sources = _with_wiki(seed_sources, shared, folder / "sources", "wiki") if wiki else seed_sources
        names = {str(p.relative_to(sources)) for p in sources.rglob("*") if p.is_file()}
        return Dataset(name=name, evalset=evalset, sources=sources, index=index, doc_ids={}, indexed=names)
    if name == "squad":
        evalset = load_eval(shared / "eval" / "squad2-half" / "questions.jsonl")
    elif name == "scifact":
        evalset = load_eval(shared / "eval" / "scifact")
    else:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    assert evalset.corpus is not None
    doc_ids = materialize(evalset.corpus, folder / "sources")
    return Dataset(name=name, evalset=evalset, sources=folder / "sources", index=index, doc_ids=doc_ids)


def _with_wiki(seed_sources: Path, shared: Path, sources: Path, folder: str) -> Path:
    """A sources folder holding the bundled article and the 35 Wikipedia articles under `folder/`."""
    sync_tree(sorted(p for p in seed_sources.rglob("*") if p.is_file()), seed_sources, sources)
    wiki = shared / "corpus" / "wikipedia-korea-2019"
    sync_tree(sorted(p for p in wiki.glob("*.txt") if p.name != "SOURCE.txt"), wiki, sources / folder)
    return sources


def make_service(ds: Dataset, embedder: Embedder, model: str) -> Service:
    """Our Service with its default retrieval settings over the dataset, index built (or reused) in place."""
    settings = load_settings(sources_dir=ds.sources, index_dir=ds.index, model=model)
    service = Service(settings, embedder=embedder)
    service.ensure_index()
    if service.index.manifest.get("params") != index_params(embedder, service.chunking):
        service.reindex()  # the settings changed since the index in this folder was built
    return service


def _results(service: Service, hits: list[Hit], k: int) -> tuple[list[Hit], list[tuple[str, Chunk, float]]]:
    """Collapse near-duplicates like the hybrid does; the top k hits, and as (source, chunk, score)."""
    chunks = service.index.chunks
    kept = collapse(chunks, hits, service.retrieval.dedupe_jaccard)[:k]
    return kept, [(chunks[h.row].source, chunks[h.row], h.score) for h in kept]


def dense_searcher(service: Service) -> Searcher:
    """Dense only: the FAISS candidates ranked by their closest sentence's cosine (the hybrid's dense stages)."""

    def search(question: str, k: int) -> tuple[bool, list[tuple[str, Chunk, float]]]:
        text = clean_question(question, service.settings.max_question_chars)
        qvec = service.embedder.embed([text])[0]
        _scores, ids = service.index.dense.search(qvec, max(k, CANDIDATES))
        dense, _which = closest_sentence(service.index, ids, qvec)
        order = np.argsort(-dense, kind="stable")
        kept, out = _results(
            service, [Hit(row=int(ids[i]), score=float(dense[i]), dense=float(dense[i]), keyword=0.0) for i in order], k
        )
        return service.retriever.supported(kept), out

    return search


def keyword_searcher(service: Service) -> Searcher:
    """Keyword only: BM25 over the same passages; abstains only when no query word is in the index."""

    def search(question: str, k: int) -> tuple[bool, list[tuple[str, Chunk, float]]]:
        text = clean_question(question, service.settings.max_question_chars)
        scores, rows = service.index.keyword.search(text, max(k, CANDIDATES))
        hits = [Hit(row=int(i), score=float(s), dense=0.0, keyword=float(s)) for s, i in zip(scores, rows, strict=True)]
        _kept, out = _results(service, hits, k)
        return bool(out), out

    return search


def searchers(service: Service, peer: LangChainPeer) -> dict[str, Searcher]:
    """The four retrievers, by name, in report order."""
    return {
        "dense": dense_searcher(service),
        "keyword": keyword_searcher(service),
        "hybrid": service.search,
        "langchain": peer.search,
    }


def run_dataset(ds: Dataset, embedder: Embedder, model: str, cache: Path | None) -> dict:
    """Build (or reuse) both indexes and evaluate the four retrievers with evaluation.evaluate."""
    memo = CachingEmbedder(embedder)
    started = time.perf_counter()
    service = make_service(ds, memo, model)
    built = time.perf_counter()
    peer = LangChainPeer(ds.sources, memo, cache)
    peer_built = time.perf_counter()
    rows: dict[str, dict] = {}
    for name, search in searchers(service, peer).items():
        t0 = time.perf_counter()
        metrics = evaluate(ds.evalset, search, ds.doc_ids, indexed=ds.indexed)
        metrics["seconds"] = round(time.perf_counter() - t0, 2)
        rows[name] = metrics
    return {
        "dataset": ds.name,
        "questions": len(ds.evalset.items),
        "doc_level": ds.evalset.doc_level,
        "index_version": service.version,
        "ann": service.index.manifest.get("ann"),
        "passages": {"ours": len(service.index.chunks), "langchain": len(peer.chunks)},
        "mean_chunk_chars": {
            "ours": float(np.mean([len(c.text) for c in service.index.chunks])),
            "langchain": float(np.mean([len(c.text) for c in peer.chunks])),
        },
        "build_seconds": {"ours": round(built - started, 1), "langchain": round(peer_built - built, 1)},
        "retrieval_settings": asdict(service.retrieval),
        "rows": rows,
    }
