"""Evaluation of a user's own question and claim files, on top of `rag` and `ingest`.

Public surface: `run` (a question set through retrieval, answers and citations on a temporary
index), the loaders `load_questions` and `load_multiple_choice`, `save_result`, and the modules
`metrics` and `claims` (the citation check on labelled cases). The command is
`meditron-rag eval` (ui/commands_eval.py); the checkout's benchmark kit (`python -m bench`)
builds its public data sets and documentation pages on the same functions.
"""

from rag.evaluation import claims, metrics
from rag.evaluation.harness import run
from rag.evaluation.questions import EvalSet, Question, load_multiple_choice, load_questions
from rag.evaluation.results import save_result

__all__ = ["EvalSet", "Question", "claims", "load_multiple_choice", "load_questions", "metrics",
           "run", "save_result"]
