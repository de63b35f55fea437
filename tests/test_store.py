"""What every store backend guarantees, on real files and the real embedding model: documents
put, replaced and removed with search following, moved and pruned files, one writer at a time
(a real second process holds the lock), readers that see a writer's changes, and opening
without a model. Each test takes its store from the `store_factory` fixture; what only the
SQLite backend does (its FAISS files, migrations, damage) is in test_store_sqlite.py."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ingest import ingest
from ingest.bm25 import query_terms
from ingest.parsing import CHUNKER_VERSION
from ingest.store import Store
from meditron_rag.errors import IndexLockedError
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]

VACCINES = """# Pneumococcal vaccination

## Adults
Give one dose of a conjugate pneumococcal vaccine to every adult aged 50 or older who has not
received one before; the vaccine protects against invasive pneumococcal disease.
"""


@pytest.fixture
def store(store_factory, embedder) -> Store:  # type: ignore[no-untyped-def]
    return store_factory(embedder)


def run(store: Store, embedder, *paths: Path, tokens: int = 200,  # type: ignore[no-untyped-def]
        **options):
    with store.writing():
        return ingest(list(paths), store, embedder, tokens, tokens // 6, **options)


def hits(store: Store, embedder, question: str, k: int = 3) -> list[str]:
    """Document ids of the k nearest chunks, best first."""
    found = store.dense_search(embedder.encode_query(question), k)
    records = store.chunks([chunk_id for chunk_id, _ in found])
    return [records[chunk_id].document_id for chunk_id, _ in found]


def chunk_ids(store: Store, doc_id: str) -> set[int]:
    return {chunk.id for chunk in store.document_chunks(doc_id)}


def test_put_replace_remove_and_search_follows(store: Store, store_factory, embedder,
                                                corpus: Path) -> None:
    report = run(store, embedder, corpus)
    assert [f.status for f in report.files] == ["added"] * 3
    assert hits(store, embedder, "What blood pressure target should adults reach?")[0] == (
        "hypertension")
    old_ids = chunk_ids(store, "hypertension")
    generation = store.generation

    (corpus / "hypertension.md").write_text(VACCINES, encoding="utf-8")
    report = run(store, embedder, corpus)
    assert {f.document_id: f.status for f in report.files}["hypertension"] == "replaced"
    assert store.generation == generation + 1
    assert store.document("hypertension").title == "Pneumococcal vaccination"
    assert not old_ids & chunk_ids(store, "hypertension")
    assert not old_ids & {i for i, _ in store.dense_search(embedder.encode_query("mmHg"), 50)}
    assert hits(store, embedder, "Which adults need a pneumococcal vaccine?")[0] == "hypertension"
    assert not store.lexical_search(query_terms("mmHg"), 10)

    with store.writing():
        assert store.remove_document("hypertension")
        assert not store.remove_document("hypertension")
    assert "hypertension" not in hits(store, embedder, "pneumococcal vaccine", k=10)
    assert store.verify() == []
    reopened = store_factory(embedder)
    assert reopened.index_info()["vectors"] == store.chunk_count()
    assert sorted(d.id for d in reopened.documents()) == ["asthma", "hand-hygiene"]


def test_prune_and_moved_files(store: Store, embedder, corpus: Path) -> None:
    run(store, embedder, corpus)
    asthma_ids = chunk_ids(store, "asthma")
    (corpus / "sub").mkdir()
    (corpus / "asthma.md").rename(corpus / "sub" / "asthma-2019.md")
    report = run(store, embedder, corpus)
    moved = {f.document_id: f for f in report.files}["asthma"]
    assert moved.status == "replaced" and moved.path.endswith("sub/asthma-2019.md")
    assert store.document("asthma").path == str(corpus / "sub" / "asthma-2019.md")
    assert len(chunk_ids(store, "asthma")) == len(asthma_ids)

    (corpus / "hand-hygiene.md").unlink()
    report = run(store, embedder, corpus)  # without --prune the document stays
    assert store.document("hand-hygiene") is not None and not report.removed
    report = run(store, embedder, corpus, prune=True)
    assert report.removed == ["hand-hygiene"]
    assert store.document("hand-hygiene") is None
    assert "hand-hygiene" not in hits(store, embedder, "alcohol-based hand rub", k=20)
    assert store.verify() == []


HOLDER = """
import sys
from ingest.store import Identity, open_store
from meditron_rag.config import load_config
store = open_store(load_config(), Identity(sys.argv[1], int(sys.argv[2])))
with store.writing():
    print("holding", flush=True)
    sys.stdin.read()
