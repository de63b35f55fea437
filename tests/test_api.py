"""The HTTP API, served for real by uvicorn on a free localhost port over a copy of the
starter index, called with httpx and the openai client."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from meditron_rag.config import load_config
from rag.followup import is_follow_up, search_query
from rag.queue import GenerationQueue, QueueFull
from tests.test_ocr import needs_tesseract, scanned, text_pdf

pytestmark = pytest.mark.slow
TOKEN = "test-token-4f9a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Server:
    def __init__(self, url: str, service: object) -> None:
        self.url = url
        self.service = service


@pytest.fixture
def server(starter_data: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    from ui.api import create_app

    monkeypatch.setenv("MEDITRON_RAG_API_TOKEN", TOKEN)
    monkeypatch.setenv("MEDITRON_RAG_SERVE_QUEUE_WAITING", "1")
    app = create_app(load_config())
    with running(app) as url:
        yield Server(url, app.state.service)


@contextlib.contextmanager
def running(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """`app` served by the real uvicorn in a thread on a free localhost port: its URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not uv.started:
        assert time.time() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)


def events(response: httpx.Response) -> list[tuple[str, dict]]:
    """The server-sent events of a response, as (event, data)."""
    out, kind = [], ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            out.append((kind, json.loads(line.split(":", 1)[1])))
    return out


def test_search_ask_and_health(server: Server) -> None:
    health = httpx.get(f"{server.url}/healthz").json()
    assert health["status"] == "ok" and health["queue"]["waiting_max"] == 1
    found = httpx.post(f"{server.url}/v1/search",
                       json={"question": "Who should get RSV vaccine?", "top_k": 3}).json()
    assert len(found["passages"]) == 3 and "rsv" in found["passages"][0]["document_id"]
    answer = httpx.post(f"{server.url}/v1/ask", timeout=60,
                        json={"question": "Who should get RSV vaccine?"}).json()
    assert answer["status"] == "extractive" and answer["sentences"] and answer["passages"]
    assert "openapi" in httpx.get(f"{server.url}/openapi.json").json()
    bad = httpx.post(f"{server.url}/v1/search", json={"question": "x?", "doc": ["nope"]})
    assert bad.status_code == 422 and "no document 'nope'" in bad.text
    empty = httpx.post(f"{server.url}/v1/ask", json={"question": "  "})
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]


def test_ask_streams_sources_then_verdicts_then_the_answer(server: Server) -> None:
    with httpx.stream("POST", f"{server.url}/v1/ask", timeout=60,
                      json={"question": "Who should get RSV vaccine?", "stream": True}) as r:
        got = events(r)
    kinds = [k for k, _ in got]
    assert kinds[0] == "sources" and kinds[-2:] == ["verdicts", "answer"]
    assert got[0][1]["passages"] and got[-1][1]["question"] == "Who should get RSV vaccine?"
    assert got[-2][1]["sentences"][0]["verdict"] == "supported"


def test_a_full_line_gets_429_and_the_waiting_hear_their_place(server: Server) -> None:
    line: GenerationQueue = server.service.queue  # type: ignore[attr-defined]
    holder = line.join()  # the model is busy
    body = {"question": "Who should get RSV vaccine?", "stream": True}
    with httpx.stream("POST", f"{server.url}/v1/ask", json=body, timeout=60) as waiting:
        lines = waiting.iter_lines()
        seen = [next(lines) for _ in range(4)]  # sources, then the place in line
        assert seen[0] == "event: sources" and "event: queue" in seen
        full = httpx.post(f"{server.url}/v1/ask", json=body)
        assert full.status_code == 429 and full.headers["Retry-After"] == "10"
        # Search never waits for the model.
        assert httpx.post(f"{server.url}/v1/search", json=body, timeout=5).status_code == 200
    # The client that left gave its place up.
    deadline = time.time() + 5
    while line.length > 1 and time.time() < deadline:
        time.sleep(0.05)
    assert line.length == 1
    holder.leave()
    assert httpx.post(f"{server.url}/v1/ask", json={**body, "stream": False},
                      timeout=60).status_code == 200


