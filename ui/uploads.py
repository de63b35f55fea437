"""Uploads, as the app and the HTTP API take them: the name, type and size checks, where a file
is kept, and its ingest.

A file is saved as <data_dir>/uploads/<content hash>/<name> with a sanitised name, so every
distinct upload has its own path and adding a file never replaces another document (two names
that sanitise alike, a new version under an old name): only a replace does, and it names the
document it replaces. One ingest at a time per index (`lock`); readers never wait for it.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import ingest
from ingest.loaders import SUPPORTED_SUFFIXES, size_limit, too_large
from meditron_rag.config import Config
from meditron_rag.errors import MeditronRagError
from rag import Engine

if TYPE_CHECKING:
    from ingest.pipeline import ChunkProgress, FileResult

MAX_NAME_CHARS = 255  # what most file systems allow in one name


@dataclass
class Upload:
    name: str
    data: bytes


@dataclass
class Batch:
    """What one press of "Add" did: the summary line and the failures with reasons."""

    summary: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)
    done: list[str] = field(default_factory=list)


def upload_limit(config: Config, head: bytes) -> tuple[int, str]:
    """The size limit in bytes of an upload that starts with `head`, and the setting that sets
    it: ingest's own for its kind (a PDF's bytes, any other file's text: `size_limit`), capped
    by ui.max_upload_mb, the operator's cap on any one upload."""
    limit, setting = size_limit(head, config.ingest.max_file_bytes, config.ingest.max_pdf_bytes)
    cap = config.ui.max_upload_mb * 2**20
    return (cap, "ui.max_upload_mb") if cap < limit else (limit, setting)


def limits_text(config: Config) -> str:
    """Both upload limits in words, a PDF's and any other file's, as the app states them."""
    cap = config.ui.max_upload_mb
    return (f"PDF up to {min(cap, config.ingest.max_pdf_mb)} MB, HTML, Markdown or text up to "
            f"{min(cap, config.ingest.max_file_mb)} MB each")


def safe_name(name: str) -> str:
    """A file name that cannot leave the uploads folder or hide: base name only, letters and
    digits of any script, dash and underscore, no leading dot, at most 100 bytes of stem."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", name)[-1])
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    kept = "".join(c if c in "-_" or unicodedata.category(c)[0] in "LMN" else " " for c in stem)
    stem = re.sub(r"[\s-]+", "-", kept).strip("-_")
    stem = stem.encode()[:100].decode(errors="ignore").strip("-_") or "document"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def upload_path(folder: Path, name: str, data: bytes) -> Path:
    """Where an upload is kept: its sanitised name in a folder named by its content, so two
    uploads share a path only when they are the same bytes under the same name."""
    return folder / hashlib.sha256(data).hexdigest()[:12] / safe_name(name)


def display_name(name: str, limit: int = 80) -> str:
    """An uploaded file's name as it may be shown on one line: control characters (a NUL, a
    newline) as spaces, a long name cut in the middle."""
    shown = " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c
                             for c in name).split())
    return shown if len(shown) <= limit else f"{shown[:limit - 21]}…{shown[-20:]}"


def check_upload(name: str, size: int, head: bytes, config: Config) -> str:
    """Why an upload of `size` bytes that starts with `head` is refused, or "" when it may be
    ingested; a file over its limit (`upload_limit`) is told the setting that sets it."""
    if len(name) > MAX_NAME_CHARS:
        return (f"the name is {len(name)} characters long, over the {MAX_NAME_CHARS} a file "
                "system allows: rename the file")
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "the name holds a control character (a NUL, a newline, a tab): rename the file"
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return f"type {suffix or '(none)'} is not supported: use PDF, HTML, Markdown or text"
    if size == 0:
        return "the file is empty"
    limit, setting = upload_limit(config, head)
    if size > limit:
        return too_large(size, limit, setting)
    if suffix == ".pdf" and not head.startswith(b"%PDF"):
        return "the file is named .pdf but is not a PDF"
    if suffix != ".pdf" and b"\x00" in head[:4096]:
        return "the file looks binary, not text"
    return ""


Progress = Callable[[str, int, int, str], None]  # (name shown, n, total, status)
Passages = Callable[[str, int, int, float], None]  # (name shown, embedded, found, per second)


def save_and_ingest(engine: Engine, uploads: list[Upload], lock: threading.Lock,
                    replaces: str = "", progress: Progress | None = None,
                    passages: Passages | None = None) -> Batch:
    """Check and save `uploads` and ingest them under `lock` (refused at once, not queued,
    while another ingest holds it); with `replaces`, remove that document once its
    replacement is in. `progress` hears of each file as it is done, `passages` of each batch
    of a file's passages embedded."""
    config = engine.config
    folder = config.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    batch = Batch()
    names: dict[str, str] = {}  # saved path -> the name the user gave the file
    for upload in uploads:
        reason = check_upload(upload.name, len(upload.data), upload.data[:4096], config)
        if reason:
            batch.failures.append((upload.name, reason))
            continue
        path = upload_path(folder, upload.name, upload.data)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(upload.data)
        names[str(path)] = upload.name
    paths = [Path(p) for p in names]
    if not paths:
        batch.summary = "Nothing to ingest."
        return batch
    if not lock.acquire(blocking=False):
        batch.failures += [(n, "another upload is being indexed: try again in a moment")
                           for n in names.values()]
        return batch
    try:
        store = engine.store

        def each(result: FileResult, n: int, total: int) -> None:
            if progress is not None:
                name = display_name(names.get(result.path, Path(result.path).name))
                progress(name, n, total, result.status)

        def each_batch(step: ChunkProgress) -> None:
            if passages is not None:
                name = display_name(names.get(step.path, Path(step.path).name))
                passages(name, step.embedded, step.found, step.chunks_per_s)

        with store.writing():
            report = ingest(paths, store, engine.embedder, config.chunking.chunk_tokens,
                            config.chunking.overlap_tokens,
                            max_bytes=config.ingest.max_file_bytes,
                            max_pdf_bytes=config.ingest.max_pdf_bytes, pdf=config.pdf,
                            progress=each, chunk_progress=each_batch,
                            window=config.embedding.ingest_window,
                            lookahead=config.embedding.ingest_lookahead)
            ok = [f for f in report.files if f.status != "failed"]
            replaced = bool(replaces and ok and all(f.document_id != replaces for f in ok)
                            and store.remove_document(replaces))
    except MeditronRagError as exc:
        batch.failures += [(n, str(exc)) for n in names.values()]
        return batch
    finally:
        lock.release()
    batch.summary = report.summary() + (
        f" {replaces} is replaced by {ok[0].document_id}." if replaced else "")
    batch.failures += [(names.get(f.path, Path(f.path).name), f.reason)
                       for f in report.files if f.status == "failed"]
    batch.done = [f.document_id for f in report.files if f.status != "failed"]
    return batch


def remove(engine: Engine, doc_id: str, lock: threading.Lock) -> bool:
    """Remove a document under the ingest lock: False when it was already gone."""
    with lock, engine.store.writing():
        return engine.store.remove_document(doc_id)
