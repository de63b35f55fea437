"""`meditron-rag docs list|show|remove`: the indexed documents."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from meditron_rag.errors import MeditronRagError
from ui.state import State, echo_json, pass_state

if TYPE_CHECKING:
    from ingest.store import Store


@click.group("docs")
def docs_group() -> None:
    """List, show and remove indexed documents."""


def _store(state: State) -> Store:
    """The index, opened without loading PyTorch or an embedding model."""
    from ingest.store import open_store

    return open_store(state.config)


@docs_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def docs_list(state: State, as_json: bool) -> None:
    """Every document with its date, organisation and chunk count."""
    docs = _store(state).documents()
    if as_json:
        echo_json([d.to_dict() for d in docs])
        return
    if not docs:
        click.echo("The index is empty: add documents with `meditron-rag ingest FOLDER`.")
    for d in docs:
        click.echo(f"{d.id:<48} {d.date or '-':<10} {d.chunk_count:>4} chunks  {d.title}")


@docs_group.command("show")
@click.argument("doc_id")
@click.option("--json", "as_json", is_flag=True)
@click.option("--chunks", "with_chunks", is_flag=True, help="Also print every chunk.")
@pass_state
def docs_show(state: State, doc_id: str, as_json: bool, with_chunks: bool) -> None:
    """One document's metadata (and chunks)."""
    from ingest.page_words import ocr_note

    store = _store(state)
    doc = store.document(doc_id)
    if doc is None:
        raise MeditronRagError(f"No document '{doc_id}': see `meditron-rag docs list`.")
    chunks = store.document_chunks(doc_id) if with_chunks else []
    if as_json:
        echo_json({**doc.to_dict(), "chunks": [c.to_dict() for c in chunks]})
        return
    for key, value in doc.to_dict().items():
        click.echo(f"{key:>13}: {value}")
    for c in chunks:
        ocr = f" · {ocr_note(c.ocr_confidence)}" if c.ocr_confidence is not None else ""
        click.echo(f"\n--- chunk {c.ordinal} · p. {c.page_start}-{c.page_end} · {c.section}{ocr}")
        click.echo(c.text)


@docs_group.command("remove")
@click.argument("doc_ids", nargs=-1, required=True)
@pass_state
def docs_remove(state: State, doc_ids: tuple[str, ...]) -> None:
    """Remove documents from the index (the files themselves are left alone)."""
    store = _store(state)
    with store.writing():
        for doc_id in doc_ids:
            if not store.remove_document(doc_id):
                raise MeditronRagError(f"No document '{doc_id}': see `meditron-rag docs list`.")
            click.echo(f"Removed {doc_id}.")
