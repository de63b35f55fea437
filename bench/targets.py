"""The targets of issue 8 (and issue 6's memory target), each read from the benchmark part that
measures it (or, for the evidence kept in the prompt, from `eval --evidence`) and checked
against its threshold. Pure: results in, rows out.

Memory is compared in GB of 10^9 bytes (peak RSS is recorded in MiB). A figure measured on a
smaller index than the target names is shown, but the target is not marked met or unmet. A
measurement whose process crashed (`{"crashed": "crashed on this CPU (signal 11)"}`, see
bench/child.py) shows that note as its figure; ours crashing does not meet the target.
"""

from __future__ import annotations

from dataclasses import dataclass

FULL_INDEX = 100_000  # chunks: the size the targets name
MIB = 2**20


Figure = float | str | None  # a measurement, a crash note, or nothing measured


@dataclass(frozen=True)
class Target:
    """One row of the targets table; `met` is None where there is no figure, or the figure is
    for a smaller index than the target's."""

    name: str
    threshold: str
    unit: str
    ours: Figure
    library: Figure
    met: bool | None
    note: str = ""


def _gb(mib: float | None) -> float | None:
    return None if mib is None else mib * MIB / 1e9


def _check(value: Figure, limit: float, below: bool, full: bool = True) -> bool | None:
    if isinstance(value, str):  # crashed
        return False
    if value is None or not full:
        return None
    return value < limit if below else value >= limit


def _figure(entry: dict | None, key: str) -> Figure:
    """`entry[key]`, or its crash note where its process crashed."""
    entry = entry or {}
    return entry["crashed"] if "crashed" in entry else entry.get(key)


def _short(full: bool) -> str:
    return "" if full else f" (the target is at {FULL_INDEX:,}: not checked)"


def _peak_gb(entry: dict | None) -> Figure:
    peak = _figure(entry, "peak_rss_mb")
    return peak if isinstance(peak, str) else _gb(peak)


def targets(parts: dict[str, dict]) -> list[Target]:
    """Rows for the parts present in `parts` (keys: retrieval, ttft, settings, memory, and
    evidence: the `eval --evidence` result on the starter questions)."""
    rows: list[Target] = []
    if sizes := (parts.get("retrieval") or {}).get("sizes"):
        row = max(sizes, key=lambda r: r["chunks"])
        full = row["chunks"] >= FULL_INDEX
        p95 = round(row["total_ms"]["p95"] / 1000, 3)
        rows.append(Target(
            f"Sources on screen, p95 at {FULL_INDEX:,} chunks", "< 1 s", "s", p95, None,
            _check(p95, 1.0, True, full),
            f"retrieval + packing at {row['chunks']:,} chunks" + _short(full)))
    if ttft := parts.get("ttft"):
        ours, naive = ttft["ours"]["ttft_s_median"], _figure(ttft["naive"], "ttft_s_median")
        rows.append(Target(
            "Time to first token, median over starter questions", "< 20 s", "s", ours, naive,
            _check(ours, 20.0, True),
            f"{ttft['model']}; ours on {ttft['ours']['questions']} questions, the naive path "
            f"on {ttft['naive']['questions']} of them"))
    if settings := parts.get("settings"):
        by_name = {name: r for r in settings["rows"] for name in r["names"]}
        ours_row, lib_row = by_name.get("ours (config.yaml)"), by_name.get("library defaults")
        ratio = _figure(ours_row, "gen_ratio")
        measured = [r for r in settings["rows"] if "crashed" not in r]
        best = " = ".join(max(measured, key=lambda r: r["gen_tok_s"])["names"]) if measured \
            else "none measured"
        rows.append(Target(
            "Generation speed, share of the best setting in the run", ">= 95%", "ratio", ratio,
            _figure(lib_row, "gen_ratio"), _check(ratio, 0.95, False),
            f"{settings['model']}; best: {best}"))
    if memory := parts.get("memory"):
        last = memory["rows"][-1]
        full = last["chunks"] >= FULL_INDEX
        lib = memory.get("library_defaults") or {}
        app = _peak_gb(last.get("app"))
        engine = _peak_gb(last.get("engine"))
        where = f"{memory['model']}, {last['chunks']:,} chunks" + _short(full)
        rows.append(Target(
            "Peak memory, whole app (model, embedder, index, UI server)", "< 5.5 GB", "GB", app,
            _peak_gb(lib.get("app")), _check(app, 5.5, True, full),
            f"{where}; `meditron-rag ui` answering one question"
            + (f" (not measured: {last['app']['skipped']})" if "skipped" in last.get("app", {})
               else "")))
        rows.append(Target(
            "Peak memory, model + embedder + index", "< 6 GB", "GB", engine,
            _peak_gb(lib.get("engine")), _check(engine, 6.0, True, full),
            f"{where}; one process, one question"))
    if evidence := parts.get("evidence"):
        # The naive path sends whole passages: what condensing them must not lose.
        condensed, whole = evidence["condensed"], evidence["whole"]
        rows.append(Target(
            "Supporting passage in the prompt, condensed evidence", ">= whole passages", "ratio",
            condensed["passage_in_prompt"], whole["passage_in_prompt"],
            condensed["passage_in_prompt"] >= whole["passage_in_prompt"],
            f"{evidence['questions']} starter questions, top {evidence['top_k']}, "
            f"{evidence['model']} tokenizer; supporting sentence kept "
            f"{condensed['supporting_sentence_in_prompt']:.3f} (whole "
            f"{whole['supporting_sentence_in_prompt']:.3f}); prompt "
            f"{condensed['prompt_tokens_mean']:.0f} tokens (whole "
            f"{whole['prompt_tokens_mean']:.0f})"))
    return rows


def cell(value: Figure, unit: str) -> str:
    """A figure as the table prints it."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if unit == "ratio":
        return f"{value:.1%}"
    return f"{value:.2f} {unit}"


def verdict(met: bool | None) -> str:
    return {True: "yes", False: "no", None: "-"}[met]
