"""The real bundled model end to end: offline load, answers on the bundled article, abstention, JSON contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.paths import ROOT, SHARED

from korea_bot.config import load_settings
from korea_bot.embedding import make_embedder
from korea_bot.errors import EmbedderError
from korea_bot.evaluation import evaluate, load_eval, materialize
from korea_bot.service import Service

OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}


@pytest.fixture(scope="module")
def real_service(tmp_path_factory: pytest.TempPathFactory) -> Service:
    """A Service with the real model over a copy of the bundled article."""
    root = ROOT
    index = tmp_path_factory.mktemp("real") / "index"
    service = Service(load_settings(sources_dir=root / "docs_index" / "sources", index_dir=index))
    service.ensure_index()
    return service


@pytest.mark.slow
def test_seed_dev_set_quality(real_service: Service) -> None:
    """On the bundled article the dev questions are answered at hit@1 >= 0.9 and off-topic ones abstain."""
    path = SHARED / "eval" / "seed_dev.jsonl"
    if not path.exists():
        pytest.skip("shared eval data not present")
    metrics = evaluate(load_eval(path), real_service.search)
    assert metrics["hit@1"] >= 0.9, metrics
    assert metrics["hit@3"] == 1.0, metrics
    assert metrics["abstain_correct"] == 1.0, metrics
    assert metrics["mean_quote_chars"] <= 600


@pytest.mark.slow
def test_answers_quote_verbatim_with_highlight(real_service: Service) -> None:
    """Every passage is a verbatim slice of the source file with its best sentence inside it."""
    answer = real_service.ask("How far did the Hwasong-15 missile fly?", top_k=5)
    assert answer.answered
    assert any("about 1000 km" in p.text for p in answer.passages[:2])
    for p in answer.passages:
        text = (real_service.settings.sources_dir / p.source).read_text(encoding="utf-8")
        assert p.text == text[p.start : p.end]
        assert p.start <= p.highlight[0] < p.highlight[1] <= p.end
        assert p.highlight_text().strip() == p.highlight_text()


@pytest.mark.slow
def test_sentence_vectors_come_from_the_passage_forward_pass(real_service: Service) -> None:
    """Passage vectors equal plain embeddings; each sentence vector is closest to a question about that sentence."""
    emb = real_service.embedder
    text = "North Korea tested a Hwasong-15 missile in November. Moscow proposed a double freeze of drills and tests."
    cut = text.index("Moscow")
    vecs, parts = emb.embed_passages([text], [[(0, cut - 1), (cut, len(text)), (len(text) + 10, len(text) + 20)]])
    assert float(vecs[0] @ emb.embed([text])[0]) > 0.999
    questions = emb.embed(["Which missile did Pyongyang launch?", "What did Russia suggest to calm things down?"])
    sims = questions @ parts[:2].T
    assert sims[0, 0] > sims[0, 1] and sims[1, 1] > sims[1, 0]
    assert np.allclose(parts[2], vecs[0])  # a span beyond the text falls back to the passage vector


@pytest.mark.slow
def test_tokenizer_without_offsets_falls_back_to_passage_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model whose tokenizer cannot give character offsets still builds: each sentence gets its passage's vector."""

    class SlowTokenizer:
        def __call__(self, *_args: object, **_kwargs: object) -> None:
            raise NotImplementedError("return_offset_mapping is not available when using Python tokenizers")

    from korea_bot.embedding.transformer import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()  # the reference path (the service runs on ONNX, whose offsets always exist)
    monkeypatch.setattr(type(emb.model), "tokenizer", property(lambda _self: SlowTokenizer()))
    vecs, parts = emb.embed_passages(["One sentence. Another one."], [[(0, 13), (14, 26)]])
    assert parts.shape == (2, emb.dim) and np.allclose(parts, vecs[0], atol=1e-6)


