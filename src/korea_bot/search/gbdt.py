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
        # one table of inner nodes then leaves, a leaf pointing at itself: every row takes `depth` steps per tree
        n_inner = len(feature)
        self.depth = _depth(left, right)
        self.feature = np.asarray(feature + [0] * len(leaves), np.int64)
        self.threshold = np.asarray(threshold + [np.inf] * len(leaves), np.float64)
        leaf_at = n_inner + np.arange(len(leaves))
        self.left = np.concatenate([_node_ids(left, n_inner), leaf_at]).astype(np.int64)
        self.right = np.concatenate([_node_ids(right, n_inner), leaf_at]).astype(np.int64)
        self.children = np.stack([self.right, self.left], axis=1).ravel()  # at 2·node + (went left): one take a step
        self.leaves = np.asarray(leaves, np.float64)
        self.roots = _node_ids(roots, n_inner)
        self.n_inner = n_inner
        self.n_features = n_features

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The sum of every tree's leaf value for each row of X (LightGBM's raw score, before any link function)."""
        X = np.asarray(X, np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {X.shape}")
        flat = X.ravel()
        base = (np.arange(len(X)) * self.n_features)[None, :]  # where each row starts in `flat`
        node = np.repeat(self.roots[:, None], len(X), axis=1)  # (trees, rows)
        for _ in range(self.depth):  # a leaf (threshold inf, children itself) stays where it is
            go_left = flat.take(base + self.feature.take(node)) <= self.threshold.take(node)
            node = self.children.take(2 * node + go_left)
        return self.leaves.take(node - self.n_inner).sum(axis=0)


def _node_ids(links: list[int], n_inner: int) -> np.ndarray:
    """Child links (inner node >= 0, leaf -(1 + leaf index)) as positions in the joint node table."""
    out = np.asarray(links, np.int64)
    return np.where(out >= 0, out, n_inner - out - 1)


def _depth(left: list[int], right: list[int]) -> int:
    """The most inner nodes on any root-to-leaf path (0 for a forest of bare leaves)."""
    depth = [0] * len(left)
    for at in range(len(left) - 1, -1, -1):  # children are appended after their parent: fill bottom-up
        below = [depth[c] for c in (left[at], right[at]) if c >= 0]
        depth[at] = 1 + max(below, default=0)
    return max(depth, default=0)
