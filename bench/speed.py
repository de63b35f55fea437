"""Benchmarks: ingestion, retrieval latency at 1K/10K/100K chunks, and generation speed.

Retrieval: a temporary store is filled with synthetic chunks (text drawn from the real starter
corpus, sentences shuffled; vectors: real embeddings of a pool of such texts plus noise,
unit-normalised), so 100K chunks need not be embedded one by one. The query path measured is
the real one: the question embedded by the real embedder, FAISS, BM25 (in-memory postings),
fusion, de-duplication, then packing into the generator's window with its own tokenizer.
Stages are timed separately, and `total` is `Retriever.search` plus `pack`, end to end.
Beside it, a naive LangChain pipeline on the starter corpus and questions: documents split by
`RecursiveCharacterTextSplitter` (1,000 characters, 200 overlap), the same embedder, a FAISS
flat index, similarity search top 5, a "stuff" prompt; recall@5 and latency side by side with
ours.

Generation runs in a fresh subprocess per model, so that its peak RSS is its own.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np

from bench import child
from bench.common import (
    ROOT,
    SHAPED,
    STARTER,
    Log,
    fill,
    log_stderr,
    model_file,
    synthetic_texts,
)
from meditron_rag.config import Config
from rag.evaluation.metrics import mean, percentile, recall_at_k, reciprocal_rank

if TYPE_CHECKING:
    from llama_cpp import Llama

    from ingest import Embedder
    from rag.generator import LocalGenerator
    from rag.prompts import PromptFormat

MODULE = "bench.speed"
PDFS = ROOT.parent / "shared" / "data" / "pdfs"
PROMPT_TOKENS = 1500
GEN_TOKENS = 64
PIPELINE_TOKENS = 32


def _renderer(fmt: PromptFormat, question: str) -> Callable[[list[str]], str]:
    """The prompt of `question` over passage blocks, in `fmt`: what packing measures."""
    return lambda blocks: fmt.render("\n\n".join(blocks), question)


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2),
            "mean": round(mean(values), 2)}


def _starter_questions(limit: int | None = None) -> list[dict]:
    rows = [json.loads(line) for line in (STARTER / "questions.jsonl").read_text().splitlines()
            if line.strip()]
    return rows[:limit] if limit else rows


# --- ingest ---------------------------------------------------------------------------------------

def ingest_part(config: Config, pdf_dir: Path | None = None, log: Log = log_stderr,
                generated_pages: int = 2000) -> dict[str, object]:
    """Ingestion speed, measured by bench/ingest_speed.py."""
    from bench.ingest_speed import bench_ingest

    log("Benchmarking ingestion ...")
    return bench_ingest(config, pdf_dir or PDFS, generated_pages)


# --- retrieval ------------------------------------------------------------------------------------

def retrieval_latency(config: Config, sizes: Sequence[int] = (1000, 10000, 100000),
                      queries: int = 50, log: Log = log_stderr,
                      langchain: bool = True, pool_size: int = 500) -> dict[str, object]:
    """Retrieval latency per stage at each size; the synthetic chunks' vectors are drawn near
    the embeddings of a pool of `pool_size` real chunk texts (embedding them is most of the
    set-up time)."""
    from ingest import load_embedder
    from ingest.bm25 import query_terms
    from ingest.store import SQLiteStore
    from meditron_rag.models import resolve
    from rag.fusion import reciprocal_rank_fusion
    from rag.generator import LocalGenerator
    from rag.packing import pack
    from rag.prompts import passage_block
    from rag.retrieval import Retriever

    rng = np.random.default_rng(0)
    embedder = load_embedder(config, answering=True)  # as the app embeds its questions
    llm = config.llm
    gen = LocalGenerator(resolve(llm.model, "llm", config), llm.model, llm)
    texts = synthetic_texts()
    log(f"Embedding a pool of {pool_size} synthetic chunk texts ...")
    pool = embedder.encode(texts[:pool_size])
    questions = [q["question"] for q in _starter_questions(queries)]
    r = config.retrieval
    rows = []
    with tempfile.TemporaryDirectory(prefix="meditron-rag-bench-") as tmp:
        store = SQLiteStore.open(Path(tmp) / "index", embedder=embedder)
        retriever = Retriever(store, embedder, r.model_copy(update={"mode": "hybrid"}))
        for size in sorted(sizes):
            log(f"Filling the store to {size} chunks ...")
            fill(store, size, texts, pool, rng, log)
            retriever.search(questions[0], r.top_k)  # load the FAISS file and warm caches
            stages: dict[str, list[float]] = {k: [] for k in (
                "embed_ms", "dense_ms", "bm25_ms", "fetch_fuse_ms", "pack_ms", "total_ms")}
            for q in questions:
                t0 = time.perf_counter()
                vector = embedder.encode_query(q)
                t1 = time.perf_counter()
                dense = store.dense_search(vector, r.candidates)
                t2 = time.perf_counter()
                lexical = store.lexical_search(query_terms(q), r.candidates)
                t3 = time.perf_counter()
                chunks = store.chunks(sorted({i for i, _ in dense} | {i for i, _ in lexical}))
                reciprocal_rank_fusion({"dense": [i for i, _ in dense],
                                        "bm25": [i for i, _ in lexical]}, k=r.rrf_k)
                t4 = time.perf_counter()
                passages = retriever.search(q, r.top_k)
                t5 = time.perf_counter()
                for n, p in enumerate(passages, start=1):
                    p.number = n
                pack(_renderer(gen.format, q),
                     [passage_block(p) for p in passages], gen.count_tokens, gen.n_ctx,
                     config.generation.max_tokens)
                t6 = time.perf_counter()
                for key, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t6 - t5,
                                               t6 - t4)):
                    stages[key].append(value * 1000)
                assert chunks is not None
            stats = {k: _stats(v) for k, v in stages.items()}
            rows.append({"chunks": store.chunk_count(), **stats,
                         "peak_rss_mb": child.peak_rss_mb()})
            log(f"  {size} chunks: total p50 {stats['total_ms']['p50']} ms, "
                f"p95 {stats['total_ms']['p95']} ms")
        store.close()
    out: dict[str, object] = {
        "method": (
            f"Hybrid retrieval of top {r.top_k} from {r.candidates} candidates per retriever, "
            f"{len(questions)} starter questions per size; synthetic chunks of real corpus "
            "sentences with vectors near real embeddings; stages timed separately, total = "
            "Retriever.search + pack (end to end); questions embedded as the app embeds them "
            f"({type(embedder).__name__}, CPU), packing with the "
            f"{llm.model} tokenizer into {llm.n_ctx} tokens."),
        "sizes": rows,
    }
    if langchain:
        out["langchain"] = langchain_comparison(config, embedder, log)
    return out


# --- a naive LangChain pipeline, side by side -----------------------------------------

def langchain_comparison(config: Config, embedder: Embedder, log: Log = log_stderr
                         ) -> dict[str, object]:
    """Recall@5, MRR and latency of ours (each method) and of a naive LangChain pipeline, on
    the starter corpus and questions."""
    import faiss
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.loaders import load_document
    from ingest.pipeline import discover
    from rag.evaluation.harness import harness
    from rag.evaluation.questions import load_questions

    evalset = load_questions(STARTER / "questions.jsonl", STARTER)
    scored = [q for q in evalset.questions if q.expected_documents]
    pipelines: dict[str, dict[str, float]] = {}
    log("LangChain comparison: our index of the starter corpus ...")
    with harness(config, embedder=embedder) as h:
        index = h.build_index(evalset, config.chunking.chunk_tokens,
                              config.chunking.overlap_tokens)
        retriever = h.retriever(index)
        for method in ("dense", "bm25", "hybrid"):
            recalls, rrs, times = [], [], []
            for q in scored:
                t0 = time.perf_counter()
                found = retriever.search(q.question, 5, None, method)
                times.append((time.perf_counter() - t0) * 1000)
                ranking = [p.document_id for p in found]
                gold = index.resolve(q.expected_documents)
                recalls.append(recall_at_k(ranking, gold, 5))
                rrs.append(reciprocal_rank(ranking, gold))
            pipelines[f"meditron-rag {method}"] = {
                "recall@5": round(mean(recalls), 4), "mrr": round(mean(rrs), 4),
                "latency_ms_p50": round(percentile(times, 50), 2),
                "latency_ms_p95": round(percentile(times, 95), 2), "chunks": index.chunks}
    log("LangChain comparison: naive pipeline ...")
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts, names = [], []
    for path in discover([STARTER]):
        doc = load_document(path)
        for piece in splitter.split_text(doc.text):
            texts.append(piece)
            names.append(path.name)
    vectors = embedder.encode(texts)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    template = ("Use the following pieces of context to answer the question at the end.\n\n"
                "{context}\n\nQuestion: {question}\nHelpful Answer:")
    recalls, rrs, times = [], [], []
    for q in scored:
        t0 = time.perf_counter()
        _, ids = flat.search(embedder.encode_query(q.question).reshape(1, -1), 5)
        hits = [int(i) for i in ids[0] if i != -1]
        template.format(context="\n\n".join(texts[i] for i in hits), question=q.question)
        times.append((time.perf_counter() - t0) * 1000)
        ranking = [names[i] for i in hits]
        recalls.append(recall_at_k(ranking, set(q.expected_documents), 5))
        rrs.append(reciprocal_rank(ranking, set(q.expected_documents)))
    pipelines["LangChain naive"] = {
        "recall@5": round(mean(recalls), 4), "mrr": round(mean(rrs), 4),
        "latency_ms_p50": round(percentile(times, 50), 2),
        "latency_ms_p95": round(percentile(times, 95), 2), "chunks": len(texts)}
    return {
        "method": (f"Starter corpus, {len(scored)} answerable questions, top 5. LangChain "
                   "naive: RecursiveCharacterTextSplitter(1000 characters, overlap 200) over the "
                   "same parsed text, the same embedder, faiss.IndexFlatIP, similarity search, "
                   "a stuff prompt. Latency excludes generation in both."),
        "pipelines": pipelines,
    }


# --- generation -----------------------------------------------------------------------------------

def generation(config: Config, model: str, log: Log = log_stderr, pipeline: bool = True,
               timeout_s: float = 3600) -> dict[str, object]:
    """Generation speed of one model, measured in a fresh subprocess; a native crash of that
    process is its result."""
    if model in SHAPED:
        from bench import meditron_shape

        meditron_shape.build(log=log)
    log(f"Benchmarking generation with {model} (subprocess) ...")
    payload = {"step": "generation", "config": config.model_dump(mode="json"), "model": model,
               "pipeline": pipeline}
    result = child.run_or_crash(MODULE, payload, f"The generation benchmark of {model}", log,
                                timeout_s)
    return {"model": model, **result, "repack_weights": config.llm.repack_weights}


def _long_prompt(gen: LocalGenerator, target: int) -> tuple[str, int]:
    """A real-format prompt of about `target` tokens: starter passages in the model's format."""
    from rag.packing import pack

    blocks: list[str] = []
    for path in sorted(STARTER.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1].strip()
        blocks.append(f"[{len(blocks) + 1}] {path.stem}\n{body}")
    question = "At what age should routine screening mammography start?"
    packed = pack(_renderer(gen.format, question), blocks, gen.count_tokens, target + 1, 1)
    return packed.prompt, packed.prompt_tokens


