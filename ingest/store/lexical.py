"""BM25 over a SQLite store: the vocabulary table, each chunk's stored term counts, and the
reads that keep the in-memory postings (ingest/store/postings.py) up to date with them."""

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


class ChunkTerms:
    """The reads a refresh of the postings (ingest/store/postings.py) makes of a SQLite store,
    inside the caller's read transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    # Ids alone are read from the chunks' (document, ordinal) index, which holds each row's id:
    # a range of the table itself would read every row's vector and text with it.
    def summary(self, last: int) -> tuple[int, int]:
        count, total = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(id), 0) FROM chunks INDEXED BY chunks_document "
            "WHERE id <= ?", (last,)).fetchone()
        return int(count), int(total)

    def ids(self, last: int) -> np.ndarray:
        rows = self.db.execute(
            "SELECT id FROM chunks INDEXED BY chunks_document WHERE id <= ?", (last,))
        return np.sort(np.array([r[0] for r in rows], dtype=np.int64))

    def after(self, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Batch by batch into arrays: a large index's blobs held at once as Python objects
        # would leave freed heap that the process keeps for good.
        ids: list[int] = []
        lengths: list[int] = []
        parts: list[np.ndarray] = []
        cursor = self.db.execute("SELECT id, terms FROM chunks WHERE id > ? ORDER BY id", (last,))
        while rows := cursor.fetchmany(_BATCH):
            ids.extend(chunk_id for chunk_id, _ in rows)
            lengths.extend(len(blob) // 8 for _, blob in rows)
            parts.append(np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.int32))
            del rows
        pairs = np.concatenate(parts).reshape(-1, 2) if parts else np.zeros((0, 2), np.int32)
        if len(ids) > _BATCH:
            return_freed_heap()
        return np.asarray(ids, dtype=np.int64), np.asarray(lengths, dtype=np.int64), pairs
