"""Repack only some of the weights: is there a setting between `repack_weights` off and on?

llama.cpp can keep its Q4_K weights in a repacked, 8-row-interleaved layout (the CPU_REPACK
buffer type). On this project's 2-core machine that generates faster and reads the prompt a
third slower, and `llm.repack_weights` turns it on for every weight or for none. This script
repacks chosen groups of Q4_K weights only (llama.cpp's `tensor_buft_overrides`, pointing
those tensors at CPU_REPACK, with the library's own repacking off) and times each group in its
own process on the same prompt: prompt speed, generation speed, peak RSS. Rounds run
interleaved and each figure is the median of its group's runs. Weights are read into memory
(`use_mmap` false) in every row, so that a repacked tensor is not also mapped from the file.

    .venv/bin/python -m scripts.repack_experiment --rounds 3 --out docs

The model is the Meditron-shaped Q4_K_M that `meditron-rag bench` builds (or any GGUF given
with --model). Only x86 CPUs with AVX2 are supported: there llama.cpp repacks Q4_K and
nothing else of a Q4_K_M file, so every chosen tensor has a repacked form (forcing a tensor
without one into CPU_REPACK aborts the process). token_embd is never chosen: it is read by
row lookup, which the repacked layout cannot serve.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import re
import statistics
import sys
import time
from pathlib import Path

from bench import child, report
from rag.evaluation.results import machine

MODULE = "scripts.repack_experiment"
# Group name -> regular expression over the names of the Q4_K tensors to repack.
GROUPS = {
    "none (ours)": None,
    "ffn_down": r"\.ffn_down\.",
    "attention": r"\.attn_",
    "ffn_down + attention": r"\.(ffn_down|attn_)",
    "ffn_gate + ffn_up": r"\.ffn_(gate|up)\.",
    "all (library)": r"^blk\.",
}
MEDIANS = ("load_s", "prompt_tok_s", "gen_tok_s", "peak_rss_mb")
METHOD = ("`llm.repack_weights` is all or nothing; here llama.cpp repacks only the Q4_K weights "
          "of each group (its `tensor_buft_overrides` pointing them at CPU_REPACK, its own "
          "repacking off), `all` is the library's own repacking. Each row in its own process, "
          "weights read into memory (use_mmap false), K cache q8_0, 2 threads, n_batch 256, a "
          "{tokens}-token prompt from an empty cache, 64 tokens generated greedily; medians of "
          "{rounds} interleaved rounds. `prompt / none` and `gen / all` compare with the rows "
          "that repack nothing and everything.")


def repack_buffer_type() -> int:
    """llama.cpp's CPU_REPACK buffer type, from the ggml libraries llama-cpp-python loaded."""
    import llama_cpp

    lib = Path(llama_cpp.__file__).parent / "lib"
    # The sonames: the wheel ships each library twice (no symlinks), and only these files are
    # the copies llama.cpp is linked against; the others would be a second, unrelated registry.
    ggml = ctypes.CDLL(str(lib / "libggml.so.0"))
    base = ctypes.CDLL(str(lib / "libggml-base.so.0"))
    ggml.ggml_backend_reg_by_name.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_by_name.argtypes = [ctypes.c_char_p]
    base.ggml_backend_reg_dev_get.restype = ctypes.c_void_p
    base.ggml_backend_reg_dev_get.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    base.ggml_backend_reg_get_proc_address.restype = ctypes.c_void_p
    base.ggml_backend_reg_get_proc_address.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    base.ggml_backend_buft_name.restype = ctypes.c_char_p
    base.ggml_backend_buft_name.argtypes = [ctypes.c_void_p]
    reg = ggml.ggml_backend_reg_by_name(b"CPU")
    address = base.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_dev_get_extra_bufts")
    extra = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)(address)(
        base.ggml_backend_reg_dev_get(reg, 0))
    i = 0
    while extra[i]:
        if base.ggml_backend_buft_name(extra[i]) == b"CPU_REPACK":
            return extra[i]
        i += 1
    raise SystemExit("llama.cpp was built without CPU_REPACK: nothing to measure.")


