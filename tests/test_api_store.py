"""The HTTP API on each store backend (SQLite+FAISS, and PostgreSQL with pgvector): search,
a streamed answer, and the library's upload, replacement and removal, served for real by
uvicorn on a free localhost port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from meditron_rag.config import load_config
from tests.test_api import events, running

pytestmark = pytest.mark.slow
TOKEN = "store-token-52d7"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(backend: str, corpus: Path, store_factory, embedder,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of the API over the corpus's three documents in the backend's store."""

    from ingest import ingest
    from ui.api import create_app

    store = store_factory(embedder)
    with store.writing():
        report = ingest([corpus], store, embedder, 200, 32)
    assert report.count("failed") == 0
    store.close()
    monkeypatch.setenv("MEDITRON_RAG_API_TOKEN", TOKEN)
    app = create_app(load_config())
    with running(app) as url:
        yield url
    app.state.service.engine.store.close()


def test_search_ask_and_the_library_on_each_backend(api: str, backend: str) -> None:
    health = httpx.get(api + "/healthz").json()
    assert health["status"] == "ok"
    ids = {d["id"] for d in httpx.get(api + "/v1/documents").json()}
    assert ids == {"hypertension", "hand-hygiene", "asthma"}

    found = httpx.post(api + "/v1/search", json={
        "question": "How long should an alcohol-based hand rub take?", "top_k": 2}).json()
    assert found["passages"][0]["document_id"] == "hand-hygiene"
    with httpx.stream("POST", api + "/v1/ask", timeout=120, json={
            "question": "What is the preferred asthma reliever?", "stream": True,
            "top_k": 2}) as response:
        assert response.status_code == 200
        streamed = events(response)
    kinds = [k for k, _ in streamed if k != "queue"]
    assert kinds[0] == "sources" and kinds[-2:] == ["verdicts", "answer"], kinds
    assert streamed[0][1]["passages"][0]["document_id"] == "asthma"

    new = ("asthma-2026.md", b"# Asthma management 2026\n\n## Reliever\n"
           b"Every adult with asthma should use as-needed budesonide-formoterol as reliever.")
    r = httpx.post(api + "/v1/documents", headers=AUTH, timeout=120, files=[("files", new)],
                   data={"replaces": "asthma"})
    assert r.status_code == 201, r.text
    assert r.json()["documents"] == ["asthma-2026"]
    ids = {d["id"] for d in httpx.get(api + "/v1/documents").json()}
    assert ids == {"hypertension", "hand-hygiene", "asthma-2026"}, backend
    found = httpx.post(api + "/v1/search", json={"question": "asthma reliever"}).json()
    assert {p["document_id"] for p in found["passages"]} & {"asthma"} == set()

    assert httpx.delete(api + "/v1/documents/asthma-2026", headers=AUTH).status_code == 204
    assert httpx.delete(api + "/v1/documents/asthma-2026", headers=AUTH).status_code == 404
    assert {d["id"] for d in httpx.get(api + "/v1/documents").json()} == {
        "hypertension", "hand-hygiene"}
