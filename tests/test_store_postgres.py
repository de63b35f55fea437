"""What only the PostgreSQL backend does, on a real server (the `postgres_server` fixture):
it scores as the embedded store does (BM25 equal, HNSW's neighbours those of exact search),
refuses a database of another model, format or schema, never shows its password, and an index
moves between the backends and back, checked by its fingerprint. What every backend
guarantees is checked for this one too, in test_store.py and test_concurrency.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ingest.bm25 import query_terms
from ingest.store import Identity, SQLiteStore, Store
from meditron_rag.config import load_config
from meditron_rag.errors import IndexError_, IndexFormatError
from tests.conftest import STARTER, run_cli

pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e .[postgres]")

SECRET = "s3cret-Pa55-never-shown"
QUESTIONS = [json.loads(line)["question"]
             for line in (STARTER / "questions.jsonl").read_text().splitlines()[:12]]


@pytest.fixture
def on_postgres(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's config (and its subprocesses') set to a database of its own."""
    monkeypatch.setenv("MEDITRON_RAG_STORE_BACKEND", "postgres")
    monkeypatch.setenv("MEDITRON_RAG_STORE_URL", postgres_url)
    return postgres_url


def open_postgres(embedder=None) -> Store:
    from ingest.store import open_store

    return open_store(load_config(), embedder)


def vector_index(url: str) -> bool:
    """Whether the database has its HNSW index (and queries may use it)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('chunks_embedding') IS NOT NULL").fetchone()
    return bool(row and row[0])


def keyed(store: Store, hits: list[tuple[int, float]]) -> list[tuple[str, int, float]]:
    """Hits as (document, ordinal, score): chunk ids are each store's own."""
    chunks = store.chunks([i for i, _ in hits])
    return [(chunks[i].document_id, chunks[i].ordinal, score) for i, score in hits]


def assert_same(ours: list[tuple[str, int, float]], theirs: list[tuple[str, int, float]],
                k: int) -> None:
    """The same hits with the same scores (float64 in SQL, float32 in memory), both best
    first: the same ranking up to ties, which may come in either order, and those tied at the
    k-th place either may be in."""
    assert [hit[2] for hit in ours] == pytest.approx([hit[2] for hit in theirs], rel=1e-5)
    floor = theirs[-1][2] * (1 + 1e-5) if len(theirs) == k else float("-inf")
    mine = {(d, o): s for d, o, s in ours if s > floor}
    other = {(d, o): s for d, o, s in theirs if s > floor}
    assert mine.keys() == other.keys()
    assert [mine[key] for key in other] == pytest.approx(list(other.values()), rel=1e-5)


def test_postgres_scores_as_the_embedded_store_does(starter_data: Path, on_postgres: str,
                                                    monkeypatch, embedder) -> None:
    """BM25 from the database's term counts equals the in-memory postings' scores, and with a
    high ef_search HNSW (built in one pass after the copy) finds exact search's neighbours on
    the starter corpus."""
    from ingest.store.transfer import copy_store

    monkeypatch.setenv("MEDITRON_RAG_STORE_HNSW_EF_SEARCH", "400")
    embedded = SQLiteStore.open(starter_data / "index", embedder=embedder)
    shared = open_postgres(embedder)
    try:
        copied = copy_store(embedded, shared)
        assert copied.chunks == embedded.chunk_count() == shared.chunk_count() > 100
        assert embedded.index_info()["kind"] == "flat"
        assert vector_index(on_postgres)  # built once, after the copy filled the database
        with shared.writing(), shared.filling():  # a store with chunks keeps its index
            assert vector_index(on_postgres)
        for question in QUESTIONS:
            terms = query_terms(question)
            assert_same(keyed(shared, shared.lexical_search(terms, 20)),
                        keyed(embedded, embedded.lexical_search(terms, 20)), 20)
            vector = embedder.encode_query(question)
            assert_same(keyed(shared, shared.dense_search(vector, 10)),
                        keyed(embedded, embedded.dense_search(vector, 10)), 10)
        assert shared.verify() == []
    finally:
        embedded.close()
        shared.close()


def test_an_index_moves_to_postgres_and_back_without_embedding(
        starter_data: Path, postgres_url: str, tmp_path: Path) -> None:
    there = run_cli("store", "copy", "--to", postgres_url, "--json")
    assert there.returncode == 0, there.stderr
    copied = json.loads(there.stdout)
    listed = run_cli("docs", "list", "--json", env={
        "MEDITRON_RAG_STORE_BACKEND": "postgres", "MEDITRON_RAG_STORE_URL": postgres_url})
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == copied["documents"] > 5

    back = run_cli("store", "copy", "--to", str(tmp_path / "back"), "--json", env={
        "MEDITRON_RAG_STORE_BACKEND": "postgres", "MEDITRON_RAG_STORE_URL": postgres_url})
    assert back.returncode == 0, back.stderr
    assert {**json.loads(back.stdout), "to": ""} == {**copied, "to": ""}
    again = run_cli("store", "copy", "--to", postgres_url)  # resumes: nothing left to copy
    assert again.returncode == 0 and "matches the source" in again.stdout, again.stderr


