"""BM25 in a PostgreSQL store: the vocabulary in `terms`, each chunk's (term id, count) pairs
in its `terms` column, written by the writer inside the document's transaction, and in each
process the postings ingest/bm25.py builds from them, as the embedded store does. A process
rebuilds its postings when the store's generation has moved, which it reads with each query's
term ids in one statement, so every reader scores the committed state."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import psycopg

from ingest import bm25

# The pairs are int32 in network byte order, as PostgreSQL's own int4send writes them.
PAIR = np.dtype(">i4")
_BATCH = 4096
_NONE = bm25.build(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 2), np.int32), 1)


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


class LexicalIndex:
    """The BM25 postings of one database in this process, for the generation they were built
    at. The caller holds the store's lock."""

    def __init__(self) -> None:
        self._postings = _NONE
        self.generation = -1

    def search(self, term_ids: Sequence[int], k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the k best chunks for the query's term ids, best first."""
        rows, scores = bm25.top_k(bm25.score(self._postings, term_ids), k)
        return [(int(self._postings.chunk_ids[r]), float(s)) for r, s in zip(rows, scores)]

    def build(self, conn: psycopg.Connection[tuple], generation: int) -> None:
        """The postings of every chunk, read batch by batch inside the caller's snapshot of
        `generation`."""
        self._postings, self.generation = _NONE, -1  # let the old go before building anew
        ids: list[int] = []
        lengths: list[int] = []
        parts: list[np.ndarray] = []
        with conn.cursor(binary=True) as cursor:
            cursor.execute("SELECT id, terms FROM chunks ORDER BY id")
            while rows := cursor.fetchmany(_BATCH):
                ids.extend(chunk_id for chunk_id, _ in rows)
                lengths.extend(len(blob) // 8 for _, blob in rows)
                parts.append(np.frombuffer(b"".join(blob for _, blob in rows), dtype=PAIR))
        pairs = (np.concatenate(parts).astype(np.int32).reshape(-1, 2) if parts
                 else np.zeros((0, 2), np.int32))
        row = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM terms").fetchone()
        vocabulary = int(row[0]) if row else 1
        self._postings = bm25.build(np.asarray(ids, dtype=np.int64),
                                    np.asarray(lengths, dtype=np.int64), pairs, vocabulary)
        self.generation = generation


def problems(conn: psycopg.Connection[tuple]) -> list[str]:
    """Term counts that cannot be read, one sentence: pairs cut short, or none for a chunk
    with text enough to have some."""
    row = conn.execute("SELECT COUNT(*) FROM chunks WHERE length(terms) % 8 != 0 "
                       "OR (length(terms) = 0 AND length(text) > 200)").fetchone()
    return [f"{row[0]} chunks have no or damaged term counts"] if row and row[0] else []
