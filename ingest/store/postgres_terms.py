"""BM25 in a PostgreSQL store: the vocabulary in `terms`, each chunk's (term id, count) pairs
in its `terms` column, written by the writer inside the document's transaction, and the reads
that keep each process's postings (ingest/store/postings.py) up to date with them, as the
embedded store does. A process refreshes its postings when the store's generation has moved,
which it reads with each query's term ids in one statement, so every reader scores the
committed state."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import psycopg

# The pairs are int32 in network byte order, as PostgreSQL's own int4send writes them.
PAIR = np.dtype(">i4")
_BATCH = 4096


def encode(conn: psycopg.Connection[tuple], counts: Sequence[dict[str, int]]) -> list[bytes]:
    """Each chunk's term counts as its stored pairs; terms the vocabulary lacks are added
    (inside the caller's transaction)."""
    wanted = sorted({term for c in counts for term in c})
    conn.execute("INSERT INTO terms(term) SELECT unnest(%s::text[]) "
                 "ON CONFLICT (term) DO NOTHING", (wanted,))
    ids = dict(conn.execute("SELECT term, id FROM terms WHERE term = ANY(%s)",
                            (wanted,)).fetchall())
    return [np.array([(ids[t], n) for t, n in c.items()], dtype=PAIR).tobytes() if c else b""
            for c in counts]


def lookup(conn: psycopg.Connection[tuple], terms: Sequence[str]) -> tuple[int, list[int]]:
    """The store's generation and the ids of those of `terms` the vocabulary has, read in one
    statement, so both come from the same committed state."""
    row = conn.execute("SELECT (SELECT generation FROM state), "
                       "ARRAY(SELECT id FROM terms WHERE term = ANY(%s))",
                       (list(terms),)).fetchone()
    assert row is not None  # scalar subqueries: always one row
    return int(row[0]), list(row[1])


class ChunkTerms:
    """The reads a refresh of the postings (ingest/store/postings.py) makes of the database,
    inside the caller's snapshot."""

    def __init__(self, conn: psycopg.Connection[tuple]) -> None:
        self.conn = conn

    def summary(self, last: int) -> tuple[int, int]:
        row = self.conn.execute("SELECT COUNT(*), COALESCE(SUM(id), 0) FROM chunks "
                                "WHERE id <= %s", (last,)).fetchone()
        assert row is not None  # an aggregate: always one row
        return int(row[0]), int(row[1])

    def ids(self, last: int) -> np.ndarray:
        rows = self.conn.execute("SELECT id FROM chunks WHERE id <= %s ORDER BY id",
                                 (last,)).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def after(self, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids: list[int] = []
        lengths: list[int] = []
        parts: list[np.ndarray] = []
        with self.conn.cursor(binary=True) as cursor:
            cursor.execute("SELECT id, terms FROM chunks WHERE id > %s ORDER BY id", (last,))
            while rows := cursor.fetchmany(_BATCH):
                ids.extend(chunk_id for chunk_id, _ in rows)
                lengths.extend(len(blob) // 8 for _, blob in rows)
                parts.append(np.frombuffer(b"".join(blob for _, blob in rows), dtype=PAIR))
        pairs = (np.concatenate(parts).astype(np.int32).reshape(-1, 2) if parts
                 else np.zeros((0, 2), np.int32))
        return np.asarray(ids, dtype=np.int64), np.asarray(lengths, dtype=np.int64), pairs


def problems(conn: psycopg.Connection[tuple]) -> list[str]:
    """Term counts that cannot be read, one sentence: pairs cut short, or none for a chunk
    with text enough to have some."""
    row = conn.execute("SELECT COUNT(*) FROM chunks WHERE length(terms) % 8 != 0 "
                       "OR (length(terms) = 0 AND length(text) > 200)").fetchone()
    return [f"{row[0]} chunks have no or damaged term counts"] if row and row[0] else []
