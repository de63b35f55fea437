"""`meditron-rag store copy`: the index moved to another backend without embedding again."""

from __future__ import annotations

import click

from ui.state import State, echo_json, pass_state


@click.group("store")
def store_group() -> None:
    """Move the index between backends (SQLite, PostgreSQL)."""


@store_group.command("copy")
@click.option("--to", "where", required=True, metavar="URL|DIR",
              help="A PostgreSQL URL (postgresql://user@host/db; the password from "
                   "MEDITRON_RAG_STORE_PASSWORD) or an embedded index folder.")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def store_copy(state: State, where: str, as_json: bool) -> None:
    """Copy every document, chunk and vector of the configured index to another store, and
    check the copy by its counts and checksum. No model is loaded. Then point the config at
    the copy (store.backend and store.url) to use it."""
    from ingest.store import open_store
    from ingest.store.transfer import copy_store, open_target

    source = open_store(state.config)
    try:
        target = open_target(state.config, where, source.identity)
        try:
            def progress(doc_id: str, n: int, total: int) -> None:
                if not as_json:
                    click.echo(f"[{n}/{total}] {doc_id}", err=True)

            copied = copy_store(source, target, progress)
            shown = target.location
        finally:
            target.close()
    finally:
        source.close()
    if as_json:
        echo_json({"to": shown, "documents": copied.documents, "chunks": copied.chunks,
                   "sha256": copied.sha256})
        return
    click.echo(f"Copied {copied.documents} documents and {copied.chunks} chunks to {shown}; "
               f"checksum {copied.sha256[:16]} matches the source.")
