"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates, fused.

Fusion is a convex combination of min-max normalised scores weighted toward dense
(retrieval.dense_weight; Bruch et al., 2023), chosen with scripts/retrieval_experiment.py on
MedQuAD and PubMedQA: there plain reciprocal rank fusion (equal weights) did worse than dense
alone on MedQuAD, because BM25 is far weaker on lay questions and RRF gives its ranks equal say;
the score combination keeps dense's order unless BM25 is confident, and never did worse than
dense (docs/evaluation.md).

On top of fusion: filters by document, organisation and date; near-duplicate passages
collapsed; and a superseded guideline (same organisation and topic, older date) ranked after
the one that replaced it, with the passage saying which one that is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.bm25 import query_terms
from ingest.embedder import Embedder
from ingest.store import ChunkRecord, DocumentRecord, Store
from meditron_rag.config import RetrievalConfig
from meditron_rag.text import jaccard, word_set
from rag.fusion import reciprocal_rank_fusion, score_fusion
from rag.records import Passage

MODES = ("hybrid", "dense", "bm25")


@dataclass
class Filters:
    """Restrict retrieval. Dates compare as ISO strings, so "2024" matches "2024-04"."""

    documents: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    date_from: str = ""
    date_to: str = ""

    def __bool__(self) -> bool:
        return bool(self.documents or self.organisations or self.date_from or self.date_to)

    def allows(self, doc: DocumentRecord) -> bool:
        if self.documents and doc.id not in self.documents:
            return False
        if self.organisations and not any(
            o.lower() in doc.organisation.lower() for o in self.organisations
        ):
            return False
        if self.date_from and (not doc.date or doc.date < self.date_from):
            return False
        return not (self.date_to and (not doc.date or doc.date[: len(self.date_to)] > self.date_to))


def collapse_duplicates(passages: Sequence[Passage], threshold: float = 0.8,
                        limit: int | None = None) -> list[Passage]:
    """Keep the first of passages whose word sets overlap by `threshold` or more (Jaccard),
    stopping once `limit` are kept: the rest of a ranked list need not be compared."""
    kept: list[tuple[Passage, set[str]]] = []
    for passage in passages:
        if limit is not None and len(kept) >= limit:
            break
        words = word_set(passage.text)
        if all(jaccard(words, k) < threshold for _, k in kept):
            kept.append((passage, words))
    return [p for p, _ in kept]


def successors(docs: Sequence[DocumentRecord]) -> dict[str, DocumentRecord]:
    """For each superseded document id, the newest document that replaces it.

    A document is superseded when another of the same organisation and `topic` has a later
    date, or when its front matter names a `superseded_by` file that is in the store.
    """
    by_name = {d.name: d for d in docs}
    newest: dict[tuple[str, str], DocumentRecord] = {}
    for doc in docs:
        topic = doc.extra.get("topic", "")
        if not topic or not doc.date:
            continue
        key = (doc.organisation.lower(), topic)
        if key not in newest or doc.date > newest[key].date:
            newest[key] = doc
    out: dict[str, DocumentRecord] = {}
    for doc in docs:
        named = by_name.get(doc.extra.get("superseded_by", ""))
        if named is not None and named.id != doc.id:
            out[doc.id] = named
            continue
        latest = newest.get((doc.organisation.lower(), doc.extra.get("topic", "")))
        if latest is not None and latest.id != doc.id and doc.date and latest.date > doc.date:
            out[doc.id] = latest
    return out


