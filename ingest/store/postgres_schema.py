"""The PostgreSQL backend's connection, schema and identity: one connection per store opened
with the password from the environment, the schema changed only by numbered migrations (each
recorded in `migrations`), and the format and embedding model recorded in `meta`. A database
written by a newer version, in another format or by another model is refused with the fix.
Scratch databases beside the configured one hold indexes that live for one run.

psycopg is imported here, and this module only when `store.backend` is postgres, so the
embedded product never needs it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import struct
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from ingest.store.base import Embedding, recorded_identity
from ingest.store.records import Identity
from meditron_rag.config import STORE_PASSWORD_ENV, StoreConfig, redact
from meditron_rag.errors import ConfigError, IndexError_, IndexFormatError

try:
    import psycopg
    from psycopg import sql
    from psycopg.adapt import Dumper
    from psycopg.pq import Format
except ImportError:  # pragma: no cover - the optional dependency is installed in CI
    raise ConfigError(
        "store.backend is postgres, but psycopg is not installed: "
        "pip install 'meditron-rag[postgres]'."
    ) from None

FORMAT_VERSION = 1
# Advisory locks of meditron-rag: (LOCK_SPACE, WRITER) for the single writer, held for a
# whole ingest; (LOCK_SPACE, MIGRATOR) inside the transaction that migrates or records identity.
LOCK_SPACE, WRITER, MIGRATOR = 0x6D72, 1, 2

# Documents, chunks with their vectors, and BM25's statistics: each chunk's term counts
# (`postings`, with the chunk's length beside each so a query reads one table), each term's
# document frequency (`terms.df`) and the collection's size (`state`), all kept by the writer
# in the document's own transaction. `state` also holds the generation. Chunk ids come from a
# sequence, which never hands out an id twice.
_M001_INITIAL = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE state (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    generation bigint NOT NULL,
    chunks bigint NOT NULL,
    total_length bigint NOT NULL
);
INSERT INTO state VALUES (true, 0, 0, 0);
CREATE TABLE documents (
    id text PRIMARY KEY,
    path text NOT NULL UNIQUE,
    name text NOT NULL,
    kind text NOT NULL,
    sha256 text NOT NULL,
    size_bytes bigint NOT NULL,
    pages integer NOT NULL,
    paginated boolean NOT NULL,
    title text NOT NULL,
    organisation text NOT NULL,
    date text NOT NULL,
    url text NOT NULL,
    licence text NOT NULL,
    extra text NOT NULL,
    warnings text NOT NULL,
    chunk_count integer NOT NULL,
    ingested_at text NOT NULL
);
CREATE INDEX documents_sha256 ON documents(sha256);
CREATE SEQUENCE chunk_ids;
CREATE TABLE chunks (
    id bigint PRIMARY KEY,
    document_id text NOT NULL REFERENCES documents(id),
    ordinal integer NOT NULL,
    text text NOT NULL,
    section text NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    page_start integer NOT NULL,
    page_end integer NOT NULL,
    char_start integer NOT NULL,
    char_end integer NOT NULL,
    length integer NOT NULL,
    embedding vector NOT NULL
);
CREATE INDEX chunks_document ON chunks(document_id, ordinal);
CREATE TABLE terms (
    id serial PRIMARY KEY,
    term text NOT NULL UNIQUE,
    df integer NOT NULL DEFAULT 0
);
CREATE TABLE postings (
    term_id integer NOT NULL REFERENCES terms(id),
    chunk_id bigint NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    tf integer NOT NULL,
    length integer NOT NULL,
    PRIMARY KEY (term_id, chunk_id)
);
CREATE INDEX postings_chunk ON postings(chunk_id);
"""