def test_a_database_of_another_model_format_or_schema_is_refused(on_postgres: str,
                                                                 embedder) -> None:
    import psycopg

    open_postgres(embedder).close()
    with pytest.raises(IndexFormatError, match="embedding model 'all-minilm-l6-v2'.*not 'other'"):
        open_postgres(Identity("other", embedder.dim))
    with psycopg.connect(on_postgres, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    with pytest.raises(IndexFormatError, match="has format 99, this meditron-rag reads format 1"):
        open_postgres(embedder)
    with psycopg.connect(on_postgres, autocommit=True) as conn:
        conn.execute("INSERT INTO migrations VALUES (99)")
    with pytest.raises(IndexFormatError, match="newer meditron-rag"):
        open_postgres()


def test_hnsw_settings_come_from_the_config(on_postgres: str, monkeypatch, embedder) -> None:
    monkeypatch.setenv("MEDITRON_RAG_STORE_HNSW_M", "8")
    monkeypatch.setenv("MEDITRON_RAG_STORE_HNSW_EF_CONSTRUCTION", "32")
    info = open_postgres(embedder).index_info()
    assert (info["kind"], info["m"], info["ef_construction"], info["dim"]) == (
        "hnsw", 8, 32, embedder.dim)


def test_the_password_never_shows(postgres_url: str, monkeypatch) -> None:
    missing = postgres_url.replace("/test_", "/missing_")
    monkeypatch.setenv("MEDITRON_RAG_STORE_PASSWORD", SECRET)
    monkeypatch.setenv("MEDITRON_RAG_STORE_BACKEND", "postgres")
    monkeypatch.setenv("MEDITRON_RAG_STORE_URL", missing)
    with pytest.raises(IndexError_, match="Cannot open the index database") as caught:
        open_postgres()
    assert SECRET not in str(caught.value)
    failed = run_cli("docs", "list")
    assert failed.returncode == 5 and "Cannot open" in failed.stderr
    assert SECRET not in failed.stdout + failed.stderr

    in_url = postgres_url.replace("postgres:@", f"postgres:{SECRET}@")
    for args, env in [(("config", "show"), {"MEDITRON_RAG_STORE_URL": in_url}),
                      (("docs", "list"), {"MEDITRON_RAG_STORE_URL": in_url}),
                      (("store", "copy", "--to", in_url), {"MEDITRON_RAG_STORE_BACKEND": "sqlite",
                                                           "MEDITRON_RAG_STORE_URL": ""})]:
        refused = run_cli(*args, env=env)
        assert refused.returncode == 2 and "password" in refused.stderr, refused.stderr
        assert SECRET not in refused.stdout + refused.stderr


def test_a_database_of_the_first_schema_migrates_and_scores_the_same(
        postgres_url: str, on_postgres: str, tmp_path: Path) -> None:
    """Term counts kept as postings rows (schema 1) move beside their chunks and score as
    those written by this version."""
    import psycopg

    from ingest import bm25
    from ingest.document import Chunk, DocumentMetadata
    from ingest.store.postgres_schema import MIGRATIONS

    texts = ["fever in children: give paracetamol", "fever and rash in adults", "asthma"]
    title = "Fever"
    counts = [bm25.term_counts((t, "", title)) for t in texts]
    vocabulary = sorted({t for c in counts for t in c})
    with psycopg.connect(postgres_url, autocommit=True) as conn, conn.transaction():
        conn.execute("CREATE TABLE migrations (number integer PRIMARY KEY)")
        conn.execute(MIGRATIONS[0])
        conn.execute("INSERT INTO migrations VALUES (1)")
        conn.execute("INSERT INTO meta VALUES ('format_version', '1'), "
                     "('embedding_model', 'tiny'), ('embedding_dim', '2')")
        conn.execute("INSERT INTO documents VALUES ('d', '/d.md', 'd.md', 'markdown', 'x', 1, "
                     "1, false, %s, '', '', '', '', '{}', '[]', 3, '')", (title,))
        for term_id, term in enumerate(vocabulary, start=1):
            df = sum(term in c for c in counts)
            conn.execute("INSERT INTO terms VALUES (%s, %s, %s)", (term_id, term, df))
        for chunk_id, (text, c) in enumerate(zip(texts, counts), start=1):
            conn.execute("INSERT INTO chunks VALUES (%s, 'd', %s, %s, '', 0, 1, 1, 1, 0, 1, %s, "
                         "'[1,0]')", (chunk_id, chunk_id - 1, text, sum(c.values())))
            for term, tf in c.items():
                conn.execute("INSERT INTO postings VALUES (%s, %s, %s, %s)",
                             (vocabulary.index(term) + 1, chunk_id, tf, sum(c.values())))
        conn.execute("UPDATE state SET chunks = 3, total_length = %s",
                     (sum(sum(c.values()) for c in counts),))
    migrated = open_postgres(Identity("tiny", 2))
    embedded = SQLiteStore.open(tmp_path / "index", embedder=Identity("tiny", 2))
    try:
        embedded.put_document(
            "d", path="/d.md", kind="markdown", sha256="x", size_bytes=1, pages=1,
            paginated=False, metadata=DocumentMetadata(title=title), warnings=[],
            chunks=[Chunk(ordinal=i, text=t, section="", start=0, end=1, page_start=1,
                          page_end=1, char_start=0, char_end=1) for i, t in enumerate(texts)],
            vectors=np.array([[1, 0]] * 3, dtype=np.float32))
        assert migrated.verify() == []
        for question in ("fever children", "rash", "asthma in adults"):
            terms = query_terms(question)
            ours = keyed(migrated, migrated.lexical_search(terms, 3))
            assert ours
            assert_same(ours, keyed(embedded, embedded.lexical_search(terms, 3)), 3)
    finally:
        migrated.close()
        embedded.close()


def test_a_killed_ingest_leaves_whole_documents_and_a_rerun_completes_it(
        isolated: Path, on_postgres: str, embedder, tmp_path: Path) -> None:
    """SIGKILL in the middle of `meditron-rag ingest` into PostgreSQL: its open transaction is
    rolled back and its writer lock dropped with its session, so every document is whole or
    absent, search works, and the next ingest adds exactly the rest. The first ingest into the
    empty database deferred the HNSW index: killed, it left none (dense search scans, exactly),
    and the next writer builds it."""
    from tests.test_ingest import _kill_when, guideline_pdf

    folder = tmp_path / "many"
    folder.mkdir()
    files = 36  # several of the encoder's batches: the ingest is still writing when killed
    for i in range(files):
        (folder / f"guide-{i:02d}.pdf").write_bytes(guideline_pdf(f"Guide {i}", 2, seed=i))
    lines = _kill_when(folder, lambda lines: sum("] + " in line for line in lines) >= 2,
                       after=0.1)
    assert not any("Traceback" in line for line in lines)
    store = open_postgres(embedder)
    try:
        assert store.verify() == []
        documents = store.documents()
        assert 2 <= len(documents) < files
        for doc in documents:
            assert len(store.document_chunks(doc.id)) == doc.chunk_count > 0
        assert store.lexical_search(query_terms("hands"), 3)
        assert len(store.dense_search(embedder.encode_query("hand hygiene"), 3)) == 3
        assert not vector_index(on_postgres)
    finally:
        store.close()

    result = run_cli("ingest", "--json", str(folder))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["skipped"], report["added"], report["failed"]) == (
        len(documents), files - len(documents), 0)
    store = open_postgres(embedder)
    try:
        assert store.verify() == []
        assert sorted(d.id for d in store.documents()) == [f"guide-{i:02d}"
                                                           for i in range(files)]
        assert vector_index(on_postgres)
    finally:
        store.close()


