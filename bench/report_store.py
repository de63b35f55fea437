"""The store backends' section of docs/benchmarks.md, from the results of
`scripts/store_backends.py` (store-backends-*.json), `scripts/store_soak.py`
(store-soak-*.json), `scripts/ingest_backends.py` (ingest-backends*.json) and eval runs on
both backends (eval-*.json and eval-*-postgres.json)."""

from __future__ import annotations

import json
from pathlib import Path


def _read(out: Path, pattern: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "results").glob(pattern))]


def _ms(part: dict) -> str:
    times = part.get("question") or {}
    return f"{times['p50_ms']:.1f} / {times['p95_ms']:.1f}" if times else "-"


def _rate(part: dict, key: str) -> str:
    return f"{part[key]:,.0f}" if key in part else "-"


def _latency_rows(runs: list[dict]) -> list[str]:
    rows = ["| chunks | embedded store: a question, p50 / p95 (ms) | PostgreSQL, default "
            "shared_buffers | PostgreSQL, shared_buffers sized | p95 ratio (sized / embedded) "
            "| writing, empty store (chunks/s): embedded / PostgreSQL | writing into the full "
            "store (chunks/s) | CPU |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in sorted(runs, key=lambda r: r["chunks"]):
        sqlite, postgres, tuned = r["sqlite"], r["postgres"], r.get("postgres_tuned", {})
        same_run = tuned.get("sqlite_question_same_run") or sqlite.get("question") or {}
        ratio = (f"{tuned['question']['p95_ms'] / same_run['p95_ms']:.2f}"
                 if tuned.get("question") and same_run else "-")
        rows.append(
            f"| {r['chunks']:,} | {_ms(sqlite)} | {_ms(postgres)} | {_ms(tuned)} "
            f"(embedded beside it: {_ms({'question': same_run})}) | {ratio} | "
            f"{sqlite['chunks_per_s']:,.0f} / {postgres['chunks_per_s']:,.0f} | "
            f"{_rate(sqlite, 'grow_chunks_per_s')} / {_rate(postgres, 'grow_chunks_per_s')} "
            f"| {r.get('cpu', '')} |")
    return rows


def _soak_rows(runs: list[dict]) -> list[str]:
    rows = ["| backend | readers, seconds | reads (per s) | read p50 / p95 (ms) | writes: added, "
            "replaced, removed | read errors, torn reads | lost, unexpected, duplicated "
            "documents | verify | CPU (load at end) |",
            "| --- | --- | ---: | ---: | --- | --- | --- | --- | --- |"]
    for r in runs:
        w = r["writes"]
        rows.append(
            f"| {r['backend']} | {r['readers']}, {r['seconds']:g} | {r['reads']:,} "
            f"({r['reads_per_s']}) | {r['read_p50_ms']} / {r['read_p95_ms']} | {w['added']}, "
            f"{w['replaced']}, {w['removed']} (errors {w['errors']}) | {r['read_errors']}, "
            f"{r['torn_reads']} | {r['lost_documents']}, {r['unexpected_documents']}, "
            f"{r['duplicated_documents']} | {'clean' if not r['verify'] else r['verify']} | "
            f"{r.get('cpu', '')} ({r.get('load_average_at_end', '-')}) |")
    return rows


def _recall_rows(out: Path) -> list[str]:
    embedded = {r["dataset"]: r for r in _read(out, "eval-*.json")
                if r.get("settings", {}).get("store", "sqlite") == "sqlite"}
    rows = []
    for other in _read(out, "eval-*-postgres.json"):
        base = embedded.get(other["dataset"])
        if base is None:
            continue
        for method in ("dense", "bm25", "hybrid"):
            if method in other["methods"] and method in base["methods"]:
                a, b = base["methods"][method], other["methods"][method]
                rows.append(f"| {other['dataset']} | {method} | {a['recall@5']:.4f} | "
                            f"{b['recall@5']:.4f} | {a['mrr']:.4f} | {b['mrr']:.4f} |")
    if not rows:
        return []
    return ["| data set | method | recall@5 embedded | recall@5 PostgreSQL | MRR embedded | "
            "MRR PostgreSQL |", "| --- | --- | ---: | ---: | ---: | ---: |", *rows]


def _ingest_rows(runs: list[dict]) -> list[str]:
    rows = ["| corpus | files, chunks | embedded: s (chunks/s) | PostgreSQL: s (chunks/s) | "
            "ratio PostgreSQL / embedded | CPU s, ingest: embedded / PostgreSQL (server) | "
            "same index | no-op re-ingest (s) | CPU |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |"]
    for run in runs:
        for name, r in run.items():
            if not isinstance(r, dict) or "postgres_over_sqlite" not in r:
                continue
            a, b, noop = r["sqlite"], r["postgres"], r["noop_reingest_s"]
            rows.append(
                f"| {name.replace('_', ' ')} | {r['files']}, {r['chunks']} | {a['seconds']} "
                f"({a['chunks_per_s']}) | {b['seconds']} ({b['chunks_per_s']}) | "
                f"{r['postgres_over_sqlite']:.2f} | {a['cpu_s']} / {b['cpu_s']} "
                f"({b['server_cpu_s']}) | {'yes' if r['same_index'] else 'NO'} | "
                f"{noop['sqlite']} / {noop['postgres']} | {run['cpu']} |")
    return rows


def store_lines(out: Path) -> list[str]:
    """The section, or nothing when no store result is saved."""
    latency = _read(out, "store-backends-*.json")
    soak = _read(out, "store-soak-*.json")
    ingested = _read(out, "ingest-backends*.json")
    recall = _recall_rows(out)
    if not (latency or soak or recall or ingested):
        return []
    lines = ["## Store backends: embedded (SQLite + FAISS) and PostgreSQL + pgvector", ""]
    if recall:
        lines += ["Retrieval quality, the same corpus and questions indexed into each backend "
                  "(`python -m bench eval`, the PostgreSQL run with "
                  "`MEDITRON_RAG_STORE_BACKEND=postgres`; full tables in "
                  "docs/evaluation.md):", "", *recall, ""]
    if latency:
        lines += ["A question's retrieval, from embedding the question to the fused passages "
                  "(`Retriever.search` as `ask` runs it, each question on both backends back to "
                  "back in alternating order), and writing, on synthetic chunks with random "
                  "vectors: " + "; ".join(f"`{r['command']}`" for r in latency) + ". Method and "
                  "the other figures: docs/ingestion.md, \"Moving to PostgreSQL\".", "",
                  *_latency_rows(latency), ""]
    if ingested:
        lines += ["Ingest, end to end (parsing, embedding, writing), the same files into each "
                  "backend, part by part in alternating order, and both indexes compared "
                  "chunk by chunk afterwards: " + "; ".join(f"`{r['command']}`" for r in ingested)
                  + ".", "", *_ingest_rows(ingested), ""]
    if soak:
        lines += ["Readers and a writer at once on one store, for minutes (each reader its "
                  "own process asking what retrieval asks of the store, and checking what it "
                  "read; the writer adding, replacing and removing documents): " + "; ".join(
                      f"`{r['command']}`" for r in soak) + ".", "", *_soak_rows(soak), ""]
    return lines
