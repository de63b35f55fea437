"""Evaluation and benchmarks, on top of `rag` and `ingest` (beside `ui`).

Public surface: `run` (a question set through retrieval, answers and citations), the loaders
`load_questions`, `load_dataset`, `load_multiple_choice`, and the metrics module. The CLI
commands `meditron-rag eval` and `meditron-rag bench` live in `ui/commands_eval.py`.
"""

from evaluation import metrics
from evaluation.datasets import (
           EvalSet,
           Question,
           load_dataset,
           load_multiple_choice,
           load_questions,
)
from evaluation.harness import run

__all__ = ["EvalSet", "Question", "load_dataset", "load_multiple_choice", "load_questions",
           "metrics", "run"]
