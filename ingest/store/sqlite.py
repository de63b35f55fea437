"""The index on disk: SQLite for documents, chunks, vectors and term counts; FAISS and BM25 search.

SQLite is the source of truth. Each document is written in one transaction (its chunks, their
vectors and their term counts together), so a crash at any moment leaves the store as it was
before or after that document. The BM25 postings are built in memory from the stored term
counts when a search first needs them (ingest/bm25.py). The FAISS file is a cache named after
the store's generation, and its SHA-256 is recorded in SQLite when it is written; when it is
missing, stale (a crash before it was saved) or not byte for byte the file recorded (a damaged
block, another store's vectors or ids), it is rebuilt from the vectors in SQLite. It is
written to a temporary file and renamed, so no reader ever sees a half-written one. No pickle
anywhere: a shared index cannot run code.

The kind of FAISS index follows the collection's size: an exact inner-product index
(`IndexFlatIP`) up to `approximate_above` chunks, an inverted-file index (`IndexIVFFlat`, trained
on the stored vectors when it is built) above it. Both take removals, so replacing a document
never needs a rebuild. See docs/ingestion.md for the numbers behind the threshold.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import hashlib
import json
import math
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import faiss
import numpy as np

from ingest import bm25
from ingest.document import Chunk, DocumentMetadata
from meditron_rag.errors import (
    EmptyIndexError,
    IndexDamagedError,
    IndexError_,
    IndexFormatError,
    IndexLockedError,
)

FORMAT_VERSION = 1
DB_NAME = "store.sqlite"
LOCK_NAME = "write.lock"
INDEX_KINDS = ("auto", "flat", "ivf")
APPROXIMATE_ABOVE = 50_000  # chunks; "auto" switches to IVF at this size
_BATCH = 4096
_TABLES = ("meta", "documents", "chunks", "terms", "migrations")
_T = TypeVar("_T")


def sqlite_error(folder: Path, exc: sqlite3.Error) -> IndexError_:
    """The sentence for a failed SQLite call: a damaged file (malformed pages, a missing
    table) can only be rebuilt; anything else (a locked or failing disk) may pass."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and not any(
            word in text for word in ("no such", "malformed", "corrupt", "not a database")):
        return IndexError_(f"The index in {folder} cannot be used ({text}): check the disk and "
                           "that no other program holds the file, then try again.")
    return damaged(folder, text)


def damaged(folder: Path, what: str) -> IndexDamagedError:
    return IndexDamagedError(
        f"Index damaged in {folder} ({what}): run `meditron-rag ingest --rebuild DIR` on your "
        "documents' folder to build it anew."
    )


