"""The SQLite schema, changed only by numbered migrations, each recorded in `migrations` once
run, and the format and embedding model recorded in `meta`. An index written by a newer
version (a migration this one lacks), in another format or by another model is refused with
the fix, not misread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ingest.store.base import Embedding, recorded_identity
from ingest.store.health import damaged
from ingest.store.lexical import encode_terms
from ingest.store.lock import waiting_for_lock
from ingest.store.records import Identity, page_confidences
from meditron_rag.errors import IndexFormatError

FORMAT_VERSION = 1
DB_NAME = "store.sqlite"


def _m001_initial(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS documents (
            id TEXT PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            pages INTEGER NOT NULL,
            paginated INTEGER NOT NULL,
            title TEXT NOT NULL,
            organisation TEXT NOT NULL,
            date TEXT NOT NULL,
            url TEXT NOT NULL,
            licence TEXT NOT NULL,
            extra TEXT NOT NULL,
            warnings TEXT NOT NULL,
            chunk_count INTEGER NOT NULL,
            ingested_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS chunks (
            id INTEGER PRIMARY KEY,
            document_id TEXT NOT NULL REFERENCES documents(id),
            ordinal INTEGER NOT NULL,
            text TEXT NOT NULL,
            section TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            page_start INTEGER NOT NULL,
            page_end INTEGER NOT NULL,
            char_start INTEGER NOT NULL,
            char_end INTEGER NOT NULL,
            embedding BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_id, ordinal);
        CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
            text, section, content='chunks', content_rowid='id', tokenize='porter unicode61'
        );
        CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts(rowid, text, section) VALUES (new.id, new.text, new.section);
        END;
        CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, text, section)
            VALUES ('delete', old.id, old.text, old.section);
        END;
        """
    )


def _m002_chunk_id_counter(db: sqlite3.Connection) -> None:
    """Chunk ids are never reused: a citation or a reader's older index cannot point at the
    text of a newer chunk. SQLite would reuse the highest id after a delete; a counter does not.
    """
    db.execute(
        "INSERT OR REPLACE INTO meta(key, value) "
        "SELECT 'next_chunk_id', CAST(COALESCE(MAX(id), 0) + 1 AS TEXT) FROM chunks"
    )


def _m003_title_in_lexical_index(db: sqlite3.Connection) -> None:
    """The lexical index also holds each chunk's document title: a passage that never names
    its topic ("Treatment includes ...") is still found by a question that does, which raised
    BM25's recall on MedQuAD's lay questions (scripts/retrieval_experiment.py)."""
    db.executescript(
        """
        DROP TRIGGER IF EXISTS chunks_ai;
        DROP TRIGGER IF EXISTS chunks_ad;
        DROP TABLE IF EXISTS chunks_fts;
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
            text, section, title, tokenize='porter unicode61'
        );
        INSERT INTO chunks_fts(rowid, text, section, title)
            SELECT c.id, c.text, c.section, d.title
            FROM chunks c JOIN documents d ON d.id = c.document_id;
        CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts(rowid, text, section, title) VALUES (
                new.id, new.text, new.section,
                (SELECT title FROM documents WHERE id = new.document_id));
        END;
        CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
            DELETE FROM chunks_fts WHERE rowid = old.id;
        END;
        """
    )


def _m004_term_counts(db: sqlite3.Connection) -> None:
    """BM25 moves from SQLite FTS5 to in-memory postings (ingest/bm25.py), which rank a
    question's terms far faster on a large index. Each chunk keeps its (term id, count) pairs;
    the vocabulary is a table of its own."""
    db.executescript(
        """
        DROP TRIGGER IF EXISTS chunks_ai;
        DROP TRIGGER IF EXISTS chunks_ad;
        DROP TABLE IF EXISTS chunks_fts;
        CREATE TABLE terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
        ALTER TABLE chunks ADD COLUMN terms BLOB NOT NULL DEFAULT x'';
        """
    )
    rows = db.execute(
        "SELECT c.id, c.text, c.section, d.title FROM chunks c JOIN documents d "
        "ON d.id = c.document_id"
    ).fetchall()
    blobs = encode_terms(db, [row[1:] for row in rows])
    db.executemany("UPDATE chunks SET terms=? WHERE id=?",
                   [(blob, row[0]) for row, blob in zip(rows, blobs)])


