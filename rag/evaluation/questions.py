"""Question sets for the harness, each loaded into one shape: `EvalSet`.

Formats read from a user's own files:
- ours (JSONL): `{"question", "expected_documents": [file names or ids], "answer"?,
  "options"?, "expected_section"?, "answerable"?, "id"?}`; the corpus is a folder;
- multiple choice (JSONL), MedQA style `{"question", "options": {"A": ...}, "answer_idx"}` or
  MedMCQA style `{"question", "opa".."opd", "cop"}` (cop 1-4, or 0-3 when any is 0).

An `EvalSet` may instead carry generated documents (`CorpusDocument`), which the harness writes
out as a corpus folder: the checkout's benchmark kit loads public data sets that way.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from pathlib import Path

from meditron_rag.errors import MeditronRagError


@dataclass
class Question:
    """One query. `expected_documents` are file names or document ids (empty: unanswerable);
    `options` maps a choice's key ("A", "yes") to its text and `label` is the gold key."""

    id: str
    question: str
    expected_documents: list[str] = field(default_factory=list)
    answer: str = ""
    expected_section: str = ""
    options: dict[str, str] = field(default_factory=dict)
    label: str = ""


@dataclass
class CorpusDocument:
    """A document the harness writes into a temporary corpus, named `id` plus `.txt`."""

    id: str
    text: str
    title: str = ""


@dataclass
class EvalSet:
    """Questions plus where their corpus comes from: a folder or generated documents."""

    name: str
    questions: list[Question]
    corpus_dir: Path | None = None
    documents: list[CorpusDocument] = field(default_factory=list)


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise MeditronRagError(f"{path} does not exist: give a JSONL file of questions.")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise MeditronRagError(f"{path}:{n} is not valid JSON ({exc.msg}).") from None
    return rows


def _options(raw: object) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return {string.ascii_uppercase[i]: str(v) for i, v in enumerate(raw)}
    return {}


def _label(options: dict[str, str], answer: str) -> str:
    """The option key that `answer` names: the key itself or the option's exact text."""
    if not options or not answer:
        return ""
    if answer in options:
        return answer
    for key, text in options.items():
        if text.strip().lower() == answer.strip().lower():
            return key
    return ""


def load_questions(path: Path, corpus_dir: Path | None = None, limit: int | None = None,
                   name: str | None = None) -> EvalSet:
    """Our JSONL format, with the corpus in `corpus_dir` (default: the file's folder)."""
    questions = []
    for n, row in enumerate(read_jsonl(path), start=1):
        if "question" not in row:
            raise MeditronRagError(f"{path}: line {n} has no \"question\".")
        options = _options(row.get("options"))
        answer = str(row.get("answer") or row.get("answer_idx") or "")
        questions.append(Question(
            id=str(row.get("id") or n), question=row["question"],
            expected_documents=[str(d) for d in row.get("expected_documents") or []],
            answer=answer, expected_section=str(row.get("expected_section") or ""),
            options=options, label=_label(options, answer),
        ))
    default = path.parent.name if path.stem == "questions" else path.stem
    return EvalSet(name or default, questions[:limit] if limit else questions,
                   corpus_dir or path.parent)


def load_multiple_choice(path: Path, limit: int | None = None,
                         corpus_dir: Path | None = None) -> EvalSet:
    """MedQA- or MedMCQA-style multiple choice; retrieval needs a corpus folder."""
    rows = read_jsonl(path)
    zero_based = any(int(r.get("cop", 1)) == 0 for r in rows if "opa" in r)
    questions = []
    for n, row in enumerate(rows, start=1):
        if "opa" in row:
            keys = [k for k in ("opa", "opb", "opc", "opd", "ope") if row.get(k) is not None]
            options = {string.ascii_uppercase[i]: str(row[k]) for i, k in enumerate(keys)}
            cop = int(row["cop"])
            label = string.ascii_uppercase[cop if zero_based else cop - 1]
        else:
            options = _options(row.get("options"))
            label = _label(options, str(row.get("answer_idx") or row.get("answer") or ""))
        if not options or not label:
            raise MeditronRagError(f"{path}: line {n} has no options or no gold answer.")
        questions.append(Question(
            id=str(row.get("id") or n), question=row["question"], options=options, label=label,
            answer=options[label],
            expected_documents=[str(d) for d in row.get("expected_documents") or []],
        ))
    return EvalSet(path.stem, questions[:limit] if limit else questions, corpus_dir)
