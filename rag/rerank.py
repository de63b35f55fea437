"""Optional cross-encoder reranking of the fused passages.

Dense and BM25 retrieval score the question and a passage apart; a cross-encoder reads them
together, which ranks better and costs one model pass per passage. So it only reorders the best
`retrieval.rerank_candidates` fused passages, and only when `retrieval.reranker` names a model
(off by default; none ships with meditron-rag, `meditron-rag models pull ms-marco-minilm-l6-v2`
fetches one). The cross-encoder loads once per process, on first use.

A reranked passage keeps its retrievers' scores and fused `score`, and gains
`scores["rerank"]` (the cross-encoder's raw relevance logit, higher is better) and
`scores["rerank_rank"]` (1 = best). Raw logits, not the sigmoid `CrossEncoder.predict` applies
by default: the order is the same, but confident scores do not saturate into float32 ties.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from ingest.embedder import load_local
from meditron_rag.config import Config
from meditron_rag.errors import ConfigError, ModelLoadError
from meditron_rag.models import resolve
from rag.records import Passage
from rag.retrieval import Filters, Retriever, prefer_current


def rerank_order(scores: Sequence[float]) -> list[int]:
    """Indices of `scores`, highest first; ties keep their incoming (retriever) order."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def passage_input(passage: Passage) -> str:
    """What the cross-encoder reads of a passage: its title and section, then its text, since a
    chunk often leaves the topic to the heading it sits under."""
    head = " > ".join(x for x in (passage.title, passage.section) if x)
    return f"{head}\n{passage.text}" if head else passage.text


class Reranker:
    """A sentence-transformers CrossEncoder with one relevance score per (question, passage)
    pair, loaded from local files only (like the embedder, it never reaches a model hub)."""

    def __init__(self, path: Path, name: str, *, device: str) -> None:
        self.model = load_local("CrossEncoder", path, device, "reranker",
                                "set retrieval.reranker to a sentence-transformers CrossEncoder "
                                "folder.")
        if self.model.num_labels != 1:
            raise ModelLoadError(
                f"The model at {path} has {self.model.num_labels} output labels; a reranker "
                "needs one relevance score per pair (a CrossEncoder with num_labels=1)."
            )
        self.name = name

    def scores(self, question: str, texts: Sequence[str]) -> list[float]:
        """Raw relevance logits of (question, text) pairs, computed in one batch."""
        if not texts:
            return []
        import torch

        values = self.model.predict(
            [(question, text) for text in texts], batch_size=len(texts),
            activation_fn=torch.nn.Identity(), show_progress_bar=False, convert_to_numpy=True,
        )
        return [float(v) for v in values]

    def rerank(self, question: str, passages: Sequence[Passage], k: int) -> list[Passage]:
        """The best `k` of `passages` by the cross-encoder, best first, each with its rerank
        score and rank added to `passage.scores`."""
        scores = self.scores(question, [passage_input(p) for p in passages])
        kept = []
        for rank, i in enumerate(rerank_order(scores)[:k], start=1):
            passage = passages[i]
            passage.scores["rerank"] = round(scores[i], 4)
            passage.scores["rerank_rank"] = rank
            kept.append(passage)
        return kept


def reranked_search(
    retriever: Retriever, reranker: Reranker, question: str, k: int, candidates: int,
    filters: Filters | None = None, mode: str | None = None,
) -> list[Passage]:
    """The retriever's best `candidates` passages reordered by the reranker, the best `k` kept;
    a superseded guideline still follows the one that replaced it, as in `Retriever.search`."""
    found = retriever.search(question, max(k, candidates), filters, mode)
    return prefer_current(reranker.rerank(question, found, len(found)))[:k]


_LOCK = threading.Lock()
_LOADED: dict[tuple[Path, str], Reranker] = {}


def load_reranker(config: Config) -> Reranker:
    """The configured cross-encoder, loaded on first use and shared by the whole process."""
    name = config.retrieval.reranker
    if not name:
        raise ConfigError(
            "No reranker is configured: set retrieval.reranker in config.yaml to a registered "
            "name (ms-marco-minilm-l6-v2, after `meditron-rag models pull "
            "ms-marco-minilm-l6-v2`) or to a sentence-transformers CrossEncoder folder."
        )
    path = resolve(name, "reranker", config).resolve()
    key = (path, config.embedding.device)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = Reranker(path, name, device=config.embedding.device)
        return _LOADED[key]