def _m005_ocr_words(db: sqlite3.Connection) -> None:
    """OCR'd pages keep their words' boxes and confidences (ingest/page_words.py), so the page
    viewer boxes a cited sentence on a scan; each chunk keeps the mean confidence of its OCR'd
    words (NULL: read from a text layer). A chunk of a document OCR'd before this gets the
    mean of its pages' confidences, which the document recorded; its boxes need a new ingest."""
    db.executescript(
        """
        ALTER TABLE chunks ADD COLUMN ocr_confidence REAL;
        CREATE TABLE page_words (
            document_id TEXT NOT NULL REFERENCES documents(id),
            page INTEGER NOT NULL,
            words BLOB NOT NULL,
            PRIMARY KEY (document_id, page)
        );
        """
    )
    for doc_id, extra in db.execute("SELECT id, extra FROM documents").fetchall():
        pages = page_confidences(json.loads(extra))
        if not pages:
            continue
        for chunk_id, first, last in db.execute(
                "SELECT id, page_start, page_end FROM chunks WHERE document_id=?",
                (doc_id,)).fetchall():
            found = [pages[n] for n in range(first, last + 1) if n in pages]
            if found:
                db.execute("UPDATE chunks SET ocr_confidence=? WHERE id=?",
                           (round(sum(found) / len(found), 3), chunk_id))


def _m006_chunking(db: sqlite3.Connection) -> None:
    """Each document records how its chunks were made (`Chunker.recipe`). Those of an older
    index record nothing, so the next ingest of their files chunks them anew."""
    db.execute("ALTER TABLE documents ADD COLUMN chunking TEXT NOT NULL DEFAULT ''")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m001_initial, _m002_chunk_id_counter, _m003_title_in_lexical_index, _m004_term_counts,
    _m005_ocr_words, _m006_chunking,
]


def _done(db: sqlite3.Connection) -> set[int]:
    db.execute("CREATE TABLE IF NOT EXISTS migrations (number INTEGER PRIMARY KEY)")
    db.commit()
    return {row[0] for row in db.execute("SELECT number FROM migrations")}


def migrate(db: sqlite3.Connection, folder: Path) -> None:
    """Run the migrations `db` lacks, each in its own transaction."""
    done = _done(db)
    if done and max(done) > len(MIGRATIONS):
        raise IndexFormatError(
            f"The index in {folder} was written by a newer meditron-rag (schema "
            f"{max(done)}, this one knows {len(MIGRATIONS)}): upgrade meditron-rag, or "
            f"rebuild it with `meditron-rag ingest --rebuild DIR` (or delete {folder})."
        )
    if len(done) == len(MIGRATIONS):
        return
    with waiting_for_lock(folder):
        done = _done(db)
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number in done:
                continue
            with db:
                migration(db)
                db.execute("INSERT INTO migrations(number) VALUES (?)", (number,))


def check_identity(db: sqlite3.Connection, folder: Path, embedder: Embedding | None) -> Identity:
    """The embedding model recorded in the index, checked against `embedder` when one is
    given. A new index records `embedder`'s; one opened without a model, nothing (its identity
    is then empty: no name, 0 dimensions)."""
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    if "format_version" not in meta:
        if embedder is None:
            return Identity("", 0)
        with db:
            db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
                ("format_version", str(FORMAT_VERSION)), ("embedding_model", embedder.name),
                ("embedding_dim", str(embedder.dim)), ("generation", "0")])
        return Identity(embedder.name, embedder.dim)
    rebuild = f"rebuild it with `meditron-rag ingest --rebuild DIR` (or delete {folder})"
    try:
        return recorded_identity(meta, str(folder), FORMAT_VERSION, embedder, rebuild)
    except ValueError:
        dim = meta.get("embedding_dim")
        raise damaged(folder, f"embedding dimension {dim!r}") from None
