"""Where a passage's sentence is drawn on its PDF page, and the page with it highlighted.

The indexed text of a PDF page is cleaned (running headers dropped, hyphenated words joined,
tables made Markdown), so a sentence is found among the page's characters by its letters and
digits alone, lowercased; pdfium gives each character's box, and the boxes of one line are
merged. A page without a text layer (an OCR'd scan) has no characters to find: there the
sentence is found among the OCR words kept at ingest (`ingest.page_words`), whose boxes, in
pixels of the scanned image, become points of the page. A sentence found on no page alone may
run over a page break: its start near the foot of one page, the rest near the head of the
next (past a running footer and header).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from ingest.page_words import Box, PageWords, merge_lines, squash

MIN_PART = 8  # letters and digits of a sentence on either side of a page break, at least
REACH = 400  # letters and digits between a part and its page's foot or head, at most


@dataclass
class Found:
    """A sentence's page (1-based) and the boxes that cover it, one a line; `then`, for a
    sentence that runs over a page break, its rest on the next page."""

    page: int
    boxes: list[Box]
    then: Found | None = None


def across_break(first: str, second: str, target: str) -> tuple[int, int, int] | None:
    """Where `target` runs from one page into the next (all three squashed): its first `k`
    letters ending near the foot of `first`, the rest starting near the head of `second`, as
    (start in `first`, k, start in `second`), the longest first part; None where it does not.
    "Near" leaves room for a footer or header: REACH, or a quarter of the page."""
    foot = len(first) - max(REACH, len(first) // 4)
    head = max(REACH, len(second) // 4)
    for k in range(len(target) - MIN_PART, MIN_PART - 1, -1):
        at = first.rfind(target[:k])
        if at < 0 or at + k < foot:
            continue
        then = second.find(target[k:], 0, head + len(target) - k)
        if then >= 0:
            return at, k, then
    return None


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
    """The first of `pages` on which `sentence` is drawn, with its boxes, else the first two
    of them it runs across; None where it is on none of them (or the file cannot be
    opened)."""
    import pypdfium2 as pdfium

    target = squash(sentence)
    if not target:
        return None
    try:
        pdf = pdfium.PdfDocument(path)
    except (pdfium.PdfiumError, OSError):  # damaged, moved or deleted since it was indexed
        return None
    try:
        read: dict[int, tuple[Any, str, list[int], float]] = {}
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
            read[number] = (textpage, squashed, where, page.get_height())

        def found(number: int, start: int, length: int) -> Found:
            textpage, _, where, height = read[number]
            return Found(number, _line_boxes(textpage, sorted(set(where[start:start + length])),
                                             height))

        for number in read:
            if number + 1 in read:
                hit = across_break(read[number][1], read[number + 1][1], target)
                if hit is not None:
                    at, k, then = hit
                    return Found(number, found(number, at, k).boxes,
                                 found(number + 1, then, len(target) - k))
    finally:
        pdf.close()
    return None


def locate_words(pages: Iterable[int], words: Callable[[int], PageWords | None],
                 sentence: str) -> Found | None:
    """The first of `pages` whose OCR words (`words(page)`, None for a page not OCR'd) hold
    `sentence`, else the first two of them it runs across, with the words' boxes in points,
    one a line; None where none does."""
    read: dict[int, PageWords] = {}
    for number in pages:
        page = words(number)
        found = page.find(sentence) if page is not None else []
        if page is not None and found:
            return Found(number, page.line_boxes(found))
        if page is not None:
            read[number] = page
    target = squash(sentence)
    for number, page in read.items():
        following = read.get(number + 1)
        if following is None or not target:
            continue
        hit = across_break(page.squashed[0], following.squashed[0], target)
        if hit is not None:
            at, k, then = hit
            first = sorted(set(page.squashed[1][at:at + k]))
            rest = sorted(set(following.squashed[1][then:then + len(target) - k]))
            return Found(number, page.line_boxes(first),
                         Found(number + 1, following.line_boxes(rest)))
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
