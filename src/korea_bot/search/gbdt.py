"""Gradient-boosted trees evaluated with numpy from their JSON export (LightGBM's dump_model), no library needed."""

from __future__ import annotations

import numpy as np


class Forest:
    """All trees of a model flattened into one node table; rows descend every tree at once, level by level."""

    def __init__(self, trees: list[dict], n_features: int) -> None:
        """Flatten LightGBM tree structures (dicts with split_feature / threshold / left_child / right_child / leaf_value)."""
        feature: list[int] = []
        threshold: list[float] = []
        left: list[int] = []
        right: list[int] = []
        leaves: list[float] = []
        roots: list[int] = []

        def add(node: dict) -> int:
            """Append a node; a leaf is encoded as -(1 + its index in `leaves`)."""
            if "leaf_value" in node:
                leaves.append(float(node["leaf_value"]))
                return -len(leaves)
            if node.get("decision_type", "<=") != "<=":
                raise ValueError(f"unsupported split {node.get('decision_type')!r} (numeric <= splits only)")
            if not 0 <= int(node["split_feature"]) < n_features:
                raise ValueError(f"split on feature {node['split_feature']} of {n_features}")
            at = len(feature)
            feature.append(int(node["split_feature"]))
            threshold.append(float(node["threshold"]))
            left.append(0)
            right.append(0)
            left[at] = add(node["left_child"])
            right[at] = add(node["right_child"])
            return at

        for tree in trees:
            roots.append(add(tree))
        self.feature = np.asarray(feature, np.int64)
        self.threshold = np.asarray(threshold, np.float64)
        self.left = np.asarray(left, np.int64)
        self.right = np.asarray(right, np.int64)
        self.leaves = np.asarray(leaves, np.float64)
        self.roots = np.asarray(roots, np.int64)
        self.n_features = n_features

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The sum of every tree's leaf value for each row of X (LightGBM's raw score, before any link function)."""
        X = np.asarray(X, np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {X.shape}")
        node = np.repeat(self.roots[:, None], len(X), axis=1)  # (trees, rows)
        cols = np.broadcast_to(np.arange(len(X)), node.shape)
        while True:
            inner = node >= 0
            if not inner.any():
                break
            at = node[inner]
            go_left = X[cols[inner], self.feature[at]] <= self.threshold[at]
            node[inner] = np.where(go_left, self.left[at], self.right[at])
        return self.leaves[-node - 1].sum(axis=0)
