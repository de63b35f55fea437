"""The FAISS index of a SQLite store's vectors: a cache, kept in `vectors-N.faiss` for the
store's generation N, that can always be rebuilt from the vectors in SQLite.

The file is written to a temporary file, flushed and renamed, so no reader ever sees half of
one, and its SHA-256 is recorded in SQLite before the rename. A file that is missing, stale (a
crash before it was saved) or not byte for byte the one recorded (a damaged block, another
store's vectors or ids) is never searched: the index is rebuilt from SQLite instead. No pickle
anywhere: a shared index cannot run code.

The kind follows the collection's size: an exact inner-product index (`IndexFlatIP`) up to
`index.approximate_above` chunks, an inverted-file index with float16 vectors
(`IndexIVFScalarQuantizer`, trained on the stored vectors when it is built) above it. Both take
removals, so replacing a document never needs a rebuild. See docs/ingestion.md for the numbers
behind the threshold.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from ingest.store.heap import return_freed_heap
from meditron_rag.config import IndexConfig

_BATCH = 4096


class VectorCache:
    """The FAISS index for one store folder: in memory for the generation it was loaded at,
    updated in place by the writer, and saved as that generation's file. The caller holds the
    store's lock around every call."""

    def __init__(self, folder: Path, dim: int, settings: IndexConfig) -> None:
        self.folder = folder
        self.dim = dim
        self.settings = settings
        self.index: faiss.Index | None = None
        self.generation = -1
        self.on_disk = False  # whether the file for its generation holds this index

    def path(self, generation: int) -> Path:
        return self.folder / f"vectors-{generation}.faiss"

    def wanted_kind(self, n: int, current: str | None = None) -> str:
        """"flat" or "ivf" for `n` chunks. Under "auto" an IVF index stays until the collection
        shrinks below 80 % of the threshold, so a size near it does not rebuild every run."""
        if self.settings.kind != "auto":
            return self.settings.kind
        threshold = self.settings.approximate_above
        if current == "ivf" and n >= 0.8 * threshold:
            return "ivf"
        return "ivf" if n >= threshold else "flat"

    def fits(self, index: faiss.Index, n: int) -> bool:
        """Whether `index` is the kind this size wants (and an IVF one is not outgrown)."""
        kind = index_kind_of(index)
        if kind != self.wanted_kind(n, kind):
            return False
        if kind == "ivf":
            nlist = faiss.extract_index_ivf(index).nlist
            return _nlist(n) / 2 <= nlist <= _nlist(n) * 2
        return True

    def load(self, db: sqlite3.Connection, generation: int, recorded: str,
             writer: bool) -> faiss.Index:
        """The index for `generation`, read inside the caller's snapshot of it: from its file
        when that is the one recorded, else rebuilt from SQLite."""
        if self.index is not None and self.generation == generation:
            return self.index
        count = int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
        index = self._read_file(self.path(generation), f"{generation}:", recorded, writer)
        if index is not None and (index.ntotal != count or index.d != self.dim
                                  or not self.fits(index, count)):
            index = None
        self.on_disk = index is not None
        if index is None:
            index = self.build(db, count)
        _tune(index)
        self.index, self.generation = index, generation
        return_freed_heap()
        return index

    def _read_file(self, path: Path, prefix: str, recorded: str,
                   writer: bool) -> faiss.Index | None:
        """The file if its bytes are the ones the writer recorded, else None. A file with a
        flipped block, vectors or ids from elsewhere, or no recorded checksum is never
        searched: it is rebuilt from the stored vectors, and a writer deletes it so the next
        save writes it anew."""
        if not path.exists():
            return None
        index = None
        with contextlib.suppress(OSError, RuntimeError):  # RuntimeError: FAISS cannot parse it
            if recorded == prefix + _sha256(path):
                index = faiss.read_index(str(path))
        if index is not None and _outdated(index):  # a format no config uses
            index = None
        if index is None and writer:
            with contextlib.suppress(OSError):
                path.unlink()
        return index

    def build(self, db: sqlite3.Connection, count: int) -> faiss.Index:
        """A new index over every stored vector, streamed from SQLite."""
        kind = self.wanted_kind(count)
        if kind == "ivf" and count:
            nlist = _nlist(count)
            sample_size = min(count, nlist * 64)
            rows = db.execute(
                "SELECT embedding FROM chunks WHERE id IN "
                "(SELECT id FROM chunks ORDER BY random() LIMIT ?)", (sample_size,)
            ).fetchall()
            sample = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32)
            index = new_ivf_index(sample.reshape(len(rows), self.dim), nlist)
        else:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        cursor = db.execute("SELECT id, embedding FROM chunks ORDER BY id")
        while rows := cursor.fetchmany(_BATCH):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            index.add_with_ids(vecs.reshape(len(rows), self.dim), ids)
        return index

    def update(self, generation: int, removed: list[int], added: list[int],
               vectors: np.ndarray) -> None:
        """Follow a committed change in place (when an index is loaded), as `generation`."""
        if self.index is None:
            return
        if removed:
            # faiss's Python wrapper takes an id array (it builds the selector itself); the
            # stub of the base Index lists only the IDSelector form.
            self.index.remove_ids(np.asarray(removed, dtype=np.int64))  # type: ignore[arg-type]
        if added:
            self.index.add_with_ids(vectors, np.asarray(added, dtype=np.int64))
        self.generation, self.on_disk = generation, False

    def save(self, db: sqlite3.Connection, generation: int,
             load: Callable[[], faiss.Index]) -> None:
        """Write the file for `generation` atomically; drop older ones. When the file for this
        generation is already on disk and nothing changed here, nothing is read or written."""
        target = self.path(generation)
        loaded = self.index is not None and self.generation == generation
        if not loaded and target.exists():
            self._drop_old_files(target)
            return
        index = load()
        count = index.ntotal
        if not self.fits(index, count):  # grew past (or fell below) the threshold
            index = self.build(db, count)
            _tune(index)
            self.index, self.on_disk = index, False
        if not self.on_disk:
            tmp = target.with_suffix(".tmp")
            faiss.write_index(index, str(tmp))
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            # Recorded before the rename: a reader never finds the new file without it.
            with db:
                db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                           ("vectors_sha256", f"{generation}:{_sha256(tmp)}"))
            os.replace(tmp, target)
            self.on_disk = True
            directory = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(directory)  # the rename itself survives a power cut
            finally:
                os.close(directory)
        self._drop_old_files(target)

    def _drop_old_files(self, keep: Path) -> None:
        for old in self.folder.glob("vectors-*.faiss"):
            if old != keep:
                old.unlink(missing_ok=True)
        for tmp in self.folder.glob("vectors-*.tmp"):
            tmp.unlink(missing_ok=True)


