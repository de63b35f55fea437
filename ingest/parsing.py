"""Read files ahead of the encoder: hash each one, and parse and chunk the changed ones, a few
files ahead of the one being embedded.

PDFs are parsed in a child process when an ingest holds more than one file. Much of parsing
is Python (pypdf opening the file, cleaning pages, placing headings): in a thread of the
ingest's own process it holds the interpreter lock that the encoder's thread needs between
every step of the model, and the encoder waits.
In a process of its own the parser costs only the CPU it uses, and a native crash in it fails
that one file instead of the ingest. A single file is parsed in a thread: nothing runs beside
its parsing, and starting the child would only add to it. So are the first PDFs of a batch,
while the child starts: the encoder has nothing to do until the first file is parsed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
import select
import stat
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ingest.batching import Prepared
from ingest.chunking import TokenSpans, chunk_document
from ingest.loaders import SIDECAR_SUFFIX, load_document, size_limit, too_large
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
# Raise it whenever the same file and settings would give other chunks (a change to a parser,
# to the chunker or to the embedded text): documents recorded with an older recipe are then
# parsed and chunked anew by the next ingest of their files.
CHUNKER_VERSION = 2
READY = b"R"  # what the parse child writes once it has imported its parsers


@dataclass(frozen=True)
class Reading:
    """How files are read: the size limits and the PDF settings (what the parse child gets)."""

    max_bytes: int
    max_pdf_bytes: int
    pdf: PdfConfig | None


@dataclass(frozen=True)
class Chunker:
    """How the parsing thread reads files and cuts documents: the embedder's tokenizer and the
    sizes."""

    count_tokens: Callable[[str], int]
    token_spans: TokenSpans
    chunk_tokens: int
    overlap_tokens: int
    reading: Reading

    @property
    def recipe(self) -> str:
        """What a document records of how its chunks were made; another recipe makes them
        again."""
        return f"v{CHUNKER_VERSION} {self.chunk_tokens}/{self.overlap_tokens} tokens"


def _check(path: Path, max_bytes: int, max_pdf_bytes: int) -> Prepared:
    """Hash one file, or say why it cannot be read."""
    if leads_nowhere(path):
        return Prepared(path, "", error=_broken_link(path))
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return Prepared(path, "", error="not a regular file (a pipe, socket or device): "
                                            "copy the document into a file")
        with path.open("rb") as handle:  # refused by size before reading it
            limit, setting = size_limit(handle.read(1024), max_bytes, max_pdf_bytes)
        if info.st_size > limit:
            return Prepared(path, "", error=too_large(info.st_size, limit, setting))
        sha, size = file_hash(path), info.st_size
    except FileNotFoundError:
        return Prepared(path, "", error="file not found (moved or deleted?): check the path")
    except OSError as exc:
        return Prepared(path, "", error=f"cannot read the file ({exc.strerror or exc})")
    return Prepared(path, sha, size)


def load_item(item: Prepared, reading: Reading) -> Prepared:
    """`item` with its document read, or with why it cannot be."""
    try:
        return replace(item, document=load_document(item.path, max_bytes=reading.max_bytes,
                                                    pdf=reading.pdf,
                                                    max_pdf_bytes=reading.max_pdf_bytes))
    except LoadError as exc:
        return replace(item, error=exc.reason)
    except OSError as exc:
        return replace(item, error=f"cannot read the file ({exc.strerror or exc})")
    except Exception as exc:  # noqa: BLE001 - a parser bug on one file must not stop the batch
        return replace(item, error=f"could not be parsed ({type(exc).__name__}: "
                                   f"{str(exc)[:120]}); report it with the file")


class Loader:
    """Reads documents here, or (`child`) PDFs in a child process: a process of its own
    (`python -m ingest.parse_child`), not a multiprocessing worker, which would import the
    caller's main script again. Until the child has imported its parsers (it says so with one
    byte), PDFs are parsed here, so the first file of an ingest does not wait for it."""

    def __init__(self, child: bool) -> None:
        self.child = child
        self.process: subprocess.Popen[bytes] | None = None
        self.ready = False

    def start(self) -> None:
        """Start the child, if this loader has one and it is not running."""
        if self.child and self.process is None:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            self.process = subprocess.Popen([sys.executable, "-m", "ingest.parse_child"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            env=env)
            self.ready = False

    def started(self, timeout: float) -> bool:
        """Whether the child is ready for files, waiting up to `timeout` seconds for it."""
        process = self.process
        if process is None or self.ready:
            return self.ready
        assert process.stdout is not None
        if select.select([process.stdout], [], [], timeout)[0]:
            self.ready = process.stdout.read(1) == READY
            if not self.ready:  # it died while starting: the next PDF starts another
                self._end()
        return self.ready

    def load(self, item: Prepared, reading: Reading) -> Prepared:
        if not self.child or item.path.suffix.lower() != ".pdf":
            return load_item(item, reading)
        self.start()
        if not self.started(0):
            return load_item(item, reading)
        process = self.process
        assert process is not None and process.stdin is not None and process.stdout is not None
        try:
            pickle.dump((item, reading), process.stdin)
            process.stdin.flush()
            loaded: Prepared = pickle.load(process.stdout)
            return loaded
        except (BrokenPipeError, EOFError, pickle.UnpicklingError):
            code = self._end()
            how = f"signal {-code}" if code < 0 else f"exit status {code}"
            return replace(item, error=f"the PDF parser crashed on this file ({how}): report it "
                                       "with the file")

    def _end(self) -> int:
        """Forget a child that died; its exit status (negative: the signal)."""
        assert self.process is not None
        code = self.process.wait()
        self.process, self.ready = None, False
        return code

    def close(self) -> None:
        if self.process is not None:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.close()  # the child reads the end, and exits
            self.process.wait()
            self.process.stdout.close()
            self.process = None


def _prepare(path: Path, known: dict[str, str], chunker: Chunker, loader: Loader) -> Prepared:
    """A file parsed and chunked, with the texts its chunks are embedded as; `known` maps each
    indexed path to its content hash, so an unchanged file is never read past its hash."""
    item = _check(path, chunker.reading.max_bytes, chunker.reading.max_pdf_bytes)
    if item.error or known.get(str(path)) == item.sha256:
        return item
    item = loader.load(item, chunker.reading)
    doc = item.document
    if doc is None:
        return item
    try:
        item.chunks = chunk_document(doc, chunker.count_tokens,
                                     chunk_tokens=chunker.chunk_tokens,
                                     overlap_tokens=chunker.overlap_tokens,
                                     token_spans=chunker.token_spans)
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
    loader = Loader(child=len(paths) > 1)
    if any(path.suffix.lower() == ".pdf" for path in paths):
        loader.start()  # it imports its parsers while the first files are read here
    try:
        pending: deque[Future[Prepared]] = deque()
        for path in paths:
            pending.append(pool.submit(_prepare, path, known, chunker, loader))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        loader.close()
