"""Moving an index from one backend to another without embedding anything again.

Each document is copied with its chunks and their stored vectors, in its own transaction of
the target; the target's term counts are counted again from the same text, so BM25 scores the
same; OCR'd pages' words go with their document. Chunk ids are the target's own (each
backend hands out ids that are never reused), and a document's `ingested_at` is the time of
the copy. The copy is checked by a fingerprint that both stores must share: their counts, and
a SHA-256 over every document's record and chunks, the bytes of every vector and every OCR'd
page's words.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.document import DocumentMetadata
from ingest.store.base import Embedding, Store
from ingest.store.records import DocumentRecord
from ingest.store.sqlite import SQLiteStore
from meditron_rag.config import STORE_PASSWORD_ENV, Config, redact
from meditron_rag.errors import ConfigError, IndexError_, IndexFormatError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class Fingerprint:
    """What two stores holding the same index share, whatever their backend."""

    documents: int
    chunks: int
    sha256: str


def fingerprint(store: Store) -> Fingerprint:
    """The counts and SHA-256 of everything a copy carries, read in one snapshot."""
    digest = hashlib.sha256()
    chunks = 0
    with store.snapshot():
        docs = sorted(store.documents(), key=lambda d: d.id)
        for doc in docs:
            record = {k: v for k, v in doc.to_dict().items() if k != "ingested_at"}
            digest.update(json.dumps(record, sort_keys=True).encode())
            for chunk in store.document_chunks(doc.id):
                fields = {k: v for k, v in chunk.to_dict().items() if k != "id"}
                digest.update(json.dumps(fields, sort_keys=True).encode())
                chunks += 1
            digest.update(store.document_vectors(doc.id).tobytes())
            for number, words in store.document_page_words(doc.id).items():
                digest.update(number.to_bytes(4, "little") + words.encode())
    return Fingerprint(len(docs), chunks, digest.hexdigest())


def open_target(config: Config, where: str, embedder: Embedding) -> Store:
    """The store at `where`: a PostgreSQL URL, or an embedded index's folder; a new one
    records `embedder`'s model, an existing one must hold the same."""
    if where.startswith(POSTGRES_SCHEMES):
        from ingest.store.postgres import PostgresStore

        if redact(where) != where:
            raise ConfigError(f"{redact(where)} holds a password: take it out and set "
                              f"{STORE_PASSWORD_ENV} (or PGPASSWORD) instead.")
        settings = config.store.model_copy(update={"backend": "postgres", "url": where})
        return PostgresStore.open(settings, embedder=embedder)
    return SQLiteStore.open(Path(where).expanduser(), config.index, embedder=embedder)


def _in_ingest_order(source: Store) -> list[DocumentRecord]:
    """The source's documents in the order their chunks were written, so that the copy's
    chunk ids keep theirs (and equal scores keep their order)."""
    first = {}
    for doc in source.documents():
        ids = [chunk.id for chunk in source.document_chunks(doc.id)]
        first[doc.id] = (min(ids) if ids else 0, doc)
    return [doc for _, doc in sorted(first.values(), key=lambda pair: (pair[0], pair[1].id))]


def copy_store(source: Store, target: Store,
               progress: Callable[[str, int, int], None] | None = None) -> Fingerprint:
    """Copy every document of `source` into `target`, under the target's writer lock, and
    check that both then have the same fingerprint. A document the target already holds with
    the same content hash is skipped, so an interrupted copy resumes. A target holding other
    documents is refused: a copy never removes anything."""
    if (source.identity.name, source.identity.dim) != (target.identity.name,
                                                       target.identity.dim):
        raise IndexFormatError(
            f"{target.location} holds vectors of '{target.identity.name}', the index being "
            f"copied those of '{source.identity.name}': copy into an empty database or folder."
        )
    with target.writing(), target.filling():
        docs = _in_ingest_order(source)
        others = {d.id for d in target.documents()} - {d.id for d in docs}
        if others:
            raise IndexError_(
                f"{target.location} holds {len(others)} documents that {source.location} "
                f"lacks (such as {sorted(others)[0]}): copy into an empty database or folder."
            )
        for n, doc in enumerate(docs, start=1):
            there = target.document(doc.id)
            if there is None or there.sha256 != doc.sha256:
                with source.snapshot():
                    record = source.document(doc.id) or doc
                    chunks = source.document_chunks(doc.id)
                    vectors = source.document_vectors(doc.id)
                    page_words = source.document_page_words(doc.id)
                target.put_document(
                    doc.id, path=record.path, kind=record.kind, sha256=record.sha256,
                    size_bytes=record.size_bytes, pages=record.pages,
                    paginated=record.paginated, warnings=record.warnings, chunks=chunks,
                    vectors=vectors, page_words=page_words, chunking=record.chunking,
                    metadata=DocumentMetadata(
                        title=record.title, organisation=record.organisation, date=record.date,
                        url=record.url, licence=record.licence, extra=record.extra),
                )
            if progress:
                progress(doc.id, n, len(docs))
    copied, expected = fingerprint(target), fingerprint(source)
    if copied != expected:
        raise IndexError_(
            f"The copy in {target.location} does not match {source.location} ({copied.documents}"
            f" documents and {copied.chunks} chunks, {expected.documents} and {expected.chunks}"
            " expected, or their checksums differ): run the copy again."
        )
    return copied
