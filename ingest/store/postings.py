"""A process's BM25 postings of one store, kept up to date with the store's writes by reading
only what changed, for both backends.

Chunk ids come from a counter that never goes back and a replaced document's chunks get new
ids, so after a write the chunks above the largest id held are the new ones, and those at or
below it can only have gone. A refresh reads the new chunks' term counts and, when the count
and sum of the ids at or below it show that some went, those ids alone, to mark the gone rows
dead. New chunks go into a small delta; the delta is merged into the main postings, dead rows
dropped, once it (or the dead) outgrows a fraction of the main, from memory. Scores are those
of postings built afresh from the live chunks (ingest/bm25.py computes the statistics over
the live rows at query time). Should the ids ever show a chunk at or below the largest held
that is not held (written out of id order), the postings are built afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ingest import bm25

# The delta, or the dead rows, may grow to this fraction of the main postings before a merge.
MERGE_FRACTION = 0.125


class Rows(Protocol):
    """The reads a refresh needs from a store, inside the caller's snapshot."""

    def summary(self, last: int) -> tuple[int, int]:
        """The count and sum of the chunk ids at or below `last`."""
        ...

    def ids(self, last: int) -> np.ndarray:
        """The chunk ids at or below `last`, ascending."""
        ...

    def after(self, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The chunks above `last`, by id: their ids, their numbers of (term id, count) pairs,
        and every pair one after another, an (n, 2) int32 array."""
        ...


class LivePostings:
    """The postings for the generation last refreshed to. The caller holds the store's lock."""

    def __init__(self, merge_fraction: float = MERGE_FRACTION) -> None:
        self.merge_fraction = merge_fraction
        self.generation = -1
        self.rows_read = 0  # chunks' term counts read from the database, for tests
        self._reset()

    def _reset(self) -> None:
        self._main, self._delta = bm25.EMPTY, bm25.EMPTY
        self._main_alive = np.ones(0, dtype=bool)
        self._delta_alive = np.ones(0, dtype=bool)
        self._last = 0  # the largest chunk id ever read
        self._count, self._sum = 0, 0  # of the live chunk ids

    @property
    def nbytes(self) -> int:
        return (self._main.nbytes + self._delta.nbytes + self._main_alive.nbytes
                + self._delta_alive.nbytes)

    def refresh(self, rows: Rows, generation: int) -> None:
        """Catch up with `generation`, reading inside the caller's snapshot of it."""
        if generation == self.generation:
            return
        self.generation = -1  # until this refresh completes
        if self._last and rows.summary(self._last) != (self._count, self._sum):
            self._drop_gone(rows.ids(self._last))
        ids, lengths, pairs = rows.after(self._last)
        self.rows_read += len(ids)
        if len(ids):
            self._add(bm25.build(ids, lengths, pairs))
        if max(len(self._delta), self._dead()) > self.merge_fraction * len(self._main):
            self._merge()
        self.generation = generation

    def _drop_gone(self, present: np.ndarray) -> None:
        """Mark dead the rows whose chunks are no longer `present`; build afresh should
        `present` hold a chunk that is not held."""
        held = np.concatenate([self._main.chunk_ids, self._delta.chunk_ids])
        if not np.isin(present, held, assume_unique=True).all():
            self._reset()
            return
        self._main_alive &= np.isin(self._main.chunk_ids, present, assume_unique=True)
        self._delta_alive &= np.isin(self._delta.chunk_ids, present, assume_unique=True)
        self._count, self._sum = len(present), int(present.sum(dtype=np.int64))

    def _add(self, part: bm25.Postings) -> None:
        if not len(self._main):
            self._main, self._main_alive = part, np.ones(len(part), dtype=bool)
        else:
            self._delta = bm25.merge(bm25.compact(self._delta, self._delta_alive), part)
            self._delta_alive = np.ones(len(self._delta), dtype=bool)
        self._last = int(part.chunk_ids[-1])
        self._count += len(part)
        self._sum += int(part.chunk_ids.sum(dtype=np.int64))

    def _dead(self) -> int:
        return int((~self._main_alive).sum() + (~self._delta_alive).sum())

    def _merge(self) -> None:
        """Fold the delta into the main postings and drop the dead rows, from memory."""
        self._main = bm25.merge(bm25.compact(self._main, self._main_alive),
                                bm25.compact(self._delta, self._delta_alive))
        self._main_alive = np.ones(len(self._main), dtype=bool)
        self._delta, self._delta_alive = bm25.EMPTY, np.ones(0, dtype=bool)

    def search(self, term_ids: Sequence[int], k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the k best chunks for the query's term ids, best first."""
        parts = (self._main, self._delta)
        scores = bm25.score(parts, (self._main_alive, self._delta_alive), list(term_ids))
        rows, values = bm25.top_k(scores, k)
        ids = np.concatenate([p.chunk_ids for p in parts])
        return [(int(ids[r]), float(s)) for r, s in zip(rows, values)]
