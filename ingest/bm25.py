"""BM25 as pure functions over flat arrays, over the terms of `meditron_rag.text.terms`.

Each chunk's terms are counted once, at ingest, and stored beside it as (term id, count)
pairs. Loading the lexical index is then array work only: BM25 weights are computed for every
(term, chunk) pair up front ("eager" scoring, as in bm25s), sorted by term, so a query is the
sum of a few slices of one array: far faster than SQLite FTS5 ranking the same OR-query, which
the lexical index used before (docs/benchmarks.md).

Scoring is Okapi BM25 with Lucene's idf, log(1 + (N - df + 0.5) / (df + 0.5)), which is never
negative, and the usual k1 = 1.2, b = 0.75. A chunk's terms are those of its text, its
section path and its document's title, counted together: a passage that never names its
topic ("Treatment includes ...") is still found by a question that does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from meditron_rag.text import terms

K1 = 1.2
B = 0.75


def query_terms(question: str) -> list[str]:
    """The question's terms without repeats: each counts once, whatever its phrasing."""
    return list(dict.fromkeys(terms(question)))


def term_counts(texts: Iterable[str]) -> Counter[str]:
    """Term frequencies over several fields of one chunk, counted together."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(terms(text))
    return counts


def encode_counts(ids: Sequence[int], counts: Sequence[int]) -> bytes:
    """(term id, count) pairs as the int32 blob stored beside a chunk."""
    return np.column_stack([ids, counts]).astype(np.int32).tobytes() if ids else b""


def idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Lucene's BM25 idf: positive for every term, largest for the rarest."""
    df = df.astype(np.float32)
    return np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)


def weights(tf: np.ndarray, doc_len: np.ndarray, avg_len: float, term_idf: np.ndarray,
            k1: float = K1, b: float = B) -> np.ndarray:
    """BM25 weight of each (term, document) pair from its frequency and the document's length."""
    tf = tf.astype(np.float32)
    norm = k1 * (1 - b + b * doc_len.astype(np.float32) / np.float32(max(avg_len, 1e-9)))
    return term_idf * tf * (k1 + 1) / (tf + norm)


@dataclass(frozen=True)
class Postings:
    """Precomputed BM25 weights grouped by term: the entries of term t are
    `docs[ptr[t]:ptr[t + 1]]` (row numbers into `chunk_ids`) and `scores[...]`."""

    chunk_ids: np.ndarray  # int64, one per document (chunk)
    ptr: np.ndarray  # int64, len = vocabulary size + 1
    docs: np.ndarray  # int32
    scores: np.ndarray  # float32

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.chunk_ids, self.ptr, self.docs, self.scores))


def build(chunk_ids: np.ndarray, lengths: np.ndarray, pairs: np.ndarray, vocabulary: int,
          k1: float = K1, b: float = B) -> Postings:
    """Postings from each document's (term id, count) pairs.

    `pairs` is an (n, 2) int32 array of every document's pairs one after another, `lengths`
    the number of pairs of each document, `vocabulary` one more than the largest term id.
    """
    n_docs = len(chunk_ids)
    doc = np.repeat(np.arange(n_docs, dtype=np.int32), np.asarray(lengths, dtype=np.int64))
    term, tf = pairs[:, 0], pairs[:, 1]
    doc_len = np.bincount(doc, weights=tf, minlength=n_docs).astype(np.float32)
    df = np.bincount(term, minlength=vocabulary)
    avg = float(doc_len.mean()) if n_docs else 0.0
    w = weights(tf, doc_len[doc], avg, idf(df, n_docs)[term], k1, b)
    order = np.argsort(term, kind="stable")
    ptr = np.zeros(vocabulary + 1, dtype=np.int64)
    np.cumsum(df, out=ptr[1:])
    return Postings(np.asarray(chunk_ids, dtype=np.int64), ptr, doc[order], w[order])


def score(postings: Postings, term_ids: Sequence[int]) -> np.ndarray:
    """BM25 score of every document for a query of distinct term ids (0 where none occurs)."""
    n = len(postings.chunk_ids)
    ids = [t for t in term_ids if 0 <= t < len(postings.ptr) - 1]
    if not ids or not n:
        return np.zeros(n, dtype=np.float32)
    spans = [slice(postings.ptr[t], postings.ptr[t + 1]) for t in ids]
    docs = np.concatenate([postings.docs[s] for s in spans])
    values = np.concatenate([postings.scores[s] for s in spans])
    return np.bincount(docs, weights=values, minlength=n).astype(np.float32)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers and scores of the k best documents with a score above 0, best first."""
    hits = np.flatnonzero(scores > 0)
    if len(hits) > k:
        hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
    order = np.argsort(-scores[hits], kind="stable")
    return hits[order], scores[hits[order]]
