"""Index files damaged on disk: a FAISS cache that is not the one the writer saved is rebuilt
from SQLite, never searched; a damaged SQLite store ends in one sentence that says to rebuild,
never a traceback and never an answer."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest

from ingest.store import SQLiteStore
from ingest.store.migrations import DB_NAME
from tests.conftest import run_cli
from tests.test_store import VACCINES, run

QUESTION = "budesonide-formoterol reliever"


@pytest.fixture
def index(isolated: Path, embedder, corpus: Path) -> Path:
    """A small store ingested in the test's data directory (where the CLI looks)."""
    store = SQLiteStore.open(isolated / "index", embedder=embedder)
    run(store, embedder, corpus, tokens=40)
    store.close()
    return isolated / "index"


def _damage_cache(cache: Path, damage: str) -> None:
    db = sqlite3.connect(cache.parent / DB_NAME)
    rows = db.execute("SELECT id, embedding FROM chunks ORDER BY id").fetchall()
    db.close()
    ids = np.array([chunk_id for chunk_id, _ in rows], dtype=np.int64)
    vectors = np.stack([np.frombuffer(blob, dtype=np.float32) for _, blob in rows])
    if damage == "block":  # 4 KB of noise in the middle
        data = bytearray(cache.read_bytes())
        middle = len(data) // 2 - 2048
        data[middle:middle + 4096] = np.random.default_rng(0).bytes(4096)
        cache.write_bytes(bytes(data))
        return
    if damage == "truncated":
        cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
        return
    other = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
    if damage == "wrong-vectors":  # the right count and ids, other vectors
        noise = np.random.default_rng(1).standard_normal(vectors.shape).astype(np.float32)
        other.add_with_ids(noise / np.linalg.norm(noise, axis=1, keepdims=True), ids)
    elif damage == "foreign-ids":  # the right vectors under ids no chunk has
        other.add_with_ids(vectors, ids + 100_000)
    else:  # "wrong-count": one vector short
        other.add_with_ids(vectors[1:], ids[1:])
    faiss.write_index(other, str(cache))


DAMAGES = ["block", "truncated", "wrong-vectors", "foreign-ids", "wrong-count"]


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_vector_cache_that_is_not_the_saved_one_is_rebuilt(index: Path, embedder,
                                                             corpus: Path, damage: str) -> None:
    store = SQLiteStore.open(index, embedder=embedder)
    question = embedder.encode_query(QUESTION)
    expected = store.dense_search(question, 5)
    store.close()
    [cache] = index.glob("vectors-*.faiss")
    _damage_cache(cache, damage)

    reader = SQLiteStore.open(index, embedder=embedder)
    found = reader.dense_search(question, 5)
    assert [i for i, _ in found] == [i for i, _ in expected]
    assert [s for _, s in found] == pytest.approx([s for _, s in expected], abs=1e-5)
    assert reader.verify() == []
    assert cache.exists()  # a reader leaves the file to the writer

    run(reader, embedder, corpus, tokens=40)  # nothing changed, but the writer saves it anew
    recorded = reader.meta()["vectors_sha256"].split(":")[1]
    [saved] = index.glob("vectors-*.faiss")
    assert faiss.read_index(str(saved)).ntotal == reader.chunk_count()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == recorded
    reader.close()


def test_the_command_line_searches_right_past_a_damaged_cache_and_ingest_replaces_it(
        index: Path, corpus: Path) -> None:
    before = run_cli("search", QUESTION, "--mode", "dense", "--json")
    assert before.returncode == 0, before.stderr
    [cache] = index.glob("vectors-*.faiss")
    _damage_cache(cache, "block")
    damaged = cache.read_bytes()

    after = run_cli("search", QUESTION, "--mode", "dense", "--json")
    assert after.returncode == 0 and "Traceback" not in after.stderr, after.stderr
    ranked = [(p["chunk_id"], round(p["scores"]["dense"], 4)) for p in json.loads(after.stdout)]
    assert ranked == [(p["chunk_id"], round(p["scores"]["dense"], 4))
                      for p in json.loads(before.stdout)]
    assert all(score <= 1.0001 for _, score in ranked)

    ingested = run_cli("ingest", str(corpus))
    assert ingested.returncode == 0, ingested.stderr
    [saved] = index.glob("vectors-*.faiss")
    assert saved.read_bytes() != damaged


def _overwrite_page(index: Path, fraction: float) -> None:
    """4 KB of noise at `fraction` of the SQLite file."""
    path = index / DB_NAME
    data = bytearray(path.read_bytes())
    at = int(len(data) * fraction)
    data[at:at + 4096] = np.random.default_rng(2).bytes(4096)
    path.write_bytes(bytes(data))


def _sql(index: Path, statement: str) -> None:
    db = sqlite3.connect(index / DB_NAME)
    with db:
        db.execute(statement)
    db.close()


def _assert_damage_reported(result) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 5, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and not result.stdout
    assert "Index damaged in" in result.stderr
    assert "run `meditron-rag ingest --rebuild DIR`" in result.stderr


@pytest.mark.parametrize("damage", ["page-10", "page-25", "page-50", "page-75",
                                    "generation", "dropped-table"])
def test_a_damaged_store_says_rebuild_and_answers_nothing(index: Path, damage: str) -> None:
    if damage.startswith("page"):
        _overwrite_page(index, int(damage.split("-")[1]) / 100)
    elif damage == "generation":
        _sql(index, "UPDATE meta SET value='seven' WHERE key='generation'")
    else:
        _sql(index, "DROP TABLE terms")
    _assert_damage_reported(run_cli("search", QUESTION))


def test_ingest_refuses_a_damaged_store_until_it_is_rebuilt(index: Path, corpus: Path) -> None:
    _overwrite_page(index, 0.5)
    (corpus / "vaccines.md").write_text(VACCINES, encoding="utf-8")
    damaged = (index / DB_NAME).read_bytes()
    _assert_damage_reported(run_cli("ingest", str(corpus)))
    assert (index / DB_NAME).read_bytes() == damaged  # nothing added to it

    rebuilt = run_cli("ingest", "--rebuild", str(corpus))
    assert rebuilt.returncode == 0, rebuilt.stderr
    found = run_cli("search", "pneumococcal conjugate vaccine", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["document_id"] == "vaccines"
