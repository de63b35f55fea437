"""The index on disk: SQLite for documents, chunks, vectors and the lexical index; FAISS for search.

SQLite is the source of truth. Each document is written in one transaction (its chunks, their
vectors and their full-text rows together), so a crash at any moment leaves the store as it was
before or after that document. The FAISS file is a cache named after the store's generation;
when it is missing or stale (a crash before it was saved) it is rebuilt from the vectors in
SQLite. No pickle anywhere: a shared index cannot run code.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np

from ingest.document import Chunk, DocumentMetadata
from meditron_rag.errors import EmptyIndexError, IndexFormatError, IndexLockedError

FORMAT_VERSION = 1
DB_NAME = "store.sqlite"
LOCK_NAME = "write.lock"


def _m001_initial(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE documents (
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
        CREATE TABLE chunks (
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
        CREATE INDEX chunks_document ON chunks(document_id, ordinal);
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
            text, section, content='chunks', content_rowid='id', tokenize='porter unicode61'
        );
        CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts(rowid, text, section) VALUES (new.id, new.text, new.section);
        END;
        CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, text, section)
            VALUES ('delete', old.id, old.text, old.section);
        END;
        """
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m001_initial]


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


class Store:
    """One index folder. Open with `Store.open(folder, model, dim)`; writers take `writing()`."""

    def __init__(self, folder: Path, db: sqlite3.Connection, dim: int) -> None:
        self.folder = folder
        self.db = db
        self.dim = dim
        self._lock = threading.RLock()
        self._index: faiss.Index | None = None
        self._index_generation = -1
        self._lock_handle: int | None = None

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, embedding_model: str, dim: int) -> Store:
        """Open or create the store; refuse one written by another format or embedding model."""
        folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(folder / DB_NAME, check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        store = cls(folder, db, dim)
        store._migrate()
        store._check_identity(embedding_model, dim)
        return store

    def _migrate(self) -> None:
        with self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS migrations (number INTEGER PRIMARY KEY)")
        done = {row[0] for row in self.db.execute("SELECT number FROM migrations")}
        if done and max(done) > len(MIGRATIONS):
            raise IndexFormatError(
                f"The index in {self.folder} was written by a newer meditron-rag (schema "
                f"{max(done)}); upgrade meditron-rag, or rebuild it with "
                f"`meditron-rag ingest --rebuild`."
            )
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number in done:
                continue
            with self.db:
                migration(self.db)
                self.db.execute("INSERT INTO migrations(number) VALUES (?)", (number,))

    def _check_identity(self, embedding_model: str, dim: int) -> None:
        meta = self.meta()
        if not meta:
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

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """Read under the store's lock: one connection is shared by the app's threads."""
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def meta(self) -> dict[str, str]:
        return dict(self._query("SELECT key, value FROM meta"))

    @property
    def generation(self) -> int:
        rows = self._query("SELECT value FROM meta WHERE key='generation'")
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        self.release()
        self.db.close()

    # --- the writer lock ------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the single-writer lock, or say who holds it."""
        if self._lock_handle is not None:
            return
        path = self.folder / LOCK_NAME
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 64).decode(errors="replace").strip() or "another process"
            os.close(handle)
            raise IndexLockedError(
                f"The index in {self.folder} is being written by process {holder}; wait for that "
                "ingest to finish and run this again."
            ) from None
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        self._lock_handle = handle

    def release(self) -> None:
        if self._lock_handle is not None:
            fcntl.flock(self._lock_handle, fcntl.LOCK_UN)
            os.close(self._lock_handle)
            self._lock_handle = None

    @contextlib.contextmanager
    def writing(self) -> Iterator[Store]:
        """Hold the writer lock; save the vector cache on the way out, even after an error."""
        self.acquire()
        try:
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
        with self._lock, self.db:
            old_ids = self._delete_rows(doc_id)
            self.db.execute(
                f"INSERT INTO documents({_DOC_COLUMNS}) VALUES ({','.join('?' * 17)})",
                (
                    doc_id, path, Path(path).name, kind, sha256, size_bytes, pages, int(paginated),
                    metadata.title, metadata.organisation, metadata.date, metadata.url,
                    metadata.licence, json.dumps(metadata.extra, sort_keys=True),
                    json.dumps(warnings), len(chunks),
                    datetime.now(timezone.utc).isoformat(timespec="seconds"),
                ),
            )
            ids = []
            for chunk, vector in zip(chunks, vectors):
                cursor = self.db.execute(
                    f"INSERT INTO chunks({_CHUNK_COLUMNS}, embedding) "
                    "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        doc_id, chunk.ordinal, chunk.text, chunk.section, chunk.start, chunk.end,
                        chunk.page_start, chunk.page_end, chunk.char_start, chunk.char_end,
                        vector.tobytes(),
                    ),
                )
                ids.append(cursor.lastrowid)
            self._bump_generation()
        if self._index is not None:
            if old_ids:
                self._index.remove_ids(np.asarray(old_ids, dtype=np.int64))
            if ids:
                self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
            self._index_generation = self.generation

    def remove_document(self, doc_id: str) -> bool:
        with self._lock, self.db:
            if self.document(doc_id) is None:
                return False
            old_ids = self._delete_rows(doc_id)
            self._bump_generation()
        if self._index is not None:
            if old_ids:
                self._index.remove_ids(np.asarray(old_ids, dtype=np.int64))
            self._index_generation = self.generation
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

    # --- search ----------------------------------------------------------------------------

    def _vector_path(self, generation: int) -> Path:
        return self.folder / f"vectors-{generation}.faiss"

    def vector_index(self) -> faiss.Index:
        """The FAISS index for the current generation: from its file, else rebuilt from SQLite."""
        with self._lock:
            generation = self.generation
            if self._index is not None and self._index_generation == generation:
                return self._index
            path = self._vector_path(generation)
            index = None
            if path.exists():
                try:
                    index = faiss.read_index(str(path))
                except RuntimeError:
                    index = None
                if index is not None and index.ntotal != self.chunk_count():
                    index = None
            if index is None:
                index = self._rebuild_index()
            self._index, self._index_generation = index, generation
            return index

    def _rebuild_index(self) -> faiss.Index:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        cursor = self.db.execute("SELECT id, embedding FROM chunks ORDER BY id")  # under _lock
        while rows := cursor.fetchmany(4096):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            index.add_with_ids(vecs.reshape(len(rows), self.dim), ids)
        return index

    def save_vectors(self) -> None:
        """Write the FAISS cache for the current generation atomically; drop older ones."""
        with self._lock:
            index = self.vector_index()
            generation = self._index_generation
            target = self._vector_path(generation)
            if not target.exists():
                tmp = target.with_suffix(".tmp")
                faiss.write_index(index, str(tmp))
                with open(tmp, "rb") as handle:
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            for old in self.folder.glob("vectors-*.faiss"):
                if old != target:
                    old.unlink(missing_ok=True)
            for tmp in self.folder.glob("vectors-*.tmp"):
                tmp.unlink(missing_ok=True)

    def dense_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks, best first."""
        index = self.vector_index()
        if index.ntotal == 0:
            raise EmptyIndexError(
                "The index is empty: add documents with `meditron-rag ingest FOLDER`."
            )
        scores, ids = index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def lexical_search(self, match: str, k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) for an FTS5 MATCH expression, best first (higher is better)."""
        if not match:
            return []
        rows = self._query(
            "SELECT rowid, bm25(chunks_fts) AS s FROM chunks_fts WHERE chunks_fts MATCH ? "
            "ORDER BY s LIMIT ?",
            (match, k),
        )
        return [(int(r[0]), -float(r[1])) for r in rows]
