"""A PDF page's objects as pdfium holds them, Form XObjects opened, each with its place on the
page: what the text layer (`ingest.pdf_text`) and the table finder (`ingest.pdf_tables`) read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pypdfium2 import PdfMatrix, PdfPage

_FORM_DEPTH = 3  # Form XObjects nested deeper than this are not opened


def placed_objects(page: PdfPage, kind: int) -> Iterator[tuple[Any, PdfMatrix]]:
    """The page's objects of pdfium type `kind` (raw handles), with the matrix that maps each
    one's own coordinates onto the page (its forms' matrices included)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    def children(parent: Any, form: bool) -> Iterator[Any]:
        count, get = ((pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject)
                      if form else (pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject))
        for index in range(count(parent)):
            yield get(parent, index)

    def walk(objects: Iterator[Any], outer: PdfMatrix | None,
             depth: int) -> Iterator[tuple[Any, PdfMatrix]]:
        for raw in objects:
            found = pdfium_c.FPDFPageObj_GetType(raw)
            if found not in (kind, pdfium_c.FPDF_PAGEOBJ_FORM):
                continue
            matrix = pdfium_c.FS_MATRIX()
            if not pdfium_c.FPDFPageObj_GetMatrix(raw, matrix):
                continue
            own = pdfium.PdfMatrix.from_raw(matrix)
            placed = own.multiply(outer) if outer is not None else own
            if found == kind:
                yield raw, placed
            elif depth < _FORM_DEPTH:
                yield from walk(children(raw, True), placed, depth + 1)

    yield from walk(children(page, False), None, 0)
