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
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench import child
from meditron_rag.config import Config, load_config
from meditron_rag.errors import MeditronRagError
from meditron_rag.text import sentence_spans
from rag.evaluation.metrics import mean, percentile, recall_at_k, reciprocal_rank

Log = Callable[[str], None]
ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "corpora" / "starter"
PDFS = ROOT.parent / "shared" / "data" / "pdfs"
CHUNKS_PER_DOC = 100
PROMPT_TOKENS = 1500
GEN_TOKENS = 64
PIPELINE_TOKENS = 32


def _print(line: str) -> None:
    print(line, file=sys.stderr)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2),
            "mean": round(mean(values), 2)}


def _starter_questions(limit: int | None = None) -> list[dict]:
    rows = [json.loads(line) for line in (STARTER / "questions.jsonl").read_text().splitlines()
            if line.strip()]
    return rows[:limit] if limit else rows


def _sentences() -> list[str]:
    """Real sentences of the starter corpus (Markdown files), for synthetic chunks."""
    out: list[str] = []
    for path in sorted(STARTER.glob("*.md")):
        body = re.sub(r"\s+", " ", path.read_text(encoding="utf-8").split("---", 2)[-1])
        for start, end in sentence_spans(body):
            if 40 <= end - start <= 400 and not body.startswith("#", start):
                out.append(body[start:end])
    return out


# --- ingest ---------------------------------------------------------------------------------------

def ingest_part(config: Config, pdf_dir: Path | None = None, log: Log = _print,
                generated_pages: int = 2000) -> dict[str, object]:
    """Ingestion speed, measured by bench/ingest_speed.py."""
    from bench.ingest_speed import bench_ingest

    log("Benchmarking ingestion ...")
    return bench_ingest(config, pdf_dir or PDFS, generated_pages)


# --- retrieval ------------------------------------------------------------------------------------

def _fill(store, target: int, texts: list[str], pool: np.ndarray, rng: np.random.Generator,
          log: Log) -> None:  # type: ignore[no-untyped-def]
    from ingest.document import Chunk, DocumentMetadata

    have = store.chunk_count()
    n_doc = have // CHUNKS_PER_DOC
    with store.writing():
        while have < target:
            count = min(CHUNKS_PER_DOC, target - have)
            chunks, offset = [], 0
            for i in range(count):
                text = texts[(have + i) % len(texts)]
                chunks.append(Chunk(ordinal=i, text=text, section=f"Section {i % 7 + 1}",
                                    start=offset, end=offset + len(text), page_start=1,
                                    page_end=1, char_start=offset, char_end=offset + len(text)))
                offset += len(text) + 1
            base = pool[rng.integers(0, len(pool), count)]
            vectors = base + rng.normal(0, 0.35 / np.sqrt(pool.shape[1]), base.shape)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            meta = DocumentMetadata(title=f"Synthetic guideline {n_doc}", organisation="Bench",
                                    date=f"{2000 + n_doc % 25}")
            store.put_document(f"synthetic-{n_doc}", path=f"/synthetic/{n_doc}.md",
                               kind="markdown", sha256=f"{n_doc:064x}", size_bytes=offset,
                               pages=1, paginated=False, metadata=meta, warnings=[],
                               chunks=chunks, vectors=vectors.astype(np.float32))
            have += count
            n_doc += 1
            if n_doc % 200 == 0:
                log(f"  {have} chunks")


def retrieval_latency(config: Config, sizes: Sequence[int] = (1000, 10000, 100000),
                      queries: int = 50, log: Log = _print,
                      langchain: bool = True) -> dict[str, object]:
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
    sentences = _sentences()
    texts = []
    for _ in range(5000):  # ~150-token chunks of real sentences, shuffled
        picked = random.Random(len(texts)).sample(sentences, 6)
        texts.append(" ".join(picked))
    log(f"Embedding a pool of 500 synthetic chunk texts ({len(sentences)} sentences) ...")
    pool = embedder.encode(texts[:500])
    questions = [q["question"] for q in _starter_questions(queries)]
    r = config.retrieval
    rows = []
    with tempfile.TemporaryDirectory(prefix="meditron-rag-bench-") as tmp:
        store = SQLiteStore.open(Path(tmp) / "index", embedder=embedder)
        retriever = Retriever(store, embedder, r.model_copy(update={"mode": "hybrid"}))
        for size in sorted(sizes):
            log(f"Filling the store to {size} chunks ...")
            _fill(store, size, texts, pool, rng, log)
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
                pack(lambda texts_, q=q: gen.format.render("\n\n".join(texts_), q),
                     [passage_block(p) for p in passages], gen.count_tokens, gen.n_ctx,
                     config.generation.max_tokens)
                t6 = time.perf_counter()
                for key, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t6 - t5,
                                               t6 - t4)):
                    stages[key].append(value * 1000)
                assert chunks is not None
            row = {"chunks": store.chunk_count(), **{k: _stats(v) for k, v in stages.items()},
                   "peak_rss_mb": round(peak_rss_mb(), 0)}
            rows.append(row)
            log(f"  {size} chunks: total p50 {row['total_ms']['p50']} ms, "
                f"p95 {row['total_ms']['p95']} ms")
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

