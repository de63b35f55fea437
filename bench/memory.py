"""Peak resident memory of the whole application, and how it grows with the index.

An index is filled with synthetic chunks (real starter sentences, vectors near real
embeddings, as in the retrieval benchmark) to each size in turn. At each size:
- `index`: a process that loads the embedder, opens the index and answers one search
  (Engine.retrieve): what the index and the embedder cost;
- `app`: the real `meditron-rag ui` server over that index, in a browser (headless Chromium,
  driven by Playwright) that asks one starter question and waits for the answer and its
  sources. The figure is the sum of the peak RSS (VmHWM) of every process of the server
  (since 2026-11-25 one: `meditron-rag ui` becomes the Streamlit server, which holds the
  embedder, the index and the model; before, a launcher waited beside it): an upper bound of
  their peak together. The browser is the user's, not the application's, and is not counted.

At the largest size also `engine` (issue 6: model, embedder and index in one process, one
question answered by Engine.ask, no UI), and `app` and `engine` again with llama-cpp-python's
default settings beside ours. Answers are capped at 32 tokens: the KV cache is allocated
for the whole window at load, so a longer answer would not change the peak, only the time.
Every run finds the prompt's fixed start in the prefix cache on disk, written by a first run
before them, as a user's second and later runs do.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from bench import child
from bench.common import ROOT, Log, fill, model_file, synthetic_texts
from bench.probe import free_port, stop, wait_healthy
from bench.settings import NAIVE, with_overrides
from bench.ttft import first_run
from meditron_rag.config import Config
from meditron_rag.errors import MeditronRagError

MODULE = "bench.memory"
QUESTION = "At what age should routine screening mammography start?"
ANSWER_TOKENS = 32
POOL = 200  # synthetic texts embedded for real; the others' vectors are near these
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def app_unavailable() -> str:
    """Why the app cannot be driven and measured here ('' when it can)."""
    if child.vm_hwm_mb() is None:
        return "needs Linux's /proc to read the peak memory of each server process"
    if not CHROMIUM.exists():
        return f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return 'needs Playwright: pip install -e ".[dev]"'
    return ""


def memory(config: Config, model: str, sizes: Sequence[int], log: Log) -> dict[str, object]:
    """Peak RSS per index size (index alone, whole app) and, at the largest, issue 6's figure
    and the library-default figures."""
    from ingest import load_embedder, open_store

    path, label = model_file(config, model)
    embedder = load_embedder(config)
    texts = synthetic_texts()
    pool_size = min(POOL, max(sizes))
    log(f"Memory: embedding {pool_size} synthetic chunk texts ...")
    pool = embedder.encode(texts[:pool_size])
    rng = np.random.default_rng(0)
    skipped = app_unavailable()
    rows: list[dict] = []
    library: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="meditron-rag-bench-memory-") as tmp:
        # The model answers (generative mode) whatever its size: its memory is what is measured.
        ours = with_overrides(config, {"llm": {"model": str(path)},
                                       "generation": {"max_tokens": ANSWER_TOKENS,
                                                      "answer_mode": "generative"}})
        ours.data_dir = Path(tmp) / "data"
        store = open_store(ours, embedder)
        _child("first", ours)  # the prefix cache on disk, as after a user's first run
        for size in sorted(sizes):
            log(f"Memory: filling the index to {size} chunks ...")
            fill(store, size, texts, pool, rng, log)
            index = _child("index", ours)
            row: dict[str, object] = {"chunks": store.chunk_count(), "index": index}
            log(f"Memory, {size} chunks: embedder + index {index['peak_rss_mb']:.0f} MB")
            row["app"] = {"skipped": skipped} if skipped else app_peak(ours, log)
            rows.append(row)
        log("Memory: model, embedder and index in one process (issue 6) ...")
        rows[-1]["engine"] = _child("engine", ours)
        # The library's settings, not ours: a native crash is their result.
        naive = with_overrides(ours, NAIVE)
        library["engine"] = child.run_or_crash(
            MODULE, _payload("engine", naive),
            "The memory benchmark's 'engine' step (library defaults)", log)
        library["app"] = {"skipped": skipped} if skipped else app_peak(naive, log)
        store.close()
    return {
        "model": label, "answer_tokens": ANSWER_TOKENS, "rows": rows,
        "library_defaults": {"chunks": rows[-1]["chunks"], **library},
        "method": (__doc__ or "").split("\n\n", 1)[1].strip(),
    }


def _payload(step: str, config: Config) -> dict:
    return {"step": step, "config": config.model_dump(mode="json"), "question": QUESTION}


def _child(step: str, config: Config) -> dict:
    return child.run(MODULE, _payload(step, config), f"The memory benchmark's '{step}' step")


def app_peak(config: Config, log: Log, timeout_s: float = 1800) -> dict[str, object]:
    """`meditron-rag ui` with exactly `config`, asked one question in headless Chromium; the
    peak RSS of each of its processes just before it is stopped."""
    import psutil

    folder = config.data_dir.parent
    config_file = folder / "bench-config.yaml"
    config_file.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    log_file = folder / "bench-app.log"
    script = Path(sys.executable).with_name("meditron-rag")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ui"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Only the config file decides the settings: no MEDITRON_RAG_* variable may override it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDITRON_RAG_")}
    log(f"Memory: the app ({Path(config.llm.model).name}), one question ...")
    with log_file.open("wb") as out:
        proc = subprocess.Popen([*command, "--config", str(config_file), "ui", "--port",
                                 str(port), "--host", "127.0.0.1"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            problem = wait_healthy(url, proc, 300)
            if not problem:
                answer_s = _ask(url, proc, timeout_s)
            if proc.poll() is not None:
                words = log_file.read_text(errors="replace")[-600:]
                if proc.returncode < 0:  # a native crash (llama.cpp on some CPUs): a result
                    log(f"Memory: the app crashed (signal {-proc.returncode}): {words}")
                    return {"crashed": child.crash_note(-proc.returncode)}
                problem = f"it exited with status {proc.returncode}: {words}"
            if problem:
                raise MeditronRagError(f"The app did not answer for the memory benchmark "
                                       f"({problem}).")
            server = psutil.Process(proc.pid)
            found = [(" ".join(Path(a).name for a in p.cmdline()[1:4]),
                      child.vm_hwm_mb(p.pid) or 0.0)
                     for p in (server, *server.children(recursive=True))]
        finally:
            stop(proc)
    processes = [{"command": name, "peak_rss_mb": mb} for name, mb in found]
    peak = sum(mb for _, mb in found)
    log(f"Memory: the app's peak {peak:.0f} MB, answer in {answer_s:.0f} s")
    return {"peak_rss_mb": peak, "processes": processes, "answer_s": round(answer_s, 1)}


def _ask(url: str, proc: subprocess.Popen, timeout_s: float) -> float:
    """Ask QUESTION in headless Chromium; seconds until the answer's sources are drawn, or
    until the server stopped (it never draws them then)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(timeout_s * 1000)  # the first page loads the index
        page.goto(url)
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill(QUESTION)
        started = time.perf_counter()
        box.press("Enter")
        # The answer's sources ("[1] Title · place") are drawn once it is complete.
        sources = page.get_by_text(re.compile(r"^\[1\] .+ · ")).first
        while not sources.is_visible() and proc.poll() is None:
            if time.perf_counter() - started > timeout_s:
                raise MeditronRagError(f"The app did not answer in {timeout_s:.0f} s.")
            page.wait_for_timeout(500)
        browser.close()
    return time.perf_counter() - started


def _index_step(payload: dict) -> dict:
    """Embedder and index, one search: no model."""
    from rag import Engine

    engine = Engine(child.config_of(payload))
    engine.retrieve(payload["question"])
    return {"peak_rss_mb": child.peak_rss_mb(), "chunks": engine.store.chunk_count()}


def _engine_step(payload: dict) -> dict:
    """Model, embedder and index in one process, one question answered."""
    from rag import Engine

    engine = Engine(child.config_of(payload))
    answer = engine.ask(payload["question"])
    return {"peak_rss_mb": child.peak_rss_mb(), "status": answer.status,
            "total_s": answer.timings["total_s"]}


if __name__ == "__main__":
    child.main({"first": first_run, "index": _index_step, "engine": _engine_step})
