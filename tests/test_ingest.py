"""Ingestion end to end on real files: bad input of every kind in one batch through the real
CLI, files that vanish mid-run, and a real `meditron-rag ingest` killed with SIGKILL."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import ROOT, run_cli
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter

from ingest import ingest, pipeline
from ingest.bm25 import query_terms
from ingest.store import SQLiteStore
from ui.cli import cli

SENTENCES = [
    "Clean your hands before and after every patient contact.",
    "Use an alcohol-based hand rub unless hands are visibly soiled.",
    "Screen adults aged 50 to 75 years for colorectal cancer.",
    "Measure blood pressure at home before starting treatment.",
    "Offer influenza vaccination every autumn to adults over 65.",
    "Review inhaler technique and adherence at every visit.",
    "Give oral corticosteroids for severe asthma exacerbations.",
    "Record every missed hand hygiene opportunity during audits.",
]


def guideline_pdf(title: str, pages: int = 2, seed: int = 0) -> bytes:
    """A small text PDF: a title, then paragraphs of guideline-like sentences on each page."""
    rng = random.Random(seed)
    pdf = FPDF()
    pdf.set_title(title)
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=16 if page == 0 else 11)
        if page == 0:
            pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=11)
        for _ in range(3):
            pdf.multi_cell(0, 5, " ".join(rng.choice(SENTENCES) for _ in range(5)),
                           new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())


def encrypted(data: bytes, password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(Image.new("RGB", (400, 200), "white"), x=10, y=10, w=180)
    return bytes(pdf.output())


def open_store(data: Path, embedder) -> SQLiteStore:  # type: ignore[no-untyped-def]
    return SQLiteStore.open(data / "index", embedder=embedder)


def assert_whole(store: SQLiteStore) -> None:
    """Every document has all its chunks, every chunk its vector, and search works."""
    assert store.verify() == []
    for doc in store.documents():
        assert len(store.document_chunks(doc.id)) == doc.chunk_count > 0
    assert store.vector_index().ntotal == store.chunk_count()
    if store.chunk_count():
        query = np.full(store.dim, store.dim ** -0.5, dtype=np.float32)
        assert len(store.dense_search(query, 3)) == min(3, store.chunk_count())
        assert store.lexical_search(query_terms("hands"), 3)


def test_bad_files_are_reported_by_name_and_the_batch_goes_on(
        isolated: Path, embedder, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    good = guideline_pdf("Hand hygiene policy", pages=3, seed=1)
    (folder / "policy.pdf").write_bytes(good)
    store = open_store(isolated, embedder)
    with store.writing():
        ingest([folder], store, embedder, 200, 32)
    before = store.document("policy")
    assert before is not None
    store.close()

    files = {
        "policy.pdf": good[: len(good) // 2],  # indexed before, now damaged: kept as it was
        "corrupt.pdf": b"%PDF-1.7\n" + random.Random(3).randbytes(4000),
        "truncated.pdf": guideline_pdf("Truncated", seed=2)[:900],
        "locked.pdf": encrypted(guideline_pdf("Locked", seed=3), "secret"),
        "open-aes.pdf": encrypted(guideline_pdf("Open AES guideline", seed=4), ""),
        "empty.txt": b"",
        "scanned.pdf": scanned_pdf(),
        "pdf-named.txt": guideline_pdf("A PDF named txt", seed=5),
        "text-named.pdf": ("Vaccination schedule\n\n" + " ".join(SENTENCES)).encode(),
        "windows.txt": ("Caf\u00e9 \u201cguidance\u201d \u2013 " + " ".join(SENTENCES))
        .encode("cp1252"),
        "utf16.txt": ("R\u00e9sum\u00e9: " + " ".join(SENTENCES)).encode("utf-16"),
        "utf16-no-bom.txt": ("Summary: " + " ".join(SENTENCES)).encode("utf-16-le"),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with (folder / "huge.txt").open("wb") as handle:  # sparse: 11 MB on paper, nothing on disk
        handle.truncate(11 * 1024 * 1024)

    result = run_cli("ingest", str(folder))
    assert result.returncode == 7, result.stderr
    failed = {}
    for line in result.stderr.splitlines():
        if line.strip().startswith("failed: "):
            path, reason = line.strip().removeprefix("failed: ").split(": ", 1)
            failed[Path(path).name] = reason
    assert set(failed) == {"policy.pdf", "corrupt.pdf", "truncated.pdf", "locked.pdf",
                           "empty.txt", "scanned.pdf", "huge.txt"}, result.stderr
    assert "corrupt or truncated PDF" in failed["corrupt.pdf"]
    assert "corrupt or truncated PDF" in failed["truncated.pdf"]
    assert "encrypted PDF: remove the password" in failed["locked.pdf"]
    assert "empty file" in failed["empty.txt"]
    assert failed["scanned.pdf"] in (
        "scanned PDF in which OCR found no text: check the scan",  # a blank scan, read
        "scanned PDF with no text layer: install tesseract-ocr (apt-get install tesseract-ocr, "
        "or brew install tesseract) and pytesseract to index it")
    assert "file too large (11.0 MB > 10.0 MB limit)" in failed["huge.txt"]
    assert "6 ingested (6 new, 0 replaced), 0 skipped as unchanged, 7 failed" in result.stderr

    store = open_store(isolated, embedder)
    kinds = {d.name: d.kind for d in store.documents()}
    assert kinds == {"policy.pdf": "pdf", "open-aes.pdf": "pdf", "pdf-named.txt": "pdf",
                     "text-named.pdf": "text", "windows.txt": "text", "utf16.txt": "text",
                     "utf16-no-bom.txt": "text"}
    assert store.document("policy") == before  # the damaged copy did not replace it
    assert "cp1252" in " ".join(store.document("windows").warnings)
    texts = " ".join(c.text for d in ("utf16", "utf16-no-bom", "windows")
                     for c in store.document_chunks(d))
    assert "R\u00e9sum\u00e9" in texts and "Caf\u00e9 \u201cguidance\u201d" in texts
    assert_whole(store)


def test_files_too_large_gone_or_not_files_fail_alone(isolated: Path, embedder, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in "abcd":
        (folder / f"{name}.md").write_text(f"# Guide {name}\n\n" + " ".join(SENTENCES))
    (folder / "big.md").write_text("# Big\n\n" + " ".join(SENTENCES) * 40)
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    seen: list[str] = []
    found = pipeline.discover

    def discover_then_lose_one(paths):  # type: ignore[no-untyped-def]
        files = found(paths)
        (folder / "d.md").unlink()  # found, then gone before it is read
        return files

    monkeypatch.setattr(pipeline, "discover", discover_then_lose_one)

    def progress(result, n: int, total: int) -> None:  # type: ignore[no-untyped-def]
        seen.append(result.status)

    store = open_store(isolated, embedder)
    with store.writing():
        report = ingest([folder, pipe], store, embedder, 200, 32, max_bytes=2000,
                        progress=progress)
    reasons = {Path(f.path).name: f.reason for f in report.files if f.status == "failed"}
    assert reasons.keys() == {"big.md", "d.md", "pipe.txt"}
    assert reasons["big.md"].startswith("file too large")
    assert reasons["d.md"].startswith("file not found")
    assert reasons["pipe.txt"].startswith("not a regular file")
    assert report.to_dict()["ingested"] == 3 and len(seen) == 6
    assert_whole(store)


def _watch(process: subprocess.Popen[str], lines: list[str]) -> threading.Thread:
    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _kill_when(folder: Path, ready: Callable[[list[str]], bool], after: float) -> list[str]:
    """Start `meditron-rag ingest`; SIGKILL it `after` seconds once `ready(lines)` is true.
    The encoder takes a few chunks at a time, so small documents are written one by one and
    the kill lands between and inside their writes."""
    script = Path(sys.executable).with_name("meditron-rag")
    env = {**os.environ, "MEDITRON_RAG_EMBEDDING_INGEST_WINDOW": "8"}
    process = subprocess.Popen([str(script), "ingest", str(folder)], cwd=ROOT, env=env,
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    reader = _watch(process, lines)
    start = time.monotonic()
    while not ready(lines) and process.poll() is None and time.monotonic() - start < 240:
        time.sleep(0.02)
    time.sleep(after)
    assert process.poll() is None, "the ingest ended before it could be killed: " + "".join(lines)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    reader.join(timeout=5)
    return lines


def test_killed_ingest_leaves_a_whole_index_and_resumes(isolated: Path, embedder,
                                                        tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(36):
        (folder / f"guide-{i:02d}.pdf").write_bytes(guideline_pdf(f"Guide {i}", 2, seed=i))
    def added(lines: list[str]) -> int:
        return sum(1 for line in lines if "] + " in line)

    _kill_when(folder, lambda lines: True, after=0.5)  # while it starts: nothing written yet
    counts = []
    for ready, after in ((lambda lines: added(lines) >= 1, 0.3),
                         (lambda lines: added(lines) >= 4, random.uniform(0.0, 0.4))):
        lines = _kill_when(folder, ready, after)
        assert not any("Traceback" in line for line in lines)
        store = open_store(isolated, embedder)
        assert_whole(store)
        counts.append(len(store.documents()))
        for cache in store.folder.glob("vectors-*.faiss"):
            faiss.read_index(str(cache))  # never half-written
        store.close()
    assert 1 <= counts[0] < counts[1] < 36

    result = run_cli("ingest", "--json", str(folder))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["skipped"], report["added"], report["failed"]) == (
        counts[1], 36 - counts[1], 0)
    listed = CliRunner().invoke(cli, ["docs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert sorted(d["id"] for d in json.loads(listed.output)) == [
        f"guide-{i:02d}" for i in range(36)]
    store = open_store(isolated, embedder)
    assert_whole(store)
    assert [p.name for p in store.folder.glob("vectors-*")] == [
        f"vectors-{store.generation}.faiss"]


def test_a_copy_of_an_indexed_file_is_skipped_and_takes_over_when_the_original_goes(
        tmp_path: Path, embedder) -> None:
    folder = tmp_path / "docs"
    (folder / "z-copies").mkdir(parents=True)  # found after the original
    original, copy = folder / "policy.pdf", folder / "z-copies" / "policy-2.pdf"
    original.write_bytes(guideline_pdf("Hand hygiene policy", pages=2, seed=4))
    copy.write_bytes(original.read_bytes())
    store = SQLiteStore.open(tmp_path / "index", embedder=embedder)
    with store.writing():
        report = ingest([folder], store, embedder, 200, 32)
    statuses = {Path(f.path).name: f.status for f in report.files}
    assert statuses == {"policy.pdf": "added", "policy-2.pdf": "duplicate"}
    twin = next(f for f in report.files if f.status == "duplicate")
    assert twin.document_id == "policy" and str(original) in twin.reason
    assert "1 as copies of indexed files" in report.summary()
    assert [d.id for d in store.documents()] == ["policy"]

    original.unlink()
    with store.writing():
        report = ingest([folder], store, embedder, 200, 32, prune=True)
    assert [(Path(f.path).name, f.status) for f in report.files] == [("policy-2.pdf", "replaced")]
    assert [(d.id, Path(d.path).name) for d in store.documents()] == [("policy", "policy-2.pdf")]
    assert store.verify() == []
    store.close()