def _guarded(method: Callable[..., _T]) -> Callable[..., _T]:
    """A Store method whose SQLite errors become the one sentence that says what to do."""

    @functools.wraps(method)
    def guarded(self: Store, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise sqlite_error(self.folder, exc) from None

    return guarded


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
    its topic ("Treatment includes ...") is still found by a question that does. On MedQuAD
    this took BM25's recall@5 from 0.48 to 0.65 (scripts/retrieval_experiment.py)."""
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


def _m004_term_counts(db: sqlite3.Connection) -> None:
    """BM25 moves from SQLite FTS5 to in-memory postings (ingest/bm25.py): at 100K chunks FTS5
    took 84 ms to rank a question's terms, the postings take about one. Each chunk keeps its
    (term id, count) pairs; the vocabulary is a table of its own."""
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
    counts = [bm25.term_counts(row[1:]) for row in rows]
    vocabulary = _term_ids(db, {t for c in counts for t in c})
    db.executemany("UPDATE chunks SET terms=? WHERE id=?", [
        (bm25.encode_counts([vocabulary[t] for t in c], list(c.values())), row[0])
        for row, c in zip(rows, counts)
    ])


def _term_ids(db: sqlite3.Connection, wanted: set[str]) -> dict[str, int]:
    """Ids of `wanted` terms, adding those the vocabulary lacks (inside the caller's
    transaction)."""
    db.executemany("INSERT OR IGNORE INTO terms(term) VALUES (?)", [(t,) for t in wanted])
    return _known_terms(db, wanted)


def _known_terms(db: sqlite3.Connection, wanted: Sequence[str] | set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    wanted = list(wanted)
    for start in range(0, len(wanted), 500):
        batch = wanted[start:start + 500]
        rows = db.execute(
            f"SELECT term, id FROM terms WHERE term IN ({','.join('?' * len(batch))})", batch
        )
        found.update(rows.fetchall())
    return found


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m001_initial, _m002_chunk_id_counter, _m003_title_in_lexical_index, _m004_term_counts,
]


@dataclass(frozen=True)
class DocumentRecord:
    """A document as stored. `extra` holds front-matter keys such as topic and supersedes."""

    id: str
    path: str
    name: str
    kind: str
    sha256: str
    size_bytes: int
    pages: int
    paginated: bool
    title: str
    organisation: str
    date: str
    url: str
    licence: str
    extra: dict[str, str]
    warnings: list[str]
    chunk_count: int
    ingested_at: str

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with the document fields a citation needs."""

    id: int
    document_id: str
    ordinal: int
    text: str
    section: str
    start: int
    end: int
    page_start: int
    page_end: int
    char_start: int
    char_end: int


_DOC_COLUMNS = (
    "id, path, name, kind, sha256, size_bytes, pages, paginated, title, organisation, date, "
    "url, licence, extra, warnings, chunk_count, ingested_at"
)
_CHUNK_COLUMNS = (
    'id, document_id, ordinal, text, section, start, "end", page_start, page_end, '
    "char_start, char_end"
)


def _doc_from_row(row: Sequence[object]) -> DocumentRecord:
    values = list(row)
    values[7] = bool(values[7])
    values[13] = json.loads(str(values[13]))
    values[14] = json.loads(str(values[14]))
    return DocumentRecord(*values)  # type: ignore[arg-type]


def lock_folder(folder: Path, then: str) -> int:
    """Take the single-writer lock of the index in `folder`: a file descriptor, whose closing
    releases it. When another process holds it, say which and what to do `then`."""
    handle = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(handle, 64).decode(errors="replace").strip() or "another process"
        os.close(handle)
        raise IndexLockedError(
            f"The index in {folder} is being written by process {holder}; wait for that "
            f"ingest to finish and {then}."
        ) from None
    os.ftruncate(handle, 0)
    os.write(handle, str(os.getpid()).encode())
    return handle


class Store:
    """One index folder. Open with `Store.open(folder, model, dim)`; writers take `writing()`.

    `index_kind` is "auto" (exact up to `approximate_above` chunks, IVF above), "flat" or "ivf".
    """

    def __init__(self, folder: Path, db: sqlite3.Connection, dim: int, index_kind: str = "auto",
                 approximate_above: int = APPROXIMATE_ABOVE) -> None:
        if index_kind not in INDEX_KINDS:
            raise ValueError(f"index_kind must be one of {', '.join(INDEX_KINDS)}")
        self.folder = folder
        self.db = db
        self.dim = dim
        self.index_kind = index_kind
        self.approximate_above = approximate_above
        self._lock = threading.RLock()
        self._index: faiss.Index | None = None
        self._index_generation = -1
        self._index_on_disk = False  # whether the file for its generation holds this index
        self._postings: bm25.Postings | None = None
        self._postings_generation = -1
        self._lock_handle: int | None = None

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, embedding_model: str, dim: int, index_kind: str = "auto",
             approximate_above: int = APPROXIMATE_ABOVE) -> Store:
        """Open or create the store; refuse one written by another format or embedding model."""
        folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(folder / DB_NAME, check_same_thread=False, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            store = cls(folder, db, dim, index_kind, approximate_above)
            store._check_health()
            store._migrate()
            store._check_identity(embedding_model, dim)
            store._check_tables()
        except sqlite3.Error as exc:
            db.close()
            raise sqlite_error(folder, exc) from None
        except BaseException:
            db.close()
            raise
        return store

    def _check_health(self) -> None:
        """SQLite's quick_check of every page: 0.15 s on a 410 MB file of 100K chunks, so each
        open can afford it, and a damaged page is found here rather than mid-answer or, worse,
        under an ingest that goes on adding documents."""
        problems = [row[0] for row in self.db.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise damaged(self.folder, "; ".join(problems))

    def _check_tables(self) -> None:
        found = {row[0] for row in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        missing = [name for name in _TABLES if name not in found]
        if missing:
            raise damaged(self.folder, "no table " + ", ".join(missing))
        self.generation  # noqa: B018 - a readable generation, or the error now

    def _done_migrations(self) -> set[int]:
        self.db.execute("CREATE TABLE IF NOT EXISTS migrations (number INTEGER PRIMARY KEY)")
        self.db.commit()
        return {row[0] for row in self.db.execute("SELECT number FROM migrations")}

    def _migrate(self) -> None:
        done = self._done_migrations()
        if done and max(done) > len(MIGRATIONS):
            raise IndexFormatError(
                f"The index in {self.folder} was written by a newer meditron-rag (schema "
                f"{max(done)}, this one knows {len(MIGRATIONS)}): upgrade meditron-rag, or "
                f"rebuild it with `meditron-rag ingest --rebuild DIR` (or delete {self.folder})."
            )
        if len(done) == len(MIGRATIONS):
            return
        # Two processes opening a new store at once: one migrates, the other waits and sees it.
        handle = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            done = self._done_migrations()
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number in done:
                    continue
                with self.db:
                    migration(self.db)
                    self.db.execute("INSERT INTO migrations(number) VALUES (?)", (number,))
        finally:
            os.close(handle)  # closing the descriptor releases its lock

    def _check_identity(self, embedding_model: str, dim: int) -> None:
        meta = self.meta()
        if "format_version" not in meta:
            with self.db:
                self.db.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [("format_version", str(FORMAT_VERSION)), ("embedding_model", embedding_model),
                     ("embedding_dim", str(dim)), ("generation", "0")],
                )
            return
        rebuild = f"rebuild it with `meditron-rag ingest --rebuild DIR` (or delete {self.folder})"
        if meta.get("format_version") != str(FORMAT_VERSION):
            raise IndexFormatError(
                f"The index in {self.folder} has format {meta.get('format_version')}, this "
                f"meditron-rag reads format {FORMAT_VERSION}: {rebuild}."
            )
        if meta.get("embedding_model") != embedding_model or meta.get("embedding_dim") != str(dim):
            raise IndexFormatError(
                f"The index in {self.folder} was built with embedding model "
                f"'{meta.get('embedding_model')}' ({meta.get('embedding_dim')} dimensions), not "
                f"'{embedding_model}' ({dim}): set embedding.model back, or {rebuild}."
            )

    @_guarded
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

    # --- the writer lock ------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the single-writer lock, or say who holds it."""
        if self._lock_handle is not None:
            return
        self._lock_handle = lock_folder(self.folder, "run this again")

    def release(self) -> None:
        if self._lock_handle is not None:
            fcntl.flock(self._lock_handle, fcntl.LOCK_UN)
            os.close(self._lock_handle)
            self._lock_handle = None

    @contextlib.contextmanager
    def writing(self) -> Iterator[Store]:
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

    # --- documents -------------------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        rows = self._query(f"SELECT {_DOC_COLUMNS} FROM documents ORDER BY date DESC, id")
        return [_doc_from_row(r) for r in rows]

    def _one_document(self, column: str, value: str) -> DocumentRecord | None:
        rows = self._query(f"SELECT {_DOC_COLUMNS} FROM documents WHERE {column}=?", (value,))
        return _doc_from_row(rows[0]) if rows else None

    def document(self, doc_id: str) -> DocumentRecord | None:
        return self._one_document("id", doc_id)

    def document_by_path(self, path: str) -> DocumentRecord | None:
        return self._one_document("path", path)

    def document_by_hash(self, sha256: str) -> DocumentRecord | None:
        return self._one_document("sha256", sha256)

    def free_id(self, wanted: str, path: str) -> str:
        """`wanted`, or `wanted-2`, `-3`... if another path already uses it."""
        candidate, n = wanted, 1
        while True:
            rows = self._query("SELECT path FROM documents WHERE id=?", (candidate,))
            if not rows or rows[0][0] == path:
                return candidate
            n += 1
            candidate = f"{wanted}-{n}"

    @_guarded
    def put_document(
        self,
        doc_id: str,
        path: str,
        kind: str,
        sha256: str,
        size_bytes: int,
        pages: int,
        paginated: bool,
        metadata: DocumentMetadata,
        warnings: list[str],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
    ) -> None:
        """Insert or replace one document with its chunks and vectors, atomically."""
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        counts = [bm25.term_counts((c.text, c.section, metadata.title)) for c in chunks]
        with self._lock:
            with self.db:
                old_ids = self._delete_rows(doc_id)
                self.db.execute(
                    f"INSERT INTO documents({_DOC_COLUMNS}) VALUES ({','.join('?' * 17)})",
                    (
                        doc_id, path, Path(path).name, kind, sha256, size_bytes, pages,
                        int(paginated),
                        metadata.title, metadata.organisation, metadata.date, metadata.url,
                        metadata.licence, json.dumps(metadata.extra, sort_keys=True),
                        json.dumps(warnings), len(chunks),
                        datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    ),
                )
                first = int(self.db.execute(
                    "SELECT value FROM meta WHERE key='next_chunk_id'").fetchone()[0])
                ids = list(range(first, first + len(chunks)))
                vocabulary = _term_ids(self.db, {t for c in counts for t in c})
                self.db.executemany(
                    f"INSERT INTO chunks({_CHUNK_COLUMNS}, embedding, terms) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            chunk_id, doc_id, chunk.ordinal, chunk.text, chunk.section,
                            chunk.start, chunk.end, chunk.page_start, chunk.page_end,
                            chunk.char_start, chunk.char_end, vector.tobytes(),
                            bm25.encode_counts([vocabulary[t] for t in c], list(c.values())),
                        )
                        for chunk_id, chunk, vector, c in zip(ids, chunks, vectors, counts)
                    ],
                )
                self.db.execute("UPDATE meta SET value=? WHERE key='next_chunk_id'",
                                (str(first + len(chunks)),))
                self._bump_generation()
            # Still under the lock: a search in another thread must not see it half-changed.
            if self._index is not None:
                if old_ids:
                    self._index.remove_ids(np.asarray(old_ids, dtype=np.int64))
                if ids:
                    self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
                self._index_generation, self._index_on_disk = self.generation, False

    @_guarded
    def remove_document(self, doc_id: str) -> bool:
        with self._lock:
            with self.db:
                if self.document(doc_id) is None:
                    return False
                old_ids = self._delete_rows(doc_id)
                self._bump_generation()
            if self._index is not None:
                if old_ids:
                    self._index.remove_ids(np.asarray(old_ids, dtype=np.int64))
                self._index_generation, self._index_on_disk = self.generation, False
        return True

    def _delete_rows(self, doc_id: str) -> list[int]:
        rows = self.db.execute("SELECT id FROM chunks WHERE document_id=?", (doc_id,))
        old = [r[0] for r in rows]
        self.db.execute("DELETE FROM chunks WHERE document_id=?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        return old

    def _bump_generation(self) -> None:
        self.db.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'"
        )

    # --- chunks ----------------------------------------------------------------------------

    def chunk_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM chunks")[0][0])

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._query(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", list(ids))
        return {row[0]: ChunkRecord(*row) for row in rows}

    def document_chunks(self, doc_id: str) -> list[ChunkRecord]:
        rows = self._query(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE document_id=? ORDER BY ordinal", (doc_id,)
        )
        return [ChunkRecord(*row) for row in rows]

    # --- the vector index ------------------------------------------------------------------

    def _vector_path(self, generation: int) -> Path:
        return self.folder / f"vectors-{generation}.faiss"

    def wanted_kind(self, n: int, current: str | None = None) -> str:
        """"flat" or "ivf" for `n` chunks. Under "auto" an IVF index stays until the collection
        shrinks below 80 % of the threshold, so a size near it does not rebuild every run."""
        if self.index_kind != "auto":
            return self.index_kind
        if current == "ivf" and n >= 0.8 * self.approximate_above:
            return "ivf"
        return "ivf" if n >= self.approximate_above else "flat"

    def _fits(self, index: faiss.Index, n: int) -> bool:
        """Whether `index` is the kind this size wants (and an IVF one is not outgrown)."""
        kind = index_kind_of(index)
        if kind != self.wanted_kind(n, kind):
            return False
        if kind == "ivf":
            nlist = faiss.extract_index_ivf(index).nlist
            return _nlist(n) / 2 <= nlist <= _nlist(n) * 2
        return True

    @_guarded
    def vector_index(self) -> faiss.Index:
        """The FAISS index for the current generation: from its file, else rebuilt from SQLite
        (in one snapshot, so the index holds exactly that generation's chunks)."""
        with self._lock, self.snapshot():
            generation = self.generation
            if self._index is not None and self._index_generation == generation:
                return self._index
            count = self.chunk_count()
            path = self._vector_path(generation)
            index = self._read_cache(path, generation)
            if index is not None and (index.ntotal != count or index.d != self.dim
                                      or not self._fits(index, count)):
                index = None
            self._index_on_disk = index is not None
            if index is None:
                index = self._rebuild_index(count)
            _tune(index)
            self._index, self._index_generation = index, generation
            _return_freed_heap()
            return index

    def _read_cache(self, path: Path, generation: int) -> faiss.Index | None:
        """The FAISS file for `generation` if its bytes are the ones the writer recorded in
        SQLite, else None. A file with a flipped block, vectors or ids from elsewhere, or no
        recorded checksum (written before checksums) is never searched: it is rebuilt from the
        stored vectors, and a writer deletes it so the next save writes it anew."""
        if not path.exists():
            return None
        recorded = self.meta().get("vectors_sha256", "")
        index = None
        with contextlib.suppress(OSError, RuntimeError):  # RuntimeError: FAISS cannot parse it
            if recorded == f"{generation}:{_sha256(path)}":
                index = faiss.read_index(str(path))
        if index is not None and _outdated(index):  # a format no config uses
            index = None
        if index is None and self._lock_handle is not None:
            with contextlib.suppress(OSError):
                path.unlink()
        return index

    def _rebuild_index(self, count: int) -> faiss.Index:
        """A new index over every stored vector, streamed from SQLite (under `_lock`)."""
        kind = self.wanted_kind(count)
        if kind == "ivf" and count:
            nlist = _nlist(count)
            sample_size = min(count, nlist * 64)
            rows = self.db.execute(
                "SELECT embedding FROM chunks WHERE id IN "
                "(SELECT id FROM chunks ORDER BY random() LIMIT ?)", (sample_size,)
            ).fetchall()
            sample = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32)
            index = new_ivf_index(sample.reshape(len(rows), self.dim), nlist)
        else:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        cursor = self.db.execute("SELECT id, embedding FROM chunks ORDER BY id")
        while rows := cursor.fetchmany(_BATCH):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            index.add_with_ids(vecs.reshape(len(rows), self.dim), ids)
        return index

    @_guarded
    def save_vectors(self) -> None:
        """Write the FAISS cache for the current generation atomically; drop older ones.

        The file is written as `vectors-N.tmp`, flushed to disk and renamed: a crash leaves the
        old file or the new one, never half of one. When the cache for this generation is
        already on disk and nothing changed here, nothing is read or written.
        """
        with self._lock:
            generation = self.generation
            target = self._vector_path(generation)
            loaded = self._index is not None and self._index_generation == generation
            if not loaded and target.exists():
                self._drop_old_files(target)
                return
            index = self.vector_index()
            count = index.ntotal
            if not self._fits(index, count):  # grew past (or fell below) the threshold
                index = self._rebuild_index(count)
                _tune(index)
                self._index, self._index_on_disk = index, False
            if not self._index_on_disk:
                tmp = target.with_suffix(".tmp")
                faiss.write_index(index, str(tmp))
                with open(tmp, "rb") as handle:
                    os.fsync(handle.fileno())
                # Recorded before the rename: a reader never finds the new file without it.
                with self.db:
                    self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                    ("vectors_sha256", f"{generation}:{_sha256(tmp)}"))
                os.replace(tmp, target)
                self._index_on_disk = True
                directory = os.open(self.folder, os.O_RDONLY)
                try:
                    os.fsync(directory)  # the rename itself survives a power cut
                finally:
                    os.close(directory)
            self._drop_old_files(target)

    def _drop_old_files(self, keep: Path) -> None:
        for old in self.folder.glob("vectors-*.faiss"):
            if old != keep:
                old.unlink(missing_ok=True)
        for tmp in self.folder.glob("vectors-*.tmp"):
            tmp.unlink(missing_ok=True)

    def index_info(self) -> dict[str, object]:
        """What the vector index is: kind, vectors, and for IVF its lists and probes."""
        index = self.vector_index()
        info: dict[str, object] = {"kind": index_kind_of(index), "vectors": int(index.ntotal),
                                   "dim": self.dim}
        if info["kind"] == "ivf":
            ivf = faiss.extract_index_ivf(index)
            info.update(nlist=int(ivf.nlist), nprobe=int(ivf.nprobe))
        return info

    def verify(self) -> list[str]:
        """Problems in the store, one sentence each; [] when every document has all its chunks,
        every chunk a vector of the right size, and the FAISS index every vector."""
        problems = []
        rows = self._query(
            "SELECT d.id, d.chunk_count, COUNT(c.id) FROM documents d "
            "LEFT JOIN chunks c ON c.document_id = d.id GROUP BY d.id"
        )
        for doc_id, expected, found in rows:
            if expected != found:
                problems.append(f"{doc_id}: {found} chunks stored, {expected} expected")
        orphans = self._query(
            "SELECT COUNT(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)"
        )[0][0]
        if orphans:
            problems.append(f"{orphans} chunks belong to no document")
        bad = self._query("SELECT COUNT(*) FROM chunks WHERE length(embedding) != ?",
                          (self.dim * 4,))[0][0]
        if bad:
            problems.append(f"{bad} chunks have a vector of the wrong size")
        bad = self._query("SELECT COUNT(*) FROM chunks WHERE length(terms) % 8 != 0 "
                          "OR (length(terms) = 0 AND length(text) > 200)")[0][0]
        if bad:
            problems.append(f"{bad} chunks have no or damaged term counts")
        if self.vector_index().ntotal != self.chunk_count():
            problems.append("the vector index does not hold every chunk")
        return problems

    # --- search ----------------------------------------------------------------------------

    def dense_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks, best first."""
        index = self.vector_index()
        if index.ntotal == 0:
            raise EmptyIndexError(
                "The index is empty: add documents with `meditron-rag ingest FOLDER`."
            )
        scores, ids = index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    @_guarded
    def lexical_index(self) -> bm25.Postings:
        """BM25 postings for the current generation, built from the stored term counts."""
        with self._lock, self.snapshot():
            generation = self.generation
            if self._postings is not None and self._postings_generation == generation:
                return self._postings
            self._postings = None  # let the old one go before building the new
            # Batch by batch into arrays: 100K chunks' blobs held at once as Python objects
            # left ~110 MB of freed heap that the process kept for good.
            ids, lengths, parts = [], [], []
            cursor = self.db.execute("SELECT id, terms FROM chunks ORDER BY id")
            while rows := cursor.fetchmany(_BATCH):
                ids.extend(chunk_id for chunk_id, _ in rows)
                lengths.extend(len(blob) // 8 for _, blob in rows)
                parts.append(np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.int32))
                del rows
            pairs = np.concatenate(parts).reshape(-1, 2) if parts else np.zeros((0, 2), np.int32)
            del parts
            vocabulary = int(self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM terms")
                             .fetchone()[0])
            self._postings = bm25.build(np.asarray(ids, dtype=np.int64),
                                        np.asarray(lengths, dtype=np.int64), pairs, vocabulary)
            self._postings_generation = generation
            _return_freed_heap()
            return self._postings

    @_guarded
    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the k best chunks for query terms (ingest.bm25.query_terms),
        best first; chunks sharing no term with the query are not returned."""
        if not terms:
            return []
        postings = self.lexical_index()
        with self._lock:
            known = _known_terms(self.db, terms)
        rows, scores = bm25.top_k(bm25.score(postings, list(known.values())), k)
        return [(int(postings.chunk_ids[r]), float(s)) for r, s in zip(rows, scores)]


