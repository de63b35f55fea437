"""The SQLite backend on real files: its FAISS cache (missing, damaged, stale, flat or IVF),
its migrations, a file from another version or model, and what its folder holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest

from ingest import ingest
from ingest.bm25 import query_terms
from ingest.store import Identity, SQLiteStore
from ingest.store.lock import LOCK_NAME
from ingest.store.migrations import DB_NAME, FORMAT_VERSION, MIGRATIONS
from meditron_rag.config import IndexConfig
from meditron_rag.errors import IndexDamagedError, IndexFormatError
from tests.conftest import TOPICS
from tests.test_store import VACCINES, hits, run

# A threshold below the config's minimum, so a few small documents make an IVF index.
SMALL = IndexConfig.model_construct(kind="auto", approximate_above=40)


@pytest.fixture
def store(isolated: Path, embedder) -> SQLiteStore:  # type: ignore[no-untyped-def]
    opened = SQLiteStore.open(isolated / "index", embedder=embedder)
    yield opened
    opened.close()


def test_unchanged_file_is_a_noop(store: SQLiteStore, embedder, corpus: Path) -> None:
    run(store, embedder, corpus)
    generation, cache = store.generation, sorted(store.folder.glob("vectors-*.faiss"))
    stamp = cache[0].stat().st_mtime_ns
    reopened = SQLiteStore.open(store.folder, embedder=embedder)
    report = run(reopened, embedder, corpus)
    assert [f.status for f in report.files] == ["unchanged"] * 3
    assert report.to_dict()["skipped"] == 3 and report.to_dict()["ingested"] == 0
    assert reopened.generation == generation
    assert sorted(store.folder.glob("vectors-*.faiss")) == cache
    assert cache[0].stat().st_mtime_ns == stamp


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage", "stale"])
def test_vector_file_missing_damaged_or_stale_is_rebuilt(
        store: SQLiteStore, embedder, corpus: Path, damage: str) -> None:
    run(store, embedder, corpus)
    question = embedder.encode_query("budesonide-formoterol reliever")
    expected = store.dense_search(question, 5)
    [cache] = store.folder.glob("vectors-*.faiss")
    if damage == "missing":
        cache.unlink()
    elif damage == "truncated":
        cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    elif damage == "garbage":
        cache.write_bytes(b"not a faiss index" * 100)
    else:  # a writer died after committing a document, before saving the cache
        (corpus / "vaccines.md").write_text(VACCINES, encoding="utf-8")
        writer = SQLiteStore.open(store.folder, embedder=embedder)
        writer.acquire()
        ingest([corpus], writer, embedder, 200, 32)
        generation = writer.generation
        writer.release()
        writer.db.close()
        assert cache.exists() and not (store.folder / f"vectors-{generation}.faiss").exists()
    reopened = SQLiteStore.open(store.folder, embedder=embedder)
    assert reopened.verify() == []
    if damage == "stale":
        assert hits(reopened, embedder, "pneumococcal conjugate vaccine")[0] == "vaccines"
    else:
        again = reopened.dense_search(question, 5)
        assert [i for i, _ in again] == [i for i, _ in expected]
        assert [s for _, s in again] == pytest.approx([s for _, s in expected], abs=1e-5)


def _rewrite(folder: Path, sql: str) -> None:
    db = sqlite3.connect(folder / DB_NAME)
    with db:
        db.execute(sql)
    db.close()


@pytest.mark.parametrize("change, words", [
    (f"UPDATE meta SET value='{FORMAT_VERSION + 1}' WHERE key='format_version'", "has format"),
    ("UPDATE meta SET value='other-model' WHERE key='embedding_model'", "'other-model'"),
    ("UPDATE meta SET value='768' WHERE key='embedding_dim'", "(768 dimensions)"),
    (f"INSERT INTO migrations(number) VALUES ({len(MIGRATIONS) + 1})", "newer meditron-rag"),
])
def test_store_from_another_version_or_model_is_refused(
        isolated: Path, embedder, change: str, words: str) -> None:
    folder = isolated / "index"
    SQLiteStore.open(folder, embedder=embedder).close()
    _rewrite(folder, change)
    with pytest.raises(IndexFormatError) as caught:
        SQLiteStore.open(folder, embedder=embedder)
    message = str(caught.value)
    assert words in message and "meditron-rag ingest --rebuild" in message
    assert str(folder) in message


def test_a_file_that_is_not_a_store_is_refused(isolated: Path, embedder) -> None:
    folder = isolated / "index"
    folder.mkdir(parents=True)
    (folder / DB_NAME).write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(IndexDamagedError, match="damaged.*not a database.*--rebuild"):
        SQLiteStore.open(folder, embedder=embedder)


def test_index_folder_holds_only_sqlite_and_faiss(store: SQLiteStore, embedder,
                                                  corpus: Path) -> None:
    run(store, embedder, corpus)
    names = {path.name for path in store.folder.iterdir()}
    allowed = {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", LOCK_NAME}
    faiss_files = {name for name in names if name.startswith("vectors-")}
    assert names - faiss_files <= allowed
    assert [name.endswith(".faiss") for name in faiss_files] == [True]
    for name in names:
        head = (store.folder / name).read_bytes()[:16]
        assert not head.startswith(b"\x80"), f"{name} looks like a pickle"
    assert (store.folder / DB_NAME).read_bytes().startswith(b"SQLite format 3\x00")


def test_index_kind_follows_collection_size(isolated: Path, embedder, corpus: Path) -> None:
    for i in range(4):  # with small chunks, enough to train a small IVF index
        text = "\n\n".join(f"## Part {j}\n{TOPICS[name]}" for j, name in enumerate(TOPICS))
        (corpus / f"extra-{i}.md").write_text(f"# Extra {i}\n\n{text} Edition {i}.\n")
    store = SQLiteStore.open(isolated / "index", SMALL, embedder=embedder)
    run(store, embedder, corpus, tokens=40)
    count = store.chunk_count()
    assert count >= 40
    info = store.index_info()
    assert info["kind"] == "ivf" and info["vectors"] == count and info["nprobe"] >= 1
    exact = SQLiteStore.open(isolated / "index", IndexConfig(kind="flat"), embedder=embedder)
    assert exact.index_info()["kind"] == "flat"
    questions = ["blood pressure target", "alcohol hand rub", "asthma reliever inhaler",
                 "oral corticosteroids exacerbation", "single pill combination"]
    found = wanted = 0
    for question in questions:
        query = embedder.encode_query(question)
        truth = {i for i, _ in exact.dense_search(query, 10)}
        found += len(truth & {i for i, _ in store.dense_search(query, 10)})
        wanted += len(truth)
    assert found / wanted >= 0.9

    # Vectors are float16 in an IVF index; a float32 IVF file from an older version is rebuilt
    # on load and written anew by the next save (a reader leaves the file to the writer).
    nlist = faiss.extract_index_ivf(store.vector_index()).nlist
    assert isinstance(store.vector_index(), faiss.IndexIVFScalarQuantizer)
    rows = store.db.execute("SELECT id, embedding FROM chunks").fetchall()
    vectors = np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(len(rows), -1)
    old = faiss.IndexIVFFlat(faiss.IndexFlatIP(embedder.dim), embedder.dim, nlist,
                             faiss.METRIC_INNER_PRODUCT)
    old.train(vectors)
    old.add_with_ids(vectors, np.array([r[0] for r in rows], dtype=np.int64))
    target = next(store.folder.glob("vectors-*.faiss"))
    faiss.write_index(old, str(target))
    upgraded = SQLiteStore.open(isolated / "index", SMALL, embedder=embedder)
    ivf = upgraded.vector_index()
    assert isinstance(ivf, faiss.IndexIVFScalarQuantizer) and ivf.ntotal == count
    with upgraded.writing():
        upgraded.save_vectors()
    assert isinstance(faiss.read_index(str(target)), faiss.IndexIVFScalarQuantizer)

    with store.writing():  # an IVF index takes removals in place
        assert store.remove_document("hypertension")
        assert store.vector_index().ntotal == store.chunk_count()
    reopened = SQLiteStore.open(isolated / "index", SMALL, embedder=embedder)
    assert reopened.index_info()["kind"] == "ivf" and reopened.verify() == []
    assert "hypertension" not in hits(reopened, embedder, "systolic target mmHg", k=20)
    for i in range(4):
        (corpus / f"extra-{i}.md").unlink()
    run(reopened, embedder, corpus, tokens=40, prune=True)
    small = SQLiteStore.open(isolated / "index", SMALL, embedder=embedder)
    assert small.index_info()["kind"] == "flat"  # shrunk well below the threshold
    assert small.verify() == []


def _old_schema(folder: Path, schema: int) -> sqlite3.Connection:
    """A store database as a version that stopped at migration `schema` left it, empty."""
    folder.mkdir()
    db = sqlite3.connect(folder / DB_NAME)
    db.execute("CREATE TABLE migrations (number INTEGER PRIMARY KEY)")
    for number, migration in enumerate(MIGRATIONS[:schema], start=1):
        migration(db)
        db.execute("INSERT INTO migrations(number) VALUES (?)", (number,))
    return db


def test_a_store_from_before_in_memory_bm25_is_migrated_and_searchable(tmp_path: Path,
                                                                         embedder) -> None:
    """A store written with FTS5 (schema 3) gains term counts for every chunk on opening."""
    folder = tmp_path / "old"
    db = _old_schema(folder, 3)
    db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
        ("format_version", str(FORMAT_VERSION)), ("embedding_model", embedder.name),
        ("embedding_dim", str(embedder.dim)), ("generation", "1")])
    db.execute(
        "INSERT INTO documents VALUES ('asthma', '/a.md', 'a.md', 'markdown', 'x', 1, 1, 0, "
        "'Asthma management', '', '', '', '', '{}', '[]', 1, '2026-01-01')")
    vector = embedder.encode(["budesonide-formoterol reliever"])[0].astype(np.float32)
    db.execute(
        "INSERT INTO chunks(id, document_id, ordinal, text, section, start, \"end\", page_start, "
        "page_end, char_start, char_end, embedding) VALUES (1, 'asthma', 0, ?, 'Reliever', 0, "
        "10, 1, 1, 0, 10, ?)",
        ("As-needed budesonide-formoterol is the preferred reliever.", vector.tobytes()))
    db.commit()
    db.close()

    store = SQLiteStore.open(folder, embedder=embedder)
    assert store.verify() == []
    assert [i for i, _ in store.lexical_search(query_terms("preferred relievers"), 5)] == [1]
    assert [i for i, _ in store.lexical_search(query_terms("asthma"), 5)] == [1]  # the title
    tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
    assert "chunks_fts" not in tables
    store.close()



def test_a_store_from_before_ocr_words_marks_its_ocrd_chunks(tmp_path: Path) -> None:
    """A store of schema 4 gains the OCR words table, and the chunks of a document OCR'd then
    take the mean confidence of their pages from the document's record."""
    folder = tmp_path / "old"
    db = _old_schema(folder, 4)
    db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
        ("format_version", str(FORMAT_VERSION)), ("embedding_model", "tiny"),
        ("embedding_dim", "2"), ("generation", "1")])
    extra = '{"ocr_page_confidence": "1:0.9 2:0.8", "ocr_pages": "1-2"}'
    for doc_id, record in (("scan", extra), ("typed", "{}")):
        db.execute("INSERT INTO documents VALUES (?, ?, 'x.pdf', 'pdf', 'x', 1, 3, 1, 'T', '', "
                   "'', '', '', ?, '[]', 3, '')", (doc_id, f"/{doc_id}.pdf", record))
        for ordinal, (first, last) in enumerate([(1, 1), (1, 2), (3, 3)]):
            db.execute("INSERT INTO chunks(document_id, ordinal, text, section, start, \"end\", "
                       "page_start, page_end, char_start, char_end, embedding) VALUES "
                       "(?, ?, 'text', '', 0, 4, ?, ?, 0, 4, ?)",
                       (doc_id, ordinal, first, last, np.ones(2, np.float32).tobytes()))
    db.commit()
    db.close()

    store = SQLiteStore.open(folder, embedder=Identity("tiny", 2))
    assert [c.ocr_confidence for c in store.document_chunks("scan")] == [0.9, 0.85, None]
    assert [c.ocr_confidence for c in store.document_chunks("typed")] == [None] * 3
    assert store.document_page_words("scan") == {}  # boxes come with the next ingest
    store.close()
