"""The public data sets in the checkout's ../shared/data, loaded as `EvalSet`s for the harness.

- PubMedQA (`pqal_dev.json`): each record's CONTEXTS joined as one document named by its
  PubMed id; the question's gold document is its own id; label yes, no or maybe;
- MedQuAD (`medquad_dev.jsonl`): each answer is one document named by its qid; the questions
  are the queries, and a hit is the question's own answer.
"""

from __future__ import annotations

import json
from pathlib import Path

from meditron_rag.errors import MeditronRagError
from rag.evaluation.questions import CorpusDocument, EvalSet, Question, read_jsonl

YES_NO_MAYBE = ("yes", "no", "maybe")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PUBMEDQA = SHARED / "pubmedqa" / "pqal_dev.json"
MEDQUAD = SHARED / "medquad" / "medquad_dev.jsonl"
NAMES = ("pubmedqa", "medquad")


def load_pubmedqa(path: Path = PUBMEDQA, limit: int | None = None) -> EvalSet:
    """PubMedQA: every record's contexts as one document; all records stay in the corpus
    (a `limit` only shortens the question list)."""
    if not path.is_file():
        raise MeditronRagError(f"PubMedQA is not at {path}.")
    records = json.loads(path.read_text(encoding="utf-8"))
    documents, questions = [], []
    for pmid, rec in records.items():
        contexts = rec["CONTEXTS"]
        documents.append(CorpusDocument(pmid, "\n\n".join(contexts)))
        questions.append(Question(
            id=pmid, question=rec["QUESTION"], expected_documents=[pmid],
            answer=rec.get("LONG_ANSWER", ""), options={k: k for k in YES_NO_MAYBE},
            label=rec["final_decision"],
        ))
    return EvalSet("pubmedqa", questions[:limit] if limit else questions, documents=documents)


def load_medquad(path: Path = MEDQUAD, limit: int | None = None) -> EvalSet:
    """MedQuAD: each answer one document, named by collection and qid (qids repeat across
    collections); its question is the query. Each document is titled by its `focus`, the
    topic of the NIH page the answer comes from, as a real guideline carries its title: the
    "research" and "outlook" answers never name their disease in the text. Several answers
    share each focus, so the title names the topic, not the answer."""
    rows = read_jsonl(path) if path.is_file() else None
    if rows is None:
        raise MeditronRagError(f"MedQuAD is not at {path}.")
    ids = [f"{r['collection']}-{r['qid']}".lower().replace("_", "-") for r in rows]
    documents = [CorpusDocument(i, r["answer"], r.get("focus", "")) for i, r in zip(ids, rows)]
    questions = [Question(id=i, question=r["question"], expected_documents=[i])
                 for i, r in zip(ids, rows)]
    return EvalSet("medquad", questions[:limit] if limit else questions, documents=documents)


def load_dataset(name: str, limit: int | None = None) -> EvalSet:
    """A shared data set by name: pubmedqa or medquad."""
    loaders = {"pubmedqa": load_pubmedqa, "medquad": load_medquad}
    if name not in loaders:
        raise MeditronRagError(f"Unknown data set '{name}': choose one of {', '.join(loaders)}.")
    return loaders[name](limit=limit)
