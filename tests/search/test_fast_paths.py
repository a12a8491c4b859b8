"""The search's fast paths give exactly the values of their plain definitions (the ranker reads them)."""

from __future__ import annotations

import json
from importlib import resources
from itertools import combinations

import numpy as np

from korea_bot.search.gbdt import Forest
from korea_bot.search.terms import Concept, Coverage, coverage


def _walk(node: dict, row: np.ndarray) -> float:
    """One tree evaluated the obvious way: follow the splits from the root to a leaf."""
    while "leaf_value" not in node:
        node = node["left_child"] if row[node["split_feature"]] <= node["threshold"] else node["right_child"]
    return float(node["leaf_value"])


def test_forest_equals_walking_each_tree_of_the_shipped_model() -> None:
    """Every tree walked on its own, summed in tree order, equals the vectorised fixed-depth walk bit for bit."""
    model = json.loads(resources.files("korea_bot.search").joinpath("data", "ranker.json").read_text("utf-8"))
    trees, n = model["ranker"]["trees"], len(model["features"])
    forest = Forest(trees, n)
    rng = np.random.default_rng(7)
    X = np.vstack([np.asarray(model["check"]["features"]), rng.normal(0, 2, (200, n))]).astype(np.float32)
    X[:5, :] = 0.0  # rows exactly on common thresholds and zero features
    expected = [sum(_walk(t, row) for t in trees) for row in X.astype(np.float64)]
    got = forest.predict(X)
    assert forest.depth >= 2
    assert np.array_equal(got, np.asarray(expected))


def test_coverage_memo_gives_the_plain_coverage_for_every_subset_and_repeat() -> None:
    """Coverage.of (memoised per present question words) equals coverage() on all subsets, asked twice each."""
    items = [
        Concept((("korea",), ("dprk",), ("north", "korea")), 1.5),
        Concept((("missil",),), 2.0),
        Concept((("test",),), 0.5),
        Concept((("xyzzi",),), 4.0, known=False),
    ]
    words = ["korea", "dprk", "north", "missil", "test", "xyzzi", "other"]
    cover = Coverage(items)
    subsets = [set(c) for r in range(len(words) + 1) for c in combinations(words, r)]
    for terms in subsets + subsets[::-1]:
        assert cover.of(terms) == coverage(items, terms)
    assert cover.of({"north", "other"}) == (0.0, 4.0) and cover.of({"north", "korea"})[0] == 1.5 / 4.0
    assert Coverage([]).of({"korea"}) == (0.0, 0.0)
