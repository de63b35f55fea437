"""The store on real files: SQLite, FAISS and the real embedding model; a real second process
for the writer lock. Documents are small Markdown files written here."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

from ingest import ingest
from ingest.bm25 import query_terms
from ingest.store import DB_NAME, FORMAT_VERSION, LOCK_NAME, MIGRATIONS, Store
from meditron_rag.errors import IndexDamagedError, IndexFormatError, IndexLockedError
from tests.conftest import TOPICS

ROOT = Path(__file__).resolve().parents[1]

VACCINES = """# Pneumococcal vaccination

## Adults
Give one dose of a conjugate pneumococcal vaccine to every adult aged 50 or older who has not
received one before; the vaccine protects against invasive pneumococcal disease.
"""


@pytest.fixture
def store(isolated: Path, embedder) -> Store:
    opened = Store.open(isolated / "index", embedder.name, embedder.dim)
    yield opened
    opened.close()


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


def test_put_replace_remove_and_search_follows(store: Store, embedder, corpus: Path) -> None:
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
    reopened = Store.open(store.folder, embedder.name, embedder.dim)
    assert reopened.vector_index().ntotal == store.chunk_count()
    assert sorted(d.id for d in reopened.documents()) == ["asthma", "hand-hygiene"]


def test_unchanged_file_is_a_noop(store: Store, embedder, corpus: Path) -> None:
    run(store, embedder, corpus)
    generation, cache = store.generation, sorted(store.folder.glob("vectors-*.faiss"))
    stamp = cache[0].stat().st_mtime_ns
    reopened = Store.open(store.folder, embedder.name, embedder.dim)
    report = run(reopened, embedder, corpus)
    assert [f.status for f in report.files] == ["unchanged"] * 3
    assert report.to_dict()["skipped"] == 3 and report.to_dict()["ingested"] == 0
    assert reopened.generation == generation
    assert sorted(store.folder.glob("vectors-*.faiss")) == cache
    assert cache[0].stat().st_mtime_ns == stamp


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


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage", "stale"])
def test_vector_file_missing_damaged_or_stale_is_rebuilt(
        store: Store, embedder, corpus: Path, damage: str) -> None:
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
        writer = Store.open(store.folder, embedder.name, embedder.dim)
        writer.acquire()
        ingest([corpus], writer, embedder, 200, 32)
        generation = writer.generation
        writer.release()
        writer.db.close()
        assert cache.exists() and not (store.folder / f"vectors-{generation}.faiss").exists()
    reopened = Store.open(store.folder, embedder.name, embedder.dim)
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
    Store.open(folder, embedder.name, embedder.dim).close()
    _rewrite(folder, change)
    with pytest.raises(IndexFormatError) as caught:
        Store.open(folder, embedder.name, embedder.dim)
    message = str(caught.value)
    assert words in message and "meditron-rag ingest --rebuild" in message
    assert str(folder) in message


def test_a_file_that_is_not_a_store_is_refused(isolated: Path, embedder) -> None:
    folder = isolated / "index"
    folder.mkdir(parents=True)
    (folder / DB_NAME).write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(IndexDamagedError, match="damaged.*not a database.*--rebuild"):
        Store.open(folder, embedder.name, embedder.dim)


HOLDER = """
import sys
from ingest.store import Store
store = Store.open(__import__("pathlib").Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
store.acquire()
print("holding", flush=True)
sys.stdin.read()
"""


def test_second_writer_gets_a_clear_error(store: Store, embedder) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store.folder), embedder.name, str(embedder.dim)],
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


def test_index_folder_holds_only_sqlite_and_faiss(store: Store, embedder, corpus: Path) -> None:
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
    store = Store.open(isolated / "index", embedder.name, embedder.dim, approximate_above=40)
    run(store, embedder, corpus, tokens=40)
    count = store.chunk_count()
    assert count >= 40
    info = store.index_info()
    assert info["kind"] == "ivf" and info["vectors"] == count and info["nprobe"] >= 1
    exact = Store.open(isolated / "index", embedder.name, embedder.dim, index_kind="flat")
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
    upgraded = Store.open(isolated / "index", embedder.name, embedder.dim, approximate_above=40)
    ivf = upgraded.vector_index()
    assert isinstance(ivf, faiss.IndexIVFScalarQuantizer) and ivf.ntotal == count
    with upgraded.writing():
        upgraded.save_vectors()
    assert isinstance(faiss.read_index(str(target)), faiss.IndexIVFScalarQuantizer)

    with store.writing():  # an IVF index takes removals in place
        assert store.remove_document("hypertension")
        assert store.vector_index().ntotal == store.chunk_count()
    reopened = Store.open(isolated / "index", embedder.name, embedder.dim, approximate_above=40)
    assert reopened.index_info()["kind"] == "ivf" and reopened.verify() == []
    assert "hypertension" not in hits(reopened, embedder, "systolic target mmHg", k=20)
    for i in range(4):
        (corpus / f"extra-{i}.md").unlink()
    run(reopened, embedder, corpus, tokens=40, prune=True)
    small = Store.open(isolated / "index", embedder.name, embedder.dim, approximate_above=40)
    assert small.index_info()["kind"] == "flat"  # shrunk well below the threshold
    assert small.verify() == []


def test_readers_see_a_writer_s_changes(store: Store, embedder, corpus: Path) -> None:
    run(store, embedder, corpus)
    reader = Store.open(store.folder, embedder.name, embedder.dim)
    assert "asthma" in hits(reader, embedder, "asthma reliever")
    with store.writing():
        store.remove_document("asthma")
    time.sleep(0.01)
    assert "asthma" not in hits(reader, embedder, "asthma reliever", k=10)
    assert np.isfinite(reader.dense_search(embedder.encode_query("hand rub"), 1)[0][1])


def test_a_store_from_before_in_memory_bm25_is_migrated_and_searchable(tmp_path: Path,
                                                                         embedder) -> None:
    """A store written with FTS5 (schema 3) gains term counts for every chunk on opening."""
    folder = tmp_path / "old"
    folder.mkdir()
    db = sqlite3.connect(folder / DB_NAME)
    db.execute("CREATE TABLE migrations (number INTEGER PRIMARY KEY)")
    for number, migration in enumerate(MIGRATIONS[:3], start=1):
        migration(db)
        db.execute("INSERT INTO migrations(number) VALUES (?)", (number,))
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

    store = Store.open(folder, embedder.name, embedder.dim)
    assert store.verify() == []
    assert [i for i, _ in store.lexical_search(query_terms("preferred relievers"), 5)] == [1]
    assert [i for i, _ in store.lexical_search(query_terms("asthma"), 5)] == [1]  # the title
    tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
    assert "chunks_fts" not in tables
    store.close()
