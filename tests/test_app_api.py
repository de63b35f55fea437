"""`meditron-rag serve` as a real subprocess, and the Streamlit app asking and keeping its
library through it (`ui.api_url`): the app then loads no model of its own, its follow-ups
are read by the server, and its uploads are held to the server's checks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import as_read, ask, button

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TOKEN = "app-token-81c2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OSTEOPOROSIS = "uspstf-osteoporosis-screening-2025"


class Served:
    """A `meditron-rag serve` child process and its URL."""

    def __init__(self, process: subprocess.Popen[str], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


def start_serve(data_dir: Path, log: Path, env: dict[str, str] | None = None) -> Served:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(sys.executable).with_name("meditron-rag")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ui"]
    merged = {**os.environ, "MEDITRON_RAG_DATA_DIR": str(data_dir),
              "MEDITRON_RAG_API_TOKEN": TOKEN, **(env or {})}
    with log.open("w") as out:
        process = subprocess.Popen([*command, "serve", "--port", str(port)], cwd=ROOT,
                                   env=merged, stdout=out, stderr=subprocess.STDOUT, text=True)
    served = Served(process, f"http://127.0.0.1:{port}", log)
    deadline = time.time() + 180
    while True:
        assert process.poll() is None, log.read_text()
        assert time.time() < deadline, "serve did not start:\n" + log.read_text()
        try:
            if httpx.get(served.url + "/healthz", timeout=2).status_code == 200:
                return served
        except httpx.HTTPError:
            time.sleep(0.3)


@pytest.fixture
def served(starter_data: Path, tmp_path: Path) -> Iterator[Served]:
    server = start_serve(starter_data, tmp_path / "serve.log")
    yield server
    server.stop()


def test_serve_subprocess_answers_and_stops_cleanly_on_sigterm(served: Served) -> None:
    health = httpx.get(served.url + "/healthz").json()
    assert health["status"] == "ok" and health["model"] == "smollm2"
    answer = httpx.post(served.url + "/v1/ask", timeout=120, json={
        "question": "Who should get RSV vaccine?", "top_k": 3}).json()
    assert answer["passages"] and answer["status"] in ("extractive", "complete")
    # uvicorn shuts down gracefully, then re-raises the signal: the status says SIGTERM,
    # which service managers count as a clean stop.
    assert served.stop() in (0, -signal.SIGTERM)
    log = served.log.read_text()
    assert "Application shutdown complete" in log and "Finished server process" in log, log
    assert TOKEN not in log


def test_uploads_replace_an_earlier_document(served: Served) -> None:
    def upload(name: str, text: str, replaces: str = "") -> httpx.Response:
        return httpx.post(served.url + "/v1/documents", headers=AUTH, timeout=120,
                          files=[("files", (name, text.encode()))],
                          data={"replaces": replaces} if replaces else None)

    first = upload("wombat.md", "# Wombat bites\n\nIrrigate a wombat bite for 5 minutes.")
    assert first.status_code == 201, first.text
    assert first.json()["documents"] == ["wombat"]
    second = upload("wombat-v2.md", "# Wombat bites\n\nIrrigate a wombat bite for 15 minutes.",
                    replaces="wombat")
    assert second.status_code == 201, second.text
    ids = {d["id"] for d in httpx.get(served.url + "/v1/documents").json()}
    assert "wombat-v2" in ids and "wombat" not in ids
    found = httpx.post(served.url + "/v1/search", json={
        "question": "How long should a wombat bite be irrigated?", "top_k": 3}).json()
    assert found["passages"][0]["document_id"] == "wombat-v2"
    assert all("for 5 minutes" not in p["text"] for p in found["passages"])



@pytest.fixture
def app(served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app pointed at the server, with a data directory of its own that stays empty:
    all it shows comes from the API."""
    monkeypatch.setenv("MEDITRON_RAG_DATA_DIR", str(tmp_path / "app-data"))
    monkeypatch.setenv("MEDITRON_RAG_UI_API_URL", served.url)
    monkeypatch.setenv("MEDITRON_RAG_API_TOKEN", TOKEN)
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120)
    at.session_state["set_top_k"] = 3
    return at.run()


