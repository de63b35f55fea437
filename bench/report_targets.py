"""The parts of docs/benchmarks.md that issue 8 asks for: the targets table at the top of the
page, then the sections of the `ttft`, `settings` and `memory` parts with their plots.

report.py writes the page and passes in its machine line and figure saver, so that this module
needs nothing from it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from bench.targets import cell, targets, verdict
from rag.evaluation.results import slug

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MachineLine = Callable[[dict], str]
SaveFigure = Callable[["Figure", Path], bool]
PARTS = ("retrieval", "ttft", "settings", "memory", "evidence")


def _pyplot() -> ModuleType | None:
    """matplotlib's pyplot drawing to files, or None without matplotlib (no plots then)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def cpu_of(machine: dict | None) -> str:
    """The CPU a figure was measured on, as a table cell."""
    if not machine or not machine.get("cpu"):
        return "unrecorded"
    return f"{machine['cpu']}, {machine.get('cores')} cores"


def cpu_tag(machine: dict | None) -> str | None:
    """The CPU as part of a file name: results and plots are kept per CPU."""
    cpu = (machine or {}).get("cpu")
    return slug(str(cpu)) if cpu else None


def targets_lines(results: list[dict]) -> list[str]:
    """The targets table, from whichever parts have results: a block of rows per CPU, since a
    target is met or missed on a given machine."""
    by_cpu: dict[str, dict[str, dict]] = {}
    for r in results:
        for key in PARTS:
            if key in r:
                by_cpu.setdefault(cpu_of(r.get("machine")), {})[key] = r[key]
    rows = [(t, cpu) for cpu, parts in by_cpu.items() for t in targets(parts)]
    if not rows:
        return []
    lines = ["## Targets", "",
             "The project's speed and memory targets, each from the part below that measures "
             "it, on the CPU named in its row, with llama-cpp-python's defaults measured in "
             "the same run beside ours, and the evidence target from `meditron-rag eval "
             "--evidence` (docs/evaluation.md), whole passages beside condensed ones. `met` is "
             "for ours; `-` where a part has not been run at the size the target names; "
             "`crashed on this CPU` where the measuring process died of a native crash "
             "(llama.cpp's repacked weights on some Xeons with AMX). GB are 10^9 bytes.", "",
             "| target | threshold | ours | library defaults | met | measured | CPU |",
             "| --- | --- | ---: | ---: | --- | --- | --- |"]
    for t, cpu in rows:
        lines.append(f"| {t.name} | {t.threshold} | {cell(t.ours, t.unit)} | "
                     f"{cell(t.library, t.unit)} | {verdict(t.met)} | {t.note} | {cpu} |")
    return [*lines, ""]


def part_lines(results: list[dict], out: Path, machine_line: MachineLine,
               save_figure: SaveFigure) -> list[str]:
    """The sections of the ttft, settings, repack (scripts/repack_experiment.py) and memory
    parts present in `results`."""
    lines: list[str] = []
    for key, section in (("ttft", _ttft), ("settings", _settings), ("repack", _repack),
                         ("memory", _memory)):
        for r in results:
            if key in r:
                # Plots are named for their CPU, like the results they are drawn from.
                cpu = cpu_tag(r.get("machine")) or "unrecorded"
                lines += section(r[key], r.get("command", ""), out, save_figure, cpu)
                lines += [f"Machine: {machine_line(r.get('machine') or {})}.", ""]
    return lines


def _num(value: float | None, fmt: str = ".2f") -> str:
    return "-" if value is None else format(value, fmt)


