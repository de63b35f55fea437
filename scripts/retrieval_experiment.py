"""Measure retrieval methods on MedQuAD and PubMedQA: how the fusion defaults were chosen.

Builds a temporary index per data set and chunk setting with the real ingest code (the real
chunker, embedder and store), gathers each question's dense and lexical candidates once, then
scores every fusion method on the same candidates. Counts at document level: a document is
retrieved when any of its chunks is, so a method's chunk ranking is read as the ranking of the
documents in order of their first chunk. Finally the real `Retriever.search` is run for the
three modes with its defaults, to check that the shipped code reaches the numbers.

    .venv/bin/python -m scripts.retrieval_experiment                 # both sets, 200/32 chunks
    .venv/bin/python -m scripts.retrieval_experiment --chunks 128:16,200:32,254:32 --grid

Data: ../shared/data/medquad/medquad_dev.jsonl (answers are the documents, questions the
queries; a hit is the question's own answer) and ../shared/data/pubmedqa/pqal_dev.json (each
record's contexts joined are one document; the gold document is the question's own record).
Indexes are kept under --workdir so that a second run does not embed again.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.fusion import NORMALISERS, best_per_group
from ingest import load_embedder
from ingest.bm25 import query_terms
from ingest.chunking import chunk_document
from ingest.document import DocumentMetadata, LoadedDocument
from ingest.embedder import Embedder
from ingest.parsing import embedding_text
from ingest.store import SQLiteStore
from meditron_rag.config import RetrievalConfig, load_config
from rag.fusion import reciprocal_rank_fusion, score_fusion
from rag.retrieval import Retriever

ROOT = Path(__file__).resolve().parents[1]

SHARED = ROOT.parent / "shared" / "data"
CUTOFFS = (1, 5, 10)


@dataclass
class DataSet:
    name: str
    documents: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: list[tuple[str, str]]  # (question, gold document id)


def medquad(titles: bool) -> DataSet:
    rows = [json.loads(line) for line in
            (SHARED / "medquad" / "medquad_dev.jsonl").read_text().splitlines() if line.strip()]
    docs = {r["qid"]: (r["focus"] if titles else "", r["answer"]) for r in rows}
    return DataSet("medquad" + ("-titled" if titles else ""), docs,
                   [(r["question"], r["qid"]) for r in rows])


def pubmedqa() -> DataSet:
    records = json.loads((SHARED / "pubmedqa" / "pqal_dev.json").read_text())
    docs = {pmid: ("", "\n\n".join(r["CONTEXTS"])) for pmid, r in records.items()}
    return DataSet("pubmedqa", docs, [(r["QUESTION"], pmid) for pmid, r in records.items()])


def build(data: DataSet, embedder: Embedder, folder: Path, chunk_tokens: int,
          overlap: int) -> SQLiteStore:
    """The data set's documents chunked and embedded into a store, as `ingest` would."""
    store = SQLiteStore.open(folder, embedder=embedder)
    if len(store.documents()) == len(data.documents):
        return store
    started = time.perf_counter()
    chunk_tokens = min(chunk_tokens, embedder.max_tokens)
    todo = []
    for doc_id, (title, text) in data.documents.items():
        loaded = LoadedDocument(Path(f"{doc_id}.txt"), "text", text, [0], [],
                                DocumentMetadata(title=title))
        todo.append((doc_id, loaded, chunk_document(loaded, embedder.count_tokens,
                                                    chunk_tokens=chunk_tokens,
                                                    overlap_tokens=overlap)))
    texts = [embedding_text(d.metadata.title, c.section, c.text) for _, d, cs in todo for c in cs]
    vectors = embedder.encode(texts)  # one call: batches of similar length, much faster
    with store.writing():
        at = 0
        for doc_id, loaded, chunks in todo:
            store.put_document(doc_id, path=f"/{data.name}/{doc_id}.txt", kind="text",
                               sha256=doc_id, size_bytes=len(loaded.text), pages=1,
                               paginated=False, metadata=loaded.metadata, warnings=[],
                               chunks=chunks, vectors=vectors[at:at + len(chunks)])
            at += len(chunks)
        store.save_vectors()
    print(f"  built {folder.name}: {store.chunk_count()} chunks in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    return store


Item = int | str  # a chunk id, or a document id once chunks are grouped by document


@dataclass
class Candidates:
    dense: dict[int, float]  # chunk id -> cosine, best first
    bm25: dict[int, float]  # chunk id -> BM25 score, best first
    exact_dense: dict[int, float]  # cosine of every candidate of either list


def gather(store: SQLiteStore, embedder: Embedder, data: DataSet,
           depth: int) -> list[Candidates]:
    vectors = embedder.encode([q for q, _ in data.queries])
    index = store.vector_index()
    out = []
    for (question, _), vector in zip(data.queries, vectors):
        dense = dict(store.dense_search(vector, depth))
        lexical = dict(store.lexical_search(query_terms(question), depth))
        exact = dict(dense)
        for chunk_id in lexical:
            if chunk_id not in exact:
                exact[chunk_id] = float(np.dot(index.reconstruct(chunk_id), vector))
        out.append(Candidates(dense, lexical, exact))
    return out


def metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    """recall@k and MRR from each query's 1-based rank of its gold document (None: missed)."""
    n = len(ranks)
    out = {f"R@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in CUTOFFS}
    out["MRR"] = sum(1 / r for r in ranks if r is not None) / n
    return out


def gold_rank(ranked_chunks: Sequence[Item], doc_of: Callable[[Item], str],
              gold: str) -> int | None:
    docs = best_per_group(((c, 0.0) for c in ranked_chunks), doc_of)
    for rank, (chunk, _) in enumerate(docs, start=1):
        if doc_of(chunk) == gold:
            return rank
    return None


def _doc_level(scores: Mapping[Item, float], doc_of: Callable[[Item], str]
               ) -> dict[Item, float]:
    """A document scored by its best chunk (lists arrive best first)."""
    out: dict[Item, float] = {}
    for chunk, score in scores.items():
        out.setdefault(doc_of(chunk), score)
    return out


Method = Callable[[Candidates, Callable[[Item], str]], Sequence[Item]]


def methods(grid: bool, depth: int) -> dict[str, Method]:
    """Each method maps one query's candidates to a ranked list of chunk or document ids."""

    def top(scores: Mapping[int, float], n: int) -> list[int]:
        return list(scores)[:n]

    def rrf(k: int, w_dense: float, bm25_depth: int, docs: bool = False) -> Method:
        def run(c: Candidates, doc_of: Callable[[Item], str]) -> list[Item]:
            dense: dict[Item, float] = dict(c.dense.items())
            lexical: dict[Item, float] = dict(list(c.bm25.items())[:bm25_depth])
            if docs:
                dense, lexical = _doc_level(dense, doc_of), _doc_level(lexical, doc_of)
            fused = reciprocal_rank_fusion(
                {"dense": list(dense)[:depth], "bm25": list(lexical)[:depth]}, k=k,
                weights={"dense": w_dense, "bm25": 1.0})
            return [item for item, _ in fused]
        return run

    def convex(alpha: float, normalise: str, exact: bool, docs: bool = False) -> Method:
        def run(c: Candidates, doc_of: Callable[[Item], str]) -> list[Item]:
            dense_top = dict(list(c.dense.items())[:depth])
            lexical_top = dict(list(c.bm25.items())[:depth])
            if exact:
                dense_top = {i: c.exact_dense[i] for i in {**dense_top, **lexical_top}}
            dense: dict[Item, float] = dict(dense_top.items())
            lexical: dict[Item, float] = dict(lexical_top.items())
            if docs:
                dense, lexical = _doc_level(dense, doc_of), _doc_level(lexical, doc_of)
            fused = score_fusion({"dense": dense, "bm25": lexical},
                                 {"dense": alpha, "bm25": 1 - alpha}, NORMALISERS[normalise])
            return [item for item, _ in fused]
        return run

    out: dict[str, Method] = {
        "dense": lambda c, _: top(c.dense, depth),
        "bm25": lambda c, _: top(c.bm25, depth),
        "rrf k60": rrf(60, 1.0, depth),
    }
    if grid:
        for k in (10, 60):
            for w in (1.5, 2.0, 3.0):
                for d in (10, 20, depth):
                    out[f"rrf k{k} w{w} bm25@{d}"] = rrf(k, w, d)
        out["rrf k60 docs"] = rrf(60, 1.0, depth, docs=True)
        out["rrf k60 w2 docs"] = rrf(60, 2.0, depth, docs=True)
        for normalise in ("minmax", "zscore"):
            for alpha in (0.5, 0.6, 0.7, 0.8, 0.9):
                out[f"{normalise} a{alpha}"] = convex(alpha, normalise, False)
                out[f"{normalise} a{alpha} exact"] = convex(alpha, normalise, True)
                out[f"{normalise} a{alpha} exact docs"] = convex(alpha, normalise, True, True)
    else:
        out["minmax a0.8"] = convex(0.8, "minmax", False)
    return out


def evaluate(store: SQLiteStore, data: DataSet, cands: list[Candidates], grid: bool,
             depth: int) -> dict[str, dict[str, float]]:
    ids = sorted({i for c in cands for i in (*c.dense, *c.bm25)})
    doc_of_chunk = {i: r.document_id for i, r in store.chunks(ids).items()}

    def doc_of(item: Item) -> str:
        return doc_of_chunk[item] if isinstance(item, int) else str(item)

    results = {}
    for name, method in methods(grid, depth).items():
        ranks = [gold_rank(method(c, doc_of), doc_of, gold)
                 for c, (_, gold) in zip(cands, data.queries)]
        results[name] = metrics(ranks)
    return results


def evaluate_retriever(store: SQLiteStore, embedder: Embedder, data: DataSet,
                       settings: RetrievalConfig) -> dict[str, dict[str, float]]:
    """The shipped `Retriever.search`, documents read from its passages in order."""
    retriever = Retriever(store, embedder, settings)
    results = {}
    for mode in ("dense", "bm25", "hybrid"):
        ranks = []
        for question, gold in data.queries:
            passages = retriever.search(question, k=retriever.candidates, mode=mode)
            docs = list(dict.fromkeys(p.document_id for p in passages))
            ranks.append(docs.index(gold) + 1 if gold in docs else None)
        results[f"Retriever {mode}"] = metrics(ranks)
    return results


def table(title: str, results: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"  {'method':34} " + " ".join(f"{m:>6}" for m in ("R@1", "R@5", "R@10", "MRR")))
    for name, row in results.items():
        print(f"  {name:34} " + " ".join(f"{row[m]:6.3f}" for m in ("R@1", "R@5", "R@10", "MRR")))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="medquad,pubmedqa",
                        help="comma-separated: medquad, medquad-titled (the topic as each "
                        "answer's title), pubmedqa")
    parser.add_argument("--chunks", default="200:32", help="chunk_tokens:overlap_tokens,...")
    parser.add_argument("--depth", type=int, default=40, help="candidates per retriever")
    parser.add_argument("--grid", action="store_true", help="every fusion setting, not 3")
    parser.add_argument("--retriever", action="store_true", help="also run Retriever.search")
    parser.add_argument("--limit", type=int, default=0, help="first N questions only")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/meditron-retrieval-exp"))
    args = parser.parse_args(argv)

    config = load_config(ROOT / "config.yaml", environ={})
    embedder = load_embedder(config)
    makers = {"medquad": lambda: medquad(False), "medquad-titled": lambda: medquad(True),
              "pubmedqa": pubmedqa}
    for set_name in args.sets.split(","):
        data = makers[set_name]()
        if args.limit:
            data.queries = data.queries[: args.limit]
        for setting in args.chunks.split(","):
            chunk_tokens, overlap = (int(x) for x in setting.split(":"))
            folder = args.workdir / f"{data.name}-{chunk_tokens}-{overlap}" / "index"
            store = build(data, embedder, folder, chunk_tokens, overlap)
            started = time.perf_counter()
            cands = gather(store, embedder, data, max(args.depth, 100))
            results = evaluate(store, data, cands, args.grid, args.depth)
            if args.retriever:
                results.update(evaluate_retriever(store, embedder, data, config.retrieval))
            table(f"{set_name}, chunks {chunk_tokens}/{overlap}, {store.chunk_count()} chunks, "
                  f"{len(data.queries)} questions, depth {args.depth} "
                  f"({time.perf_counter() - started:.0f} s)", results)
            store.close()


if __name__ == "__main__":
    main()
