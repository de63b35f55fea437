"""The index: documents, chunks, vectors and term counts, behind one interface (`Store`).

`open_store(config)` opens the configured backend; today that is the embedded one,
`SQLiteStore` (SQLite and a FAISS cache in the data directory). Modules: `base` (the interface
and the guarantees every backend keeps), `records`, and the SQLite backend's parts: `sqlite`,
`migrations`, `vectors`, `lexical`, `lock`, `health`.
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
    return SQLiteStore.open(config.index_dir, config.index, embedder=embedder)


__all__ = [
    "ChunkRecord", "DocumentRecord", "Embedding", "Identity", "SQLiteStore", "Store",
    "document_count", "open_store",
]
