"""A PDF source shown as its page, with the sentence the answer rests on highlighted.

The sentence is found among the page's characters (`ingest.pdf_locate`), so the box is where
the reader sees the sentence; on a scanned page, which has no characters, among the words OCR
read there at ingest, kept in the index with their boxes (`words`, from the app's source). A
sentence that runs over a page break is boxed on both pages, one below the other. The
rendered page is cached per file, page and boxes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st
from PIL import Image

from ingest.page_words import PageWords
from ingest.pdf_locate import Box, Found, locate, locate_words, render_page
from rag import Passage

PageWordsFn = Callable[[str, int], PageWords | None]  # (document id, page): its OCR words


@st.cache_data(show_spinner=False, max_entries=32)
def _page_image(path: str, modified: float, page: int, boxes: tuple[Box, ...]) -> Image.Image:
    return render_page(Path(path), page, boxes)


def find_sentences(passage: Passage, sentences: list[str], words: PageWordsFn) -> list[Found]:
    """Where each of `sentences` is on the passage's pages: in the text layer, else (a scan)
    among the page's OCR words; those found on neither are left out."""
    path = Path(passage.path)
    pages = list(range(passage.page_start, passage.page_end + 1))
    ocr: dict[int, PageWords | None] = {}

    def page_words(number: int) -> PageWords | None:
        if number not in ocr:
            ocr[number] = words(passage.document_id, number)
        return ocr[number]

    found = []
    for sentence in sentences:
        where = locate(path, pages, sentence)
        if where is None and passage.ocr_confidence is not None:
            where = locate_words(pages, page_words, sentence)
        if where is not None:
            found.append(where)
    return found


def show_page(passage: Passage, sentences: list[str], key: str, words: PageWordsFn) -> None:
    """The passage's page with `sentences` boxed, behind a toggle that starts on."""
    path = Path(passage.path)
    if not (passage.paginated and path.suffix.lower() == ".pdf" and path.is_file()):
        return
    if not st.toggle("Show on the page", value=True, key=key):
        return
    found = find_sentences(passage, sentences, words)
    page = found[0].page if found else passage.page_start
    boxes = tuple(box for f in found if f.page == page for box in f.boxes)
    # A sentence that runs over the page break: its rest, boxed on the next page.
    rest = tuple(box for f in found if f.page == page and f.then for box in f.then.boxes)
    image = _page_image(str(path), path.stat().st_mtime, page, boxes)
    if boxes:
        note = "the sentence the answer rests on is highlighted"
        if passage.ocr_confidence is not None:
            note += " where OCR read it on the scan"
        if rest:
            note += f"; it runs on to page {page + 1}, below"
    elif passage.ocr_confidence is not None:
        note = ("the sentence could not be found among the words OCR read on this scanned "
                "page (indexed before OCR words were kept? ingest it again with --rebuild)")
    else:
        note = "the sentence could not be found on the page"
    st.image(image, caption=f"Page {page} of {path.name}: {note}.")  # shown as plain text
    if rest:
        st.image(_page_image(str(path), path.stat().st_mtime, page + 1, rest),
                 caption=f"Page {page + 1} of {path.name}: the rest of the sentence.")
