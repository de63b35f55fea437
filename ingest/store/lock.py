"""The single-writer lock of an index folder: an advisory `flock` on `write.lock`.

The kernel drops the lock when its holder exits, however it exits, so a killed ingest never
leaves a stale lock behind. The holder writes its process id into the file, for the message
that a second writer gets.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from meditron_rag.errors import IndexLockedError

LOCK_NAME = "write.lock"


def lock_folder(folder: Path, then: str) -> int:
    """Take the single-writer lock of the index in `folder`: a file descriptor, whose closing
    releases it. When another process holds it, say which and what to do `then`."""
    handle = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(handle, 64).decode(errors="replace").strip() or "another process"
        os.close(handle)
        raise IndexLockedError(
            f"The index in {folder} is being written by process {holder}; wait for that "
            f"ingest to finish and {then}."
        ) from None
    os.ftruncate(handle, 0)
    os.write(handle, str(os.getpid()).encode())
    return handle


def unlock(handle: int) -> None:
    """Release a lock taken by `lock_folder`."""
    fcntl.flock(handle, fcntl.LOCK_UN)
    os.close(handle)


@contextlib.contextmanager
def waiting_for_lock(folder: Path) -> Iterator[None]:
    """Hold the lock, waiting for it rather than refusing: two processes opening a new index at
    once, one migrates it and the other then finds it done."""
    handle = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing the descriptor releases its lock
