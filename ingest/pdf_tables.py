"""Ruled tables in PDFs, kept as Markdown tables in place of their flattened text.

pdfplumber finds tables by their ruling lines and reads each cell. On a page with a table, the
lines of the page text that are the table's cells flattened (as pypdf drew them) are taken out,
and the table goes where they began, as Markdown under its caption. A table longer than the
piece size is cut between rows into tables that each repeat the caption (marked "continued")
and the header row, so a passage holding only some rows still says what its columns are.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pdfplumber.page import Page
    from pdfplumber.table import Table as PlumberTable

_CAPTION = re.compile(r"^(Table|Box|Annex table)\s+[A-Z0-9][\w.-]*", re.IGNORECASE)
_CAPTION_GAP = 40.0  # points above the table a caption may sit
_MIN_PATHS = 12  # lines and boxes a page draws before it is searched for tables (a 2x3 grid)
_MIN_MATCH = 3  # a shorter common run of letters does not tie a line to a table

logging.getLogger("pdfminer").setLevel(logging.ERROR)  # pdfminer warns about harmless quirks


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
    text = re.sub(r"(?<=[a-z])-\n(?=[a-z])", "-", text)
    return " ".join(text.split()).replace("|", "\\|")


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def ruled_pages(data: bytes, pages: list[int]) -> list[int]:
    """Those of `pages` that draw enough lines or boxes to hold a ruled table: pdfium counts
    them in a moment, where pdfplumber takes most of a second to read a page."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return []
    ruled = []
    try:
        for number in pages:
            try:
                page = pdf[number - 1]
                paths = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=3)
                drawn = sum(1 for _ in zip(range(_MIN_PATHS), paths, strict=False))
                page.close()
            except pdfium.PdfiumError:  # a damaged page: no table found on it
                continue
            if drawn >= _MIN_PATHS:
                ruled.append(number)
    finally:
        pdf.close()
    return ruled


def find_tables(data: bytes, pages: list[int]) -> dict[int, list[Table]]:
    """Ruled tables on `pages` (1-based) of the PDF in `data`, in order from the top of each
    page. A grid with fewer than two filled columns or rows, or mostly empty (a page frame or a
    layout box), is not a table."""
    import pdfplumber

    found: dict[int, list[Table]] = {}
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number in pages:
                try:
                    page = pdf.pages[number - 1]
                except Exception:  # noqa: BLE001 - a page pdfplumber cannot open: no tables
                    continue
                try:
                    tables = [_table(page, number, t) for t in page.find_tables()]
                except Exception:  # noqa: BLE001 - a page pdfplumber cannot parse: no tables
                    continue
                finally:
                    page.close()  # its parsed objects, otherwise kept until the file closes
                kept = sorted((t for t in tables if t is not None), key=lambda t: t.top)
                if kept:
                    found[number] = kept
    except Exception:  # noqa: BLE001 - a file pdfplumber cannot parse (or close): what it read
        return found
    return found


def _table(page: Page, number: int, found: PlumberTable) -> Table | None:
    rows = [[_cell(c) for c in row] for row in found.extract()]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        return None
    filled_columns = [i for i in range(len(rows[0])) if any(row[i] for row in rows)]
    rows = [[row[i] for i in filled_columns] for row in rows]
    cells = [cell for row in rows for cell in row]
    if len(filled_columns) < 2 or sum(bool(c) for c in cells) < 0.5 * len(cells):
        return None
    x0, top, x1 = (float(v) for v in found.bbox[:3])
    above = page.crop((max(0.0, x0 - 2), max(0.0, top - _CAPTION_GAP), min(page.width, x1 + 2),
                       top))
    lines = [line.strip() for line in (above.extract_text() or "").splitlines() if line.strip()]
    caption = next((" ".join(lines[i:]) for i in range(len(lines))
                    if _CAPTION.match(lines[i])), "")
    return Table(number, rows, caption, top)


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
    """Whether `line` is made of runs of the table's cells (pypdf may join a row's cells on
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
