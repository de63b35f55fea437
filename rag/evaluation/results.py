"""Evaluation results as JSON files and as a Markdown table.

A result is saved as `OUT/results/eval-<data set>.json` or
`OUT/results/claims-<file>-<checker>.json`, with the machine it was measured on, so that runs
can be repeated one at a time and a page of results rebuilt from the latest of each (the
checkout's `python -m bench eval --out docs` rewrites docs/evaluation.md that way).
"""

from __future__ import annotations

import json
import os
import platform
import re
import sqlite3
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

PACKAGES = ("meditron-rag", "llama_cpp_python", "faiss-cpu", "sentence-transformers", "torch",
            "numpy", "langchain-text-splitters", "langchain-community")
METRIC_COLUMNS = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr", "ndcg@10",
                  "latency_ms_p50")


def machine() -> dict[str, object]:
    """Where a result was measured: CPU, cores, memory, OS, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0.0
    try:
        import psutil

        memory = psutil.virtual_memory().total / 2**30
    except ImportError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    versions["sqlite"] = sqlite3.sqlite_version
    return {
        "cpu": cpu, "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(), "memory_gb": round(memory, 1),
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "versions": versions, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def save_json(data: dict[str, object], out: Path, name: str) -> Path:
    """`data` as OUT/results/NAME.json."""
    folder = out / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def save_result(result: dict, out: Path) -> Path:
    """An `eval` result (or an `eval --claims` one) under OUT/results/, with its machine."""
    result.setdefault("machine", machine())
    if "checker" in result:
        name = f"claims-{slug(Path(result['file']).stem)}-{result['checker']}"
    else:
        name = f"eval-{slug(str(result['dataset']))}"
        if result.get("settings", {}).get("store", "sqlite") != "sqlite":
            name += f"-{result['settings']['store']}"
    return save_json(result, out, name)


def evaluation_table(result: dict) -> str:
    """A Markdown table of one result's retrieval metrics, one row per method."""
    methods = result.get("methods", {})
    columns = [c for c in METRIC_COLUMNS if any(c in m for m in methods.values())]
    if any("section@5" in m for m in methods.values()):
        columns.insert(columns.index("mrr"), "section@5")
    lines = ["| method | " + " | ".join(columns) + " |",
             "| --- |" + " ---: |" * len(columns)]
    for name, values in methods.items():
        cells = [f"{values[c]:.3f}" if c != "latency_ms_p50" else f"{values[c]:.1f}"
                 for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
