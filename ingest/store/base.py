"""The store interface: what ingest, retrieval and the app need of an index, whatever holds it.

A backend implements every method of `Store` and keeps these guarantees, which the store tests
check for each backend:

- **One transaction per document.** `put_document` and `remove_document` change a document
  with all its chunks, vectors and term counts at once: a reader sees it whole or not at all.
- **Idempotent re-ingest.** A document's content hash is stored with it (`document_by_hash`);
  ingest skips a file whose hash is unchanged, and `put_document` with a known id replaces
  that document rather than adding a second.
- **Replace and delete in O(document)**: they touch that document's rows and vectors, never
  rebuild the index.
- **Crash-safe.** A crash at any moment leaves an index that opens and answers, each document
  as it was before or after its last write. Anything derived (a vector cache, postings) is
  rebuilt from what was committed.
- **Writers serialised.** One writer at a time holds `writing()`, across processes; another
  gets `IndexLockedError` naming the holder.
- **Readers never blocked** by a writer; the reads inside one `snapshot()` all see the same
  generation, so a passage never comes with the record of another version of its document.
- **Chunk ids never reused**: an old citation cannot point at a newer chunk's text. They only
  grow, so a process's BM25 postings catch up with a write by reading the chunks above the
  largest id they hold (ingest/store/postings.py).
- **OCR'd pages keep their words** (`page_words`): written and removed with their document,
  in its transaction, so the page viewer can box a cited sentence on a scan.
- **Refused, not misread**: an index of another format or embedding model is refused on
  opening with `IndexFormatError`, a damaged one with `IndexDamagedError`.
"""

from __future__ import annotations

import abc
import contextlib
import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Protocol

import numpy as np

from ingest.document import Chunk, DocumentMetadata
from ingest.page_words import PageWords
from ingest.store.records import ChunkRecord, DocumentRecord, Identity
from meditron_rag.errors import IndexFormatError