def test_writes_need_the_token(server: Server) -> None:
    md = ("gout.md", b"# Gout\n\nGive colchicine or an NSAID for an acute gout flare.\n")
    assert httpx.post(f"{server.url}/v1/documents", files={"files": md}).status_code == 401
    wrong = httpx.post(f"{server.url}/v1/documents", files={"files": md},
                       headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 403 and TOKEN not in wrong.text
    assert httpx.delete(f"{server.url}/v1/documents/gout").status_code == 401
    added = httpx.post(f"{server.url}/v1/documents", files={"files": md}, headers=AUTH,
                       timeout=120)
    assert added.status_code == 201, added.text
    doc_id = added.json()["documents"][0]
    assert doc_id in {d["id"] for d in httpx.get(f"{server.url}/v1/documents").json()}
    hit = httpx.post(f"{server.url}/v1/search", json={"question": "acute gout flare"}).json()
    assert hit["passages"][0]["document_id"] == doc_id
    assert httpx.delete(f"{server.url}/v1/documents/{doc_id}", headers=AUTH).status_code == 204
    assert httpx.delete(f"{server.url}/v1/documents/{doc_id}", headers=AUTH).status_code == 404


def test_uploads_are_held_to_the_apps_checks(server: Server) -> None:
    def post(name: str, data: bytes) -> httpx.Response:
        return httpx.post(f"{server.url}/v1/documents", files={"files": (name, data)},
                          headers=AUTH, timeout=60)

    cases = {("a.exe", b"MZ"): "not supported", ("a.pdf", b"hello"): "not a PDF",
             ("a.txt", b"\x00\x01\x02"): "binary", ("a.md", b""): "empty",
             ("big.md", b"x" * (12 * 2**20)): "file too large (12.0 MB > 10.0 MB limit): "
                                              "split it or raise the limit (ingest.max_file_mb)"}
    for (name, data), reason in cases.items():
        r = post(name, data)
        assert r.status_code == 422 and reason in r.json()["failures"][0]["reason"], r.text
    assert not list((server.service.config.data_dir / "uploads").rglob("big.md"))  # type: ignore[attr-defined]


def test_a_scan_sized_pdf_is_uploaded_within_max_upload_mb(
        server: Server, scan_sized_pdf: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PDF is held to ingest.max_pdf_mb, not to the 10 MB of text a file may be, and to
    ui.max_upload_mb, which a server's operator sets lower to keep large files off it."""
    from ui.api import create_app

    upload = {"files": ("okapi-scan.pdf", scan_sized_pdf, "application/pdf")}
    added = httpx.post(f"{server.url}/v1/documents", files=upload, headers=AUTH, timeout=120)
    assert added.status_code == 201, added.text
    assert added.json()["documents"] == ["okapi-scan"]
    hit = httpx.post(f"{server.url}/v1/search", json={"question": "okapi itch"}).json()
    assert hit["passages"][0]["document_id"] == "okapi-scan"

    monkeypatch.setenv("MEDITRON_RAG_UI_MAX_UPLOAD_MB", "11")
    capped = create_app(load_config(), server.service.engine)  # type: ignore[attr-defined]
    with running(capped) as url:
        refused = httpx.post(f"{url}/v1/documents", files=upload, headers=AUTH, timeout=60)
    assert refused.status_code == 422
    [failure] = refused.json()["failures"]
    assert failure["name"] == "okapi-scan.pdf" and failure["reason"] == (
        f"file too large ({len(scan_sized_pdf) / 2**20:.1f} MB > 11.0 MB limit): split it or "
        "raise the limit (ui.max_upload_mb)")


def test_a_streamed_upload_tells_its_progress_then_its_outcome(server: Server) -> None:
    """Each file as it is done and its passages as they are embedded, then `done` with the
    status and body an upload that is not streamed answers with."""
    files = [("files", ("gout.md", b"# Gout\n\nGive colchicine for an acute gout flare.\n")),
             ("files", ("a.exe", b"MZ"))]
    with httpx.stream("POST", f"{server.url}/v1/documents", files=files, headers=AUTH,
                      data={"stream": "true"}, timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        got = events(response)
    kinds = [kind for kind, _ in got]
    assert kinds[-1] == "done" and kinds.count("done") == 1 and "passages" in kinds
    assert ("file", {"name": "gout.md", "done": 1, "total": 1, "status": "added"}) in got
    passages = next(data for kind, data in got if kind == "passages")
    assert passages["name"] == "gout.md" and passages["embedded"] == passages["found"] == 1
    done = got[-1][1]
    assert done["status"] == 201 and done["documents"] == ["gout"]
    assert done["failures"] == [{"name": "a.exe", "reason": "type .exe is not supported: use "
                                 "PDF, HTML, Markdown or text"}]
    with httpx.stream("POST", f"{server.url}/v1/documents", headers=AUTH, data={
            "stream": "true"}, files={"files": ("a.md", b"")}, timeout=60) as response:
        [(kind, refused)] = events(response)
    assert kind == "done" and refused["status"] == 422 and refused["documents"] == []


@needs_tesseract
def test_an_upload_longer_than_the_clients_timeout_lands(
        starter_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scanned PDF read by OCR, silent for longer than the app waits for a byte: the
    keep-alives hold the connection, and the app's client hears the file land."""
    from ui.api import create_app
    from ui.api_client import ApiClient
    from ui.uploads import Upload

    monkeypatch.setenv("MEDITRON_RAG_API_TOKEN", TOKEN)
    monkeypatch.setenv("MEDITRON_RAG_SERVE_KEEPALIVE_S", "0.1")
    monkeypatch.setenv("MEDITRON_RAG_UI_API_TIMEOUT_S", "0.5")
    app = create_app(load_config())
    heard: list[tuple[str, int, int, str]] = []
    with running(app) as url:
        monkeypatch.setenv("MEDITRON_RAG_UI_API_URL", url)
        client = ApiClient(load_config())
        started = time.monotonic()
        batch = client.upload([Upload("scan.pdf", scanned(text_pdf()))],
                              progress=lambda *file: heard.append(file))
        took = time.monotonic() - started
        assert batch.done == ["scan"] and batch.failures == [], batch
        assert heard == [("scan.pdf", 1, 1, "added")]
        assert took > 4 * 0.5, "OCR was too quick to outlast the client's timeout"
    app.state.service.engine.store.close()


def test_an_upload_without_the_token_is_refused_before_its_body_is_read(server: Server
                                                                       ) -> None:
    """Headers announcing a 100 MB upload, then only a few bytes of it: the refusal comes at
    once, where reading the body first would wait for the rest."""
    before = httpx.get(f"{server.url}/v1/documents").json()
    host, port = server.url.removeprefix("http://").split(":")
    for auth, status in (("", b"401"), ("Authorization: Bearer wrong\r\n", b"403")):
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(b"POST /v1/documents HTTP/1.1\r\nHost: x\r\n" + auth.encode()
                         + b"Content-Type: multipart/form-data; boundary=b\r\n"
                         b"Content-Length: 104857600\r\n\r\n--b\r\n")
            reply = conn.recv(4096)
        assert reply.split(b" ")[1] == status, reply
    assert httpx.get(f"{server.url}/v1/documents").json() == before


def test_reads_need_the_token_when_configured(starter_data: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from ui.api import create_app

    monkeypatch.setenv("MEDITRON_RAG_SERVE_TOKEN_FOR_READS", "true")
    monkeypatch.delenv("MEDITRON_RAG_API_TOKEN", raising=False)
    token_file = starter_data / "token"
    token_file.write_text(TOKEN + "\n")
    monkeypatch.setenv("MEDITRON_RAG_SERVE_TOKEN_FILE", str(token_file))
    client = TestClient(create_app(load_config()))
    assert client.get("/v1/documents").status_code == 401
    assert client.get("/v1/documents", headers=AUTH).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert "access-control-allow-origin" not in client.get(
        "/healthz", headers={"Origin": "https://elsewhere.example"}).headers


def test_openai_client_chat_completions_with_a_follow_up(server: Server) -> None:
    import openai

    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
    messages = [{"role": "user", "content": "Who should be screened for osteoporosis?"},
                {"role": "assistant", "content": "Women 65 or older."},
                {"role": "user", "content": "And for men?"}]
    done = client.chat.completions.create(model="meditron-rag", messages=messages)
    content = done.choices[0].message.content or ""
    extra = done.model_extra["meditron_rag"]
    assert "[1]" in content and "Sources:" in content and "osteoporosis" in content.lower()
    assert extra["search_query"] == "And for men? (screened osteoporosis)"
    assert extra["sources"][0]["document_id"] == "uspstf-osteoporosis-screening-2025"
    assert extra["sentences"] and extra["status"] == "extractive"
    stream = client.chat.completions.create(model="meditron-rag", messages=messages,
                                            stream=True)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == content
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_follow_ups_carry_the_subject_and_not_what_they_replace() -> None:
    assert is_follow_up("And for men?") and is_follow_up("How often?")
    assert not is_follow_up("Who should be screened for colorectal cancer?")
    assert search_query(["Who should be screened for osteoporosis?", "And for men?"]) == \
        "And for men? (screened osteoporosis)"
    # A population and a number named anew replace the old ones.
    assert search_query(["What dose of adrenaline for an adult?", "And for a child of 8?"]) == \
        "And for a child of 8? (dose adrenaline)"
    # A question with its own subject is searched as it is, and the chain restarts from it.
    assert search_query(["Who should get RSV vaccine?", "Who should be screened for lung "
                         "cancer?", "How often?"]) == "How often? (screened lung cancer)"


def test_the_line_refuses_beyond_its_room_and_moves_up() -> None:
    line = GenerationQueue(waiting=1, retry_after_s=3)
    first, second = line.join(), line.join()
    with pytest.raises(QueueFull) as full:
        line.join()
    assert full.value.retry_after_s == 3
    assert (first.position, second.position) == (0, 1)
    first.leave()
    assert second.position == 0 and line.wait(second, 0.01) == 0