def _timed_completion(llm: Llama, prompt: str, **kwargs: Any) -> dict[str, float]:
    """Wall-clock TTFT and total of one streamed completion from an empty KV cache; `tokens`
    is how many generated tokens llama.cpp evaluated after the first was sampled."""
    n_prompt = len(llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
    llm.reset()
    started = time.perf_counter()
    first = 0.0
    for _ in llm.create_completion(prompt, stream=True, **kwargs):
        if not first:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    return {"ttft_s": first, "total_s": total, "tokens": max(0, llm.n_tokens - n_prompt)}


def throughput(gen: LocalGenerator, prompt_tokens: int) -> dict[str, float]:
    """Prompt and generation speed of `gen` on a real-format prompt of about `prompt_tokens`,
    from an empty KV cache: GEN_TOKENS generated greedily, end-of-text banned, so every
    configuration generates the same number of tokens."""
    prompt, n_prompt = _long_prompt(gen, prompt_tokens)
    run = _timed_completion(gen.llm, prompt, max_tokens=GEN_TOKENS, temperature=0.0,
                            logit_bias={gen.llm.token_eos(): -1e9})
    gen_s = run["total_s"] - run["ttft_s"]
    return {"prompt_tokens": n_prompt, "ttft_s": round(run["ttft_s"], 3),
            "prompt_tok_s": round(n_prompt / run["ttft_s"], 1),
            "generated_tokens": run["tokens"],
            "gen_tok_s": round(run["tokens"] / gen_s, 2) if gen_s > 0 else 0.0}


def _generation_step(payload: dict) -> dict:
    """The child's side of `generation`: load the model, time it, and the pipeline."""
    from rag.generator import LocalGenerator

    config = child.config_of(payload)
    path, label = model_file(config, payload["model"])
    llm_cfg = config.llm
    started = time.perf_counter()
    gen = LocalGenerator(path, label, llm_cfg)
    load_s = time.perf_counter() - started
    llm = gen.llm
    speed = throughput(gen, PROMPT_TOKENS)
    out: dict[str, object] = {
        "model": label, "file": str(path), "file_gb": round(path.stat().st_size / 1e9, 2),
        "n_ctx": llm_cfg.n_ctx, "threads": llm.n_threads if hasattr(llm, "n_threads") else None,
        "load_s": round(load_s, 2), **speed,
        "peak_rss_mb": child.peak_rss_mb(),
        "note": (f"TTFT for a {speed['prompt_tokens']}-token prompt; {GEN_TOKENS} tokens generated "
                 "greedily with end-of-text banned."),
    }
    if payload["pipeline"]:
        out["pipeline"] = _pipeline_overhead(config, gen)
        out["peak_rss_with_pipeline_mb"] = child.peak_rss_mb()
    return out


def _pipeline_overhead(config: Config, gen: LocalGenerator) -> dict[str, float]:
    """Our Engine.stream against bare create_completion on the same packed prompt."""
    from bench.settings import with_overrides
    from rag.evaluation.harness import harness
    from rag.evaluation.questions import load_questions

    evalset = load_questions(STARTER / "questions.jsonl", STARTER)
    # The model writes the answer whatever the config's model is ("auto" would pick extractive
    # answers for the small default, and there would be no generation to compare).
    timed = with_overrides(config, {"generation": {"max_tokens": PIPELINE_TOKENS,
                                                   "answer_mode": "generative"}})
    with harness(timed) as h:
        h.build_index(evalset, config.chunking.chunk_tokens, config.chunking.overlap_tokens,
                      main=True)
        engine = h.engine
        engine._generator = gen  # noqa: SLF001 - the model already loaded in this process
        question = evalset.questions[0].question
        engine.retrieve(question)  # load the index and the embedder before timing
        engine.checker.check("Warm up.", {1: "Warm up."})
        captured: dict[str, str] = {}
        original = gen.stream

        def spy(prompt: str, *args: Any, **kwargs: Any) -> Iterator[str]:
            captured["prompt"] = prompt
            return original(prompt, *args, **kwargs)

        # The prompt the engine built, to give bare llama-cpp the same.
        with mock.patch.object(gen, "stream", spy):
            gen.llm.reset()
            answer = engine.ask(question)
        g = h.config.generation
        bare = _timed_completion(gen.llm, captured["prompt"], max_tokens=PIPELINE_TOKENS,
                                 temperature=g.temperature, repeat_penalty=g.repeat_penalty,
                                 stop=list(gen.format.stops))
    return {
        "max_tokens": PIPELINE_TOKENS, "prompt_tokens": answer.tokens.get("prompt", 0),
        "retrieval_s": answer.timings["retrieval_s"],
        "first_token_s": answer.timings["first_token_s"], "total_s": answer.timings["total_s"],
        "bare_first_token_s": round(bare["ttft_s"], 4), "bare_total_s": round(bare["total_s"], 4),
        "ratio": round(answer.timings["total_s"] / bare["total_s"], 3),
    }


if __name__ == "__main__":
    child.main({"generation": _generation_step})