def _ttft(t: dict, command: str, out: Path, save_figure: SaveFigure,
          cpu: str) -> list[str]:
    lines = ["## Time to first token", "", f"`{command}`", "", t["method"], "",
             "| path | questions | TTFT median (s) | TTFT p90 (s) | sources on screen, median "
             "(s) | prompt tokens, median | gen tok/s, median | load (s) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, s, load in (("ours", t["ours"], t["ours"]["load_s"]),
                          ("ours, on the naive path's questions",
                           t["ours"]["on_naive_questions"], None),
                          ("naive, library defaults", t["naive"], t["naive"].get("load_s"))):
        if "crashed" in s:
            lines.append(f"| {name} | {s['questions']} | {s['crashed']} |" + " - |" * 5)
            continue
        lines.append(f"| {name} | {s['questions']} | {_num(s['ttft_s_median'])} | "
                     f"{_num(s['ttft_s_p90'])} | {_num(s['passages_s_median'], '.3f')} | "
                     f"{_num(s['prompt_tokens_median'], '.0f')} | {_num(s['gen_tok_s_median'])} "
                     f"| {_num(load, '.1f')} |")
    first = t["first_run"]
    lines += ["", f"First run (model load and the prompt's fixed start, {first['prefix_tokens']} "
                  f"tokens, evaluated and written to disk): {first['load_and_prefix_s']:.1f} s. "
                  f"Model: {t['model']}.", "",
              "| question | ours: TTFT (s) | prompt tokens | naive: TTFT (s) | prompt tokens |",
              "| --- | ---: | ---: | ---: | ---: |"]
    naive = {r["question"]: r for r in t["naive"]["runs"]}
    for r in t["ours"]["runs"]:
        n = naive.get(r["question"], {})
        lines.append(f"| {r['question']} | {_num(r['ttft_s'])} | {r['prompt_tokens']} | "
                     f"{_num(n.get('ttft_s'))} | {n.get('prompt_tokens', '-')} |")
    asked = ", ".join(str(k) for k in sorted({g["k"] for g in t["growth"]}))
    lines += ["", "### Growth with the passages in the prompt", "",
              f"One question with {asked} passages, condensed to their evidence sentences "
              "(ours) and whole, our settings otherwise; packing leaves out what does not fit "
              "the window.", ""]
    image = f"bench-ttft-growth-{cpu}.png"
    if _growth_plot(t["growth"], out / "img" / image, save_figure):
        lines += [f"![time to first token against prompt tokens](img/{image})", ""]
    lines += ["| passages asked | mode | passages in prompt | prompt tokens | TTFT (s) |",
              "| ---: | --- | ---: | ---: | ---: |"]
    lines += [f"| {g['k']} | {g['mode']} | {g['passages_in_prompt']} | {g['prompt_tokens']} | "
              f"{_num(g['ttft_s'])} |" for g in t["growth"]]
    return [*lines, ""]


