"""A PDF source shown as its page, with the sentence the answer rests on highlighted.

The sentence is found among the page's characters (`ingest.pdf_locate`), so the box is where
the reader sees the sentence; the rendered page is cached per file, page and boxes.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from PIL import Image

from ingest.pdf_locate import Box, locate, render_page
from rag import Passage


@st.cache_data(show_spinner=False, max_entries=32)
def _page_image(path: str, modified: float, page: int, boxes: tuple[Box, ...]) -> Image.Image:
    return render_page(Path(path), page, boxes)


def show_page(passage: Passage, sentences: list[str], key: str) -> None:
    """The passage's page with `sentences` boxed, behind a toggle that starts on."""
    path = Path(passage.path)
    if not (passage.paginated and path.suffix.lower() == ".pdf" and path.is_file()):
        return
    if not st.toggle("Show on the page", value=True, key=key):
        return
    pages = list(range(passage.page_start, passage.page_end + 1))
    found = [f for f in (locate(path, pages, s) for s in sentences) if f is not None]
    page = found[0].page if found else passage.page_start
    boxes = tuple(box for f in found if f.page == page for box in f.boxes)
    image = _page_image(str(path), path.stat().st_mtime, page, boxes)
    note = ("the sentence the answer rests on is highlighted" if boxes else
            "the sentence could not be found on the page (a scanned page has no text to "
            "search)")
    st.image(image, caption=f"Page {page} of {path.name}: {note}.")  # shown as plain text
