"""BM25 in a PostgreSQL store: each chunk's term counts in `postings`, each term's document
frequency in `terms.df` and the collection's size in `state`, kept by the writer inside the
document's transaction, and our BM25 (ingest/bm25.py: Lucene's idf, k1, b) computed in SQL
from them. Nothing is cached in a process, so every reader scores the committed state."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from ingest import bm25

# BM25 of each chunk holding a query term: Lucene's idf from the term's document frequency and
# the collection's size, and the chunk's length (stored beside each of its postings, so a query
# reads one table) against the average.
_SEARCH = """
WITH q AS (SELECT id, df FROM terms WHERE term = ANY(%(terms)s) AND df > 0),
     s AS (SELECT chunks::float8 AS n,
                  GREATEST(total_length::float8 / NULLIF(chunks, 0), 1e-9) AS avg FROM state)
SELECT p.chunk_id,
       SUM(ln(1 + (s.n - q.df + 0.5) / (q.df + 0.5)) * p.tf * (%(k1)s + 1)
           / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.length / s.avg))) AS score
FROM q JOIN postings p ON p.term_id = q.id CROSS JOIN s
GROUP BY p.chunk_id
ORDER BY score DESC, p.chunk_id
LIMIT %(k)s
"""


def add(conn: psycopg.Connection[tuple], ids: Sequence[int],
        counts: Sequence[dict[str, int]], lengths: Sequence[int]) -> None:
    """Store the chunks' term counts and count them in their terms' document frequencies,
    inside the caller's transaction."""
    wanted = sorted({term for c in counts for term in c})
    conn.execute("INSERT INTO terms(term) SELECT unnest(%s::text[]) "
                 "ON CONFLICT (term) DO NOTHING", (wanted,))
    term_ids = dict(conn.execute("SELECT term, id FROM terms WHERE term = ANY(%s)",
                                 (wanted,)).fetchall())
    df: dict[int, int] = {}
    with conn.cursor() as cursor, cursor.copy(
            "COPY postings (term_id, chunk_id, tf, length) FROM STDIN") as copy:
        for chunk_id, chunk_counts, length in zip(ids, counts, lengths):
            for term, tf in chunk_counts.items():
                term_id = term_ids[term]
                df[term_id] = df.get(term_id, 0) + 1
                copy.write_row((term_id, chunk_id, tf, length))
    conn.execute("UPDATE terms t SET df = t.df + d.n FROM (SELECT unnest(%s::int[]) AS id, "
                 "unnest(%s::int[]) AS n) d WHERE t.id = d.id", (list(df), list(df.values())))


def remove(conn: psycopg.Connection[tuple], doc_id: str) -> None:
    """Take a document's chunks out of their terms' document frequencies, before its chunks
    (and with them their postings) are deleted in the caller's transaction."""
    conn.execute(
        "UPDATE terms t SET df = t.df - d.n FROM (SELECT p.term_id, COUNT(*) AS n FROM "
        "postings p JOIN chunks c ON c.id = p.chunk_id WHERE c.document_id = %s "
        "GROUP BY p.term_id) d WHERE t.id = d.term_id", (doc_id,))


def search(conn: psycopg.Connection[tuple], terms: Sequence[str],
           k: int) -> list[tuple[int, float]]:
    """(chunk id, BM25 score) of the k best chunks for the query's terms, best first."""
    rows = conn.execute(_SEARCH, {"terms": list(terms), "k": k, "k1": bm25.K1, "b": bm25.B})
    return [(int(chunk_id), float(score)) for chunk_id, score in rows]


def problems(conn: psycopg.Connection[tuple]) -> list[str]:
    """BM25's statistics that disagree with the chunks, one sentence each."""
    found = []
    row = conn.execute(
        "SELECT COUNT(*) FROM chunks c LEFT JOIN (SELECT chunk_id, SUM(tf) AS n FROM postings "
        "GROUP BY chunk_id) p ON p.chunk_id = c.id WHERE COALESCE(p.n, 0) != c.length").fetchone()
    if row and row[0]:
        found.append(f"{row[0]} chunks have missing or damaged term counts")
    row = conn.execute(
        "SELECT COUNT(*) FROM terms t LEFT JOIN (SELECT term_id, COUNT(*) AS n FROM postings "
        "GROUP BY term_id) p ON p.term_id = t.id WHERE t.df != COALESCE(p.n, 0)").fetchone()
    if row and row[0]:
        found.append(f"{row[0]} terms have a wrong document frequency")
    sizes = conn.execute("SELECT (SELECT COUNT(*) FROM chunks), (SELECT COALESCE(SUM(length), 0) "
                         "FROM chunks), chunks, total_length FROM state").fetchone()
    if sizes and sizes[:2] != sizes[2:]:
        found.append("the collection's size for BM25 does not match its chunks")
    return found
