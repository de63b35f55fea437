"""Probing a served app from outside: a free local port, waiting for Streamlit's health
endpoint, and stopping it. Used by the screenshot script, the memory benchmark and the browser
tests, which start the real app in its own process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen, seconds: float) -> str:
    """"" once the app at `url` answers its health check; else why not (it stopped, or it did
    not answer within `seconds`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return "the app stopped before it served a page"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return ""
        except OSError:
            time.sleep(0.5)
    return f"the app did not answer at {url} within {seconds:.0f} s"


def stop(proc: subprocess.Popen, seconds: float = 30) -> None:
    """End the app started in its own process group (the Streamlit server `meditron-rag ui`
    becomes, and anything it started): SIGTERM, then SIGKILL if it has not exited within
    `seconds`. Nothing to do when the whole group has already exited (a crashed app)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        proc.wait()
        return
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