@pytest.mark.slow
def test_highlight_marks_the_answering_sentence(tmp_path: Path) -> None:
    """The highlight holds the answer more often than the first sentence (24 SQuAD paragraphs: 43 vs 32 of 48)."""
    folder = SHARED / "eval" / "squad2-half"
    if not folder.exists():
        pytest.skip("shared eval data not present")
    evalset = load_eval(folder / "questions.jsonl")
    corpus = (evalset.corpus or [])[:24]
    materialize(corpus, tmp_path / "sources")
    service = Service(load_settings(sources_dir=tmp_path / "sources", index_dir=tmp_path / "index"))
    service.ensure_index()
    ids = {doc_id for doc_id, _title, _text in corpus}
    rows = [json.loads(line) for line in (folder / "questions.jsonl").read_text("utf-8").splitlines()]
    marked = first = cases = 0
    for row in (r for r in rows if r["paragraph_id"] in ids):
        top = service.ask(row["question"]).passages[0]
        sentences = service.index.chunks[top.chunk_id].sentences
        inside = [a.lower() for a in row["answers"] if a.lower() in top.text.lower()]
        if not inside or len(sentences) < 2:
            continue
        cases += 1
        marked += any(a in top.highlight_text().lower() for a in inside)
        s, e = sentences[0]
        first += any(a in top.text[s - top.start : e - top.start].lower() for a in inside)
    assert cases >= 40, cases
    assert marked >= 0.8 * cases and marked >= first + 5, (marked, first, cases)


@pytest.mark.slow
def test_teasers_are_never_quoted(real_service: Service) -> None:
    """A question aimed at a 'Related articles' teaser is answered from the article, never from the teaser."""
    answer = real_service.ask("Why is Russia still playing second fiddle in Korean geopolitics?", top_k=5)
    assert answer.answered and answer.passages, "the article answers it; an abstention would make the check vacuous"
    assert all("Second Fiddle" not in p.text and "Artyom Lukin" not in p.text for p in answer.passages)


@pytest.mark.slow
def test_cli_first_command_offline(tmp_path: Path) -> None:
    """The README's first command works with the network unreachable and prints the JSON contract."""
    root = ROOT
    env = {
        **os.environ,
        **OFFLINE,
        "KOREA_BOT_INDEX_DIR": str(tmp_path / "index"),
        "KOREA_BOT_SOURCES_DIR": str(root / "docs_index" / "sources"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "korea_bot", "ask", "--json", "What is the double freeze initiative?"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert obj["answered"] and "double freeze" in obj["passages"][0]["text"]
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_index_of_another_model_is_rebuilt_with_reason(tmp_path: Path, seed_sources: Path) -> None:
    """An index built with the fake model is rebuilt in full for the real one, and the report says why."""
    fake = Service(load_settings(sources_dir=seed_sources, index_dir=tmp_path / "i", model="hash:64"))
    fake.ensure_index()
    real = Service(load_settings(sources_dir=seed_sources, index_dir=tmp_path / "i"))
    report = real.ensure_index()
    assert report is not None and report.full and "model" in report.reason
    assert real.index.manifest["dim"] == 384


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    """A model folder that does not exist is named, and nothing is downloaded."""
    with pytest.raises(EmbedderError, match="does not exist"):
        make_embedder(str(tmp_path / "no-such-model"))


@pytest.mark.slow
def test_learned_stage_tiers_and_scores(real_service: Service) -> None:
    """With the real model the learned stage ranks: a clear question is answered with calibrated scores, each shown
    passage within the relative cut; an off-topic one gets no passage at all."""
    stage = real_service.retriever.learned_for(real_service.index)
    assert stage is not None
    answer = real_service.ask("How far did the Hwasong-15 fly?", top_k=5)
    assert answer.answered and answer.confidence == "high" and answer.passages
    scores = [p.score for p in answer.passages]
    assert scores[0] >= stage.confident and all(0 <= s <= 1 for s in scores)
    assert all(s >= max(stage.shown, stage.relative * scores[0]) - 1e-4 for s in scores)
    assert "about 1000 km" in answer.passages[0].text
    top = answer.passages[0]
    assert top.highlight in real_service.index.chunks[top.chunk_id].sentences
    off = real_service.ask("what's the best pizza topping?")
    assert not off.answered and off.confidence == "none" and not off.passages
