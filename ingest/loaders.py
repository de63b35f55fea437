"""Turn a file on disk into a `LoadedDocument`: its text, page offsets, headings and metadata.

The kind is read from the content first and the name second, so a PDF saved as `.txt` is still
read as a PDF. Every file that cannot be read raises `LoadError` with one sentence saying why
and what to do. A `<file>.meta.yaml` beside a document overrides its metadata.

The formats live in `ingest.pdf`, `ingest.html` and `ingest.text`; this module is the entry:
`load_document`, `sniff_kind`, `SUPPORTED_SUFFIXES`, `SIDECAR_SUFFIX`.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

import yaml

from ingest.document import LoadedDocument
from ingest.html import load_html
from ingest.pdf import load_pdf
from ingest.text import decode, load_markdown, load_text, looks_like_utf16, merge_metadata
from meditron_rag.config import IngestConfig, PdfConfig
from meditron_rag.errors import LoadError

SUPPORTED_SUFFIXES = (".pdf", ".md", ".markdown", ".html", ".htm", ".txt", ".text")
SIDECAR_SUFFIX = ".meta.yaml"

_MB = 1024 * 1024
_SNIFF_BYTES = 8192


def load_document(path: Path, max_bytes: int = IngestConfig().max_file_bytes,
                  pdf: PdfConfig | None = None,
                  max_pdf_bytes: int = IngestConfig().max_pdf_bytes) -> LoadedDocument:
    """Read one document; raise `LoadError` with a one-sentence reason when it cannot be read.
    A file over its size limit is not read: `max_pdf_bytes` for a PDF, `max_bytes` for any
    other (by default ingest.max_pdf_mb's and ingest.max_file_mb's defaults); a PDF whose text
    is over `max_bytes` is refused once read. PDFs are read with `pdf`'s settings (by default
    the `pdf` section's defaults)."""
    path = Path(path)
    data = _read_bytes(path, max_bytes, max_pdf_bytes)
    kind = _kind_of(path, data[:_SNIFF_BYTES])
    if kind == "pdf":
        doc = load_pdf(path, data, pdf)
        if len(doc.text) > max_bytes:
            raise LoadError(path, f"too much text ({len(doc.text) / _MB:.1f} MB of text > "
                                  f"{max_bytes / _MB:.1f} MB limit, ingest.max_file_mb): split "
                                  "it or raise the limit")
    else:
        text, warnings = decode(data)
        if not text.strip():
            raise LoadError(path, "empty file: it has no text to index")
        loader = {"markdown": load_markdown, "html": load_html, "text": load_text}[kind]
        doc = loader(path, text)
        doc.warnings[:0] = warnings
    _apply_sidecar(doc)
    return doc


def sniff_kind(path: Path) -> str:
    """"pdf", "html", "markdown" or "text", from the first bytes and the name of the file.

    Raises `LoadError` for a file that cannot be opened or holds binary data of another kind.
    """
    path = Path(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise LoadError(path, "not a regular file: give the path of a document")
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise LoadError(path, _os_reason(exc)) from exc
    return _kind_of(path, head)


# ---------------------------------------------------------------------------------------------
# Reading, sniffing and decoding


def size_limit(head: bytes, max_bytes: int, max_pdf_bytes: int) -> tuple[int, str]:
    """The size limit of a file that starts with `head`, and the setting that sets it. A PDF's
    bytes are mostly images and fonts (a scan's are all images), so a PDF has a limit of its
    own; any other file's bytes are its text."""
    if b"%PDF-" in head[:1024]:
        return max_pdf_bytes, "ingest.max_pdf_mb"
    return max_bytes, "ingest.max_file_mb"


def too_large(size: int, limit: int, setting: str) -> str:
    return (f"file too large ({size / _MB:.1f} MB > {limit / _MB:.1f} MB limit): split it or "
            f"raise the limit ({setting})")


def _read_bytes(path: Path, max_bytes: int, max_pdf_bytes: int) -> bytes:
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise LoadError(path, "is a folder, not a document")
        if not stat.S_ISREG(info.st_mode):
            raise LoadError(path, "not a regular file (a pipe, socket or device): copy the "
                                  "document into a file")
        with path.open("rb") as handle:
            head = handle.read(1024)
            limit, setting = size_limit(head, max_bytes, max_pdf_bytes)
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise LoadError(path, too_large(size, limit, setting))
            data = head + handle.read(limit + 1 - len(head))
        if len(data) > limit:  # it grew after the size check
            raise LoadError(path, f"file too large (over the {limit / _MB:.1f} MB limit): "
                                  f"split it or raise the limit ({setting})")
    except OSError as exc:
        raise LoadError(path, _os_reason(exc)) from exc
    if not data.strip():
        raise LoadError(path, "empty file: it has no text to index")
    return data


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found: check the path"
    if isinstance(exc, PermissionError):
        return "permission denied: make the file readable"
    return f"cannot read the file ({exc.strerror or exc})"


def _kind_of(path: Path, head: bytes) -> str:
    """By content first: `%PDF-` magic, then HTML tags, then a Markdown name or front matter."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if not _looks_like_text(head):
        raise LoadError(path, "not a supported document: binary data that is not PDF, "
                              "HTML, Markdown or text")
    start = decode(head, quiet=True)[0].lstrip().lower()[:2048]
    suffix = path.suffix.lower()
    if start.startswith(("<!doctype html", "<html")) or "<html" in start[:1024]:
        return "html"
    if suffix in (".html", ".htm") and start.startswith("<"):
        return "html"
    if suffix in (".md", ".markdown") or start.startswith("---\n"):
        return "markdown"
    return "text"


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if looks_like_utf16(head):
        return True
    if b"\x00" in head:
        return False
    sample = head.decode("latin-1")
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return control <= max(2, len(sample) // 100)


def _apply_sidecar(doc: LoadedDocument) -> None:
    sidecar = doc.path.with_name(doc.path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return
    try:
        values = yaml.safe_load(sidecar.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LoadError(doc.path, f"its metadata file {sidecar.name} is not valid YAML: "
                                  "fix or remove it") from exc
    if values is None:
        return
    if not isinstance(values, dict):
        raise LoadError(doc.path, f"its metadata file {sidecar.name} is not a mapping of "
                                  "keys to values: fix or remove it")
    merge_metadata(doc.metadata, values, doc.warnings)