class Embedding(Protocol):
    """What a store checks vectors against: the model's name and dimension. Any
    `ingest.Embedder` is one, and so is `ingest.store.Identity`."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...


def recorded_identity(meta: Mapping[str, str], location: str, version: int,
                      embedder: Embedding | None, way_out: str) -> Identity:
    """The embedding model an index records in its `meta`, refused with IndexFormatError when
    the index has another format than `version` or another model than `embedder`'s (when one
    is given); `way_out` says what the user can do instead. ValueError: a damaged dimension."""
    if meta.get("format_version") != str(version):
        raise IndexFormatError(
            f"The index in {location} has format {meta.get('format_version')}, this "
            f"meditron-rag reads format {version}: {way_out}."
        )
    model, dim = meta.get("embedding_model"), meta.get("embedding_dim")
    if embedder is not None and (model != embedder.name or dim != str(embedder.dim)):
        raise IndexFormatError(
            f"The index in {location} was built with embedding model '{model}' ({dim} "
            f"dimensions), not '{embedder.name}' ({embedder.dim}): set embedding.model back, "
            f"or {way_out}."
        )
    return Identity(str(model), int(str(dim)))


class Store(abc.ABC):
    """An index of documents, their chunks, vectors and term counts, with dense and lexical
    search. Open one with `ingest.open_store(config, embedder)`."""

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the index lives, for messages and cache keys."""

    @property
    @abc.abstractmethod
    def identity(self) -> Identity:
        """The embedding model of the stored vectors (dim 0 while none has been recorded)."""

    @property
    @abc.abstractmethod
    def generation(self) -> int:
        """A counter that moves with every committed change of documents."""

    @abc.abstractmethod
    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside all see one generation; a writer is not blocked by it."""

    @abc.abstractmethod
    def writing(self) -> AbstractContextManager[Store]:
        """Hold the single-writer lock for a batch of changes; derived indexes are saved on
        the way out, even after an error."""

    def filling(self) -> AbstractContextManager[None]:
        """Around many writes that may start from an empty store (a first ingest, a copy),
        inside `writing()`: a backend whose search index is cheaper to build once than to grow
        document by document defers it to the end. Nothing to defer by default."""
        return contextlib.nullcontext()

    # --- documents ---------------------------------------------------------------------------

    @abc.abstractmethod
    def documents(self) -> list[DocumentRecord]:
        """Every document, newest date first, then by id."""

    @abc.abstractmethod
    def _one_document(self, column: str, value: str) -> DocumentRecord | None:
        """The document whose `column` (id, path or sha256) is `value`, or None."""

    def document(self, doc_id: str) -> DocumentRecord | None:
        return self._one_document("id", doc_id)

    def document_by_path(self, path: str) -> DocumentRecord | None:
        return self._one_document("path", path)

    def document_by_hash(self, sha256: str) -> DocumentRecord | None:
        return self._one_document("sha256", sha256)

    def free_id(self, wanted: str, path: str) -> str:
        """`wanted`, or `wanted-2`, `-3`... if another path already uses it."""
        candidate, n = wanted, 1
        while (holder := self.document(candidate)) is not None and holder.path != path:
            n += 1
            candidate = f"{wanted}-{n}"
        return candidate

    def put_document(self, doc_id: str, *, path: str, kind: str, sha256: str, size_bytes: int,
                     pages: int, paginated: bool, metadata: DocumentMetadata,
                     warnings: list[str], chunks: Sequence[Chunk], vectors: np.ndarray,
                     page_words: Mapping[int, PageWords] | None = None,
                     chunking: str = "") -> None:
        """Insert or replace one document with its chunks (one vector each) and its OCR'd
        pages' words, atomically; `chunking` records how the chunks were made, so an ingest
        with other settings or a newer chunker makes them again. The caller holds
        `writing()`."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        dim = self.identity.dim
        if chunks and vectors.shape[1] != dim:
            raise ValueError(f"vectors of {vectors.shape[1]} dimensions for an index of {dim}")
        row = (doc_id, path, PurePath(path).name, kind, sha256, size_bytes, pages, paginated,
               metadata.title, metadata.organisation, metadata.date, metadata.url,
               metadata.licence, json.dumps(metadata.extra, sort_keys=True),
               json.dumps(warnings), len(chunks),
               datetime.now(timezone.utc).isoformat(timespec="seconds"), chunking)
        encoded = {number: words.encode()
                   for number, words in sorted((page_words or {}).items())}
        self._put(row, chunks, vectors, metadata.title, encoded)

    @abc.abstractmethod
    def _put(self, row: tuple[object, ...], chunks: Sequence[Chunk], vectors: np.ndarray,
             title: str, pages: Mapping[int, bytes]) -> None:
        """Replace the document of `row` (its columns in DOCUMENT_FIELDS order) with `chunks`
        and their float32 `vectors`, and its OCR'd `pages` (encoded words by page number), in
        one transaction; `title` joins each chunk's terms."""

    @abc.abstractmethod
    def remove_document(self, doc_id: str) -> bool:
        """Remove a document and its chunks; False if there was none. The caller holds
        `writing()`."""

    # --- chunks and search -------------------------------------------------------------------

    @abc.abstractmethod
    def chunk_count(self) -> int: ...

    @abc.abstractmethod
    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """The chunks of these ids that exist, by id."""

    @abc.abstractmethod
    def document_chunks(self, doc_id: str) -> list[ChunkRecord]:
        """A document's chunks in order."""

    @abc.abstractmethod
    def document_vectors(self, doc_id: str) -> np.ndarray:
        """A document's chunk vectors in chunk order, (chunks, dim) float32, as stored: what
        copying an index to another backend needs besides its chunks."""

    @abc.abstractmethod
    def dense_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks, best first; `EmptyIndexError`
        when the index holds no chunk."""

    @abc.abstractmethod
    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the k best chunks for query terms (ingest.bm25.query_terms),
        best first; chunks sharing no term with the query are not returned."""

    # --- OCR'd pages ---------------------------------------------------------------------------

    @abc.abstractmethod
    def _page_blobs(self, doc_id: str, page: int | None) -> dict[int, bytes]:
        """The encoded words of a document's OCR'd `page` (every one when None), by page."""

    def page_words(self, doc_id: str, page: int) -> PageWords | None:
        """The words of a document's page as OCR read them; None for a page read from its text
        layer, or whose record cannot be read."""
        return self.document_page_words(doc_id, page).get(page)

    def document_page_words(self, doc_id: str, page: int | None = None
                            ) -> dict[int, PageWords]:
        """The words of a document's OCR'd pages (only `page`, when given), by page; a record
        that cannot be read is left out (the page then shows no box)."""
        found: dict[int, PageWords] = {}
        for number, blob in self._page_blobs(doc_id, page).items():
            with contextlib.suppress(ValueError):
                found[number] = PageWords.decode(blob)
        return found

    # --- upkeep ------------------------------------------------------------------------------

    @abc.abstractmethod
    def index_info(self) -> dict[str, object]:
        """What the vector index is: at least its "kind", "vectors" and "dim"."""

    @abc.abstractmethod
    def verify(self) -> list[str]:
        """Problems in the store, one sentence each; [] when every document has all its chunks
        and every chunk its vector and term counts."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the writer lock if held, and the connection."""