# Each chunk's term counts move beside it, as (term id, count) int32 pairs in network byte
# order, and BM25 is scored from postings each process builds from them (postgres_terms.py):
# one row per chunk to write and to read instead of one per (term, chunk). What only the SQL
# scoring needed goes with the postings: the document frequencies, the lengths and their total.
_M002_TERMS_BESIDE_CHUNKS = """
ALTER TABLE chunks ADD COLUMN terms bytea NOT NULL DEFAULT ''::bytea;
UPDATE chunks c SET terms = p.pairs FROM (
    SELECT chunk_id, string_agg(int4send(term_id) || int4send(tf), ''::bytea ORDER BY term_id)
           AS pairs
    FROM postings GROUP BY chunk_id) p
WHERE p.chunk_id = c.id;
ALTER TABLE chunks ALTER COLUMN terms DROP DEFAULT;
ALTER TABLE chunks DROP COLUMN length;
DROP TABLE postings;
ALTER TABLE terms DROP COLUMN df;
ALTER TABLE state DROP COLUMN total_length;
"""

# OCR'd pages keep their words' boxes and confidences (ingest/page_words.py), so the page
# viewer boxes a cited sentence on a scan; each chunk keeps the mean confidence of its OCR'd
# words (NULL: read from a text layer). A chunk of a document OCR'd before this gets the mean
# of its pages' confidences, which the document recorded ("1:0.91 2:0.96" in its extra); its
# boxes need a new ingest.
_M003_OCR_WORDS = """
ALTER TABLE chunks ADD COLUMN ocr_confidence double precision;
CREATE TABLE page_words (
    document_id text NOT NULL REFERENCES documents(id),
    page integer NOT NULL,
    words bytea NOT NULL,
    PRIMARY KEY (document_id, page)
);
UPDATE chunks c SET ocr_confidence = s.confidence FROM (
    SELECT c.id, round(avg(split_part(p, ':', 2)::numeric), 3)::double precision AS confidence
    FROM chunks c JOIN documents d ON d.id = c.document_id,
         regexp_split_to_table(d.extra::jsonb ->> 'ocr_page_confidence', ' ') AS p
    WHERE split_part(p, ':', 1)::integer BETWEEN c.page_start AND c.page_end
    GROUP BY c.id) s
WHERE s.id = c.id;
"""

# Each document records how its chunks were made (`Chunker.recipe`); those of an older database
# record nothing, so the next ingest of their files chunks them anew.
_M004_CHUNKING = "ALTER TABLE documents ADD COLUMN chunking text NOT NULL DEFAULT ''"

MIGRATIONS: list[str] = [_M001_INITIAL, _M002_TERMS_BESIDE_CHUNKS, _M003_OCR_WORDS,
                         _M004_CHUNKING]


def connect(settings: StoreConfig) -> psycopg.Connection[tuple]:
    """A connection to `store.url` (autocommit: each change opens its own transaction), with
    the password from MEDITRON_RAG_STORE_PASSWORD when set, else libpq's own (PGPASSWORD,
    ~/.pgpass). Neither ever appears in a message."""
    url = settings.url or ""
    password = os.environ.get(STORE_PASSWORD_ENV, "")
    name = f"meditron-rag process {os.getpid()} on {socket.gethostname()}"[:63]
    try:
        return psycopg.connect(url, autocommit=True, application_name=name, connect_timeout=10,
                               password=password or None)  # None: libpq's own
    except psycopg.Error as exc:
        detail = redact(str(exc).strip(), password, os.environ.get("PGPASSWORD", ""))
        raise IndexError_(
            f"Cannot open the index database {redact(url)} ({detail}): check store.url, that "
            f"the server runs, and the password in {STORE_PASSWORD_ENV}."
        ) from None


def migrate(conn: psycopg.Connection[tuple], location: str) -> None:
    """Run the migrations the database lacks, in one transaction (PostgreSQL's schema changes
    are transactional) under the migration lock: two processes opening a new database at once,
    one migrates and the other then finds it done."""
    with conn.transaction():
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SPACE, MIGRATOR))
            conn.execute("CREATE TABLE IF NOT EXISTS migrations (number integer PRIMARY KEY)")
        except psycopg.errors.InsufficientPrivilege:
            raise IndexError_(f"The role of {location} may not create tables: grant it CREATE "
                              "on the database, or have its owner open it once.") from None
        done = {row[0] for row in conn.execute("SELECT number FROM migrations")}
        if done and max(done) > len(MIGRATIONS):
            raise IndexFormatError(
                f"The index in {location} was written by a newer meditron-rag (schema "
                f"{max(done)}, this one knows {len(MIGRATIONS)}): upgrade meditron-rag."
            )
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number not in done:
                conn.execute(migration)
                conn.execute("INSERT INTO migrations(number) VALUES (%s)", (number,))