"""


def test_documents_chunked_otherwise_are_chunked_anew(store: Store, store_factory, embedder,
                                                     corpus: Path, backend: str) -> None:
    """Each document records how its chunks were made: an ingest with other chunk sizes, or
    over an index from before documents recorded it, makes them again from the same files,
    under the same ids; after that, nothing is done."""
    run(store, embedder, corpus, tokens=200)
    assert {d.chunking for d in store.documents()} == {f"v{CHUNKER_VERSION} 200/33 tokens"}
    before = store.chunk_count()
    smaller = run(store, embedder, corpus, tokens=24)
    assert [f.status for f in smaller.files] == ["rechunked"] * 3
    assert "3 ingested (0 new, 0 replaced, 3 chunked anew with the current chunking)" in (
        smaller.summary())
    assert store.chunk_count() > before and store.verify() == []
    assert {d.chunking for d in store.documents()} == {f"v{CHUNKER_VERSION} 24/4 tokens"}
    assert hits(store, embedder, "What blood pressure target should adults reach?")[0] == (
        "hypertension")
    assert [f.status for f in run(store, embedder, corpus, tokens=24).files] == [
        "unchanged"] * 3

    store.close()
    forget_chunking(store, backend)  # as an index written before this version left it
    older = store_factory(embedder)
    assert {d.chunking for d in older.documents()} == {""}
    assert [f.status for f in run(older, embedder, corpus, tokens=24).files] == [
        "rechunked"] * 3
    assert {d.chunking for d in older.documents()} == {f"v{CHUNKER_VERSION} 24/4 tokens"}


def forget_chunking(store: Store, backend: str) -> None:
    """Take the recipe column, and the migration that added it, out of a closed store."""
    from meditron_rag.config import load_config

    if backend == "sqlite":
        from ingest.store.migrations import DB_NAME, MIGRATIONS

        db = sqlite3.connect(load_config().index_dir / DB_NAME)
        with db:
            db.execute("ALTER TABLE documents DROP COLUMN chunking")
            db.execute("DELETE FROM migrations WHERE number = ?", (len(MIGRATIONS),))
        db.close()
    else:
        import psycopg

        from ingest.store.postgres_schema import MIGRATIONS as PG_MIGRATIONS

        with psycopg.connect(str(load_config().store.url), autocommit=True) as conn:
            conn.execute("ALTER TABLE documents DROP COLUMN chunking")
            conn.execute("DELETE FROM migrations WHERE number = %s", (len(PG_MIGRATIONS),))


def test_second_writer_gets_a_clear_error(store: Store, embedder) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, embedder.name, str(embedder.dim)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(IndexLockedError) as caught, store.writing():
            pass
        message = str(caught.value)
        assert f"process {holder.pid}" in message and "wait for that ingest to finish" in message
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with store.writing():  # the lock died with its holder
        pass


def test_readers_see_a_writer_s_changes(store: Store, store_factory, embedder,
                                        corpus: Path) -> None:
    run(store, embedder, corpus)
    reader = store_factory(embedder)
    assert "asthma" in hits(reader, embedder, "asthma reliever")
    with store.writing():
        store.remove_document("asthma")
    time.sleep(0.01)
    assert "asthma" not in hits(reader, embedder, "asthma reliever", k=10)
    assert np.isfinite(reader.dense_search(embedder.encode_query("hand rub"), 1)[0][1])


def test_a_store_opens_without_a_model_with_the_identity_it_records(
        store: Store, store_factory, embedder, corpus: Path) -> None:
    run(store, embedder, corpus)
    plain = store_factory()
    assert (plain.identity.name, plain.identity.dim) == (embedder.name, embedder.dim)
    assert [d.id for d in plain.documents()] == [d.id for d in store.documents()]
    assert [c.text for c in plain.document_chunks("asthma")] == [
        c.text for c in store.document_chunks("asthma")]
    with plain.writing():
        assert plain.remove_document("asthma")
    assert store.document("asthma") is None
    assert "asthma" not in hits(store, embedder, "asthma reliever", k=10)
    assert plain.verify() == []


DOCS_LIST = """
import sys
from ui.cli import main
try:
    main(["docs", "list"])
except SystemExit as exit:
    assert not exit.code, exit.code
assert "torch" not in sys.modules, "docs list imported torch"
assert "sentence_transformers" not in sys.modules, "docs list imported sentence_transformers"
print("no torch")
"""


def test_docs_commands_load_no_model(store: Store, embedder, corpus: Path) -> None:
    run(store, embedder, corpus)
    listed = subprocess.run([sys.executable, "-c", DOCS_LIST], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "hand-hygiene" in listed.stdout and listed.stdout.endswith("no torch\n")
    shown = run_cli("docs", "show", "asthma", "--chunks", "--json")
    assert shown.returncode == 0, shown.stderr
    removed = run_cli("docs", "remove", "asthma")
    assert removed.returncode == 0 and "Removed asthma." in removed.stdout, removed.stderr
    assert store.document("asthma") is None


def test_records_keep_their_json_keys_in_order() -> None:
    """Chunks, stored chunks and passages share their location fields (`Excerpt`); the JSON of
    `docs show --json`, `search --json` and `ask --json` keeps its flat keys in their order."""
    from ingest.store import ChunkRecord
    from rag.records import Answer, Passage

    where = dict(text="t", section="s", page_start=1, page_end=2, char_start=3, char_end=4)
    chunk = ChunkRecord(id=7, document_id="d", ordinal=0, start=5, end=6, **where)
    assert list(chunk.to_dict()) == ["id", "document_id", "ordinal", "text", "section", "start",
                                     "end", "page_start", "page_end", "char_start", "char_end",
                                     "ocr_confidence"]
    passage = Passage(chunk_id=7, document_id="d", title="T", organisation="O", date="2024",
                      url="", path="/d.md", paginated=True, **where)
    keys = ["chunk_id", "document_id", "title", "organisation", "date", "url", "path", "section",
            "page_start", "page_end", "paginated", "char_start", "char_end", "text",
            "ocr_confidence", "score",
            "scores", "number", "superseded_by", "superseded_by_id", "highlights"]
    assert list(passage.to_dict()) == keys
    answer = Answer(question="q", text="", sentences=[], passages=[passage], notice="",
                    model="m", grounded=True)
    assert list(answer.to_dict()["passages"][0]) == keys
