"""Probing a served app from outside: a free local port, and waiting for Streamlit's health
endpoint. Used by the screenshot script and the memory benchmark, which start the real app."""

from __future__ import annotations

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
