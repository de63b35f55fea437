"""One benchmark step in a fresh Python process, so that its load time and peak memory are its
own: the parent passes a JSON payload and a file name, the child writes its JSON result to
that file (not to stdout, where native libraries may print).

The process also keeps a native crash away from the caller: llama.cpp run with settings we
do not choose (the library defaults compared beside ours) segfaults on some CPUs, Xeons with
AMX among them (meditron_rag.llama). `run_or_crash` makes such a crash the step's result.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.common import ROOT
from meditron_rag.config import Config
from meditron_rag.errors import MeditronRagError

Step = Callable[[dict], dict]


def vm_hwm_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident memory in MiB, from Linux's /proc (None elsewhere)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    kib = next((int(line.split()[1]) for line in lines if line.startswith("VmHWM:")), None)
    return None if kib is None else round(kib / 1024, 0)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB. Linux's VmHWM, because ru_maxrss of a
    child process starts from its parent's peak at the time of the fork (the parent of a
    benchmark step may hold the embedder and a 100K-chunk index); ru_maxrss elsewhere."""
    peak = vm_hwm_mb()
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(maxrss / (2**20 if sys.platform == "darwin" else 1024), 0)


def crash_note(signum: int) -> str:
    """How a step killed by a signal is reported in place of its figures."""
    return f"crashed on this CPU (signal {signum})"


class StepCrashed(MeditronRagError):
    """A step's process was killed by a signal: a native crash, not a Python error."""

    def __init__(self, what: str, signum: int, words: str) -> None:
        self.note = crash_note(signum)
        super().__init__(f"{what} {self.note}: {words}")


def run(module: str, payload: dict, what: str, timeout_s: float = 3600) -> dict:
    """`python -m module PAYLOAD RESULT_FILE` and the result it wrote; a failure names `what`,
    the exit status and the child's last words (StepCrashed when a signal killed it)."""
    with tempfile.TemporaryDirectory(prefix="meditron-rag-step-") as tmp:
        result = Path(tmp) / "result.json"
        # faulthandler: a crash in native code (llama.cpp, FAISS) still says where it happened.
        args = [sys.executable, "-X", "faulthandler", "-m", module, json.dumps(payload),
                str(result)]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s,
                                  cwd=ROOT, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
        except subprocess.TimeoutExpired:
            raise MeditronRagError(f"{what} took longer than {timeout_s:.0f} s.") from None
        if done.returncode != 0 or not result.exists():
            words = (done.stderr.strip() or done.stdout.strip())[-1500:]
            if done.returncode < 0:
                raise StepCrashed(what, -done.returncode, words)
            raise MeditronRagError(f"{what} failed (exit status {done.returncode}): {words}")
        return json.loads(result.read_text())


def run_or_crash(module: str, payload: dict, what: str, log: Callable[[str], None],
                 timeout_s: float = 3600) -> dict:
    """`run`, where a crash is a result: `{"crashed": "crashed on this CPU (signal 11)"}`, the
    crash logged with the child's last words. For steps that run llama.cpp with settings other
    than the app's (the library defaults, the settings grid's rows)."""
    try:
        return run(module, payload, what, timeout_s)
    except StepCrashed as crash:
        log(str(crash))
        return {"crashed": crash.note}


def config_of(payload: dict) -> Config:
    """The parent's config, sent whole so that the child measures exactly what it was given."""
    return Config.model_validate(payload["config"])


def main(steps: dict[str, Step]) -> None:
    """The child's side: run the step the payload names and write its result."""
    payload = json.loads(sys.argv[1])
    Path(sys.argv[2]).write_text(json.dumps(steps[payload["step"]](payload)))