def langchain_comparison(config: Config, embedder, log: Log = _print) -> dict[str, object]:  # type: ignore[no-untyped-def]
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

def generation(config: Config, model: str, log: Log = _print, pipeline: bool = True,
               timeout_s: float = 3600) -> dict[str, object]:
    """Generation speed of one model, measured in a fresh subprocess; a native crash of that
    process is its result."""
    if model in ("meditron-shaped", "meditron-shaped-7b"):
        from bench import meditron_shape

        meditron_shape.build(log=log)
    log(f"Benchmarking generation with {model} (subprocess) ...")
    args = [sys.executable, "-m", "bench.speed", "generation-child", model,
            str(config.source or ""), str(config.data_dir), "1" if pipeline else "0"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, cwd=ROOT,
                          env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    if done.returncode < 0:  # a native crash (llama.cpp's repacked weights on some CPUs)
        log(f"The generation benchmark of {model} crashed: {done.stderr.strip()[-600:]}")
        return {"model": model, "crashed": child.crash_note(-done.returncode)}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        raise MeditronRagError(
            f"The generation benchmark of {model} failed: {done.stderr.strip()[-600:]}")
    return json.loads(lines[-1])


def _model_file(config: Config, model: str) -> tuple[Path, str]:
    from meditron_rag.models import resolve

    if model in ("meditron-shaped", "meditron-shaped-7b"):
        from bench import meditron_shape

        return meditron_shape.build(log=_print), "meditron-shaped-7b Q4_K_M (random weights)"
    return resolve(model, "llm", config), model


def _long_prompt(gen, target: int) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """A real-format prompt of about `target` tokens: starter passages in the model's format."""
    from rag.packing import pack

    blocks = []
    for path in sorted(STARTER.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1].strip()
        blocks.append(f"[{len(blocks) + 1}] {path.stem}\n{body}")
    question = "At what age should routine screening mammography start?"
    packed = pack(lambda texts: gen.format.render("\n\n".join(texts), question), blocks,
                  gen.count_tokens, target + 1, 1)
    return packed.prompt, packed.prompt_tokens


def _timed_completion(llm, prompt: str, **kwargs) -> dict[str, float]:  # type: ignore[no-untyped-def]
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


def throughput(gen, prompt_tokens: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
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


def _generation_child(model: str, config_path: str, data_dir: str, pipeline: bool) -> dict:
    from rag.generator import LocalGenerator

    config = load_config(config_path or None, {"data_dir": data_dir})
    path, label = _model_file(config, model)
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
        "peak_rss_mb": round(peak_rss_mb(), 0),
        "note": (f"TTFT for a {speed['prompt_tokens']}-token prompt; {GEN_TOKENS} tokens generated "
                 "greedily with end-of-text banned."),
    }
    if pipeline:
        out["pipeline"] = _pipeline_overhead(config, gen)
        out["peak_rss_with_pipeline_mb"] = round(peak_rss_mb(), 0)
    return out


def _pipeline_overhead(config: Config, gen) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Our Engine.stream against bare create_completion on the same packed prompt."""
    from rag.evaluation.harness import harness
    from rag.evaluation.questions import load_questions

    evalset = load_questions(STARTER / "questions.jsonl", STARTER)
    overrides = {**config.model_dump(mode="json"),
                 "generation": {**config.generation.model_dump(), "max_tokens": PIPELINE_TOKENS}}
    with harness(type(config).model_validate(overrides)) as h:
        h.build_index(evalset, config.chunking.chunk_tokens, config.chunking.overlap_tokens,
                      h.config.index_dir)
        engine = h.engine
        engine._generator = gen  # noqa: SLF001 - the model already loaded in this process
        question = evalset.questions[0].question
        engine.retrieve(question)  # load the index and the embedder before timing
        engine.checker.check("Warm up.", {1: "Warm up."})
        captured: dict[str, str] = {}
        original = gen.stream

        def spy(prompt, *args, **kwargs):  # type: ignore[no-untyped-def]
            captured["prompt"] = prompt
            return original(prompt, *args, **kwargs)

        gen.stream = spy  # the prompt the engine built, to give bare llama-cpp the same
        gen.llm.reset()
        answer = engine.ask(question)
        gen.stream = original
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


if __name__ == "__main__" and len(sys.argv) >= 6 and sys.argv[1] == "generation-child":
    result = _generation_child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1")
    print(json.dumps(result))
