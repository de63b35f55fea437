"""Ingestion: guideline files into a durable, incremental index.

Public surface: `open_store` (a `Store`), `load_embedder`, `ingest` (with its
`IngestReport`), and the records `LoadedDocument`, `Chunk`, `DocumentRecord`, `ChunkRecord`.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from ingest.document import Chunk, LoadedDocument
from ingest.embedder import Embedder, SentenceTransformerEmbedder
from ingest.gguf_embedder import GGUFEmbedder, convert, converted_path, convertible
from ingest.pipeline import IngestReport, ingest
from ingest.store import ChunkRecord, DocumentRecord, Store, open_store
from meditron_rag.config import Config
from meditron_rag.errors import ModelLoadError
from meditron_rag.models import resolve


def load_embedder(config: Config, answering: bool = False) -> Embedder:
    """The configured sentence-transformers model, from local files only.

    A process that answers questions (`answering`) runs it in llama.cpp instead where
    `embedding.runtime` says so and the model converts (see `ingest.gguf_embedder`); ingest
    from the command line always embeds with sentence-transformers.
    """
    e = config.embedding
    path = resolve(e.model, "embedding", config)
    if answering and e.runtime == "llama.cpp" and not convertible(path):
        try:
            target = converted_path(path, e.model)
            if not target.exists():
                convert(path, target)
            return GGUFEmbedder(target, e.model, _max_tokens(path), threads=e.threads)
        except (OSError, ModelLoadError) as exc:  # a read-only cache, a full disk
            warnings.warn(f"Embedding questions with sentence-transformers instead of "
                          f"llama.cpp: {exc}", stacklevel=2)
    if e.threads:
        import torch

        torch.set_num_threads(e.threads)
    return SentenceTransformerEmbedder(path, e.model, device=e.device,
                                       batch_size=e.batch_size)


def _max_tokens(folder: Path) -> int:
    """The longest input sentence-transformers lets the model read, less [CLS] and [SEP]."""
    try:
        settings = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(settings["max_seq_length"]) - 2
    except (OSError, ValueError, KeyError):
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return int(config["max_position_embeddings"]) - 2


__all__ = [
    "Chunk", "ChunkRecord", "DocumentRecord", "Embedder", "GGUFEmbedder", "IngestReport",
    "LoadedDocument", "SentenceTransformerEmbedder", "Store",
    "ingest", "load_embedder", "open_store",
]
