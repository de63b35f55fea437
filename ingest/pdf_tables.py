"""Ruled tables in PDFs, kept as Markdown tables in place of their flattened text.

A table is found by its ruling lines: pdfium reads the lines and boxes a page draws (in C, in
a moment), pdfplumber's grid search makes cells of them, and pdfium reads the text inside each
cell. (pdfplumber reading the page itself, through pdfminer, took most of a PDF's parsing
time.) On a page with a table, the lines of the page text that are the table's cells
flattened (as the text layer reads them) are taken out, and the table goes where they began,
as Markdown under its caption. A table longer than the piece size is cut between rows into
tables that each repeat the caption (marked "continued") and the header row, so a passage
holding only some rows still says what its columns are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Any

from ingest.pdf_objects import placed_objects

if TYPE_CHECKING:
    from pypdfium2 import PdfMatrix, PdfPage, PdfTextPage

_CAPTION = re.compile(r"^(Table|Box|Annex table)\s+[A-Z0-9][\w.-]*", re.IGNORECASE)
_CAPTION_GAP = 40.0  # points above the table a caption may sit
_MIN_PATHS = 12  # lines and boxes a page draws before it is searched for tables (a 2x3 grid)
_MIN_MATCH = 3  # a shorter common run of letters does not tie a line to a table
_TOLERANCE = 3.0  # points: pdfplumber's snapping, joining and crossing tolerance
_STRAIGHT = 0.01  # points a segment's ends may differ across it and still be straight


@dataclass
class Table:
    """A table of a page: its rows of cell texts (the first is the header) and its caption."""

    page: int
    rows: list[list[str]]
    caption: str = ""
    top: float = 0.0  # points from the top of the page

    def markdown(self, max_chars: int) -> list[str]:
        """The table as Markdown, in pieces of about `max_chars` each (a single row longer than
        that is a piece of its own), each with the caption and the header row."""
        header = [_md_row(self.rows[0]), "| " + " | ".join("---" for _ in self.rows[0]) + " |"]
        size = sum(len(line) + 1 for line in header) + len(self.caption)
        pieces: list[list[str]] = [[]]
        used = size
        for row in self.rows[1:]:
            line = _md_row(row)
            if pieces[-1] and used + len(line) + 1 > max_chars:
                pieces.append([])
                used = size
            pieces[-1].append(line)
            used += len(line) + 1
        texts = []
        for number, rows in enumerate(pieces):
            caption = f"{self.caption} (continued)".lstrip() if number else self.caption
            texts.append("\n".join(([caption] if caption else []) + header + rows))
        return texts


def _cell(text: str | None) -> str:
    """A cell's text on one line; a pipe escaped so it stays inside its cell, control
    characters (drawn by some fonts for bullets) taken out."""
    text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", " ", text or "")  # a bullet font's controls
    text = re.sub(r"(?<=[A-Za-z])-\n(?=[a-z])", "-", text)
    return " ".join(text.split()).replace("|", "\\|")


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def find_tables(data: bytes, pages: list[int]) -> dict[int, list[Table]]:
    """Ruled tables on `pages` (1-based) of the PDF in `data`, in order from the top of each
    page. Only a page that draws `_MIN_PATHS` lines or boxes is searched. A grid with fewer
    than two filled columns or rows, or mostly empty (a page frame or a layout box), is not a
    table."""
    import pypdfium2 as pdfium

    found: dict[int, list[Table]] = {}
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return found
    try:
        for number in pages:
            try:
                page = pdf[number - 1]
            except pdfium.PdfiumError:  # a damaged page: no tables on it
                continue
            try:
                kept = _page_tables(page, number)
            finally:
                page.close()
            if kept:
                found[number] = kept
    finally:
        pdf.close()
    return found


def _page_tables(page: PdfPage, number: int) -> list[Table]:
    """The tables of one page, from the top down: pdfplumber's grid search over the page's
    ruling lines as pdfium reads them."""
    import pypdfium2.raw as pdfium_c

    paths = placed_objects(page, pdfium_c.FPDF_PAGEOBJ_PATH)
    if sum(1 for _ in zip(range(_MIN_PATHS), paths, strict=False)) < _MIN_PATHS:
        return []  # too few lines for a table; pdfplumber is not even imported
    from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells

    height = float(page.get_mediabox()[3])
    edges = _grid_edges(page, height)
    grids = cells_to_tables(intersections_to_cells(edges_to_intersections(
        edges, _TOLERANCE, _TOLERANCE)))
    if not grids:
        return []
    text = page.get_textpage()
    try:
        tables = [_table(text, height, number, cells) for cells in grids]
    finally:
        text.close()
    return sorted((t for t in tables if t is not None), key=lambda t: t.top)


def _grid_edges(page: PdfPage, height: float) -> list[dict[str, Any]]:
    """Every horizontal and vertical straight stretch the page draws (lines, boxes, the sides
    of filled rules), as pdfplumber's edges (points, from the top of the page), snapped and
    joined as its table finder does."""
    from pdfplumber.table import merge_edges
    from pdfplumber.utils import filter_edges

    edges = []
    for (x0, y0), (x1, y1) in _segments(page):
        if abs(y0 - y1) < _STRAIGHT and abs(x1 - x0) >= 1:
            left, right = sorted((x0, x1))
            edges.append({"x0": left, "x1": right, "top": height - y0, "bottom": height - y0,
                          "width": right - left, "height": 0.0, "orientation": "h",
                          "object_type": "line"})
        elif abs(x0 - x1) < _STRAIGHT and abs(y1 - y0) >= 1:
            low, high = sorted((y0, y1))
            edges.append({"x0": x0, "x1": x0, "top": height - high, "bottom": height - low,
                          "width": 0.0, "height": high - low, "orientation": "v",
                          "object_type": "line"})
    merged = merge_edges(edges, _TOLERANCE, _TOLERANCE, _TOLERANCE, _TOLERANCE)
    return list(filter_edges(merged, min_length=_TOLERANCE))


Point = tuple[float, float]


def _segments(page: PdfPage) -> Iterator[tuple[Point, Point]]:
    """The straight segments of the page's paths, in page coordinates, Form XObjects
    included (a curve moves the pen and draws no segment)."""
    import pypdfium2.raw as pdfium_c

    for raw, matrix in placed_objects(page, pdfium_c.FPDF_PAGEOBJ_PATH):
        yield from _path_segments(raw, matrix)


def _path_segments(raw: Any, matrix: PdfMatrix) -> Iterator[tuple[Point, Point]]:
    import ctypes

    import pypdfium2.raw as pdfium_c

    x, y = ctypes.c_float(), ctypes.c_float()
    start = pen = None
    for index in range(pdfium_c.FPDFPath_CountSegments(raw)):
        segment = pdfium_c.FPDFPath_GetPathSegment(raw, index)
        if not pdfium_c.FPDFPathSegment_GetPoint(segment, x, y):
            continue
        point = matrix.on_point(x.value, y.value)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = point
        elif kind == pdfium_c.FPDF_SEGMENT_LINETO and pen is not None:
            yield pen, point
        pen = point
        if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
            if pen != start:
                yield pen, start
            pen = start


def _table(text: PdfTextPage, height: float, number: int,
           cells: list[tuple[float, float, float, float]]) -> Table | None:
    """A grid's cells (x0, top, x1, bottom) read as rows, columns by their left edges; a
    cell spanning several columns fills the first of them."""
    columns = sorted({cell[0] for cell in cells})
    rows = []
    for _, row in groupby(sorted(cells, key=lambda c: (c[1], c[0])), key=lambda c: c[1]):
        by_left = {cell[0]: cell for cell in row}
        rows.append([_cell(_text_in(text, height, *by_left[x])) if x in by_left else ""
                     for x in columns])
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        return None
    filled_columns = [i for i in range(len(rows[0])) if any(row[i] for row in rows)]
    rows = [[row[i] for i in filled_columns] for row in rows]
    flat = [cell for row in rows for cell in row]
    if len(filled_columns) < 2 or sum(bool(c) for c in flat) < 0.5 * len(flat):
        return None
    x0, top, x1 = min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells)
    above = _text_in(text, height, x0 - 2, max(0.0, top - _CAPTION_GAP), x1 + 2, top)
    lines = [line.strip() for line in above.splitlines() if line.strip()]
    caption = next((" ".join(lines[i:]) for i in range(len(lines))
                    if _CAPTION.match(lines[i])), "")
    return Table(number, rows, caption, top)


def _text_in(text: PdfTextPage, height: float, x0: float, top: float, x1: float,
             bottom: float) -> str:
    """The text inside a box given from the top of the page, lines joined by newlines (pdfium
    marks a hyphen that ends a line with \\x02)."""
    found = text.get_text_bounded(left=x0, bottom=height - bottom, right=x1, top=height - top)
    return found.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "-")


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _longest_prefix_inside(rest: str, piece: str) -> int:
    low, high = 0, min(len(rest), len(piece))
    while low < high:
        middle = (low + high + 1) // 2
        if rest[:middle] in piece:
            low = middle
        else:
            high = middle - 1
    return low


def _in_table(line: str, pieces: list[str]) -> bool:
    """Whether `line` is made of runs of the table's cells (the text layer may join a row's cells on
    one line or split a cell's line), each run at least _MIN_MATCH letters long or a whole
    short cell."""
    rest = _squash(line)
    if not rest:
        return False
    while rest:
        best = 0
        for piece in pieces:
            length = _longest_prefix_inside(rest, piece)
            if length >= _MIN_MATCH or (length and length in (len(rest), len(piece))):
                best = max(best, length)
        if not best:
            return False
        rest = rest[best:]
    return True


def place_tables(lines: list[str], tables: list[Table], max_chars: int) -> list[str]:
    """A page's lines with each table's flattened text replaced by its Markdown.

    The lines taken out are the runs of two or more lines made of the table's cells (and its
    caption); the Markdown goes where the first run began, set apart by blank lines. Where no
    such run is found, the Markdown is added after the page's text and its lines are kept.
    """
    out = list(lines)
    for table in tables:
        pieces = [_squash(cell) for row in table.rows for cell in row if _squash(cell)]
        if table.caption:
            pieces.append(_squash(table.caption))
        flags = [_in_table(line, pieces) if line.strip() else None for line in out]
        drop: set[int] = set()
        run: list[int] = []
        for index, flag in enumerate([*flags, False]):
            if flag:
                run.append(index)
            elif flag is False:  # a blank line neither ends nor extends a run
                if len(run) >= 2:
                    drop.update(range(run[0], run[-1] + 1))
                run = []
        block = ["", *"\n\n".join(table.markdown(max_chars)).split("\n"), ""]
        if not drop:
            out = out + block
            continue
        first = min(drop)
        before = next((i for i in range(first - 1, -1, -1) if out[i].strip()), None)
        if before is not None and not table.caption and _CAPTION.match(out[before].strip()):
            table.caption = out[before].strip()  # a caption the crop above missed
            block = ["", *"\n\n".join(table.markdown(max_chars)).split("\n"), ""]
            drop.add(before)
            first = before
        out = out[:first] + block + [line for i, line in enumerate(out)
                                     if i > first and i not in drop]
    return out