def test_a_database_from_before_ocr_words_marks_its_ocrd_chunks(postgres_url: str,
                                                                 on_postgres: str) -> None:
    """A database of schema 2 gains the OCR words table, and the chunks of a document OCR'd
    then take the mean confidence of their pages from the document's record."""
    import psycopg

    from ingest.store.postgres_schema import MIGRATIONS

    extra = '{"ocr_page_confidence": "1:0.9 2:0.8", "ocr_pages": "1-2"}'
    with psycopg.connect(postgres_url, autocommit=True) as conn, conn.transaction():
        conn.execute("CREATE TABLE migrations (number integer PRIMARY KEY)")
        for number, migration in enumerate(MIGRATIONS[:2], start=1):
            conn.execute(migration)
            conn.execute("INSERT INTO migrations VALUES (%s)", (number,))
        conn.execute("INSERT INTO meta VALUES ('format_version', '1'), "
                     "('embedding_model', 'tiny'), ('embedding_dim', '2')")
        chunk_id = 0
        for doc_id, record in (("scan", extra), ("typed", "{}")):
            conn.execute("INSERT INTO documents VALUES (%s, %s, 'x.pdf', 'pdf', 'x', 1, 3, true, "
                         "'T', '', '', '', '', %s, '[]', 3, '')", (doc_id, f"/{doc_id}.pdf",
                                                                   record))
            for ordinal, (first, last) in enumerate([(1, 1), (1, 2), (3, 3)]):
                chunk_id += 1
                conn.execute("INSERT INTO chunks VALUES (%s, %s, %s, 'text', '', 0, 4, %s, %s, "
                             "0, 4, '[1,0]', ''::bytea)", (chunk_id, doc_id, ordinal, first, last))
        conn.execute("UPDATE state SET chunks = 6")
    store = open_postgres(Identity("tiny", 2))
    try:
        assert [c.ocr_confidence for c in store.document_chunks("scan")] == [0.9, 0.85, None]
        assert [c.ocr_confidence for c in store.document_chunks("typed")] == [None] * 3
        assert store.document_page_words("scan") == {}
        assert store.verify() == []
    finally:
        store.close()