class Retriever:
    """Finds passages for a question in one store with one embedder, as `settings` (the
    config's `retrieval` section) says.

    `settings.fusion` is "convex" (the weighted sum of each retriever's min-max normalised
    scores, `dense_weight` for dense and the rest for BM25; a candidate one retriever did not
    return scores 0 there) or "rrf" (reciprocal ranks with equal weights, damped by `rrf_k`;
    kept for comparison).
    """

    def __init__(self, store: Store, embedder: Embedder, settings: RetrievalConfig) -> None:
        self.store = store
        self.embedder = embedder
        self.mode = settings.mode
        self.candidates = settings.candidates
        self.rrf_k = settings.rrf_k
        self.fusion = settings.fusion
        self.weights = ({"dense": settings.dense_weight, "bm25": 1.0 - settings.dense_weight}
                        if settings.fusion == "convex" else {"dense": 1.0, "bm25": 1.0})
        # (generation, documents by id, successors), replaced whole: threads share a retriever.
        self._docs: tuple[int, dict[str, DocumentRecord], dict[str, DocumentRecord]] = (-1, {}, {})

    def documents(self) -> dict[str, DocumentRecord]:
        """Document records by id, re-read only when the store has changed."""
        return self._documents()[1]

    def _documents(self) -> tuple[int, dict[str, DocumentRecord], dict[str, DocumentRecord]]:
        with self.store.snapshot():
            generation = self.store.generation
            if generation != self._docs[0]:
                docs = self.store.documents()
                self._docs = (generation, {d.id: d for d in docs}, successors(docs))
            return self._docs

    def search(
        self, question: str, k: int, filters: Filters | None = None, mode: str | None = None
    ) -> list[Passage]:
        """The best `k` passages, best first, near-duplicates collapsed and superseded
        guidelines after their successors. `passage.scores` holds each retriever's raw score
        and rank where it found the passage."""
        mode = mode or self.mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        depth = self.candidates * (4 if filters else 1)
        raw: dict[str, dict[int, float]] = {}
        if mode in ("hybrid", "dense"):
            vector = self.embedder.encode_query(question)
            raw["dense"] = dict(self.store.dense_search(vector, depth))
        if mode in ("hybrid", "bm25"):
            if not self.store.chunk_count():
                self.store.dense_search(self.embedder.encode_query(question), 1)  # raises empty
            raw["bm25"] = dict(self.store.lexical_search(query_terms(question), depth))
        # Chunks and their documents from one snapshot: an ingest committing between two reads
        # would otherwise hand over a chunk whose document was not read. Hits the writer has
        # removed since the searches ran are simply not found (chunk ids are never reused).
        with self.store.snapshot():
            _, docs, newer = self._documents()
            chunks = self.store.chunks(sorted({i for r in raw.values() for i in r}))
        lists: dict[str, dict[int, float]] = {}
        for name, hits in raw.items():
            allowed = [
                i for i in hits
                if i in chunks and (not filters or filters.allows(docs[chunks[i].document_id]))
            ]
            lists[name] = {i: hits[i] for i in allowed[: self.candidates]}
        fused = self._fuse(lists)
        passages = []
        for chunk_id, score in fused:
            chunk = chunks[chunk_id]
            passage = self._passage(chunk, docs[chunk.document_id], score,
                                    newer.get(chunk.document_id))
            for name, hits in lists.items():
                if chunk.id in raw[name]:
                    passage.scores[name] = round(raw[name][chunk.id], 4)
                if chunk.id in hits:
                    passage.scores[f"{name}_rank"] = list(hits).index(chunk.id) + 1
            passages.append(passage)
        # Current guidelines first, then duplicates collapsed: of an unchanged recommendation
        # carried into a newer version, the newer version's passage is the one kept.
        return collapse_duplicates(prefer_current(passages), limit=k)

    def _fuse(self, lists: dict[str, dict[int, float]]) -> list[tuple[int, float]]:
        if len(lists) == 1:
            return list(next(iter(lists.values())).items())
        if self.fusion == "rrf":
            rankings = {name: list(hits) for name, hits in lists.items()}
            return reciprocal_rank_fusion(rankings, k=self.rrf_k, weights=self.weights)
        return score_fusion(lists, self.weights)

    def _passage(self, chunk: ChunkRecord, doc: DocumentRecord, score: float,
                 newer: DocumentRecord | None) -> Passage:
        return Passage(
            chunk_id=chunk.id, document_id=doc.id, title=doc.title or doc.name,
            organisation=doc.organisation, date=doc.date, url=doc.url, path=doc.path,
            section=chunk.section, page_start=chunk.page_start, page_end=chunk.page_end,
            paginated=doc.paginated, char_start=chunk.char_start, char_end=chunk.char_end,
            text=chunk.text, ocr_confidence=chunk.ocr_confidence, score=round(score, 6),
            superseded_by=f"{newer.title} ({newer.date})" if newer else "",
            superseded_by_id=newer.id if newer else "",
        )


def prefer_current(passages: Sequence[Passage]) -> list[Passage]:
    """Rank a superseded guideline's passage below the first passage of its successor, where
    both were retrieved; alone, it keeps its rank (it may be what was asked for) and its label.
    """
    first: dict[str, int] = {}
    for i, p in enumerate(passages):
        first.setdefault(p.document_id, i)
    keys = []
    for i, p in enumerate(passages):
        successor = first.get(p.superseded_by_id) if p.superseded_by_id else None
        keys.append(max(i, successor + 0.5) if successor is not None else i)
    return [p for _, p in sorted(zip(keys, passages), key=lambda kv: kv[0])]
