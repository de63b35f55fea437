"""Ingestion: guideline files into a durable, incremental index.

Public surface: `open_store`, `load_embedder`, `ingest` (with its `IngestReport`), and the
records `LoadedDocument`, `Chunk`, `DocumentRecord`.
"""

from __future__ import annotations

from ingest.document import Chunk, LoadedDocument
from ingest.embedder import Embedder
from ingest.pipeline import IngestReport, ingest
from ingest.store import DocumentRecord, Store
from meditron_rag.config import Config
from meditron_rag.models import resolve


def load_embedder(config: Config) -> Embedder:
    """The configured sentence-transformers model, from local files only."""
    name = config.embedding.model
    path = resolve(name, "embedding", config)
    if config.embedding.threads:
        import torch

        torch.set_num_threads(config.embedding.threads)
    return Embedder(path, name, config.embedding.device, config.embedding.batch_size)


def open_store(config: Config, embedder: Embedder) -> Store:
    """The index in the data directory, checked against the embedder it was built with."""
    return Store.open(config.index_dir, embedder.name, embedder.dim, config.index.kind,
                      config.index.approximate_above)


__all__ = [
    "Chunk", "DocumentRecord", "Embedder", "IngestReport", "LoadedDocument", "Store",
    "ingest", "load_embedder", "open_store",
]
