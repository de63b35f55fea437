"""Reading files ahead of the encoder: PDFs of a batch parsed in a child process, exactly as
they would be here, and a parser that dies failing its file alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from test_ingest import guideline_pdf

from ingest.batching import Prepared
from ingest.parsing import Loader, Reading, file_hash, load_item
from meditron_rag.config import PdfConfig

READING = Reading(10**7, 10**8, PdfConfig())


def _item(path: Path) -> Prepared:
    return Prepared(path, file_hash(path), path.stat().st_size)


def test_a_pdf_parsed_in_the_child_is_the_document_parsed_here(tmp_path: Path) -> None:
    path = tmp_path / "guide.pdf"
    path.write_bytes(guideline_pdf("Hypertension in adults", pages=3))
    here = load_item(_item(path), READING)
    loader = Loader(child=True)
    try:
        loader.start()
        assert loader.started(timeout=60)
        there = loader.load(_item(path), READING)
        assert loader.process is not None and loader.process.poll() is None
        assert there.error == "" and there.document == here.document
        assert there.document is not None and there.document.page_count == 3
    finally:
        loader.close()
    assert loader.process is None


def test_a_parser_that_dies_fails_its_file_and_the_next_gets_a_new_one(tmp_path: Path) -> None:
    paths = []
    for name in ("a", "b"):
        paths.append(tmp_path / f"{name}.pdf")
        paths[-1].write_bytes(guideline_pdf(f"Guide {name}", seed=len(paths)))
    loader = Loader(child=True)
    try:
        loader.start()
        assert loader.started(timeout=60)
        assert loader.load(_item(paths[0]), READING).document is not None
        assert loader.process is not None
        os.kill(loader.process.pid, signal.SIGSEGV)  # a native crash, as a bad PDF can cause
        loader.process.wait()
        failed = loader.load(_item(paths[1]), READING)
        assert failed.document is None
        assert failed.error == ("the PDF parser crashed on this file (signal 11): report it "
                                "with the file")
        assert loader.process is None
        again = loader.load(_item(paths[1]), READING)  # here, while a new child starts
        assert again.error == "" and again.document is not None
        assert loader.process is not None and loader.started(timeout=60)
    finally:
        loader.close()


def test_a_script_without_a_main_guard_can_ingest_a_batch(tmp_path: Path) -> None:
    """The child is its own program: a multiprocessing worker would run the caller's script
    again, and one without `if __name__ == "__main__"` would ingest without end."""
    for name in ("a", "b"):
        (tmp_path / f"{name}.pdf").write_bytes(guideline_pdf(f"Guide {name}"))
    script = tmp_path / "script.py"
    script.write_text(
        "from pathlib import Path\n"
        "from ingest.parsing import Chunker, Reading, prefetch\n"
        f"paths = sorted(Path({str(tmp_path)!r}).glob('*.pdf'))\n"
        "reading = Reading(10**7, 10**8, None)\n"
        "chunker = Chunker(lambda text: len(text.split()), lambda text: None, 200, 20, reading)\n"
        "items = list(prefetch(paths, {}, chunker, 2))\n"
        "print(len(items), all(item.chunks and not item.error for item in items))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "True"]


def test_pdfs_are_parsed_here_while_the_child_starts(tmp_path: Path) -> None:
    path = tmp_path / "guide.pdf"
    path.write_bytes(guideline_pdf("Asthma in children", pages=2))
    loader = Loader(child=True)
    try:
        first = loader.load(_item(path), READING)  # the child is still importing its parsers
        assert first.error == "" and first.document == load_item(_item(path), READING).document
        assert loader.process is not None and not loader.ready
        assert loader.started(timeout=60)
        assert loader.load(_item(path), READING).document == first.document  # in the child
    finally:
        loader.close()