def nearest(index: faiss.Index, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(chunk id, inner product) of the k nearest vectors in `index`, best first."""
    scores, ids = index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]


def describe(index: faiss.Index) -> dict[str, object]:
    """What `index` is: kind, vectors, dimensions, and for IVF its lists and probes."""
    info: dict[str, object] = {"kind": index_kind_of(index), "vectors": int(index.ntotal),
                               "dim": int(index.d)}
    if info["kind"] == "ivf":
        ivf = faiss.extract_index_ivf(index)
        info.update(nlist=int(ivf.nlist), nprobe=int(ivf.nprobe))
    return info


def _sha256(path: Path) -> str:
    """The file's SHA-256, read block by block so the cache is never held in memory whole
    (`hashlib.file_digest` would do the same, but only from Python 3.11)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _nlist(n: int) -> int:
    """Inverted lists for n vectors: about sqrt(n), with at least 39 training points per list."""
    return max(1, min(int(math.sqrt(n)), n // 39))


def _nprobe(nlist: int) -> int:
    """Lists searched per query: a quarter of them, 16 to 256 (see docs/ingestion.md for the
    recall this gives)."""
    return max(1, min(nlist, max(16, min(256, nlist // 4))))


def new_ivf_index(sample: np.ndarray, nlist: int) -> faiss.Index:
    """An empty inverted-file index (inner product) trained on `sample`; it takes ids and
    removals. Vectors are kept as float16: half the memory of float32, for a rounding far below
    the distances that rank them."""
    dim = sample.shape[1]
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                          faiss.METRIC_INNER_PRODUCT, False)
    index.cp.spherical = True  # unit vectors: centroids on the sphere
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.nprobe = _nprobe(nlist)
    return index


def _outdated(index: faiss.Index) -> bool:
    """An IVF index with float32 vectors, as older versions wrote (see new_ivf_index)."""
    return index_kind_of(index) == "ivf" and not isinstance(
        faiss.downcast_index(faiss.extract_index_ivf(index)), faiss.IndexIVFScalarQuantizer)


def index_kind_of(index: faiss.Index) -> str:
    """"ivf" for an inverted-file index, "flat" for the exact one."""
    try:
        faiss.extract_index_ivf(index)
    except RuntimeError:
        return "flat"
    return "ivf"


def _tune(index: faiss.Index) -> None:
    if index_kind_of(index) == "ivf":
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = _nprobe(ivf.nlist)