def test_the_app_asks_follow_ups_and_keeps_its_library_through_the_api(
        app: AppTest, tmp_path: Path) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert any("Answered by the API at" in c.value for c in app.sidebar.caption)
    assert not [t for t in app.text_input if t.label == "Model"]  # the server's model
    assert any("18 documents" in h.value for h in app.subheader)

    ask(app, "Who should be screened for osteoporosis?")
    first = app.session_state["history"][-1]
    assert first.passages[0].document_id == OSTEOPOROSIS
    ask(app, "And for men?")
    second = app.session_state["history"][-1]
    assert second.question == "And for men?"
    assert app.session_state["searched"][1] == "And for men? (screened osteoporosis)"
    assert any("Searched for: And for men" in c.value for c in app.caption)
    assert second.passages[0].document_id == OSTEOPOROSIS
    assert any("Men" in p.section for p in second.passages)

    app.file_uploader(key="upload-0").set_value(
        [("numbat.md", b"# Numbat care\n\nFeed numbats termites twice a day.", "text/markdown"),
         ("fake.pdf", b"not a pdf", "application/pdf")])
    app.run()
    button(app, "Add to the library").click().run()
    assert not app.exception, [e.value for e in app.exception]
    errors = [as_read(e.value) for e in app.error]
    assert any("fake.pdf: the file is named .pdf but is not a PDF" in e for e in errors), errors
    assert "Numbat care (numbat)" in app.selectbox(key="lib_doc").options
    app.selectbox(key="lib_doc").set_value("numbat").run()
    button(app, "Remove numbat").click().run()
    assert not any("(numbat)" in o for o in app.selectbox(key="lib_doc").options)
    assert not (tmp_path / "app-data").exists()  # nothing indexed or loaded on the app's side

    button(app, "New conversation").click().run()
    assert app.session_state["history"] == []


def test_the_app_alone_rewrites_follow_ups_too(starter_data: Path) -> None:
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120)
    at.session_state["set_top_k"] = 3
    at.run()
    ask(at, "Who should be screened for osteoporosis?")
    ask(at, "And for men?")
    assert at.session_state["searched"][1] == "And for men? (screened osteoporosis)"
    assert at.session_state["history"][-1].passages[0].document_id == OSTEOPOROSIS


def test_the_app_says_when_the_api_cannot_be_reached(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MEDITRON_RAG_UI_API_URL", f"http://127.0.0.1:{port}")
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("cannot be reached" in e.value and "meditron-rag serve" in e.value
               for e in at.error), [e.value for e in at.error]


def test_the_apps_client_hears_its_place_in_the_line(starter_data: Path, tmp_path: Path) -> None:
    """With the model writing another's answer, the app's question waits and is told where."""
    from meditron_rag.config import load_config
    from rag import Filters
    from ui.api_client import ApiClient

    server = start_serve(starter_data, tmp_path / "serve.log",
                         {"MEDITRON_RAG_GENERATION_ANSWER_MODE": "generative"})
    try:
        client = ApiClient(load_config(overrides={"ui": {"api_url": server.url}}))
        first = client.ask("Who should get RSV vaccine?", [], 2, Filters(), 256)
        for step in first:
            if step.kind == "token":  # the first holds the model now
                break
        second = [(s.kind, s.data) for s in client.ask(
            "At what age should colorectal cancer screening start?", [], 2, Filters(), 32)]
        rest = [s.kind for s in first]
    finally:
        server.stop()
    kinds = [k for k, _ in second]
    assert kinds[:2] == ["search", "sources"]
    assert ("queue", 1) in second, kinds
    assert kinds.index("queue") < kinds.index("answer") and kinds[-1] == "answer"
    assert rest[-1] == "answer"
