"""Ingest files into the store: incremental by content hash, one transaction per document.

Three things run at once: a thread parses and chunks the next files, the encoder embeds a
batch of chunks (filled across files, `ingest.batching`), and the caller's thread writes each
document whose chunks are all embedded. Only a few parsed documents wait in memory at a time,
so a folder of hundreds of PDFs streams through.

A file that cannot be read (damaged, locked, empty, scanned, too large, gone) is reported with
its reason and the batch goes on; whatever was indexed from it before stays. A crash or a kill
loses at most the document being written: the next run skips what is stored and does the rest.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.batching import (
    BatchRunner,
    ChunkProgress,
    ChunkProgressFn,
    Encode,
    FileResult,
    Prepared,
    Progress,
)
from ingest.embedder import Embedder
from ingest.loaders import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES
from ingest.parsing import PARSE_AHEAD, Chunker, Reading, leads_nowhere, prefetch
from ingest.store import Store
from meditron_rag.config import EmbeddingConfig, IngestConfig, PdfConfig

INGESTED = ("added", "replaced", "rechunked")  # the statuses of a file whose chunks were written


@dataclass
class IngestReport:
    """What one ingest did, file by file, with totals a script can read."""

    files: list[FileResult] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def pages(self) -> int:
        return sum(f.pages for f in self.files if f.status in INGESTED)

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files if f.status in INGESTED)

    @property
    def ingested(self) -> int:
        return sum(self.count(status) for status in INGESTED)

    def summary(self) -> str:
        done = self.ingested
        rate = f", {self.pages / self.seconds:.1f} pages/s" if self.seconds and done else ""
        rechunked = (f", {self.count('rechunked')} chunked anew with the current chunking"
                     if self.count("rechunked") else "")
        return (
            f"{done} ingested ({self.count('added')} new, {self.count('replaced')} replaced"
            f"{rechunked}), "
            f"{self.count('unchanged')} skipped as unchanged, "
            + (f"{self.count('duplicate')} as copies of indexed files, "
               if self.count("duplicate") else "")
            + f"{self.count('failed')} failed"
            + (f", {len(self.removed)} removed" if self.removed else "")
            + f": {self.pages} pages, {self.chunks} chunks in {self.seconds:.1f} s{rate}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "files": [f.__dict__ for f in self.files],
            "removed": self.removed,
            "ingested": self.ingested,
            "skipped": self.count("unchanged") + self.count("duplicate"),
            "added": self.count("added"),
            "replaced": self.count("replaced"),
            "rechunked": self.count("rechunked"),
            "unchanged": self.count("unchanged"),
            "duplicate": self.count("duplicate"),
            "failed": self.count("failed"),
            "pages": self.pages,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
        }


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest: given files as they are, folders walked for supported suffixes.

    A path that does not exist is kept, to be reported as failed with the others; so is a
    symbolic link that leads nowhere (dangling or a loop), given or found in a folder, under
    its own name.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                parts = child.relative_to(path).parts
                if any(p.startswith(".") for p in parts) or child.name.endswith(SIDECAR_SUFFIX):
                    continue
                supported = child.suffix.lower() in SUPPORTED_SUFFIXES
                if supported and (child.is_file() or leads_nowhere(child)):
                    found.append(_located(child))
        else:
            found.append(_located(path))
    return found


def _located(path: Path) -> Path:
    """The file's real path; for a link that leads nowhere, the link's own absolute path (its
    target's name would hide which argument or file failed)."""
    if leads_nowhere(path):
        return path.absolute()
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop further up the path
        return path.absolute()


def slug(name: str) -> str:
    """A document id a user can type: the file stem, lower-case, dashes."""
    text = re.sub(r"[^a-z0-9]+", "-", Path(name).stem.lower()).strip("-")
    return text[:80] or "document"


def ingest(
    paths: Iterable[Path],
    store: Store,
    embedder: Embedder,
    chunk_tokens: int,
    overlap_tokens: int,
    *,
    prune: bool = False,
    max_bytes: int = IngestConfig().max_file_bytes,
    max_pdf_bytes: int = IngestConfig().max_pdf_bytes,
    pdf: PdfConfig | None = None,
    progress: Progress | None = None,
    chunk_progress: ChunkProgressFn | None = None,
    window: int = EmbeddingConfig().ingest_window,
    lookahead: int = EmbeddingConfig().ingest_lookahead,
) -> IngestReport:
    """Add new files, replace changed ones, skip unchanged ones; with `prune`, remove documents
    whose file under one of the given folders is gone. Files over their size limit fail:
    `max_pdf_bytes` for a PDF, `max_bytes` for any other and for a PDF's text (by default
    ingest.max_pdf_mb's and ingest.max_file_mb's defaults). PDFs are read with `pdf`'s
    settings (by default the `pdf` section's defaults). `progress` hears of each file in order
    as it is done, `chunk_progress` of each window of chunks embedded (`window` chunks handed to
    the encoder at once, from pools of `lookahead` sorted by length; by default
    embedding.ingest_window's and ingest_lookahead's defaults). The caller holds
    `store.writing()`."""
    started = time.perf_counter()
    roots = [Path(p) for p in paths]
    files = discover(roots)
    report = IngestReport()
    chunker = Chunker(embedder.count_tokens, embedder.token_spans,
                      min(chunk_tokens, embedder.max_tokens),
                      overlap_tokens, Reading(max_bytes, max_pdf_bytes, pdf))
    # A document chunked otherwise (other sizes, an older chunker) is read and chunked again.
    known = {doc.path: doc.sha256 for doc in store.documents()
             if doc.chunking == chunker.recipe}

    def done(result: FileResult) -> None:
        report.files.append(result)
        if progress:
            progress(result, len(report.files), len(files))

    runner = BatchRunner(
        embedder, window,
        needs_vectors=lambda item, pending: _needs_vectors(item, pending, store,
                                                           chunker.recipe),
        finish=lambda item, vectors, encode: _store_one(item, vectors, store, encode,
                                                        chunker.recipe),
        report=done, chunk_progress=chunk_progress, lookahead=lookahead)
    try:
        for item in prefetch(files, known, chunker, PARSE_AHEAD):
            runner.take(item)
        runner.drain()
    finally:
        runner.stop()
    if prune:
        folders = [str(r.resolve()) for r in roots if r.is_dir()]
        for doc in store.documents():
            inside = any(doc.path.startswith(f.rstrip("/") + "/") for f in folders)
            if inside and not Path(doc.path).exists():
                store.remove_document(doc.id)
                report.removed.append(doc.id)
    report.seconds = time.perf_counter() - started
    return report


def _needs_vectors(item: Prepared, pending: set[str], store: Store, recipe: str) -> bool:
    """Whether `item`'s chunks go to the encoder: not when it failed, is unchanged (the same
    content chunked by the same `recipe`), or is a copy of an indexed file or of one waiting
    to be written (`pending` hashes)."""
    if item.document is None or item.error or not item.texts:
        return False
    if item.sha256 in pending:
        return False
    known = store.document_by_path(str(item.path))
    if known is not None:
        return known.sha256 != item.sha256 or known.chunking != recipe
    moved = store.document_by_hash(item.sha256)
    return moved is None or not Path(moved.path).exists()


def _store_one(item: Prepared, vectors: np.ndarray | None, store: Store,
               encode: Encode, recipe: str) -> FileResult:
    """Write one document in its own transaction, with `vectors` made for its chunks (embedded
    here, alone, when there are none: its batch failed, or it copied a file that then failed),
    and the `recipe` they were chunked by."""
    path = str(item.path)
    if item.error:
        return FileResult(path, "failed", reason=item.error)
    known = store.document_by_path(path)
    doc = item.document
    same = known is not None and known.sha256 == item.sha256
    if known is not None and (doc is None or (same and known.chunking == recipe)):
        return FileResult(path, "unchanged", known.id, pages=known.pages,
                          chunks=known.chunk_count)
    if doc is None:  # unchanged when parsing began, removed since
        return FileResult(path, "failed", reason="removed from the index during the ingest: "
                                                 "ingest it again")
    moved = store.document_by_hash(item.sha256) if known is None else None
    if moved is not None and Path(moved.path).exists():
        # A copy of an indexed file: a second copy would only repeat its passages and
        # double its words' document frequency in BM25.
        return FileResult(path, "duplicate", moved.id,
                          reason=f"same content as {moved.path} (indexed as {moved.id})")
    if vectors is None:
        try:
            vectors = encode(item.texts)
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
            return FileResult(path, "failed", reason=f"could not be embedded "
                                                     f"({type(exc).__name__}: {str(exc)[:120]})")
    # The same file, moved: it keeps its id, and put_document replaces the old row in the same
    # transaction, so a crash leaves it at the old path or the new one.
    doc_id = moved.id if moved else known.id if known else store.free_id(
        slug(item.path.name), path)
    store.put_document(
        doc_id, path=path, kind=doc.kind, sha256=item.sha256, size_bytes=item.size_bytes,
        pages=doc.page_count, paginated=doc.paginated, metadata=doc.metadata,
        warnings=doc.warnings, chunks=item.chunks, vectors=vectors, page_words=doc.page_words,
        chunking=recipe,
    )
    status = "rechunked" if same else "replaced" if known or moved else "added"
    return FileResult(path, status, doc_id, pages=doc.page_count, chunks=len(item.chunks))


__all__ = ["ChunkProgress", "FileResult", "IngestReport", "Progress", "discover", "ingest"]
