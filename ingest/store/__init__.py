"""The index: documents, chunks, vectors and term counts, behind one interface (`Store`).

`open_store(config)` opens the configured backend (`store.backend`): the embedded
`SQLiteStore` (SQLite and a FAISS cache in the data directory) or `PostgresStore` (PostgreSQL
with pgvector, shared by several processes). Modules: `base` (the interface and the guarantees
every backend keeps), `records`, the SQLite backend's parts (`sqlite`, `migrations`, `vectors`,
`lexical`, `lock`, `health`) and the PostgreSQL backend's (`postgres`, `postgres_schema`).
"""

from __future__ import annotations

from ingest.store.base import Embedding, Store
from ingest.store.records import ChunkRecord, DocumentRecord, Identity
from ingest.store.sqlite import SQLiteStore, document_count
from meditron_rag.config import Config


def open_store(config: Config, embedder: Embedding | None = None) -> Store:
    """The configured index, checked against `embedder`'s model when one is given. Without
    one it opens with the identity recorded in the index: enough to list, read and remove
    documents without loading a model. The one place that chooses a backend."""
    if config.store.backend == "postgres":
        from ingest.store.postgres import PostgresStore  # psycopg only where it is used

        return PostgresStore.open(config.store, embedder=embedder)
    return SQLiteStore.open(config.index_dir, config.index, embedder=embedder)


def stored_documents(config: Config) -> int:
    """Documents in the configured store, counted without loading a model (0 where there is
    no embedded index yet)."""
    if config.store.backend == "sqlite":
        return document_count(config.index_dir)
    store = open_store(config)
    try:
        return len(store.documents())
    finally:
        store.close()


__all__ = [
    "ChunkRecord", "DocumentRecord", "Embedding", "Identity", "SQLiteStore", "Store",
    "document_count", "open_store", "stored_documents",
]