def _growth_plot(growth: list[dict], path: Path, save_figure: SaveFigure) -> bool:
    plt = _pyplot()
    if plt is None or not growth:
        return False
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for mode in ("condensed", "whole"):
        points = sorted((g["prompt_tokens"], g["ttft_s"], g["k"]) for g in growth
                        if g["mode"] == mode and g["ttft_s"] is not None)
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=mode)
        for x, y, k in points:
            ax.annotate(str(k), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("prompt tokens (labels: passages asked)")
    ax.set_ylabel("time to first token (s)")
    ax.set_title("Time to first token against prompt length")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def _settings(s: dict, command: str, out: Path, save_figure: SaveFigure,
              cpu: str) -> list[str]:
    lines = ["## Settings grid", "", f"`{command}`", "", s["method"], "",
             f"Model: {s['model']} ({s['file_gb']:.2f} GB), {s['cores']} cores.", "",
             "| configuration | repack | mmap | flash_attn | KV cache | threads | batch | "
             "load (s) | TTFT (s) | prompt tok/s | gen tok/s | gen / best | peak RSS (MB) |",
             "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
             "---: |"]
    for r in s["rows"]:
        x = r["settings"]
        settings = (f"| {' = '.join(r['names'])} | {_yes(x['repack_weights'])} | "
                    f"{_yes(x['use_mmap'])} | {_yes(x['flash_attn'])} | {_kv(x)} | "
                    f"{x['n_threads']} | {x['n_batch']} |")
        if "crashed" in r:
            lines.append(f"{settings} {r['crashed']} |" + " - |" * 5)
            continue
        lines.append(
            f"{settings} {r['load_s']:.1f} | {r['ttft_s']:.2f} | {r['prompt_tok_s']:.1f} | "
            f"{r['gen_tok_s']:.2f} | {r['gen_ratio']:.2f} | {r['peak_rss_mb']:.0f} |")
    return [*lines, ""]


def _repack(r: dict, command: str, out: Path, save_figure: SaveFigure,
            cpu: str) -> list[str]:
    """scripts/repack_experiment.py: repacking some groups of weights, between off and on."""
    none, full = r["rows"][0], r["rows"][-1]
    lines = ["### Repacking only some weights", "", f"`{command}`", "", r["method"], "",
             "| repacked | Q4_K tensors | MiB | load (s) | prompt tok/s | gen tok/s | "
             "prompt / none | gen / all | peak RSS (MB) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for x in r["rows"]:
        lines.append(f"| {x['group']} | {x['tensors']} | {x['repacked_mb']:,} | "
                     f"{x['load_s']:.1f} | {x['prompt_tok_s']:.1f} | {x['gen_tok_s']:.2f} | "
                     f"{x['prompt_tok_s'] / none['prompt_tok_s']:.2f} | "
                     f"{x['gen_tok_s'] / full['gen_tok_s']:.2f} | {x['peak_rss_mb']:.0f} |")
    return [*lines, ""]


def _kv(settings: dict) -> str:
    """K / V cache types (one word when both are the same; rows before the split had one)."""
    k = settings.get("cache_type_k", settings.get("kv_cache_type"))
    v = settings.get("cache_type_v", settings.get("kv_cache_type"))
    return str(k) if k == v else f"K {k}, V {v}"


def _mb(entry: dict) -> str:
    """A step's peak memory, or how it ended without one (crashed, skipped)."""
    if "peak_rss_mb" in entry:
        return f"{entry['peak_rss_mb']:.0f} MB"
    return entry.get("crashed") or f"not measured ({entry.get('skipped', 'no figure')})"


def _yes(flag: bool) -> str:
    return "on" if flag else "off"


def _memory(m: dict, command: str, out: Path, save_figure: SaveFigure,
            cpu: str) -> list[str]:
    lines = ["## Memory", "", f"`{command}`", "", m["method"], "", f"Model: {m['model']}.", ""]
    image = f"bench-memory-{cpu}.png"
    if _memory_plot(m, out / "img" / image, save_figure):
        lines += [f"![peak resident memory against index size](img/{image})", ""]
    lines += ["| chunks | embedder + index (MB) | whole app (MB) | app processes (MB) | "
              "answer in the app, model load included (s) |", "| ---: | ---: | ---: | --- | ---: |"]
    for row in m["rows"]:
        app = row["app"]
        procs = ", ".join(f"{p['command']} {p['peak_rss_mb']:.0f}" for p in
                          app.get("processes", [])) or app.get("skipped", app.get("crashed", ""))
        lines.append(f"| {row['chunks']:,} | {row['index']['peak_rss_mb']:.0f} | "
                     f"{_num(app.get('peak_rss_mb'), '.0f')} | {procs} | "
                     f"{_num(app.get('answer_s'), '.1f')} |")
    last, lib = m["rows"][-1], m["library_defaults"]
    lines += ["", f"At {last['chunks']:,} chunks: model + embedder + index in one process "
                  f"{_mb(last['engine'])} with ours, {_mb(lib['engine'])} with the library "
                  f"defaults; the whole app with the library defaults {_mb(lib['app'])}."]
    return [*lines, ""]


def _memory_plot(memory: dict, path: Path, save_figure: SaveFigure) -> bool:
    plt = _pyplot()
    rows = memory["rows"]
    if plt is None or not rows:
        return False

    def gb(mib: float) -> float:
        return mib * 2**20 / 1e9

    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot([r["chunks"] for r in rows], [gb(r["index"]["peak_rss_mb"]) for r in rows],
            marker="o", label="embedder + index")
    apps = [(r["chunks"], gb(r["app"]["peak_rss_mb"])) for r in rows if "peak_rss_mb" in r["app"]]
    if apps:
        ax.plot([a[0] for a in apps], [a[1] for a in apps], marker="o",
                label="whole app (with the model)")
    lib = memory["library_defaults"]
    if "peak_rss_mb" in lib["app"]:
        ax.plot([lib["chunks"]], [gb(lib["app"]["peak_rss_mb"])], marker="s", linestyle="",
                label="whole app, library defaults")
    ax.axhline(5.5, color="grey", linestyle="--", linewidth=1, label="target: 5.5 GB")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("peak RSS (GB)")
    ax.set_ylim(bottom=0)
    ax.set_title("Peak resident memory against index size")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
