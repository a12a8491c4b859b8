"""Where things are: the repository, the bundled sources and the shared data folder beside the clone."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SEED = ROOT / "docs_index" / "sources"
WIKI = SHARED / "corpus" / "wikipedia-korea-2019"
