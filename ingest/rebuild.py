"""`ingest --rebuild`: a new index built beside the old one and swapped in under the lock.

The old index's writer lock is taken first, so a rebuild never deletes what a running ingest
is writing (it stops with `IndexLockedError` instead). The new index is built in
`<index>.rebuild` while the old one stays whole, and replaces it only once complete: a crash or
a kill mid-rebuild leaves the old index as it was, and the next rebuild starts over.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from ingest.store.lock import lock_folder

T = TypeVar("T")


@contextmanager
def writer_lock(folder: Path) -> Iterator[None]:
    """Hold the lock `SQLiteStore.acquire` takes, without opening the index: the one a rebuild
    replaces may be of another format or embedding model."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = lock_folder(folder, "run the rebuild again")
    try:
        yield
    finally:
        os.close(handle)  # closing the descriptor releases its lock


def rebuild(folder: Path, build: Callable[[Path], T]) -> T:
    """Run `build(staging)`, which writes a complete index into `staging` and closes it, then
    put that index in `folder`'s place. Both locks are held over the swap, so a writer that
    reaches `folder` during it is refused rather than left writing the retired index."""
    staging = folder.with_name(folder.name + ".rebuild")
    retired = folder.with_name(folder.name + ".old")
    with writer_lock(folder):
        for leftover in (staging, retired):  # from a rebuild that was killed
            if leftover.exists():
                shutil.rmtree(leftover)
        result = build(staging)
        with writer_lock(staging):
            folder.rename(retired)
            staging.rename(folder)
        shutil.rmtree(retired)
    return result
