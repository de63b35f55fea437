"""Library tab: upload, list, replace and remove documents.

Uploads are checked (type and size), saved under <data_dir>/uploads/ with a sanitised name,
and ingested with a progress bar while other sessions keep asking: the store writes one
document per transaction and the retriever re-reads the documents when the generation changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from ingest import DocumentRecord, ingest
from ingest.loaders import SUPPORTED_SUFFIXES
from meditron_rag.errors import MeditronRagError
from rag import Engine
from ui.app_common import write_lock

UPLOAD_TYPES = [s.lstrip(".") for s in SUPPORTED_SUFFIXES]


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


def safe_name(name: str) -> str:
    """A file name that cannot leave the uploads folder or hide: base name only, letters,
    digits, dot, dash and underscore, no leading dot, at most 120 characters."""
    base = re.split(r"[\\/]", name)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_.")[:100] or "document"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def check_upload(name: str, size: int, max_bytes: int, head: bytes) -> str:
    """Why an upload is refused, or "" when it may be ingested."""
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
    paths = []
    for upload in uploads:
        reason = check_upload(upload.name, len(upload.data), config.ui.max_upload_mb * 2**20,
                              upload.data[:4096])
        if reason:
            batch.failures.append((upload.name, reason))
            continue
        path = folder / safe_name(upload.name)
        path.write_bytes(upload.data)
        paths.append(path)
    if not paths:
        batch.summary = "Nothing to ingest."
        return batch
    lock = write_lock(str(config.data_dir))
    if not lock.acquire(blocking=False):
        batch.failures += [(p.name, "another upload is being indexed: try again in a moment")
                           for p in paths]
        return batch
    bar = st.progress(0.0, text=f"Indexing {len(paths)} file(s)…")
    try:
        store = engine.store

        def progress(result, n: int, total: int) -> None:  # type: ignore[no-untyped-def]
            bar.progress(n / total, text=f"{n}/{total}: {Path(result.path).name} {result.status}")

        with store.writing():
            report = ingest(paths, store, engine.embedder, config.chunking.chunk_tokens,
                            config.chunking.overlap_tokens,
                            max_bytes=config.ui.max_upload_mb * 2**20, progress=progress)
            ok = [f for f in report.files if f.status != "failed"]
            if replaces and ok and all(f.document_id != replaces for f in ok):
                store.remove_document(replaces)
    except MeditronRagError as exc:
        batch.failures += [(p.name, str(exc)) for p in paths]
        return batch
    finally:
        lock.release()
        bar.empty()
    batch.summary = report.summary()
    batch.failures += [(Path(f.path).name, f.reason) for f in report.files if f.status == "failed"]
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
        st.error(f"{name}: {reason}")


def render(engine: Engine, docs: list[DocumentRecord]) -> None:
    config = engine.config
    st.caption(f"PDF, HTML, Markdown or text, up to {config.ui.max_upload_mb} MB each. Files are "
               f"kept in {config.data_dir / 'uploads'}.")
    round_ = st.session_state.setdefault("upload_round", 0)
    files = st.file_uploader("Add documents", type=UPLOAD_TYPES, accept_multiple_files=True,
                             key=f"upload-{round_}")
    if st.button("Add to the library", type="primary", disabled=not files):
        uploads = [Upload(f.name, f.getvalue()) for f in files or []]
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
    chosen = st.selectbox("Document", list(by_id), key="lib_doc",
                          format_func=lambda i: f"{by_id[i].title or by_id[i].name} ({i})")
    doc = by_id[chosen]
    st.caption(f"{doc.path} · {doc.size_bytes / 1024:.0f} KB · ingested {doc.ingested_at}"
               + (f" · notes: {'; '.join(doc.warnings)}" if doc.warnings else ""))
    left, right = st.columns(2)
    if left.button(f"Remove {doc.id}", key="lib_remove"):
        removed = remove(engine, doc.id)
        st.session_state["last_batch"] = Batch(
            summary=f"Removed {doc.id}." if removed else f"{doc.id} was already gone.")
        st.rerun()
    new = right.file_uploader("Replace with a new version", type=UPLOAD_TYPES,
                              key=f"replace-{chosen}-{round_}")
    if new is not None and right.button("Replace", key="lib_replace"):
        st.session_state["last_batch"] = save_and_ingest(
            engine, [Upload(new.name, new.getvalue())], replaces=doc.id)
        st.session_state["upload_round"] = round_ + 1
        st.rerun()
