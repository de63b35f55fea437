"""The shared store: PostgreSQL with pgvector, for several app servers and an ingest at once.

Everything lives in the database (ingest/store/postgres_schema.py): documents, chunks with
their vectors in a pgvector column under an HNSW index and their term counts. Lexical search
is our BM25 (ingest/bm25.py) over postings each process holds from those counts and brings up
to date, reading only the chunks written or removed, when the store's generation moves
(ingest/store/postings.py, postgres_terms.py), so it scores as the embedded store does
and every reader sees each committed document. A document's chunks go in by one binary COPY,
vectors in pgvector's binary form. Each document is written in one transaction; writers are
serialised by an advisory lock, which PostgreSQL drops when its session ends however it ends;
readers take a REPEATABLE READ snapshot and are never blocked. One connection is shared by a
process's threads under one lock, as in the embedded store.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Concatenate, ParamSpec, TypeVar

import numpy as np
import psycopg
from psycopg.pq import TransactionStatus

from ingest import bm25
from ingest.document import Chunk
from ingest.store import postgres_terms
from ingest.store.base import Embedding, Store
from ingest.store.postgres_schema import (
    LOCK_SPACE,
    WRITER,
    check_identity,
    connect,
    create_vector_index,
    migrate,
    register_vector,
)
from ingest.store.postings import LivePostings
from ingest.store.records import (
    CHUNK_COLUMNS,
    DOCUMENT_COLUMNS,
    ChunkRecord,
    DocumentRecord,
    Identity,
    chunk_from_row,
    document_from_row,
)
from meditron_rag.config import StoreConfig, redact
from meditron_rag.errors import EmptyIndexError, IndexError_, IndexLockedError

# The types of CHUNK_FIELDS' columns, for binary COPY.
_CHUNK_TYPES: list[int | str] = ["bigint", "text", "integer", "text", "text", "integer",
                                 "integer", "integer", "integer", "integer", "integer",
                                 "float8"]
_EF_SEARCH_MAX = 1000  # pgvector's ceiling for hnsw.ef_search

_P = ParamSpec("_P")
_T = TypeVar("_T")


def guarded(method: Callable[Concatenate[PostgresStore, _P], _T]
            ) -> Callable[Concatenate[PostgresStore, _P], _T]:
    """A store method whose database errors become one sentence, the password never in it."""

    @functools.wraps(method)
    def wrapper(self: PostgresStore, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            raise IndexError_(
                f"The index in {self.location} cannot be used ({redact(str(exc).strip())}): "
                "check that the database server runs and is reachable, then try again."
            ) from None

    return wrapper


def _vector(values: np.ndarray) -> str:
    """A vector as pgvector's text form; float32 values print back exactly."""
    return "[" + ",".join(map(repr, np.asarray(values, dtype=np.float32).tolist())) + "]"