def check_identity(conn: psycopg.Connection[tuple], location: str,
                   embedder: Embedding | None, settings: StoreConfig) -> Identity:
    """The embedding model recorded in the database, checked against `embedder` when one is
    given. A new database records `embedder`'s, fixes the vector column's dimension and builds
    the HNSW index with the configured settings; opened without a model, nothing."""
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if "format_version" not in meta:
        if embedder is None:
            return Identity("", 0)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SPACE, MIGRATOR))
            if conn.execute("SELECT 1 FROM meta WHERE key='format_version'").fetchone() is None:
                _record(conn, embedder, settings)
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    fresh = "point store.url at an empty database and ingest your documents there"
    return recorded_identity(meta, location, FORMAT_VERSION, embedder, fresh)


class _VectorDumper(Dumper):
    """A float32 array in pgvector's binary form: its dimension, a reserved zero, then the
    values big-endian."""

    format = Format.BINARY

    def dump(self, obj: np.ndarray) -> bytes:
        return struct.pack(">HH", len(obj), 0) + np.asarray(obj, dtype=">f4").tobytes()


def register_vector(conn: psycopg.Connection[tuple]) -> int:
    """Teach the connection to send arrays as pgvector's type (which the first migration
    creates) in binary COPY; its type id."""
    info = psycopg.types.TypeInfo.fetch(conn, "vector")
    if info is None:
        raise IndexFormatError("The index database lacks pgvector's vector type.")
    conn.adapters.register_dumper(None, type("VectorDumper", (_VectorDumper,), {"oid": info.oid}))
    return info.oid


def _record(conn: psycopg.Connection[tuple], embedder: Embedding,
            settings: StoreConfig) -> None:
    """Record the model, and give the (still empty) vector column its dimension and index:
    HNSW over inner product, which is the cosine of the unit vectors every embedder returns."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('format_version', %s), ('embedding_model', %s), "
        "('embedding_dim', %s), ('hnsw_m', %s), ('hnsw_ef_construction', %s)",
        (str(FORMAT_VERSION), embedder.name, str(embedder.dim), str(settings.hnsw_m),
         str(settings.hnsw_ef_construction)),
    )
    conn.execute(f"ALTER TABLE chunks ALTER COLUMN embedding TYPE vector({int(embedder.dim)})")
    create_vector_index(conn, settings.hnsw_m, settings.hnsw_ef_construction)


def create_vector_index(conn: psycopg.Connection[tuple], m: int, ef_construction: int) -> None:
    """The HNSW index over inner product, unless it is there."""
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS chunks_embedding ON chunks USING hnsw "
        f"(embedding vector_ip_ops) WITH (m = {int(m)}, ef_construction = {int(ef_construction)})"
    )


# --- scratch databases: indexes that live for one run (an evaluation's temporary index) ----

def with_database(url: str, name: str) -> str:
    """`url` naming database `name` instead: a libpq URL's path, or a key=value string's
    dbname. Everything else (host, socket, user, options) stays."""
    if "://" in url:
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path=f"/{name}"))
    return psycopg.conninfo.make_conninfo(url, dbname=name)


@contextlib.contextmanager
def scratch_database(settings: StoreConfig, prefix: str = "meditron_rag_scratch"
                     ) -> Iterator[StoreConfig]:
    """Settings for a new, empty database on `settings.url`'s server, dropped on exit (with
    any connection still open to it). The role needs CREATEDB."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with contextlib.closing(connect(settings)) as admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise IndexError_(
                f"Cannot create a scratch database on {redact(settings.url or '')} "
                f"({redact(str(exc).strip())}): a temporary index on PostgreSQL needs a role "
                "with CREATEDB, or set store.backend to sqlite for this run."
            ) from None
    try:
        yield settings.model_copy(update={"url": with_database(settings.url or "", name)})
    finally:
        with contextlib.closing(connect(settings)) as admin:  # a new session: runs are long
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))