def chosen_tensors(model: Path, pattern: str | None) -> tuple[list[str], int]:
    """Names and total bytes of the Q4_K tensors whose name matches `pattern`."""
    import gguf

    reader = gguf.GGUFReader(str(model))
    chosen = [(t.name, int(t.n_bytes)) for t in reader.tensors
              if pattern and t.tensor_type == gguf.GGMLQuantizationType.Q4_K
              and t.name != "token_embd.weight" and re.search(pattern, t.name)]
    return [name for name, _ in chosen], sum(size for _, size in chosen)


def _run_step(payload: dict) -> dict:
    """One group in this process: load with its tensors repacked, then time one completion."""
    import llama_cpp.llama_cpp as llama_cpp

    from bench.speed import throughput
    from meditron_rag.config import LLMConfig
    from rag.generator import LocalGenerator

    model, pattern = Path(payload["model"]), payload["pattern"]
    names, size = chosen_tensors(model, pattern)

    class Override(ctypes.Structure):
        _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]

    overrides = (Override * (len(names) + 1))()
    buft = repack_buffer_type() if names else None
    for i, name in enumerate(names):
        overrides[i].pattern = f"^{re.escape(name)}$".encode()
        overrides[i].buft = buft
    library_defaults = llama_cpp.llama_model_default_params
    all_weights = payload["group"] == "all (library)"

    def params() -> llama_cpp.llama_model_params:
        p = library_defaults()
        p.tensor_buft_overrides = ctypes.cast(overrides, ctypes.c_void_p)
        return p

    # The overrides go in the defaults `Llama` starts from; meditron_rag.llama sets the
    # library's own repacking on top of them: on for "all" (the library's, for comparison),
    # off for the groups.
    if not all_weights:
        llama_cpp.llama_model_default_params = params
    started = time.perf_counter()
    try:
        gen = LocalGenerator(model, "repack", LLMConfig(
            use_mmap=False, prompt_format="completion", repack_weights=all_weights))
    finally:
        llama_cpp.llama_model_default_params = library_defaults
    load_s = time.perf_counter() - started
    return {"tensors": len(names), "repacked_mb": round(size / 2**20), "load_s": round(load_s, 2),
            **throughput(gen, payload["prompt_tokens"]),
            "peak_rss_mb": child.peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="a Q4_K_M GGUF (default: the Meditron-shaped "
                        "model, built on first use)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=400)
    parser.add_argument("--out", type=Path, default=Path("docs"),
                        help="results go to OUT/results/bench-repack.json and OUT/benchmarks.md")
    args = parser.parse_args()
    import llama_cpp

    if b"AVX2 = 1" not in llama_cpp.llama_print_system_info():
        raise SystemExit("This experiment needs an x86 CPU with AVX2 (see the docstring).")
    if args.model is None:
        from bench import meditron_shape

        args.model = meditron_shape.build()
    rows: dict[str, list[dict]] = {name: [] for name in GROUPS}
    for round_ in range(1, args.rounds + 1):
        for name, pattern in GROUPS.items():
            print(f"round {round_}/{args.rounds}: {name} ...", file=sys.stderr)
            payload = {"step": "run", "model": str(args.model), "group": name,
                       "pattern": pattern, "prompt_tokens": args.prompt_tokens}
            rows[name].append(child.run(MODULE, payload, f"The '{name}' run"))
    table = []
    for name, runs in rows.items():
        table.append({"group": name, "pattern": GROUPS[name], "runs": runs,
                      **{k: runs[0][k] for k in ("tensors", "repacked_mb", "prompt_tokens")},
                      **{k: round(statistics.median(r[k] for r in runs), 2) for k in MEDIANS}})
    command = " ".join([".venv/bin/python -m", MODULE, *sys.argv[1:]])
    results = {"machine": machine(), "command": command,
               "repack": {"model": args.model.name, "rounds": args.rounds, "rows": table,
                          "method": METHOD.format(rounds=args.rounds,
                                                  tokens=table[0]["prompt_tokens"])}}
    (args.out / "results").mkdir(parents=True, exist_ok=True)
    (args.out / "results" / "bench-repack.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"Wrote {report.write_benchmark_page(args.out)}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        child.main({"run": _run_step})
    else:
        main()
