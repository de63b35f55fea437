"""BM25 over a SQLite store: the vocabulary table, each chunk's stored term counts, and the
in-memory postings built from them (the scoring itself is ingest/bm25.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

import numpy as np

from ingest import bm25
from ingest.store.heap import return_freed_heap

_BATCH = 4096


def encode_terms(db: sqlite3.Connection, fields: Iterable[Sequence[str]]) -> list[bytes]:
    """The term counts of each chunk's fields (text, section, title), as the blobs stored
    beside it; terms the vocabulary lacks are added (inside the caller's transaction)."""
    counts = [bm25.term_counts(texts) for texts in fields]
    vocabulary = _term_ids(db, {t for c in counts for t in c})
    return [bm25.encode_counts([vocabulary[t] for t in c], list(c.values())) for c in counts]


def _term_ids(db: sqlite3.Connection, wanted: set[str]) -> dict[str, int]:
    db.executemany("INSERT OR IGNORE INTO terms(term) VALUES (?)", [(t,) for t in wanted])
    return known_terms(db, wanted)


def known_terms(db: sqlite3.Connection, wanted: Iterable[str]) -> dict[str, int]:
    """Ids of those of `wanted` terms that the vocabulary has."""
    found: dict[str, int] = {}
    wanted = list(wanted)
    for start in range(0, len(wanted), 500):
        batch = wanted[start:start + 500]
        rows = db.execute(
            f"SELECT term, id FROM terms WHERE term IN ({','.join('?' * len(batch))})", batch
        )
        found.update(rows.fetchall())
    return found


class LexicalIndex:
    """The BM25 postings of one store, built when a search first needs them and again after
    the store's generation moves. The caller holds the store's lock."""

    def __init__(self) -> None:
        self._postings: bm25.Postings | None = None
        self._generation = -1

    def postings(self, db: sqlite3.Connection, generation: int) -> bm25.Postings:
        """The postings for `generation`, read inside the caller's snapshot of it."""
        if self._postings is not None and self._generation == generation:
            return self._postings
        self._postings = None  # let the old one go before building the new
        # Batch by batch into arrays: a large index's blobs held at once as Python objects
        # would leave freed heap that the process keeps for good.
        ids: list[int] = []
        lengths: list[int] = []
        parts: list[np.ndarray] = []
        cursor = db.execute("SELECT id, terms FROM chunks ORDER BY id")
        while rows := cursor.fetchmany(_BATCH):
            ids.extend(chunk_id for chunk_id, _ in rows)
            lengths.extend(len(blob) // 8 for _, blob in rows)
            parts.append(np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.int32))
            del rows
        pairs = np.concatenate(parts).reshape(-1, 2) if parts else np.zeros((0, 2), np.int32)
        del parts
        vocabulary = int(db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM terms").fetchone()[0])
        self._postings = bm25.build(np.asarray(ids, dtype=np.int64),
                                    np.asarray(lengths, dtype=np.int64), pairs, vocabulary)
        self._generation = generation
        return_freed_heap()
        return self._postings


def search(postings: bm25.Postings, term_ids: Iterable[int], k: int) -> list[tuple[int, float]]:
    """(chunk id, BM25 score) of the k best chunks for the query's term ids, best first."""
    rows, scores = bm25.top_k(bm25.score(postings, list(term_ids)), k)
    return [(int(postings.chunk_ids[r]), float(s)) for r, s in zip(rows, scores)]
