"""OCR of scanned PDF pages with the real Tesseract: scans made in the test from text PDFs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from PIL import Image

from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.pdf_scan import needs_ocr, page_ranges
from meditron_rag.config import PdfConfig
from meditron_rag.errors import LoadError

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="tesseract is not installed: apt-get install tesseract-ocr (or brew install "
           "tesseract)")

PAGES = [
    ("Hand hygiene", "Health workers should clean their hands with an alcohol-based hand rub "
                     "before touching a patient. Soap and water are preferred when hands are "
                     "visibly soiled."),
    ("Injection safety", "Never reuse a needle or syringe for more than one patient. Discard "
                         "single-dose vials after one use."),
    ("Environmental cleaning", "Clean and disinfect surfaces in patient care areas at least "
                               "daily, and whenever they are visibly contaminated."),
]


def text_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for title, body in PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 7, body)
    return bytes(pdf.output())


def scanned(data: bytes, keep_text: frozenset[int] = frozenset(), dpi: int = 200) -> bytes:
    """An image-only copy of `data` (pages in `keep_text`, 1-based, keep their text layer)."""
    source = pdfium.PdfDocument(data)
    out = FPDF(unit="pt")
    for index in range(len(source)):
        page = source[index]
        width, height = page.get_size()
        out.add_page(format=(width, height))
        if index + 1 in keep_text:
            out.set_font("Helvetica", size=12)
            out.set_xy(36, 36)
            title, body = PAGES[index]
            out.multi_cell(width - 72, 16, f"{title}\n{body}")
        else:
            image: Image.Image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            out.image(image, x=0, y=0, w=width, h=height)
    return bytes(out.output())


@needs_tesseract
def test_a_scanned_pdf_is_read_by_ocr_with_its_pages_and_confidence(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned(text_pdf()))
    doc = load_document(path)
    extra = doc.metadata.extra
    assert extra["ocr"].startswith("tesseract 5") and extra["ocr"].endswith("at 300 dpi")
    assert extra["ocr_pages"] == "1-3"
    assert 0.8 <= float(extra["ocr_confidence"]) <= 1.0
    assert [p.split(":")[0] for p in extra["ocr_page_confidence"].split()] == ["1", "2", "3"]
    for number, (title, body) in enumerate(PAGES, start=1):
        page = " ".join(doc.page_text(number).split())
        assert title in page
        words = body.replace(".", " ").replace(",", " ").split()
        assert sum(word in page for word in words) >= 0.95 * len(words), page
    assert doc.page_of(doc.text.index("syringe")) == 2
    chunks = chunk_document(doc, lambda text: len(text.split()), chunk_tokens=32,
                            overlap_tokens=0)
    assert {c.page_start for c in chunks} == {1, 2, 3}


@needs_tesseract
def test_only_the_scanned_pages_of_a_mixed_pdf_are_ocrd(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    path.write_bytes(scanned(text_pdf(), keep_text=frozenset({1, 3})))
    doc = load_document(path)
    assert doc.metadata.extra["ocr_pages"] == "2"
    assert "single-dose vials" in " ".join(doc.page_text(2).split())
    assert "Clean and disinfect" in doc.page_text(3)


def test_a_scanned_pdf_without_its_engine_names_what_to_install(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned(text_pdf()))
    if shutil.which("tesseract") is None:
        hint = "install tesseract-ocr"
        config = PdfConfig()
    else:  # a language whose data no Tesseract has
        hint = r"install tesseract's 'zzz' language data \(apt-get install tesseract-ocr-zzz\)"
        config = PdfConfig(ocr_language="zzz")
    with pytest.raises(LoadError, match=r"scanned PDF with no text layer: " + hint):
        load_document(path, pdf=config)


def test_a_partly_scanned_pdf_without_ocr_is_indexed_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    path.write_bytes(scanned(text_pdf(), keep_text=frozenset({1, 3})))
    doc = load_document(path, pdf=PdfConfig(ocr_engine="off"))
    assert "ocr" not in doc.metadata.extra
    assert doc.warnings == ["pages 2 have no text (blank or scanned): set pdf.ocr_engine to "
                            "tesseract or rapidocr to index it"]


def test_pages_that_need_ocr() -> None:
    prose = ["Health workers should clean their hands before touching a patient and after "
             "touching the surroundings of a patient, with rub or with soap and water."]
    assert not needs_ocr(prose)
    assert needs_ocr([]) and needs_ocr(["  3  "])
    assert needs_ocr(["\ue000\ue001\ue002" * 10])  # private-use glyphs
    assert needs_ocr(["Hfzlth wrkrs shld clnz thr hndz bfrz tchng pttnt " * 3])  # wrong letters
    assert page_ranges([1, 2, 3, 5, 7, 8]) == "1-3, 5, 7-8"


def test_rapidocr_reads_a_scanned_page_too(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr", reason="rapidocr is not installed: pip install -e "
                                           ".[rapidocr]")
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned(text_pdf(), keep_text=frozenset({1, 3})))
    doc = load_document(path, pdf=PdfConfig(ocr_engine="rapidocr"))
    assert doc.metadata.extra["ocr"].startswith("rapidocr ")
    assert doc.metadata.extra["ocr_pages"] == "2"
    assert "Never reuse a needle or syringe" in " ".join(doc.page_text(2).split())
