"""A small deterministic hyperparameter sweep, chosen by out-of-fold hit@1 on the discord dev questions only.

Run from the repository root, venv active, after one `python training/train_ranker.py --cv-only` built the cache:

    nice -n 5 python training/sweep.py            # one JSON line per setting, then the best one
    nice -n 5 python training/sweep.py --quick    # the first few settings only

Never reads the discord test split: the question sets are those of corpora.question_sets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys

import modeling
import numpy as np
from corpora import discord_keys
from features_dump import training_dumps
from modeling import Data, cross_validate, report

GRID = {
    "rounds": (60, 150),
    "num_leaves": (7, 15),
    "min_data_in_leaf": (20, 50),
    "lambda_l2": (0.0, 10.0),
    "feature_fraction": (0.6, 0.9),
    "korea_boost": (1.0, 3.0),
}
KEYS = ("discord-seed", "discord-seedwiki")


def settings() -> list[dict]:
    """Every combination of GRID, in a fixed order (the current defaults' neighbourhood)."""
    names = list(GRID)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*GRID.values())]


def evaluate(data: Data, subsets: dict[str, set[str]], setting: dict) -> dict:
    """OOF figures of one setting: discord dev hit@1 (article alone, + Wikipedia) and every set's hit@1."""
    modeling.ROUNDS = int(setting["rounds"])
    modeling.KOREA_BOOST = float(setting["korea_boost"])
    modeling.RANKER.update(
        num_leaves=int(setting["num_leaves"]),
        min_data_in_leaf=int(setting["min_data_in_leaf"]),
        lambda_l2=float(setting["lambda_l2"]),
        feature_fraction=float(setting["feature_fraction"]),
    )
    sets = report(data, cross_validate(data), subsets)["sets"]
    hit = {name: entry.get("hit1") for name, entry in sets.items()}
    return {**setting, "objective": float(np.mean([hit[k] for k in KEYS])), "hit1": hit}


def main(argv: list[str] | None = None) -> int:
    """Run the sweep and print the best setting by the discord dev OOF mean."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the first 4 settings")
    args = parser.parse_args(argv)
    sets, dumps = training_dumps()
    data = Data.from_dumps(dumps)
    subsets = discord_keys(sets)
    results = []
    for setting in settings()[: 4 if args.quick else None]:
        results.append(evaluate(data, subsets, setting))
        print(json.dumps(results[-1]), flush=True)
    best = max(results, key=lambda r: r["objective"])  # ties keep the earlier (simpler) setting
    print(json.dumps({"best": best}))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