class PostgresStore(Store):
    """One PostgreSQL database. Open with `PostgresStore.open(settings, embedder=...)`;
    writers take `writing()`."""

    def __init__(self, conn: psycopg.Connection[tuple], settings: StoreConfig,
                 identity: Identity, vector_oid: int) -> None:
        self.conn = conn
        self.settings = settings
        self._identity = identity
        self._location = redact(settings.url or "")
        self._lock = threading.RLock()
        self._writer = False
        self._lexical = LivePostings()
        self._vector_oid = vector_oid

    @classmethod
    def open(cls, settings: StoreConfig, *, embedder: Embedding | None = None) -> PostgresStore:
        """Connect, migrate, and refuse a database of another format or embedding model.
        Without an `embedder` the store takes the identity recorded in it."""
        conn = connect(settings)
        location = redact(settings.url or "")
        try:
            migrate(conn, location)
            identity = check_identity(conn, location, embedder, settings)
            vector_oid = register_vector(conn)
        except psycopg.Error as exc:
            conn.close()
            raise IndexError_(f"The index in {location} cannot be opened "
                              f"({redact(str(exc).strip())}).") from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, settings, identity, vector_oid)

    @property
    def location(self) -> str:
        return self._location

    @property
    def identity(self) -> Identity:
        return self._identity

    @guarded
    def _query(self, sql: str, params: Sequence[object] | dict[str, object] = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees one committed state: a REPEATABLE READ transaction, which
        neither waits for a writer nor holds one up."""
        with self._lock:
            if self.conn.info.transaction_status != TransactionStatus.IDLE:
                yield  # already inside one (a writer's own reads)
                return
            with self.conn.transaction():
                self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield

    @property
    def generation(self) -> int:
        return int(self._query("SELECT generation FROM state")[0][0])

    def close(self) -> None:
        with self._lock:
            if not self.conn.closed:
                self.release()
                self.conn.close()

    # --- the writer lock ---------------------------------------------------------------------

    @guarded
    def acquire(self) -> None:
        """Take the single-writer lock, or say which process holds it."""
        with self._lock:
            if self._writer:
                return
            taken = self.conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                      (LOCK_SPACE, WRITER)).fetchone()
            if not (taken and taken[0]):
                holder = self.conn.execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.classid = %s AND l.objid = %s AND l.objsubid = 2 "
                    "AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())", (LOCK_SPACE, WRITER)).fetchone()
                who = (holder[0] if holder and holder[0] else "another process")
                raise IndexLockedError(
                    f"The index in {self.location} is being written by "
                    f"{who.removeprefix('meditron-rag ')}; wait for that ingest to finish and "
                    "run this again."
                )
            self._writer = True

    @guarded
    def release(self) -> None:
        with self._lock:
            if self._writer:
                self._writer = False
                self.conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SPACE, WRITER))

    @contextlib.contextmanager
    def writing(self) -> Iterator[PostgresStore]:
        self.acquire()
        try:
            if self._vector_index_missing():  # a filling that stopped before building it
                self._build_vector_index()
            yield self
        finally:
            self.release()

    @contextlib.contextmanager
    def filling(self) -> Iterator[None]:
        """Filling an empty database: the HNSW index is dropped and built in one pass at the
        end (even after an error), several times faster than inserting each vector into the
        graph. Until it is built, dense search scans every vector: exact, only slower. A
        store that already holds chunks keeps its index and grows it."""
        with self._lock:
            deferred = self._writer and not self.chunk_count()
            if deferred:
                self.conn.execute("DROP INDEX IF EXISTS chunks_embedding")
        try:
            yield
        finally:
            if deferred:
                self._build_vector_index()

    def _vector_index_missing(self) -> bool:
        row = self._query("SELECT to_regclass('chunks_embedding') IS NULL")
        return bool(row[0][0])

    def _build_vector_index(self) -> None:
        """The HNSW index with the settings recorded when the database was created, in
        `store.hnsw_build_memory_mb` of working memory."""
        meta = dict(self._query("SELECT key, value FROM meta WHERE key LIKE 'hnsw_%%'"))
        with self._lock, self.conn.transaction():
            self.conn.execute("SELECT set_config('maintenance_work_mem', %s, true)",
                              (f"{self.settings.hnsw_build_memory_mb}MB",))
            create_vector_index(self.conn, int(meta["hnsw_m"]), int(meta["hnsw_ef_construction"]))

    # --- documents ---------------------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        rows = self._query(f"SELECT {DOCUMENT_COLUMNS} FROM documents "
                           'ORDER BY date COLLATE "C" DESC, id COLLATE "C"')
        return [document_from_row(r) for r in rows]

    def _one_document(self, column: str, value: str) -> DocumentRecord | None:
        rows = self._query(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE {column} = %s "
                           'ORDER BY id COLLATE "C" LIMIT 1', (value,))
        return document_from_row(rows[0]) if rows else None

    @guarded
    def _put(self, row: tuple[object, ...], chunks: Sequence[Chunk], vectors: np.ndarray,
             title: str, pages: Mapping[int, bytes]) -> None:
        doc_id = str(row[0])
        counts = [bm25.term_counts((c.text, c.section, title)) for c in chunks]
        with self._lock, self.conn.transaction():
            self._delete_rows(doc_id)
            marks = ",".join(["%s"] * len(row))
            self.conn.execute(f"INSERT INTO documents({DOCUMENT_COLUMNS}) VALUES ({marks})", row)
            if chunks:
                self._copy_chunks(doc_id, chunks, postgres_terms.encode(self.conn, counts), vectors)
            if pages:
                with self.conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO page_words(document_id, page, words) VALUES (%s, %s, %s)",
                        [(doc_id, number, words) for number, words in pages.items()])
            self._bump(len(chunks))

    def _copy_chunks(self, doc_id: str, chunks: Sequence[Chunk], terms: list[bytes],
                     vectors: np.ndarray) -> None:
        """The chunks' rows in one binary COPY, vectors in pgvector's binary form."""
        ids = sorted(row[0] for row in self.conn.execute(
            "SELECT nextval('chunk_ids') FROM generate_series(1, %s)", (len(chunks),)))
        with self.conn.cursor() as cursor, cursor.copy(
                f"COPY chunks({CHUNK_COLUMNS}, terms, embedding) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_CHUNK_TYPES + ["bytea", self._vector_oid])
            for chunk_id, c, pairs, v in zip(ids, chunks, terms, vectors):
                copy.write_row((chunk_id, doc_id, c.ordinal, c.text, c.section, c.start, c.end,
                                c.page_start, c.page_end, c.char_start, c.char_end,
                                c.ocr_confidence, pairs, v))

    @guarded
    def remove_document(self, doc_id: str) -> bool:
        with self._lock, self.conn.transaction():
            if not self._delete_rows(doc_id):
                return False
            self._bump(0)
        return True

    def _delete_rows(self, doc_id: str) -> bool:
        """Delete a document's rows inside the caller's transaction; False if there was no
        such document."""
        row = self.conn.execute(
            "WITH gone AS (DELETE FROM chunks WHERE document_id = %s RETURNING id) "
            "SELECT COUNT(*) FROM gone", (doc_id,)).fetchone()
        if row and row[0]:
            self._bump(-int(row[0]), generation=0)
        self.conn.execute("DELETE FROM page_words WHERE document_id = %s", (doc_id,))
        return self.conn.execute("DELETE FROM documents WHERE id = %s RETURNING id",
                                 (doc_id,)).fetchone() is not None

    def _bump(self, chunks: int, generation: int = 1) -> None:
        self.conn.execute("UPDATE state SET generation = generation + %s, chunks = chunks + %s",
                          (generation, chunks))

    # --- chunks and search -------------------------------------------------------------------

    def chunk_count(self) -> int:
        return int(self._query("SELECT chunks FROM state")[0][0])

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        if not ids:
            return {}
        rows = self._query(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE id = ANY(%s)",
                           (list(ids),))
        return {row[0]: chunk_from_row(row) for row in rows}

    def document_chunks(self, doc_id: str) -> list[ChunkRecord]:
        rows = self._query(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE document_id = %s "
                           "ORDER BY ordinal", (doc_id,))
        return [chunk_from_row(row) for row in rows]

    def _page_blobs(self, doc_id: str, page: int | None) -> dict[int, bytes]:
        rows = self._query("SELECT page, words FROM page_words WHERE document_id = %s "
                           "AND (%s::integer IS NULL OR page = %s) ORDER BY page",
                           (doc_id, page, page))
        return {int(number): bytes(words) for number, words in rows}

    def document_vectors(self, doc_id: str) -> np.ndarray:
        rows = self._query("SELECT embedding::real[] FROM chunks WHERE document_id = %s "
                           "ORDER BY ordinal", (doc_id,))
        return np.array([r[0] for r in rows], dtype=np.float32).reshape(len(rows),
                                                                         self._identity.dim)

    @guarded
    def dense_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The HNSW index's k nearest by inner product (the cosine of unit vectors), visiting
        at least `store.hnsw_ef_search` candidates, and never fewer than k."""
        with self._lock, self.conn.transaction():
            if not self.chunk_count():
                raise EmptyIndexError(
                    "The index is empty: add documents with `meditron-rag ingest FOLDER`."
                )
            ef = min(max(self.settings.hnsw_ef_search, k), _EF_SEARCH_MAX)
            self.conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef),))
            rows = self.conn.execute(
                "SELECT id, -(embedding <#> %(q)s::vector) FROM chunks "
                "ORDER BY embedding <#> %(q)s::vector LIMIT %(k)s",
                {"q": _vector(np.asarray(query).reshape(-1)), "k": k}).fetchall()
        return [(int(chunk_id), float(score)) for chunk_id, score in rows]

    @guarded
    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        if not terms:
            return []
        with self._lock:
            generation, term_ids = postgres_terms.lookup(self.conn, terms)
            if generation != self._lexical.generation:
                with self.snapshot():
                    generation, term_ids = postgres_terms.lookup(self.conn, terms)
                    self._lexical.refresh(postgres_terms.ChunkTerms(self.conn), generation)
            return self._lexical.search(term_ids, k)

    # --- upkeep ------------------------------------------------------------------------------

    @guarded
    def index_info(self) -> dict[str, object]:
        with self.snapshot():
            meta = dict(self._query("SELECT key, value FROM meta WHERE key LIKE 'hnsw_%%'"))
            return {"kind": "hnsw", "vectors": self.chunk_count(), "dim": self._identity.dim,
                    "m": int(meta.get("hnsw_m", 0)),
                    "ef_construction": int(meta.get("hnsw_ef_construction", 0)),
                    "ef_search": self.settings.hnsw_ef_search}

    @guarded
    def verify(self) -> list[str]:
        problems: list[str] = []
        with self.snapshot():
            for doc_id, expected, found in self._query(
                    "SELECT d.id, d.chunk_count, COUNT(c.id) FROM documents d LEFT JOIN chunks c "
                    "ON c.document_id = d.id GROUP BY d.id HAVING d.chunk_count != COUNT(c.id)"):
                problems.append(f"{doc_id}: {found} chunks stored, {expected} expected")
            (bad,), = self._query("SELECT COUNT(*) FROM chunks WHERE vector_dims(embedding) != %s",
                                  (self._identity.dim,))
            if bad:
                problems.append(f"{bad} chunks have a vector of the wrong size")
            problems.extend(postgres_terms.problems(self.conn))
        return problems