# --- FAISS helpers ---------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    """The file's SHA-256: 0.09 s for the 150 MB of 100K 384-dimension vectors (measured)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _return_freed_heap() -> None:
    """Hand the heap that building an index freed back to the OS (glibc's malloc_trim).

    glibc keeps freed small blocks for reuse; after the BM25 build at 100K chunks that was
    ~75 MB the process held for good, beside a 4 GB model. A no-op elsewhere.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _nlist(n: int) -> int:
    """Inverted lists for n vectors: about sqrt(n), with at least 39 training points per list."""
    return max(1, min(int(math.sqrt(n)), n // 39))


def _nprobe(nlist: int) -> int:
    """Lists searched per query: a quarter of them, 16 to 256 (see docs/ingestion.md for the
    recall this gives)."""
    return max(1, min(nlist, max(16, min(256, nlist // 4))))


def new_ivf_index(sample: np.ndarray, nlist: int) -> faiss.Index:
    """An empty inverted-file index (inner product) trained on `sample`; it takes ids and
    removals. Vectors are kept as float16: half the memory of float32 (77 MB less at 100K
    chunks of 384 dimensions) for a rounding far below the distances that rank them."""
    dim = sample.shape[1]
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                          faiss.METRIC_INNER_PRODUCT, False)
    index.cp.spherical = True  # unit vectors: centroids on the sphere
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.nprobe = _nprobe(nlist)
    return index


def _outdated(index: faiss.Index) -> bool:
    """An IVF index with float32 vectors, as written before 2026-11-25 (see new_ivf_index)."""
    return index_kind_of(index) == "ivf" and not isinstance(
        faiss.downcast_index(faiss.extract_index_ivf(index)), faiss.IndexIVFScalarQuantizer)


def index_kind_of(index: faiss.Index) -> str:
    """"ivf" for an inverted-file index, "flat" for the exact one."""
    try:
        faiss.extract_index_ivf(index)
    except RuntimeError:
        return "flat"
    return "ivf"


def _tune(index: faiss.Index) -> None:
    if index_kind_of(index) == "ivf":
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = _nprobe(ivf.nlist)
