"""Library tab: upload, list, replace and remove documents.

Uploads are checked and kept as ui.uploads says, and ingested with a progress bar while other
sessions keep asking: the store writes one document per transaction and the retriever re-reads
the documents when the generation changes. With `ui.api_url` the files go to the API, which
holds them to the same checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import streamlit as st

from ingest import DocumentRecord
from meditron_rag.config import Config
from ui.api_client import ApiClient
from ui.app_common import plain, write_lock
from ui.app_source import Local
from ui.uploads import Batch, Upload, display_name, limits_text
from ui.uploads import remove as uploads_remove
from ui.uploads import save_and_ingest as uploads_save_and_ingest

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile


def save_and_ingest(source: Local | ApiClient, uploads: list[Upload], replaces: str = ""
                    ) -> Batch:
    """`uploads.save_and_ingest` under this process's ingest lock, or the upload sent to the
    API, which checks and ingests it there; a progress bar either way."""
    bar = st.progress(0.0, text=f"Indexing {len(uploads)} file(s)…")

    finished = [0]  # files done so far

    def progress(name: str, n: int, total: int, status: str) -> None:
        finished[0] = n
        bar.progress(n / total, text=f"{n}/{total}: {plain(name)} {status}")

    def passages(name: str, embedded: int, found: int, per_s: float) -> None:
        """Within a large upload: its passages embedded of those found, and the rate."""
        done = min(1.0, (finished[0] + embedded / max(found, 1)) / len(uploads))
        bar.progress(done, text=f"{plain(name)}: {embedded:,} of {found:,} passages embedded "
                                f"({per_s:.1f}/s)")

    try:
        if isinstance(source, ApiClient):
            return source.upload(uploads, replaces, progress, passages)
        engine = source.engine
        return uploads_save_and_ingest(engine, uploads, write_lock(str(engine.config.data_dir)),
                                       replaces, progress, passages)
    finally:
        bar.empty()


def remove(source: Local | ApiClient, doc_id: str) -> bool:
    if isinstance(source, ApiClient):
        return source.remove(doc_id)
    return uploads_remove(source.engine, doc_id, write_lock(str(source.engine.config.data_dir)))


def _show_batch() -> None:
    batch: Batch | None = st.session_state.get("last_batch")
    if batch is None:
        return
    if batch.summary:
        (st.warning if batch.failures else st.success)(batch.summary)
    for name, reason in batch.failures:
        st.error(f"{plain(display_name(name))}: {plain(reason)}")


def _uploader(label: str, key: str, multiple: bool, config: Config) -> list[UploadedFile]:
    """The files chosen in a `st.file_uploader` with no `type` (none: an empty list): with a
    `type`, Streamlit checks names itself before the script runs and a NUL in a name replaces
    the page with its exception; `check_upload` refuses a bad name or type with a reason
    instead (the file dialog then lists every file)."""
    chosen = st.file_uploader(label, accept_multiple_files=multiple, key=key,
                              help=f"{limits_text(config)}.")
    if chosen is None:
        return []
    return chosen if isinstance(chosen, list) else [chosen]


def render(config: Config, source: Local | ApiClient, docs: list[DocumentRecord]) -> None:
    kept = (f"the API at {config.ui.api_url}" if isinstance(source, ApiClient)
            else str(config.data_dir / "uploads"))
    st.caption(f"{limits_text(config)}. Files are kept by {kept}.")
    round_ = st.session_state.setdefault("upload_round", 0)
    files = _uploader("Add documents", f"upload-{round_}", multiple=True, config=config)
    if st.button("Add to the library", type="primary", disabled=not files):
        uploads = [Upload(f.name, f.getvalue()) for f in files]
        st.session_state["last_batch"] = save_and_ingest(source, uploads)
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
        removed = remove(source, doc.id)
        st.session_state["last_batch"] = Batch(
            summary=f"Removed {doc.id}." if removed else f"{doc.id} was already gone.")
        st.rerun()
    with right:
        new = _uploader("Replace with a new version", f"replace-{chosen}-{round_}",
                        multiple=False, config=config)
    if new and right.button("Replace", key="lib_replace"):
        st.session_state["last_batch"] = save_and_ingest(
            source, [Upload(f.name, f.getvalue()) for f in new], replaces=doc.id)
        st.session_state["upload_round"] = round_ + 1
        st.rerun()
