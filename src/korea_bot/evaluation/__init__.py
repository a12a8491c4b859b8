"""Evaluation: question files in every supported format, and the retrieval metrics computed over them."""

from __future__ import annotations

from .formats import EvalItem, EvalSet, doc_file, load_eval, materialize
from .metrics import Searcher, evaluate, format_report, relevance

__all__ = [
    "EvalItem",
    "EvalSet",
    "Searcher",
    "doc_file",
    "evaluate",
    "format_report",
    "load_eval",
    "materialize",
    "relevance",
]
