"""Handing freed heap back to the operating system after a large build."""

from __future__ import annotations

import contextlib
import ctypes
import sys


def return_freed_heap() -> None:
    """Hand the heap that building an index freed back to the OS (glibc's malloc_trim).

    glibc keeps freed small blocks for reuse; after the BM25 build of a large index the process
    would hold them for good, beside the model. A no-op elsewhere.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
