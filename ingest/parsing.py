"""Read files ahead of the encoder: hash each one, and parse and chunk the changed ones, a few
files ahead of the one being embedded."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ingest.batching import Prepared
from ingest.chunking import chunk_document
from ingest.loaders import SIDECAR_SUFFIX, load_document
from meditron_rag.config import PdfConfig
from meditron_rag.errors import LoadError


def leads_nowhere(path: Path) -> bool:
    return path.is_symlink() and not path.exists()


def _broken_link(path: Path) -> str:
    """Why a link that leads nowhere cannot be ingested."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop (it leads back to itself): point it at a file"
    return (f"a symbolic link to {os.readlink(path)}, which does not exist: fix or remove "
            "the link")


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.exists():
        digest.update(sidecar.read_bytes())
    return digest.hexdigest()


def embedding_text(title: str, section: str, text: str) -> str:
    """What is embedded for a chunk: its text behind a short header naming where it stands.

    The header lets a passage that never repeats its topic ("Screen every two years") still
    match a question about that topic; the stored chunk text stays verbatim.
    """
    header = " > ".join(part for part in (title, section) if part)
    return f"{header}\n{text}" if header else text


PARSE_AHEAD = 2  # files parsed beyond the one being taken: enough to fill a batch, few in memory


@dataclass(frozen=True)
class Chunker:
    """How the parsing thread cuts documents: the embedder's tokenizer and the sizes."""

    count_tokens: Callable[[str], int]
    chunk_tokens: int
    overlap_tokens: int
    max_bytes: int
    pdf: PdfConfig | None


def _parse(path: Path, known: dict[str, str], max_bytes: int, pdf: PdfConfig | None
           ) -> Prepared:
    """Hash and load one file; `known` maps each indexed path to its content hash, so an
    unchanged file is never read past its hash."""
    if leads_nowhere(path):
        return Prepared(path, "", error=_broken_link(path))
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return Prepared(path, "", error="not a regular file (a pipe, socket or device): "
                                            "copy the document into a file")
        if info.st_size > max_bytes:  # refused by size before reading it
            mb = 1024 * 1024
            return Prepared(path, "", error=f"file too large ({info.st_size / mb:.1f} MB > "
                                            f"{max_bytes / mb:.1f} MB limit): split it or "
                                            "raise the limit")
        sha, size = file_hash(path), info.st_size
    except FileNotFoundError:
        return Prepared(path, "", error="file not found (moved or deleted?): check the path")
    except OSError as exc:
        return Prepared(path, "", error=f"cannot read the file ({exc.strerror or exc})")
    if known.get(str(path)) == sha:
        return Prepared(path, sha, size)
    try:
        return Prepared(path, sha, size,
                        document=load_document(path, max_bytes=max_bytes, pdf=pdf))
    except LoadError as exc:
        return Prepared(path, sha, size, error=exc.reason)
    except OSError as exc:
        return Prepared(path, sha, size, error=f"cannot read the file ({exc.strerror or exc})")
    except Exception as exc:  # noqa: BLE001 - a parser bug on one file must not stop the batch
        return Prepared(path, sha, size, error=f"could not be parsed ({type(exc).__name__}: "
                                               f"{str(exc)[:120]}); report it with the file")


def _prepare(path: Path, known: dict[str, str], chunker: Chunker) -> Prepared:
    """A file parsed and chunked, with the texts its chunks are embedded as."""
    item = _parse(path, known, chunker.max_bytes, chunker.pdf)
    doc = item.document
    if doc is None:
        return item
    try:
        item.chunks = chunk_document(doc, chunker.count_tokens,
                                     chunk_tokens=chunker.chunk_tokens,
                                     overlap_tokens=chunker.overlap_tokens)
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
        item.error = f"could not be chunked ({type(exc).__name__}: {str(exc)[:120]})"
        return item
    if not item.chunks:
        item.error = "no text to index after parsing"
    item.texts = [embedding_text(doc.metadata.title, c.section, c.text) for c in item.chunks]
    return item


def prefetch(paths: list[Path], known: dict[str, str], chunker: Chunker,
              ahead: int) -> Iterator[Prepared]:
    """Parse and chunk up to `ahead` files beyond the one the caller holds."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse")
    try:
        pending: deque[Future[Prepared]] = deque()
        upcoming = iter(paths)
        for path in upcoming:
            pending.append(pool.submit(_prepare, path, known, chunker))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
