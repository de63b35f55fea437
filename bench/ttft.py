"""Time to first token as a user gets it, and how it grows with the passages in the prompt.

The real Engine (retrieval, evidence sentences, packing, generation) on an index of the starter
corpus answers an evenly spaced sample of the starter questions that have an answer; time runs
from the question to the first answer token llama.cpp samples (clocked by a stopping
criterion, since a random-weight model's tokens may decode to no text), and to the sources
(the `passages` event). Each question starts the way the first question after a restart
does: our settings read the prompt's fixed start back from the prefix cache on disk (written
by a first run, in its own process, before), the library-default naive path
(llama-cpp-python's settings, whole passages, no prefix cache; on a few of the same
questions) from an empty KV cache. The answer is generated for a few tokens after the first
(for a generation speed) and then stopped, so the prompt is the one the app builds with its
full answer length reserved.

Growth: for one question, the same with 1, 2, 4 and 8 passages, condensed to their evidence
sentences (ours) and whole: prompt tokens against time to first token. Passages that do not
fit the window are left out by packing, as in the app.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np
from llama_cpp import StoppingCriteriaList

from bench import child
from bench.common import STARTER, Log, model_file
from bench.settings import NAIVE, with_overrides
from meditron_rag.config import Config
from meditron_rag.errors import MeditronRagError
from rag.evaluation.metrics import percentile
from rag.generator import LocalGenerator

if TYPE_CHECKING:
    from rag import Engine, Passage

MODULE = "bench.ttft"
NAIVE_QUESTIONS = 3
GROWTH_PASSAGES = (1, 2, 4, 8)
READ_AFTER_FIRST = 16  # tokens read after the first, then the answer is stopped


def evenly_spaced(items: Sequence[str], n: int) -> list[str]:
    """`n` items spread over the whole of `items`, first one included, order kept."""
    n = min(n, len(items))
    return [items[i * len(items) // n] for i in range(n)]


def _summary(runs: list[dict]) -> dict[str, object]:
    ttfts = [r["ttft_s"] for r in runs if r["ttft_s"] is not None]
    speeds = [r["gen_tok_s"] for r in runs if r["gen_tok_s"]]
    return {
        "questions": len(runs), "answered": len(ttfts),
        "ttft_s_median": round(percentile(ttfts, 50), 2) if ttfts else None,
        "ttft_s_p90": round(percentile(ttfts, 90), 2) if ttfts else None,
        "passages_s_median": round(percentile([r["passages_s"] for r in runs], 50), 3),
        "prompt_tokens_median": percentile([r["prompt_tokens"] for r in runs], 50),
        "gen_tok_s_median": round(percentile(speeds, 50), 2) if speeds else None,
    }


def ttft(config: Config, model: str, questions: int, log: Log,
         growth: Sequence[int] = GROWTH_PASSAGES) -> dict[str, object]:
    """Ours on `questions` starter questions, the naive path on a few of them, and growth
    with each number of passages in `growth`."""
    from rag.evaluation.harness import harness
    from rag.evaluation.questions import load_questions

    path, label = model_file(config, model)
    evalset = load_questions(STARTER / "questions.jsonl", STARTER)
    chosen = evenly_spaced([q.question for q in evalset.questions if q.expected_documents],
                           questions)
    naive_questions = evenly_spaced(chosen, NAIVE_QUESTIONS)
    # The model writes the answer (generative mode) whatever its size: its first token is
    # what is timed.
    timed = with_overrides(config, {"llm": {"model": str(path)},
                                    "generation": {"answer_mode": "generative"}})
    with harness(timed, log) as h:
        h.build_index(evalset, config.chunking.chunk_tokens, config.chunking.overlap_tokens,
                      main=True)
        ours = h.config.model_dump(mode="json")
        naive = with_overrides(h.config, NAIVE).model_dump(mode="json")
        log(f"TTFT, {label}: first run (the prompt's fixed start, kept on disk) ...")
        first = child.run(MODULE, {"step": "first", "config": ours}, "The TTFT first run")
        log(f"TTFT, {label}: {len(chosen)} questions with our settings, then growth ...")
        mine = child.run(MODULE, {"step": "questions", "config": ours, "questions": chosen,
                                  "growth": list(growth)}, "The TTFT run (ours)")
        log(f"TTFT, {label}: {len(naive_questions)} questions, library-default naive path ...")
        # The library's settings, not ours: a native crash is this path's result.
        lib = child.run_or_crash(MODULE, {"step": "questions", "config": naive,
                                          "questions": naive_questions, "growth": []},
                                 "The TTFT run (naive)", log)
    paired = [r for r in mine["runs"] if r["question"] in naive_questions]
    if "crashed" in lib:
        naive_part: dict[str, object] = {"questions": len(naive_questions), "runs": [], **lib}
    else:
        naive_part = {**_summary(lib["runs"]), "load_s": lib["load_s"], "runs": lib["runs"]}
    return {
        "model": label, "first_run": first,
        "ours": {**_summary(mine["runs"]), "load_s": mine["load_s"], "runs": mine["runs"],
                 "on_naive_questions": _summary(paired)},
        "naive": naive_part,
        "growth": mine["growth"],
        "method": (
            f"Real Engine on the starter corpus index ({config.chunking.chunk_tokens}-token "
            f"chunks, top {config.retrieval.top_k}), {len(chosen)} answerable starter questions "
            "evenly spaced; TTFT = question to the first answer token llama.cpp samples "
            "(retrieval, evidence sentences, packing with the full answer length reserved, "
            "prompt evaluation). Ours: config.yaml, each question starting from the prompt's "
            "fixed start read back from the prefix cache on disk (written by a first run "
            "before). Naive: llama-cpp-python's settings, whole passages, no prefix cache, "
            f"each question from an empty KV cache, on {len(naive_questions)} of the same "
            "questions; a crash of its process (llama.cpp's repacked weights on some Xeons "
            f"with AMX) is its result. Generation speed: the {READ_AFTER_FIRST} tokens after "
            "the first."),
    }


def _timed(engine: Engine, question: str, k: int | None = None) -> dict[str, object]:
    """One question through Engine.stream, from the state the first question after a restart
    sees, stopped a few tokens into the answer."""
    gen = engine.generator
    if not isinstance(gen, LocalGenerator):
        raise MeditronRagError("Time to first token is measured on the in-process model.")
    if engine.config.llm.prefix_cache:
        gen.warm_prefix(gen.format.prefix(), engine.config.data_dir / "cache")
    else:
        gen.llm.reset()
    prompts: list[str] = []
    sampled: list[float] = []  # when llama.cpp sampled each answer token
    original, create = gen.stream, gen.llm.create_completion

    def spy(prompt: str, *args: Any, **kwargs: Any) -> Iterator[str]:
        prompts.append(prompt)
        return original(prompt, *args, **kwargs)

    def clocked(*args: Any, **kwargs: Any) -> Any:
        # Timed per sampled token, not per text piece: a random-weight model's tokens often
        # decode to no text (stray bytes), which would hide its first token from the stream.
        def tick(input_ids: np.ndarray, logits: np.ndarray) -> bool:
            sampled.append(time.perf_counter())
            return len(sampled) > READ_AFTER_FIRST
        kwargs["stopping_criteria"] = StoppingCriteriaList([tick])
        return create(*args, **kwargs)

    passages: list[Passage] = []
    passages_s = 0.0
    started = time.perf_counter()
    with (mock.patch.object(gen, "stream", spy),
          mock.patch.object(gen.llm, "create_completion", clocked)):
        for event in engine.stream(question, k):
            if isinstance(event.data, list):
                passages, passages_s = list(event.data), time.perf_counter() - started
    tokens = len(sampled)
    first = sampled[0] - started if sampled else 0.0
    last = sampled[-1] - started if sampled else 0.0
    tail = prompts[0][len(gen.format.prefix()):] if prompts else ""
    return {
        "question": question, "passages_s": round(passages_s, 4),
        "ttft_s": round(first, 3) if tokens else None,
        "prompt_tokens": gen.count_tokens(prompts[0]) if prompts else 0,
        "passages": len(passages),
        # A passage's header starts its block: "[n] Title (...)" or "[n] Same source as [m]".
        "passages_in_prompt": sum(
            any(line.startswith(f"[{p.number}] ") for line in tail.splitlines())
            for p in passages
        ),
        "gen_tok_s": round((tokens - 1) / (last - first), 2) if tokens > 1 and last > first
        else None,
    }


def first_run(payload: dict) -> dict:
    """A first run (a child step): load the model and keep the prompt's fixed start on disk,
    so that what follows sees what a user sees from the second run on."""
    from rag import Engine

    started = time.perf_counter()
    gen = Engine(child.config_of(payload)).generator
    return {"load_and_prefix_s": round(time.perf_counter() - started, 2),
            "prefix_tokens": gen.count_tokens(gen.format.prefix()),
            "peak_rss_mb": child.peak_rss_mb()}


def _questions_step(payload: dict) -> dict:
    from rag import Engine

    config = child.config_of(payload)
    started = time.perf_counter()
    engine = Engine(config)
    engine.retrieve(payload["questions"][0])  # embedder and index loaded, as in the app
    engine.generator.count_tokens("")
    load_s = time.perf_counter() - started
    runs = [_timed(engine, q) for q in payload["questions"]]
    growth = []
    condensed = config.generation.evidence_sentences
    for k in payload["growth"]:
        for mode, sentences in (("condensed", condensed), ("whole", 0)):
            engine.config.generation.evidence_sentences = sentences
            growth.append({"k": k, "mode": mode, **_timed(engine, payload["questions"][0], k)})
    engine.config.generation.evidence_sentences = condensed
    return {"load_s": round(load_s, 2), "runs": runs, "growth": growth,
            "peak_rss_mb": child.peak_rss_mb()}


if __name__ == "__main__":
    child.main({"first": first_run, "questions": _questions_step})
