"""Where a passage's sentence is drawn on its PDF page, and the page with it highlighted.

The indexed text of a PDF page is cleaned (running headers dropped, hyphenated words joined,
tables made Markdown), so a sentence is found among the page's characters by its letters and
digits alone, lowercased; pdfium gives each character's box, and the boxes of one line are
merged. A page without a text layer (an OCR'd scan) has no characters to find: there the
sentence is found among the OCR words kept at ingest (`ingest.page_words`), whose boxes, in
pixels of the scanned image, become points of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from ingest.page_words import Box, PageWords, merge_lines, squash


@dataclass
class Found:
    """A sentence's page (1-based) and the boxes that cover it, one a line."""

    page: int
    boxes: list[Box]


def _squashed_chars(textpage: Any) -> tuple[str, list[int]]:
    """The page's letters and digits, lowercased, with each one's character index."""
    chars: list[str] = []
    where: list[int] = []
    for index in range(textpage.count_chars()):
        for ch in textpage.get_text_range(index, 1).lower():
            if ch.isalnum():
                chars.append(ch)
                where.append(index)
    return "".join(chars), where


def _line_boxes(textpage: Any, indexes: Sequence[int], height: float) -> list[Box]:
    """The characters' boxes (pdfium's origin is bottom left) merged line by line."""
    boxes: list[Box] = []
    for index in indexes:
        left, bottom, right, top = textpage.get_charbox(index)
        boxes.append((left, height - top, right, height - bottom))
    return merge_lines(boxes)


def locate(path: Path, pages: Sequence[int], sentence: str) -> Found | None:
    """The first of `pages` on which `sentence` is drawn, with its boxes; None where it is on
    none of them (or the file cannot be opened)."""
    import pypdfium2 as pdfium

    target = squash(sentence)
    if not target:
        return None
    try:
        pdf = pdfium.PdfDocument(path)
    except (pdfium.PdfiumError, OSError):  # damaged, moved or deleted since it was indexed
        return None
    try:
        for number in pages:
            if not 1 <= number <= len(pdf):
                continue
            page = pdf[number - 1]
            textpage = page.get_textpage()
            squashed, where = _squashed_chars(textpage)
            at = squashed.find(target)
            if at >= 0:
                indexes = sorted(set(where[at:at + len(target)]))
                return Found(number, _line_boxes(textpage, indexes, page.get_height()))
    finally:
        pdf.close()
    return None


def locate_words(pages: Iterable[int], words: Callable[[int], PageWords | None],
                 sentence: str) -> Found | None:
    """The first of `pages` whose OCR words (`words(page)`, None for a page not OCR'd) hold
    `sentence`, with the words' boxes in points, one a line; None where none does."""
    for number in pages:
        page = words(number)
        found = page.find(sentence) if page is not None else []
        if page is not None and found:
            return Found(number, page.line_boxes(found))
    return None


def render_page(path: Path, page: int, boxes: Sequence[Box], scale: float = 1.5
                ) -> Image.Image:
    """The page as an image, each box filled in translucent yellow and outlined."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        image = pdf[page - 1].render(scale=scale).to_pil().convert("RGBA")
    finally:
        pdf.close()
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for left, top, right, bottom in boxes:
        draw.rectangle((left * scale - 2, top * scale - 2, right * scale + 2, bottom * scale + 2),
                       fill=(255, 230, 0, 90), outline=(230, 120, 0, 255), width=2)
    return Image.alpha_composite(image, layer).convert("RGB")
