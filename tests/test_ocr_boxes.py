"""A cited sentence boxed on a scanned page, from the OCR words kept at ingest, and each OCR'd
chunk marked with its words' confidence: scans made in the test from text PDFs, read by the
real Tesseract, kept in each real store backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from ingest.chunking import chunk_document
from ingest.document import Chunk, DocumentMetadata
from ingest.loaders import load_document
from ingest.page_words import PageWords, squash
from ingest.pdf_locate import Box, locate, locate_words, render_page
from ingest.store import Identity
from tests.conftest import run_cli
from tests.test_ocr import PAGES, needs_tesseract, scanned, text_pdf

SENTENCE = "Never reuse a needle or syringe for more than one patient."


def inside(boxes: list[Box], x: float, y: float, margin: float = 2) -> bool:
    return any(b[0] - margin <= x <= b[2] + margin and b[1] - margin <= y <= b[3] + margin
               for b in boxes)


@needs_tesseract
def test_a_sentence_on_a_scanned_page_is_boxed_where_the_text_was(tmp_path: Path) -> None:
    original = tmp_path / "text.pdf"
    original.write_bytes(text_pdf())
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned(original.read_bytes()))
    doc = load_document(scan)
    assert sorted(doc.page_words) == [1, 2, 3]
    assert locate(scan, [1, 2, 3], SENTENCE) is None  # no text layer to search

    found = locate_words([1, 2, 3], doc.page_words.get, SENTENCE)
    assert found is not None and found.page == 2
    # Every character of the sentence, where the text PDF draws it, lies in the OCR boxes.
    pdf = pdfium.PdfDocument(original)
    page = pdf[1]
    textpage, height = page.get_textpage(), page.get_height()
    text = textpage.get_text_range()
    start = squash(text).find(squash(SENTENCE))
    letters = [i for i, ch in enumerate(text) if ch.isalnum()]
    for index in letters[start:start + len(squash(SENTENCE))]:
        left, bottom, right, top = textpage.get_charbox(index)
        assert inside(found.boxes, (left + right) / 2, height - (bottom + top) / 2), index
    pdf.close()
    # ... and the boxes hold little else: the sentence is one line of the 190 mm text width.
    assert sum((b[2] - b[0]) * (b[3] - b[1]) for b in found.boxes) < 2 * 540 * 20
    # The app's page view finds it the same way, from the words its source gives.
    from rag.records import Passage
    from ui.app_page import find_sentences

    passage = Passage(chunk_id=1, document_id="scan", title="S", organisation="", date="",
                      url="", path=str(scan), paginated=True, text="", section="",
                      page_start=1, page_end=3, char_start=0, char_end=0, ocr_confidence=0.9)
    shown = find_sentences(passage, [SENTENCE], lambda doc_id, n: doc.page_words.get(n))
    assert [(f.page, f.boxes) for f in shown] == [(2, found.boxes)]
    image = render_page(scan, found.page, found.boxes, scale=1.0)
    left, top, right, _ = (round(v) for v in found.boxes[0])
    assert image.getpixel(((left + right) // 2, top - 1)) != (255, 255, 255)  # the outline

    chunks = chunk_document(doc, lambda t: len(t.split()), chunk_tokens=32, overlap_tokens=0)
    assert [c.page_start for c in chunks if "syringe" in c.text] == [2]
    for chunk in chunks:
        assert chunk.ocr_confidence is not None and 0.8 <= chunk.ocr_confidence <= 1.0
        if chunk.page_start == chunk.page_end:  # its text is among its page's OCR words
            assert doc.page_words[chunk.page_start].find(chunk.text)


@needs_tesseract
def test_only_ocrd_pages_keep_words_and_mark_their_chunks(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    path.write_bytes(scanned(text_pdf(), keep_text=frozenset({1, 3})))
    doc = load_document(path)
    assert list(doc.page_words) == [2]
    chunks = chunk_document(doc, lambda t: len(t.split()), chunk_tokens=32, overlap_tokens=0)
    assert {c.page_start for c in chunks} == {1, 2, 3}
    for chunk in chunks:  # marked when any of its text was read by OCR
        assert (chunk.ocr_confidence is not None) == (chunk.page_start <= 2 <= chunk.page_end)
    title, body = PAGES[0]
    assert locate(path, [1], body.split(". ")[0]) is not None  # the text page as before


def page_words(n: int = 3, dpi: int = 300) -> PageWords:
    return PageWords(dpi, tuple(f"word{i}" for i in range(n)),
                     np.array([[10 * i, 100, 10 * i + 8, 130] for i in range(n)], np.uint16),
                     np.array([90 + i % 11 for i in range(n)], np.uint8))


def test_page_words_encode_compactly_and_back() -> None:
    words = page_words(400)
    data = words.encode()
    back = PageWords.decode(data)
    assert back.texts == words.texts and back.dpi == 300
    assert (back.boxes == words.boxes).all() and (back.confidences == words.confidences).all()
    assert len(data) < 9 * 400  # under the 8 bytes of boxes and 1 of confidence a word
    assert PageWords.from_dict(words.to_dict()).texts == words.texts
    assert PageWords.decode(page_words(0).encode()).texts == ()
    for bad in (b"", b"not zlib", data[:-3]):
        try:
            PageWords.decode(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} decoded")


def test_a_sentence_over_two_lines_gets_a_box_a_line_in_points() -> None:
    words = PageWords(144, ("Give", "one", "dose", "today."),
                      np.array([[0, 0, 40, 20], [50, 2, 80, 20], [0, 40, 40, 60],
                                [50, 40, 100, 60]], np.uint16),
                      np.array([96, 90, 80, 70], np.uint8))
    assert words.find("one dose") == [1, 2]
    assert words.line_boxes([1, 2]) == [(25.0, 1.0, 40.0, 10.0), (0.0, 20.0, 20.0, 30.0)]
    assert words.line_boxes([0, 1]) == [(0.0, 0.0, 40.0, 10.0)]
    assert words.confidence([2, 3]) == 0.75
    assert words.find("doses") == [] and words.find("...") == []


def test_the_store_keeps_ocr_words_and_chunk_confidence(store_factory) -> None:  # type: ignore[no-untyped-def]
    store = store_factory(Identity("tiny", 2))
    chunks = [Chunk(ordinal=0, text="word0 word1", section="", start=0, end=11, page_start=2,
                    page_end=2, char_start=0, char_end=11, ocr_confidence=0.905),
              Chunk(ordinal=1, text="typed", section="", start=12, end=17, page_start=3,
                    page_end=3, char_start=0, char_end=5)]

    def put(words: dict[int, PageWords]) -> None:
        with store.writing():
            store.put_document("scan", path="/scan.pdf", kind="pdf", sha256="x", size_bytes=1,
                               pages=3, paginated=True, metadata=DocumentMetadata(title="S"),
                               warnings=[], chunks=chunks, page_words=words,
                               vectors=np.array([[1, 0], [0, 1]], dtype=np.float32))

    put({2: page_words(), 1: page_words(5, dpi=200)})
    stored = store.document_chunks("scan")
    assert [c.ocr_confidence for c in stored] == [0.905, None]
    two = store.page_words("scan", 2)
    assert two is not None and two.texts == page_words().texts and two.dpi == 300
    assert store.page_words("scan", 3) is None and store.page_words("other", 2) is None
    assert sorted(store.document_page_words("scan")) == [1, 2]
    put({2: page_words(2)})  # replaced: the old pages go
    assert sorted(store.document_page_words("scan")) == [2]
    with store.writing():
        assert store.remove_document("scan")
    assert store.document_page_words("scan") == {}
    assert store.verify() == []


def test_the_api_serves_a_scanned_pages_words_to_the_app(embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The app, run against `meditron-rag serve`, gets the OCR words it boxes a sentence with
    from the API; a page read from its text layer has none."""
    from ingest.store import open_store
    from meditron_rag.config import load_config
    from tests.test_api import running
    from ui.api import create_app
    from ui.api_client import ApiClient

    store = open_store(load_config(), embedder)
    chunk = Chunk(ordinal=0, text="word0 word1 word2", section="", start=0, end=17,
                  page_start=2, page_end=2, char_start=0, char_end=17, ocr_confidence=0.91)
    with store.writing():
        store.put_document("scan", path="/scan.pdf", kind="pdf", sha256="x", size_bytes=1,
                           pages=2, paginated=True, metadata=DocumentMetadata(title="S"),
                           warnings=[], chunks=[chunk], page_words={2: page_words()},
                           vectors=embedder.encode([chunk.text]))
    store.close()
    shown = run_cli("docs", "show", "scan", "--chunks")
    assert "--- chunk 0 · p. 2-2 ·  · scanned, read by OCR with confidence 0.91" in shown.stdout
    app = create_app(load_config())
    with running(app) as url:
        monkeypatch.setenv("MEDITRON_RAG_UI_API_URL", url)
        client = ApiClient(load_config())
        words = client.page_words("scan", 2)
        assert words is not None and words.texts == page_words().texts
        assert (words.boxes == page_words().boxes).all() and words.dpi == 300
        assert client.page_words("scan", 1) is None and client.page_words("gone", 2) is None
    app.state.service.engine.store.close()


def test_a_source_read_by_ocr_says_so_with_its_confidence() -> None:
    from rag.records import Passage

    where = dict(text="t", section="", page_start=3, page_end=3, char_start=0, char_end=1)
    passage = Passage(chunk_id=1, document_id="d", title="Guide", organisation="WHO",
                      date="2016", url="", path="/g.pdf", paginated=True, number=2,
                      ocr_confidence=0.934, **where)
    assert passage.source_line() == ("[2] Guide (WHO, 2016), p. 3 (scanned, read by OCR with "
                                     "confidence 0.93)")
    passage.ocr_confidence = None
    assert passage.source_line() == "[2] Guide (WHO, 2016), p. 3"
    assert passage.to_dict()["ocr_confidence"] is None
