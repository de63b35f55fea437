"""Readers during an ingest: threads sharing one retriever (as the app's sessions do) and two
other processes (two app servers) search while a writer adds, replaces and removes documents.
Every passage must come with the document record its chunk was written with, and no search may
fail."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ingest.document import Chunk, DocumentMetadata
from ingest.store import Store
from meditron_rag.config import RetrievalConfig
from rag.retrieval import Retriever
from tests.test_store import run

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["asthma reliever inhaler", "blood pressure target", "alcohol hand rub",
             "tag version"]

# Runs in the second process: searches until told to stop, then prints its failures and
# inconsistent passages (0 and 0 when all went well).
READER = """
import sys, traceback
from pathlib import Path
from ingest import load_embedder, open_store
from meditron_rag.config import load_config
from rag.retrieval import Retriever
from tests.test_concurrency import QUESTIONS, inconsistent

config = load_config()  # the test's: its data directory, the repository's config.yaml
embedder = load_embedder(config)
retriever = Retriever(open_store(config, embedder), embedder, config.retrieval)
errors = bad = searches = 0
print("ready", flush=True)
stop = Path(sys.argv[1])
while not stop.exists() or searches < 20:
    try:
        bad += inconsistent(retriever.search(QUESTIONS[searches % len(QUESTIONS)], k=8))
    except Exception:
        traceback.print_exc()
        errors += 1
    searches += 1
print(errors, bad, searches, flush=True)
"""


def inconsistent(passages) -> int:
    """Passages whose text was written under another version of the document than the
    record they carry (each written text ends with its document's title)."""
    return sum(1 for p in passages if p.title.startswith("extra") and
               not p.text.endswith(f"[{p.title}]"))


def _write(store: Store, doc_id: str, version: int, chunks: list[tuple[str, np.ndarray]]) -> None:
    title = f"{doc_id} v{version}"
    stored = [Chunk(ordinal=i, text=f"{text} [{title}]", section="Section", start=0, end=1,
                    page_start=1, page_end=1, char_start=0, char_end=1)
              for i, (text, _) in enumerate(chunks)]
    store.put_document(doc_id, path=f"/x/{doc_id}.md", kind="markdown",
                       sha256=f"{doc_id}{version}", size_bytes=1, pages=1, paginated=False,
                       metadata=DocumentMetadata(title=title), warnings=[], chunks=stored,
                       vectors=np.stack([vector for _, vector in chunks]))


def test_searches_during_an_ingest_never_fail_and_stay_consistent(
        store_factory, embedder, corpus: Path, tmp_path: Path) -> None:
    writer = store_factory(embedder)
    run(writer, embedder, corpus, tokens=40)
    texts = [c.text for d in sorted(writer.documents(), key=lambda d: d.id)
             for c in writer.document_chunks(d.id)]
    pieces = list(zip(texts, embedder.encode(texts)))

    stop = tmp_path / "stop"
    others = [subprocess.Popen([sys.executable, "-c", READER, str(stop)],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for other in others:
        assert other.stdout is not None and other.stdout.readline().strip() == "ready"

    retriever = Retriever(store_factory(embedder), embedder, RetrievalConfig())
    failures: list[BaseException] = []
    searched: list[int] = []  # one entry per search: its inconsistent passages
    done = threading.Event()

    def search(n: int) -> None:
        while not done.is_set() or len(searched) < 20:
            try:
                searched.append(inconsistent(retriever.search(QUESTIONS[n % len(QUESTIONS)], k=8)))
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                failures.append(exc)
            n += 1

    threads = [threading.Thread(target=search, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for batch in range(6):  # each batch one writing() session: its cache is saved at the end
        with writer.writing():
            for step in range(8):
                version = batch * 8 + step
                _write(writer, f"extra{version}", version, pieces[version % 5::5][:4])
                _write(writer, f"extra{version // 2}", version, pieces[(version + 2) % 5::5][:4])
                if version >= 4:
                    writer.remove_document(f"extra{version - 4}")
                time.sleep(0.005)
    done.set()
    stop.touch()
    for thread in threads:
        thread.join(60)
    outcomes = [tuple(map(int, other.communicate(timeout=120)[0].split())) for other in others]

    assert not failures, repr(failures[:3])
    assert sum(searched) == 0 and len(searched) >= 20
    for errors, bad, searches in outcomes:
        assert (errors, bad) == (0, 0) and searches >= 20
    assert writer.verify() == []
