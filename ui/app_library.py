"""Library tab: upload, list, replace and remove documents.

Uploads are checked (name, type and size), saved as <data_dir>/uploads/<content hash>/<name>
with a sanitised name, and ingested with a progress bar while other sessions keep asking: the
store writes one document per transaction and the retriever re-reads the documents when the
generation changes. The hash folder gives every distinct upload its own path, so adding a file
never replaces another document (two names that sanitise alike, a new version under an old
name): only "Replace" does, and it says which document it replaces.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import streamlit as st

from ingest import DocumentRecord, ingest
from ingest.loaders import SUPPORTED_SUFFIXES
from meditron_rag.config import Config
from meditron_rag.errors import MeditronRagError
from rag import Engine
from ui.app_common import plain, write_lock

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

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



def _limit_mb(config: Config) -> int:
    """The upload limit: the app's, but never above what ingest accepts."""
    return min(config.ui.max_upload_mb, config.ingest.max_file_mb)

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


def check_upload(name: str, size: int, max_bytes: int, head: bytes) -> str:
    """Why an upload is refused, or "" when it may be ingested."""
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
    if size > max_bytes:
        return f"{size / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB limit"
    if suffix == ".pdf" and not head.startswith(b"%PDF"):
        return "the file is named .pdf but is not a PDF"
    if suffix != ".pdf" and b"\x00" in head[:4096]:
        return "the file looks binary, not text"
    return ""


def save_and_ingest(engine: Engine, uploads: list[Upload], replaces: str = "") -> Batch:
    """Check and save `uploads`, ingest them with a progress bar; with `replaces`, remove that
    document once its replacement is in."""
    config = engine.config
    folder = config.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    batch = Batch()
    names: dict[str, str] = {}  # saved path -> the name the user gave the file
    for upload in uploads:
        reason = check_upload(upload.name, len(upload.data), _limit_mb(config) * 2**20,
                              upload.data[:4096])
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
    lock = write_lock(str(config.data_dir))
    if not lock.acquire(blocking=False):
        batch.failures += [(n, "another upload is being indexed: try again in a moment")
                           for n in names.values()]
        return batch
    bar = st.progress(0.0, text=f"Indexing {len(paths)} file(s)…")
    try:
        store = engine.store

        finished = [0]  # files done so far

        def progress(result: FileResult, n: int, total: int) -> None:
            finished[0] = n
            name = plain(display_name(names.get(result.path, Path(result.path).name)))
            bar.progress(n / total, text=f"{n}/{total}: {name} {result.status}")

        def chunk_progress(step: ChunkProgress) -> None:
            """Within a large upload: its passages embedded of those found, and the rate."""
            name = plain(display_name(names.get(step.path, Path(step.path).name)))
            bar.progress(min(1.0, (finished[0] + step.embedded / step.found) / len(paths)),
                         text=f"{name}: {step.embedded:,} of {step.found:,} passages embedded "
                              f"({step.chunks_per_s:.1f}/s)")

        with store.writing():
            report = ingest(paths, store, engine.embedder, config.chunking.chunk_tokens,
                            config.chunking.overlap_tokens,
                            max_bytes=_limit_mb(config) * 2**20, progress=progress,
                            chunk_progress=chunk_progress,
                            batch_size=config.embedding.batch_size)
            ok = [f for f in report.files if f.status != "failed"]
            replaced = bool(replaces and ok and all(f.document_id != replaces for f in ok)
                            and store.remove_document(replaces))
    except MeditronRagError as exc:
        batch.failures += [(n, str(exc)) for n in names.values()]
        return batch
    finally:
        lock.release()
        bar.empty()
    batch.summary = report.summary() + (
        f" {replaces} is replaced by {ok[0].document_id}." if replaced else "")
    batch.failures += [(names.get(f.path, Path(f.path).name), f.reason)
                       for f in report.files if f.status == "failed"]
    batch.done = [f.document_id for f in report.files if f.status != "failed"]
    return batch


def remove(engine: Engine, doc_id: str) -> bool:
    lock = write_lock(str(engine.config.data_dir))
    with lock, engine.store.writing():
        return engine.store.remove_document(doc_id)


def _show_batch() -> None:
    batch: Batch | None = st.session_state.get("last_batch")
    if batch is None:
        return
    if batch.summary:
        (st.warning if batch.failures else st.success)(batch.summary)
    for name, reason in batch.failures:
        st.error(f"{plain(display_name(name))}: {plain(reason)}")


def _uploader(label: str, key: str, multiple: bool) -> list[UploadedFile]:
    """The files chosen in a `st.file_uploader` with no `type` (none: an empty list): with a
    `type`, Streamlit checks names itself before the script runs and a NUL in a name replaces
    the page with its exception; `check_upload` refuses a bad name or type with a reason
    instead (the file dialog then lists every file)."""
    chosen = st.file_uploader(label, accept_multiple_files=multiple, key=key,
                              help="PDF, HTML, Markdown or text.")
    if chosen is None:
        return []
    return chosen if isinstance(chosen, list) else [chosen]


def render(engine: Engine, docs: list[DocumentRecord]) -> None:
    config = engine.config
    st.caption(f"PDF, HTML, Markdown or text, up to {_limit_mb(config)} MB each. Files are "
               f"kept in {config.data_dir / 'uploads'}.")
    round_ = st.session_state.setdefault("upload_round", 0)
    files = _uploader("Add documents", f"upload-{round_}", multiple=True)
    if st.button("Add to the library", type="primary", disabled=not files):
        uploads = [Upload(f.name, f.getvalue()) for f in files]
        st.session_state["last_batch"] = save_and_ingest(engine, uploads)
        st.session_state["upload_round"] = round_ + 1
        st.rerun()
    _show_batch()

    st.subheader(f"{len(docs)} documents")
    if not docs:
        st.info("The library is empty: add guideline files above.")
        return
    st.dataframe(
        [{"id": d.id, "title": d.title or d.name, "organisation": d.organisation,
          "date": d.date, "kind": d.kind, "pages": d.pages, "chunks": d.chunk_count}
         for d in docs],
        hide_index=True, width="stretch",
    )
    by_id = {d.id: d for d in docs}
    # cast: Streamlit's overloads name typing.Never (Python 3.11+), which a check for 3.10
    # reads as Any, so every call matches the no-options overload that returns None.
    chosen = cast(str, st.selectbox(
        "Document", list(by_id), key="lib_doc",
        format_func=lambda i: f"{by_id[i].title or by_id[i].name} ({i})"))
    doc = by_id[chosen]
    st.caption(f"{plain(doc.path)} · {doc.size_bytes / 1024:.0f} KB · ingested "
               f"{doc.ingested_at}" + (f" · notes: {plain('; '.join(doc.warnings))}"
                                      if doc.warnings else ""))
    left, right = st.columns(2)
    if left.button(f"Remove {doc.id}", key="lib_remove"):
        removed = remove(engine, doc.id)
        st.session_state["last_batch"] = Batch(
            summary=f"Removed {doc.id}." if removed else f"{doc.id} was already gone.")
        st.rerun()
    with right:
        new = _uploader("Replace with a new version", f"replace-{chosen}-{round_}",
                        multiple=False)
    if new and right.button("Replace", key="lib_replace"):
        st.session_state["last_batch"] = save_and_ingest(
            engine, [Upload(f.name, f.getvalue()) for f in new], replaces=doc.id)
        st.session_state["upload_round"] = round_ + 1
        st.rerun()
