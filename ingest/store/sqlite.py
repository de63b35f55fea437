"""The embedded store: SQLite for documents, chunks, vectors and term counts, with a FAISS
cache of the vectors (ingest/store/vectors.py) and in-memory BM25 postings
(ingest/store/lexical.py).

SQLite is the source of truth. Each document is written in one transaction (its chunks, their
vectors and their term counts together), so a crash at any moment leaves the store as it was
before or after that document. One connection is shared by a process's threads under one lock;
SQLite's write-ahead log lets other processes read while a writer commits.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import faiss
import numpy as np

from ingest.document import Chunk
from ingest.store import health, lexical
from ingest.store.base import Embedding, Store
from ingest.store.health import damaged, guarded, sqlite_error
from ingest.store.lock import lock_folder, unlock
from ingest.store.migrations import DB_NAME, check_identity, migrate
from ingest.store.postings import LivePostings
from ingest.store.records import (
    CHUNK_COLUMNS,
    CHUNK_FIELDS,
    DOCUMENT_COLUMNS,
    ChunkRecord,
    DocumentRecord,
    Identity,
    chunk_from_row,
    document_from_row,
)
from ingest.store.vectors import VectorCache, describe, nearest
from meditron_rag.config import IndexConfig
from meditron_rag.errors import EmptyIndexError


def document_count(folder: Path) -> int:
    """Documents in the store in `folder` (0 if there is none), read without opening it as a
    writer or loading an embedding model."""
    path = folder / DB_NAME
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.DatabaseError:
        return 0
    finally:
        db.close()


class SQLiteStore(Store):
    """One index folder: `store.sqlite`, the `vectors-N.faiss` cache and `write.lock`.

    Open with `SQLiteStore.open(folder, settings, embedder=...)`; writers take `writing()`.
    """

    def __init__(self, folder: Path, db: sqlite3.Connection, settings: IndexConfig,
                 identity: Identity) -> None:
        self.folder = folder
        self.db = db
        self.settings = settings
        self._identity = identity
        self._lock = threading.RLock()
        self._vectors = VectorCache(folder, identity.dim, settings)
        self._lexical = LivePostings()
        self._lock_handle: int | None = None

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, settings: IndexConfig | None = None, *,
             embedder: Embedding | None = None) -> SQLiteStore:
        """Open or create the store; refuse one written by another format or embedding model.

        Without an `embedder` the store takes the identity recorded in it, enough to list,
        read and remove documents without loading a model.
        """
        folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(folder / DB_NAME, check_same_thread=False, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            health.check_pages(db, folder)
            migrate(db, folder)
            identity = check_identity(db, folder, embedder)
            health.check_tables(db, folder)
            store = cls(folder, db, settings or IndexConfig(), identity)
            store.generation  # noqa: B018 - a readable generation, or the error now
        except sqlite3.Error as exc:
            db.close()
            raise sqlite_error(folder, exc) from None
        except BaseException:
            db.close()
            raise
        return store

    @property
    def location(self) -> str:
        return str(self.folder)

    @property
    def identity(self) -> Identity:
        return self._identity

    @property
    def dim(self) -> int:
        return self._identity.dim

    @guarded
    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """Read under the store's lock: one connection is shared by the app's threads."""
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees one generation: one SQLite read transaction, held under the
        store's lock. A search reads documents and chunks in one, so a writer committing in
        between cannot hand it a chunk whose document it has not read."""
        with self._lock:
            if self.db.in_transaction:  # already inside one (a writer's own reads)
                yield
                return
            self.db.execute("BEGIN")
            try:
                yield
            finally:
                self.db.execute("COMMIT")

    def meta(self) -> dict[str, str]:
        return dict(self._query("SELECT key, value FROM meta"))

    @property
    def generation(self) -> int:
        rows = self._query("SELECT value FROM meta WHERE key='generation'")
        if not rows:
            return 0
        try:
            return int(rows[0][0])
        except ValueError:
            raise damaged(self.folder, f"generation {rows[0][0]!r}") from None

    def close(self) -> None:
        self.release()
        self.db.close()

    # --- the writer lock ---------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the single-writer lock, or say who holds it."""
        if self._lock_handle is None:
            self._lock_handle = lock_folder(self.folder, "run this again")

    def release(self) -> None:
        if self._lock_handle is not None:
            unlock(self._lock_handle)
            self._lock_handle = None

    @contextlib.contextmanager
    def writing(self) -> Iterator[SQLiteStore]:
        """Hold the writer lock; save the vector cache on the way out, even after an error.

        The vector index is loaded first, so each document then updates it in place.
        """
        self.acquire()
        try:
            self.vector_index()
            yield self
        finally:
            try:
                self.save_vectors()
            finally:
                self.release()

    # --- documents ---------------------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        rows = self._query(f"SELECT {DOCUMENT_COLUMNS} FROM documents ORDER BY date DESC, id")
        return [document_from_row(r) for r in rows]

    def _one_document(self, column: str, value: str) -> DocumentRecord | None:
        rows = self._query(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE {column}=?", (value,))
        return document_from_row(rows[0]) if rows else None

    @guarded
    def _put(self, row: tuple[object, ...], chunks: Sequence[Chunk], vectors: np.ndarray,
             title: str, pages: Mapping[int, bytes]) -> None:
        doc_id = str(row[0])
        with self._lock:
            with self.db:
                old_ids = self._delete_rows(doc_id)
                marks = ",".join("?" * len(row))
                self.db.execute(f"INSERT INTO documents({DOCUMENT_COLUMNS}) VALUES ({marks})",
                                row)
                first = int(self.db.execute(
                    "SELECT value FROM meta WHERE key='next_chunk_id'").fetchone()[0])
                ids = list(range(first, first + len(chunks)))
                terms = lexical.encode_terms(
                    self.db, [(c.text, c.section, title) for c in chunks])
                self.db.executemany(
                    f"INSERT INTO chunks({CHUNK_COLUMNS}, embedding, terms) "
                    f"VALUES ({','.join('?' * (len(CHUNK_FIELDS) + 2))})",
                    [
                        (
                            chunk_id, doc_id, chunk.ordinal, chunk.text, chunk.section,
                            chunk.start, chunk.end, chunk.page_start, chunk.page_end,
                            chunk.char_start, chunk.char_end, chunk.ocr_confidence,
                            vector.tobytes(), blob,
                        )
                        for chunk_id, chunk, vector, blob in zip(ids, chunks, vectors, terms)
                    ],
                )
                self.db.executemany(
                    "INSERT INTO page_words(document_id, page, words) VALUES (?, ?, ?)",
                    [(doc_id, number, words) for number, words in pages.items()])
                self.db.execute("UPDATE meta SET value=? WHERE key='next_chunk_id'",
                                (str(first + len(chunks)),))
                self._bump_generation()
            # Still under the lock: a search in another thread must not see it half-changed.
            self._vectors.update(self.generation, old_ids, ids, vectors)

    @guarded
    def remove_document(self, doc_id: str) -> bool:
        with self._lock:
            with self.db:
                if self.document(doc_id) is None:
                    return False
                old_ids = self._delete_rows(doc_id)
                self._bump_generation()
            self._vectors.update(self.generation, old_ids, [], np.zeros((0, self.dim)))
        return True

    def _delete_rows(self, doc_id: str) -> list[int]:
        rows = self.db.execute("SELECT id FROM chunks WHERE document_id=?", (doc_id,))
        old = [r[0] for r in rows]
        self.db.execute("DELETE FROM chunks WHERE document_id=?", (doc_id,))
        self.db.execute("DELETE FROM page_words WHERE document_id=?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        return old

    def _bump_generation(self) -> None:
        self.db.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'"
        )

    # --- chunks ------------------------------------------------------------------------------

    def chunk_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM chunks")[0][0])

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._query(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", list(ids))
        return {row[0]: chunk_from_row(row) for row in rows}

    def document_chunks(self, doc_id: str) -> list[ChunkRecord]:
        rows = self._query(
            f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE document_id=? ORDER BY ordinal", (doc_id,)
        )
        return [chunk_from_row(row) for row in rows]

    def _page_blobs(self, doc_id: str, page: int | None) -> dict[int, bytes]:
        rows = self._query("SELECT page, words FROM page_words WHERE document_id=? "
                           "AND (? IS NULL OR page=?) ORDER BY page", (doc_id, page, page))
        return {int(number): bytes(words) for number, words in rows}

    def document_vectors(self, doc_id: str) -> np.ndarray:
        rows = self._query("SELECT embedding FROM chunks WHERE document_id=? ORDER BY ordinal",
                           (doc_id,))
        return np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32).reshape(
            len(rows), self.dim).copy()

    # --- vectors -----------------------------------------------------------------------------

    @guarded
    def vector_index(self) -> faiss.Index:
        """The FAISS index for the current generation: from its file, else rebuilt from SQLite
        (in one snapshot, so the index holds exactly that generation's chunks)."""
        with self._lock, self.snapshot():
            return self._vectors.load(self.db, self.generation,
                                      self.meta().get("vectors_sha256", ""),
                                      writer=self._lock_handle is not None)

    @guarded
    def save_vectors(self) -> None:
        """Write the FAISS cache for the current generation atomically; drop older ones."""
        with self._lock:
            self._vectors.save(self.db, self.generation, self.vector_index)

    def dense_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        index = self.vector_index()
        if index.ntotal == 0:
            raise EmptyIndexError(
                "The index is empty: add documents with `meditron-rag ingest FOLDER`."
            )
        return nearest(index, query, k)

    def index_info(self) -> dict[str, object]:
        return describe(self.vector_index())

    def verify(self) -> list[str]:
        problems = health.row_problems(self._query, self.dim)
        if self.vector_index().ntotal != self.chunk_count():
            problems.append("the vector index does not hold every chunk")
        return problems

    # --- lexical -----------------------------------------------------------------------------

    @guarded
    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        if not terms:
            return []
        with self._lock:
            with self.snapshot():
                self._lexical.refresh(lexical.ChunkTerms(self.db), self.generation)
                known = lexical.known_terms(self.db, terms)
            return self._lexical.search(list(known.values()), k)
