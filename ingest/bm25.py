"""BM25 as pure functions over flat arrays, over the terms of `meditron_rag.text.terms`.

Each chunk's terms are counted once, at ingest, and stored beside it as (term id, count)
pairs. A process holds them grouped by term (`Postings`), with each chunk's length, and
computes the BM25 weights at query time for the query's few terms only, from the collection's
statistics of that moment: so a write changes only the chunks it wrote or removed (`merge`,
`compact`, and the `alive` mask `score` takes), never the weights of the others, and the
postings can follow the store's writes without being built again (ingest/store/postings.py).
A query is then a few slices of flat arrays: far faster than SQLite FTS5 ranking the same
OR-query, which the lexical index used before (docs/benchmarks.md).

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


@dataclass(frozen=True)
class Postings:
    """Term counts grouped by term: the entries of term t are `rows[ptr[t]:ptr[t + 1]]` (row
    numbers into `chunk_ids`) with their counts `tf[...]`. Weights are not stored: they depend
    on the collection's size, average length and document frequencies, which change with every
    write, so they are computed at query time for the query's terms only."""

    chunk_ids: np.ndarray  # int64, one per document (chunk), ascending
    lengths: np.ndarray  # int32, each document's length (its term counts summed)
    ptr: np.ndarray  # int64, len = vocabulary size + 1
    rows: np.ndarray  # int32
    tf: np.ndarray  # int32

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.chunk_ids, self.lengths, self.ptr, self.rows,
                                      self.tf))

    def __len__(self) -> int:
        return len(self.chunk_ids)


def build(chunk_ids: np.ndarray, lengths: np.ndarray, pairs: np.ndarray,
          vocabulary: int = 0) -> Postings:
    """Postings from each document's (term id, count) pairs.

    `pairs` is an (n, 2) int32 array of every document's pairs one after another, `lengths`
    the number of pairs of each document; the vocabulary spans at least `vocabulary` ids and
    every id in `pairs`.
    """
    n_docs = len(chunk_ids)
    doc = np.repeat(np.arange(n_docs, dtype=np.int32), np.asarray(lengths, dtype=np.int64))
    term, tf = pairs[:, 0], pairs[:, 1].astype(np.int32)
    size = max(vocabulary, int(term.max()) + 1 if len(term) else 0)
    doc_len = np.bincount(doc, weights=tf, minlength=n_docs).astype(np.int32)
    order = np.argsort(term, kind="stable")
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(term, minlength=size), out=ptr[1:])
    return Postings(np.asarray(chunk_ids, dtype=np.int64), doc_len, ptr, doc[order], tf[order])


EMPTY = build(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 2), np.int32))


def _terms(postings: Postings) -> np.ndarray:
    """The term id of each entry."""
    return np.repeat(np.arange(len(postings.ptr) - 1), np.diff(postings.ptr))


def compact(postings: Postings, alive: np.ndarray) -> Postings:
    """The postings of the `alive` documents only, renumbered, in the same order."""
    if alive.all():
        return postings
    keep = alive[postings.rows]
    renumber = np.cumsum(alive, dtype=np.int64) - 1
    ptr = np.zeros_like(postings.ptr)
    np.cumsum(np.bincount(_terms(postings)[keep], minlength=len(ptr) - 1), out=ptr[1:])
    return Postings(postings.chunk_ids[alive], postings.lengths[alive], ptr,
                    renumber[postings.rows[keep]].astype(np.int32), postings.tf[keep])


def merge(first: Postings, second: Postings) -> Postings:
    """One set of postings holding `first`'s documents, then `second`'s, each term's entries
    in row order: what `build` gives for both at once, without sorting again."""
    size = max(len(first.ptr), len(second.ptr)) - 1
    counts = [np.pad(np.diff(p.ptr), (0, size + 1 - len(p.ptr))) for p in (first, second)]
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts[0] + counts[1], out=ptr[1:])
    rows = np.empty(ptr[-1], dtype=np.int32)
    tf = np.empty(ptr[-1], dtype=np.int32)
    for part, before, offset in ((first, np.zeros_like(counts[0]), 0),
                                 (second, counts[0], len(first))):
        term = _terms(part)
        at = ptr[term] + before[term] + np.arange(len(term)) - part.ptr[term]
        rows[at] = part.rows + offset
        tf[at] = part.tf
    return Postings(np.concatenate([first.chunk_ids, second.chunk_ids]),
                    np.concatenate([first.lengths, second.lengths]), ptr, rows, tf)


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


def score(parts: Sequence[Postings], alive: Sequence[np.ndarray], term_ids: Sequence[int],
          k1: float = K1, b: float = B) -> np.ndarray:
    """BM25 score of every row of `parts` (their rows one after another) for a query of
    distinct term ids, over the documents marked `alive` only: the collection's size, average
    length and each term's document frequency count those alone, and the others score 0, so
    the scores are those of postings built from the live documents alone."""
    offsets = np.cumsum([0] + [len(p) for p in parts])
    n_docs = sum(int(a.sum()) for a in alive)
    if not n_docs:
        return np.zeros(offsets[-1], dtype=np.float32)
    avg = sum(int(p.lengths[a].sum(dtype=np.int64)) for p, a in zip(parts, alive)) / n_docs
    rows: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for t in term_ids:
        spans = [(p, a, offset, slice(p.ptr[t], p.ptr[t + 1]))
                 for p, a, offset in zip(parts, alive, offsets) if 0 <= t < len(p.ptr) - 1]
        found = []
        for p, a, offset, s in spans:
            live = a[p.rows[s]]
            found.append((p, offset, p.rows[s][live], p.tf[s][live]))
        df = sum(len(r) for _, _, r, _ in found)
        if not df:
            continue
        term_idf = idf(np.array([df]), n_docs)[0]
        for p, offset, r, tf in found:
            rows.append(r + offset)
            values.append(weights(tf, p.lengths[r], avg, term_idf, k1, b))
    if not rows:
        return np.zeros(offsets[-1], dtype=np.float32)
    return np.bincount(np.concatenate(rows), weights=np.concatenate(values),
                       minlength=offsets[-1]).astype(np.float32)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers and scores of the k best documents with a score above 0, best first."""
    hits = np.flatnonzero(scores > 0)
    if len(hits) > k:
        hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
    order = np.argsort(-scores[hits], kind="stable")
    return hits[order], scores[hits[order]]
