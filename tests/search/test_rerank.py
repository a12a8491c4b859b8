"""The learned stage: the shipped model reproduces its training scores, refuses other features, applies per model."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from korea_bot.errors import ConfigError
from korea_bot.search import rerank
from korea_bot.search.features import NAMES, SENTENCE_NAMES, candidate_features
from korea_bot.search.gbdt import Forest
from korea_bot.search.question import Query
from korea_bot.service import Service


def shipped() -> dict:
    """The model JSON in the package."""
    return json.loads(resources.files("korea_bot.search").joinpath("data", "ranker.json").read_text("utf-8"))


def test_shipped_model_gives_the_scores_it_gave_in_training() -> None:
    """The JSON trees evaluated with numpy equal LightGBM's scores, and the head its probabilities, on stored rows."""
    model = shipped()
    stage = rerank.LearnedStage(model)
    check = model["check"]
    X = np.asarray(check["features"])
    np.testing.assert_allclose(stage.forest.predict(X), check["scores"], rtol=0, atol=1e-9)
    z = np.asarray(check["head_inputs"])
    head = stage.head
    mine = 1 / (1 + np.exp(-(((z - head.mean) / head.scale) @ head.coef + head.intercept)))
    np.testing.assert_allclose(mine, check["probabilities"], atol=1e-9)
    assert model["features"] == list(NAMES) and model["highlight"]["features"] == list(SENTENCE_NAMES)
    assert 0 < stage.shown <= stage.confident < 1 and len(X) >= 32


def test_forest_follows_splits_to_the_leaves() -> None:
    """A hand-made tree: rows go left when feature <= threshold; the forest sums the trees' leaves."""
    tree = {
        "split_feature": 1,
        "threshold": 0.5,
        "left_child": {"leaf_value": -1.0},
        "right_child": {
            "split_feature": 0,
            "threshold": 2.0,
            "left_child": {"leaf_value": 3.0},
            "right_child": {"leaf_value": 5.0},
        },
    }
    forest = Forest([tree, {"leaf_value": 0.25}], n_features=2)
    X = np.asarray([[0.0, 0.5], [2.0, 0.6], [2.1, 9.0]])
    np.testing.assert_allclose(forest.predict(X), [-0.75, 3.25, 5.25])
    with pytest.raises(ValueError, match="rows of 2 features"):
        forest.predict(np.zeros((1, 3)))


def test_a_model_for_other_features_fails_clearly(tmp_path: Path) -> None:
    """A model file trained on another feature list, or another format, is refused with what to do."""
    model = shipped()
    model["features"] = model["features"][:-1]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(model), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"trained on other features.*retrain it with training/train_ranker\.py"):
        rerank.load(str(path))
    path.write_text(json.dumps({**shipped(), "format": 99}), encoding="utf-8")
    with pytest.raises(ConfigError, match="format 99"):
        rerank.load(str(path))
    with pytest.raises(ConfigError, match="cannot read the ranking model"):
        rerank.load(str(tmp_path / "missing.json"))
    assert rerank.load("off") is None


def test_the_stage_applies_only_to_indexes_of_its_embedding_model(fake_service: Service) -> None:
    """An index built by another model (here the hashing fake) is ranked by fusion and the cosine cut instead."""
    stage = rerank.load("default")
    assert stage is not None and stage.embedding_model == "bundled:all-MiniLM-L6-v2"
    assert not stage.applies_to(fake_service.index)
    assert fake_service.retriever.learned_for(fake_service.index) is None
    assert fake_service.ask("double freeze initiative").confidence == "high"  # min_score 0 in the fixture


def test_features_are_finite_and_shaped(fake_service: Service) -> None:
    """Every candidate gets one finite row of every feature; the question type and concepts are found."""
    query = Query(text="how far did the hwasong-15 fly", vector=fake_service.embedder.embed(["x"])[0])
    scored = fake_service.retriever.score(fake_service.index, query)
    cand = candidate_features(fake_service.index, query, scored)
    assert cand.features.shape == (min(len(scored.found.rows), 40), len(NAMES))
    assert np.isfinite(cand.features).all() and cand.qtype == "number"
    assert {alt for c in cand.concepts for alt in c.alternatives} >= {("hwasong",), ("15",)}
