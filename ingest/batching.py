"""Embed chunks in full batches across files, sorted by length, and write each document whole
when its last vector is in.

The encoder is fastest on full batches of texts of like length, and most files hold fewer
chunks than a batch: so the chunks of consecutive files are pooled, up to
`embedding.ingest_lookahead` of them, sorted by length (short chunks are not padded to long
ones), and handed to the encoder a window (`embedding.ingest_window`) at a time. A document is
written (one transaction, as always) as soon as every one of its chunks has its vector. The
encoder works in a worker thread while the caller takes the next parsed files and writes the
documents the finished windows completed, so store writes and FAISS updates overlap the encoder
instead of pausing it. The first pool is sent as soon as it fills one window, so the encoder
starts early; later pools fill while it works. Results are reported in file order.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.document import Chunk, LoadedDocument
from ingest.embedder import Embedder


@dataclass
class FileResult:
    path: str
    # "added", "replaced" (new content), "rechunked" (the same content, chunked anew),
    # "unchanged" or "duplicate" (skipped), "failed"
    status: str
    document_id: str = ""
    reason: str = ""
    pages: int = 0
    chunks: int = 0


@dataclass(frozen=True)
class ChunkProgress:
    """How far the embedding of one file has come: `embedded` of its `found` chunks, and the
    ingest's rate so far in chunks per second of wall time."""

    path: str
    embedded: int
    found: int
    chunks_per_s: float


Progress = Callable[[FileResult, int, int], None]
Encode = Callable[[Sequence[str]], np.ndarray]
ChunkProgressFn = Callable[[ChunkProgress], None]


@dataclass
class Prepared:
    """A file as the parsing thread leaves it: parsed and chunked, or why it could not be."""

    path: Path
    sha256: str
    size_bytes: int = 0
    document: LoadedDocument | None = None  # None when unchanged or failed
    chunks: list[Chunk] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class _Entry:
    item: Prepared
    vectors: dict[int, np.ndarray] = field(default_factory=dict)  # by chunk index
    wanted: bool = False  # its chunks were queued for embedding
    retry: bool = False  # the batch holding some of its chunks failed: embed it alone

    @property
    def embedded(self) -> int:
        return len(self.vectors)

    @property
    def ready(self) -> bool:
        return not self.wanted or self.retry or self.embedded == len(self.item.texts)


class BatchRunner:
    """Feeds the chunks of the files it is given (`take`) to the encoder: pools of up to
    `lookahead` chunks sorted by length, in windows of `window` (full but at the end); and
    hands each file, in order, to `finish(item, vectors, encode)` once it is complete (vectors
    None when it needs none, or when they must be made for it alone, with `encode`); `report`
    gets what `finish` returns."""

    def __init__(self, embedder: Embedder, window: int, *,
                 needs_vectors: Callable[[Prepared, set[str]], bool],
                 finish: Callable[[Prepared, np.ndarray | None, Encode], FileResult],
                 report: Callable[[FileResult], None],
                 chunk_progress: ChunkProgressFn | None, lookahead: int = 0) -> None:
        self.embedder = embedder
        self.window = window
        self.lookahead = max(window, lookahead // window * window)
        self.needs_vectors = needs_vectors
        self.finish = finish
        self.report = report
        self.chunk_progress = chunk_progress
        self.entries: deque[_Entry] = deque()
        self.queued: deque[tuple[_Entry, int]] = deque()  # (entry, chunk index) not yet sent
        self.inflight: deque[tuple[Future[np.ndarray], list[tuple[_Entry, int]]]] = deque()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self.started = time.perf_counter()
        self.done_chunks = 0

    def take(self, item: Prepared) -> None:
        pending = {e.item.sha256 for e in self.entries if e.wanted}
        entry = _Entry(item, wanted=self.needs_vectors(item, pending))
        self.entries.append(entry)
        if entry.wanted:
            self.queued.extend((entry, i) for i in range(len(item.texts)))
        self._pump(final=False)

    def drain(self) -> None:
        """Embed what is left and write it."""
        self._pump(final=True)

    def stop(self) -> None:
        """Stop the worker; after an error, nothing more is embedded or written."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _pump(self, final: bool) -> None:
        """Collect the windows the encoder has finished; send a new pool when the encoder is
        down to its last window; wait for it while a whole pool is waiting (or, at the end,
        until everything is embedded)."""
        while self.inflight and self.inflight[0][0].done():
            self._collect()
        while True:
            if len(self.inflight) <= 1 and (len(self.queued) >= self.window
                                            or (final and self.queued)):
                self._send(final)
            elif self.inflight and (len(self.queued) >= self.lookahead or final):
                self._collect()
            else:
                break
        self._flush()

    def _send(self, final: bool) -> None:
        """The next pool, sorted by length (as sentence-transformers sorts one call's texts),
        in windows."""
        size = min(len(self.queued), self.lookahead)
        if not final:
            size -= size % self.window
        batch = [self.queued.popleft() for _ in range(size)]
        batch = [(entry, i) for entry, i in batch if not entry.retry]  # sent back to go alone
        batch.sort(key=lambda chunk: -len(chunk[0].item.texts[chunk[1]]))
        for start in range(0, len(batch), self.window):
            window = batch[start:start + self.window]
            texts = [e.item.texts[i] for e, i in window]
            self.inflight.append((self.pool.submit(self.embedder.encode, texts), window))

    def _collect(self) -> None:
        """The oldest window's vectors (waiting for them), and the documents they complete."""
        future, batch = self.inflight.popleft()
        try:
            vectors = future.result()
        except Exception:  # noqa: BLE001 - one bad document must not stop the batch
            for entry, _ in batch:
                entry.retry = True  # embedded alone when written, which names the bad one
            self._flush()
            return
        touched: dict[int, _Entry] = {}
        for (entry, index), vector in zip(batch, vectors):
            if entry.retry:
                continue
            entry.vectors[index] = vector
            touched[id(entry)] = entry
        self.done_chunks += len(batch)
        if self.chunk_progress:
            rate = self.done_chunks / max(time.perf_counter() - self.started, 1e-6)
            for entry in touched.values():
                self.chunk_progress(ChunkProgress(str(entry.item.path), entry.embedded,
                                                  len(entry.item.texts), rate))
        self._flush()

    def _flush(self) -> None:
        while self.entries and self.entries[0].ready:
            entry = self.entries.popleft()
            vectors = None
            if entry.wanted and not entry.retry:
                vectors = np.stack([entry.vectors[i] for i in range(len(entry.item.texts))])
            self.report(self.finish(entry.item, vectors, self._encode_alone))

    def _encode_alone(self, texts: Sequence[str]) -> np.ndarray:
        """Texts embedded in the worker, after the windows in flight: one thread uses the
        encoder (and its tokenizer, whose settings are shared state) at a time."""
        return self.pool.submit(self.embedder.encode, texts).result()
