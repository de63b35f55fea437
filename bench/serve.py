"""`python -m bench serve`: many clients at once against the real HTTP API.

Starts `meditron-rag serve` in a child process on a free port, then runs `clients` clients
for `duration_s`, each looping over a mix of search, streamed ask and streamed chat, while one
writer uploads a new small document every `upload_every_s` and checks that it is listed.
Records time to sources (search: the response; ask: the `sources` event; chat: the first
chunk, which carries them), time to the first answer text (ask: the first `token` or, for an
extractive answer, `verdicts` event; chat: the first content), deliberate 429s (after which a
client waits Retry-After, as a well-behaved one does), every other error, and the server's
resident memory at the start and the end. A watcher reads `/healthz` every second, so the
result says how often the model was busy (someone holding the line) while sources were timed.
`answer_mode` is the server's generation.answer_mode: `generative` makes the embedded
SmolLM2 really write every answer, so sources are timed with the model working.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.common import ROOT, STARTER, Log

TOKEN = "bench-serve-token"
MIX = (("search", 0.4), ("ask", 0.4), ("chat", 0.2))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _questions() -> list[str]:
    lines = (STARTER / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4)


class Tally:
    def __init__(self) -> None:
        self.sources: dict[str, list[float]] = {k: [] for k, _ in MIX}
        self.first_text: dict[str, list[float]] = {"ask": [], "chat": []}
        self.done: dict[str, int] = {k: 0 for k, _ in MIX}
        self.refused = 0
        self.errors: list[str] = []
        self.uploads = {"sent": 0, "listed": 0}
        self.line: list[int] = []  # the model's line length, once a second


async def _search(client: httpx.AsyncClient, question: str, tally: Tally) -> None:
    started = time.perf_counter()
    r = await client.post("/v1/search", json={"question": question})
    if r.status_code != 200:
        raise RuntimeError(f"search {r.status_code}: {r.text[:200]}")
    tally.sources["search"].append(time.perf_counter() - started)


async def _stream(client: httpx.AsyncClient, kind: str, question: str, tally: Tally) -> None:
    started = time.perf_counter()
    path, body = (("/v1/ask", {"question": question, "stream": True}) if kind == "ask" else
                  ("/v1/chat/completions", {"model": "meditron-rag", "stream": True,
                                            "messages": [{"role": "user", "content": question}]}))
    got_sources = got_text = False
    async with client.stream("POST", path, json=body) as r:
        if r.status_code == 429:
            tally.refused += 1
            # As a well-behaved client does: come back when the server says.
            await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
            return
        if r.status_code != 200:
            raise RuntimeError(f"{kind} {r.status_code}: {(await r.aread())[:200]!r}")
        event = ""
        async for line in r.aiter_lines():
            now = time.perf_counter() - started
            if line.startswith("event:"):
                event = line[6:].strip()
                continue
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if kind == "ask":
                if event == "sources" and not got_sources:
                    got_sources = True
                    tally.sources["ask"].append(now)
                elif event in ("token", "verdicts") and not got_text:
                    got_text = True
                    tally.first_text["ask"].append(now)
                elif event == "error":
                    raise RuntimeError(f"ask error event: {data[:200]}")
            elif data != "[DONE]":
                chunk = json.loads(data)
                if not got_sources and "sources" in chunk.get("meditron_rag", {}):
                    got_sources = True
                    tally.sources["chat"].append(now)
                if not got_text and chunk["choices"][0]["delta"].get("content"):
                    got_text = True
                    tally.first_text["chat"].append(now)
    if not (got_sources and got_text):
        raise RuntimeError(f"{kind} ended without sources or text")


async def _client(url: str, seed: int, until: float, tally: Tally) -> None:
    rng = random.Random(seed)
    questions = _questions()
    async with httpx.AsyncClient(base_url=url, timeout=300) as client:
        while time.monotonic() < until:
            kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
            question = rng.choice(questions)
            try:
                if kind == "search":
                    await _search(client, question, tally)
                else:
                    await _stream(client, kind, question, tally)
                tally.done[kind] += 1
            except Exception as exc:  # every failure is counted and reported, none hidden
                tally.errors.append(f"{kind}: {exc}")


async def _writer(url: str, until: float, every_s: float, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, timeout=300, headers=headers) as client:
        n = 0
        while time.monotonic() + every_s < until:
            await asyncio.sleep(every_s)
            n += 1
            text = (f"# Bench note {n}\n\nBench note {n} says that the serve benchmark "
                    f"uploaded document number {n} while clients asked questions.\n")
            tally.uploads["sent"] += 1
            r = await client.post("/v1/documents", files={"files": (f"bench-{n}.md", text)})
            if r.status_code != 201:
                tally.errors.append(f"upload {r.status_code}: {r.text[:200]}")
                continue
            ids = {d["id"] for d in (await client.get("/v1/documents")).json()}
            if set(r.json()["documents"]) <= ids:
                tally.uploads["listed"] += 1


async def _watch(url: str, until: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            r = await client.get("/healthz")
            if r.status_code == 200:
                tally.line.append(int(r.json()["queue"]["length"]))
            await asyncio.sleep(1.0)


def _wait(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("meditron-rag serve exited at start")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("meditron-rag serve did not answer /healthz")


def serve_bench(data_dir: Path, clients: int, duration_s: float, upload_every_s: float,
                answer_mode: str, n_threads: int | None, log: Log) -> dict[str, Any]:
    """Run the load against a server on a copy-free `data_dir` (uploads land in it), its
    answers in `answer_mode`, llama.cpp on `n_threads` (None: the config's)."""
    port = _port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MEDITRON_RAG_DATA_DIR": str(data_dir),
           "MEDITRON_RAG_API_TOKEN": TOKEN, "PYTHONPATH": str(ROOT),
           "MEDITRON_RAG_GENERATION_ANSWER_MODE": answer_mode}
    if n_threads:
        env["MEDITRON_RAG_LLM_N_THREADS"] = str(n_threads)
    proc = subprocess.Popen([sys.executable, "-m", "ui", "serve", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait(url, proc, 120)
        # One question first, so the models are loaded before the clock starts.
        httpx.post(url + "/v1/ask", json={"question": "Who should get RSV vaccine?"}, timeout=120)
        server = psutil.Process(proc.pid)
        rss_start = server.memory_info().rss
        load_start = os.getloadavg()[0]
        log(f"{clients} clients for {duration_s:.0f} s against {url} ({answer_mode} answers)")
        tally = Tally()
        until = time.monotonic() + duration_s

        async def run() -> None:
            await asyncio.gather(*(_client(url, i, until, tally) for i in range(clients)),
                                 _writer(url, until, upload_every_s, tally),
                                 _watch(url, until, tally))

        started = time.perf_counter()
        asyncio.run(run())
        wall = time.perf_counter() - started
        rss_end = server.memory_info().rss
        load_end = os.getloadavg()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    every = [v for values in tally.sources.values() for v in values]
    texts = [v for values in tally.first_text.values() for v in values]
    busy = [n for n in tally.line if n > 0]
    return {
        "clients": clients, "duration_s": round(wall, 1), "mix": dict(MIX),
        "answer_mode": answer_mode, "llm_n_threads": n_threads or "config (one per CPU)",
        "model_line": {"samples": len(tally.line),
                       "busy_share": round(len(busy) / len(tally.line), 3) if tally.line else None,
                       "mean_length": round(sum(tally.line) / len(tally.line), 2)
                       if tally.line else None},
        "requests": tally.done, "refused_429": tally.refused,
        "errors": len(tally.errors), "error_samples": tally.errors[:5],
        "uploads": {**tally.uploads, "lost": tally.uploads["sent"] - tally.uploads["listed"]},
        "time_to_sources_s": {"p50": _pct(every, 0.5), "p95": _pct(every, 0.95),
                              **{f"{k}_p95": _pct(v, 0.95) for k, v in tally.sources.items()}},
        "time_to_first_text_s": {"p50": _pct(texts, 0.5), "p95": _pct(texts, 0.95)},
        "rss_mb": {"start": round(rss_start / 2**20, 1), "end": round(rss_end / 2**20, 1)},
        # The machine's 1-minute load average: how many other jobs shared its cores.
        "load_average": {"start": round(load_start, 2), "end": round(load_end, 2)},
    }
