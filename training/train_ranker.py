"""Train the ranking and answerability stage, cross-validated by domain, and export it as JSON into the package.

Run from the repository root, venv active, with the training extra (`pip install -e '.[train]'`):

    python training/train_ranker.py            # dump features (cached), cross-validate, fit, write ranker.json
    python training/train_ranker.py --cv-only  # the cross-validated figures only

Deterministic: fixed seeds, single-threaded LightGBM. Indexes are built under .korea_bot_eval/train/ on the first run
(the 35 Wikipedia articles take several minutes); features are cached there too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from corpora import ROOT, discord_keys
from features_dump import training_dumps
from highlight import Sentences, fit_highlight, highlight_report
from modeling import Data, cross_validate, fit, report

OUT = ROOT / "src" / "korea_bot" / "search" / "data" / "ranker.json"


def main(argv: list[str] | None = None) -> int:
    """Dump, cross-validate, fit and export."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv-only", action="store_true", help="report cross-validated figures, write nothing")
    parser.add_argument("--out", type=Path, default=OUT, help="where the model JSON goes")
    args = parser.parse_args(argv)
    sets, dumps = training_dumps()
    data = Data.from_dumps(dumps)
    oof = cross_validate(data)
    summary = report(data, oof, discord_keys(sets))
    sentences = Sentences.from_dumps(dumps)
    fold_of = dict(zip(data.group.tolist(), oof["fold"].tolist(), strict=True))
    summary["highlight"] = highlight_report(sentences, fold_of)
    print(json.dumps(summary, indent=1))
    if args.cv_only:
        return 0
    model = fit(data, oof, summary)
    model["highlight"] = fit_highlight(sentences)
    model["cross_validated_highlight"] = summary["highlight"]
    args.out.write_text(json.dumps(model, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
