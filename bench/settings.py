"""The settings grid: each llama.cpp setting that config.yaml exposes, timed on one prompt.

Every configuration runs in its own process (load time and peak memory are its own) on the
same ~1,200-token prompt of starter passages in the model's format, from an empty KV cache:
load time, time to first token, prompt and generation speed (64 tokens, greedy, end-of-text
banned), peak RSS, and generation speed as a share of the fastest configuration in the run.
Rows are our config.yaml (`ours`), llama-cpp-python's defaults, one change at a time from
ours, and the combinations the single changes point to; a change that leaves the settings as
they already were (n_threads 2 on a 2-core machine) is merged into the row it equals instead
of being run twice. With `repeats` above one, the whole grid runs that many rounds, rows
interleaved so that a slow minute of a shared machine does not fall on one row, and each
figure is the median of its row's runs. A row whose process crashes (llama.cpp's repacked
weights segfault on some Xeons with AMX) is reported as crashed and not run again.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench import child
from bench.common import Log, model_file
from bench.speed import GEN_TOKENS, throughput
from meditron_rag.config import Config, LLMConfig

MODULE = "bench.settings"
# A long RAG prompt: the fixed start and about eight passages.
GRID_PROMPT_TOKENS = 1200
SETTINGS = ("repack_weights", "use_mmap", "flash_attn", "cache_type_k", "cache_type_v",
            "n_threads", "n_batch")
# llama-cpp-python's own defaults for the settings we expose. Threads are one per core in every
# row, as LocalGenerator sets them (the library alone would generate on half the cores: the
# `n_threads 1` row shows what that costs on 2 cores).
LIBRARY_LLM: dict[str, object] = {"repack_weights": True, "use_mmap": True, "flash_attn": False,
               "cache_type_k": "f16", "cache_type_v": "f16", "n_batch": 512, "n_threads": None}
# The naive path through our Engine: the library's settings, whole passages, no prefix cache.
NAIVE: dict[str, dict[str, object]] = {"llm": {**LIBRARY_LLM, "prefix_cache": False},
         "generation": {"evidence_sentences": 0}}
OURS = "ours (config.yaml)"
LIBRARY = "library defaults"
GRID: list[tuple[str, dict[str, object]]] = [
    (LIBRARY, LIBRARY_LLM),
    (OURS, {}),
    ("use_mmap false", {"use_mmap": False}),
    ("repack on, use_mmap false", {"repack_weights": True, "use_mmap": False}),
    ("flash_attn on", {"flash_attn": True}),
    ("K cache f16", {"cache_type_k": "f16"}),
    ("K cache q8_0", {"cache_type_k": "q8_0"}),
    # llama.cpp refuses a quantized V cache without flash attention.
    ("K and V cache q8_0 + flash_attn",
     {"cache_type_k": "q8_0", "cache_type_v": "q8_0", "flash_attn": True}),
    ("n_threads 1", {"n_threads": 1}),
    ("n_threads 2", {"n_threads": 2}),
    ("n_batch 128", {"n_batch": 128}),
    ("n_batch 256", {"n_batch": 256}),
    ("n_batch 512", {"n_batch": 512}),
]
MEDIAN_OF = ("load_s", "ttft_s", "prompt_tok_s", "gen_tok_s", "peak_rss_mb")


def with_overrides(config: Config, overrides: Mapping[str, Mapping[str, object]]) -> Config:
    """`config` with some settings of some sections replaced (validated like config.yaml)."""
    data = config.model_dump(mode="json")
    for section, values in overrides.items():
        data[section] = {**data[section], **values}
    return Config.model_validate(data)


def resolved(llm: LLMConfig, changes: dict[str, object]) -> dict[str, object]:
    """The settings a row runs with: ours, changed, with threads as LocalGenerator picks them."""
    settings = {**{key: getattr(llm, key) for key in SETTINGS}, **changes}
    settings["n_threads"] = settings["n_threads"] or max(1, os.cpu_count() or 2)
    return settings


def settings_grid(config: Config, model: str, log: Log, prompt_tokens: int = GRID_PROMPT_TOKENS,
                  names: Sequence[str] | None = None, repeats: int = 1) -> dict[str, object]:
    """The rows of GRID (or those of `names`), each run in its own process `repeats` times."""
    path, label = model_file(config, model)
    rows: list[dict] = []
    for name, changes in GRID:
        if names is not None and name not in names:
            continue
        settings = resolved(config.llm, changes)
        same = next((r for r in rows if r["settings"] == settings), None)
        if same is not None:
            same["names"].append(name)
        else:
            rows.append({"names": [name], "settings": settings, "runs": []})
    for round_ in range(1, repeats + 1):
        for row in rows:
            if "crashed" in row:  # its result; once is enough
                continue
            name = row["names"][0]
            log(f"Settings grid, {label}, round {round_}/{repeats}: {name} ...")
            payload = {"step": "grid", "config": config.model_dump(mode="json"),
                       "model": str(path), "settings": row["settings"],
                       "prompt_tokens": prompt_tokens}
            run = child.run_or_crash(MODULE, payload, f"The settings grid's '{name}' run", log)
            if "crashed" in run:
                row["crashed"] = run["crashed"]
            else:
                row["runs"].append(run)
    summarise(rows)
    measured = [r for r in rows if "crashed" not in r]
    prompt = measured[0]["prompt_tokens"] if measured else prompt_tokens
    return {
        "model": label, "file_gb": round(path.stat().st_size / 1e9, 2),
        "prompt_tokens": prompt, "gen_tokens": GEN_TOKENS,
        "cores": os.cpu_count(), "repeats": repeats, "rows": rows,
        "method": (f"Each configuration in its own process on the same {prompt}-token prompt "
                   "(starter passages in the model's format), KV cache empty: load, time to "
                   f"first token, prompt speed, {GEN_TOKENS} tokens generated "
                   "greedily with end-of-text banned, peak RSS of the process; `gen / best` is "
                   "generation speed over the fastest row of this run. Each figure is the "
                   f"median of {repeats} run(s) per row, the rows interleaved round by round. "
                   "Library defaults are "
                   "llama-cpp-python's for the settings we expose (weights repacked, memory-"
                   "mapped, F16 KV cache, no flash attention, n_batch 512), with one thread per "
                   "core as in every row; other rows change one setting of ours, or combine "
                   "the changes that helped alone. A configuration whose process crashed (a "
                   "native crash: llama.cpp's repacked weights on some CPUs) says so instead "
                   "of its figures."),
    }


def summarise(rows: list[dict]) -> None:
    """Each measured row's medians, and its generation speed over the fastest measured row's;
    a crashed row keeps its crash note and has no figures."""
    measured = [r for r in rows if "crashed" not in r]
    for row in measured:
        runs = row["runs"]
        row.update({key: runs[0][key] for key in ("prompt_tokens", "generated_tokens")})
        row.update({key: round(statistics.median(r[key] for r in runs), 3) for key in MEDIAN_OF})
    best = max((r["gen_tok_s"] for r in measured), default=0.0)
    for r in measured:
        r["gen_ratio"] = round(r["gen_tok_s"] / best, 3) if best else 0.0


def _grid_step(payload: dict) -> dict:
    from rag.generator import LocalGenerator

    config = child.config_of(payload)
    s = payload["settings"]
    started = time.perf_counter()
    gen = LocalGenerator(Path(payload["model"]), "grid", LLMConfig.model_validate(
        {**config.llm.model_dump(), **s}))
    load_s = time.perf_counter() - started
    return {
        "load_s": round(load_s, 2), **throughput(gen, payload["prompt_tokens"]),
        "peak_rss_mb": child.peak_rss_mb(),
    }


if __name__ == "__main__":
    child.main({"grid": _grid_step})
