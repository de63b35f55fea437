"""A PDF's text layer, page by page: its lines, and its text runs with their font sizes.

pdfium reads it, in C, in the order the content stream draws it, so the two columns of a page
stay apart (as pypdf's "plain" extraction kept them, in pure Python and several times the
time). Lines end where pdfium starts a new one. A hyphen that pdfium found at the end of a line
(and joined to the next, or read as a line of its own) is given back its line break, so that
`ingest.pdf_pages` decides whether the word keeps it.
"""

from __future__ import annotations

import ctypes
import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ingest.pdf_headings import TextRun
from ingest.pdf_objects import placed_objects
from ingest.text import LIGATURES

if TYPE_CHECKING:
    from pypdfium2 import PdfPage, PdfTextPage

_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_END_HYPHEN = re.compile("[\x02\ufffe]\n?")  # pdfium's mark for it, in its two forms
_LONE_HYPHEN = re.compile(r"(?<=\S)\n-\n")  # a line-end hyphen drawn apart, read as a line


def extract_pages(data: bytes, page_count: int
                  ) -> tuple[list[list[str]], list[list[TextRun]], list[int]]:
    """Each page's lines, its text runs, and the (1-based) pages that could not be read."""
    import pypdfium2 as pdfium

    pages: list[list[str]] = []
    runs: list[list[TextRun]] = []
    failed: list[int] = []
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return [[]] * page_count, [[]] * page_count, list(range(1, page_count + 1))
    try:
        for number in range(1, page_count + 1):
            try:
                page = pdf[number - 1]
            except (pdfium.PdfiumError, IndexError):  # a damaged page
                failed.append(number)
                pages.append([])
                runs.append([])
                continue
            try:
                text = page.get_textpage()
                try:
                    raw = text.get_text_range()
                    runs.append(list(_runs(page, text)))
                finally:
                    text.close()
            except pdfium.PdfiumError:
                failed.append(number)
                raw = ""
                runs.append([])
            finally:
                page.close()
            pages.append(_lines(raw))
    finally:
        pdf.close()
    return pages, runs, failed


def _lines(raw: str) -> list[str]:
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    raw = _LONE_HYPHEN.sub("-\n", _LINE_END_HYPHEN.sub("-\n", raw))
    raw = _CONTROL.sub("", raw.translate(LIGATURES))
    return [line.rstrip() for line in raw.split("\n")]


def _runs(page: PdfPage, text: PdfTextPage) -> Iterator[TextRun]:
    """The page's text objects (Form XObjects' too) with their rendered font size, font family
    and baseline height."""
    import pypdfium2.raw as pdfium_c

    size = ctypes.c_float()
    for raw, placed in placed_objects(page, pdfium_c.FPDF_PAGEOBJ_TEXT):
        words = _object_text(raw, text)
        if words.strip() and pdfium_c.FPDFTextObj_GetFontSize(raw, size):
            scale = math.hypot(placed.c, placed.d)
            yield TextRun(words, round(size.value * scale, 1), _family(raw), placed.f)


def _object_text(raw: Any, text: PdfTextPage) -> str:
    import pypdfium2.raw as pdfium_c

    length = pdfium_c.FPDFTextObj_GetText(raw, text, None, 0)  # bytes, with the final NUL
    if length <= 2:
        return ""
    buffer = ctypes.create_string_buffer(length)
    pdfium_c.FPDFTextObj_GetText(raw, text, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)),
                                 length)
    return buffer.raw[:length - 2].decode("utf-16-le", "ignore")


def _family(raw: Any) -> str:
    """The font's family as its base name gives it ("ABCDEF+Roboto-Bold" -> "Roboto")."""
    import pypdfium2.raw as pdfium_c

    font = pdfium_c.FPDFTextObj_GetFont(raw)
    if not font:
        return ""
    length = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    if length <= 1:
        return ""
    buffer = ctypes.create_string_buffer(length)
    pdfium_c.FPDFFont_GetBaseFontName(font, buffer, length)
    name = buffer.value.decode("latin-1")
    return re.split(r"[-,]", name.split("+")[-1])[0]
