"""Tables kept as tables: the product's Markdown against hand-checked tables of real PDFs.

`python -m bench.pdf_tables [--out docs]` loads each PDF named in
bench/data/tables/reference.json with the product's loader, reads the Markdown tables back out
of the cited page's text (pieces of a split table, which repeat the header, joined again), and
compares the reference table's cells with them: a cell is right when its letters and digits,
lowercased, are the same (so spacing and a hyphen kept at a line break do not count), rows and
columns taken by position. It also counts captions found, and reference cells of 20 letters or
more whose text is still on the page outside the tables (the flattened copy not taken out),
and times loading each PDF with tables on and off. Writes docs/results/pdf-tables.json.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from bench.pdf_ocr import PDFS
from ingest.loaders import load_document
from meditron_rag.config import PdfConfig
from rag.evaluation.results import machine

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "bench" / "data" / "tables" / "reference.json"


def squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def markdown_tables(page_text: str) -> tuple[list[tuple[str, list[list[str]]]], str]:
    """The page's Markdown tables as (caption, rows), split pieces joined, and the page text
    outside them."""
    tables: list[tuple[str, list[list[str]]]] = []
    outside: list[str] = []
    lines = page_text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("| ") and i + 1 < len(lines) and lines[i + 1].startswith(
                "| ---"):
            caption = lines[i - 1] if i and lines[i - 1].strip() and not lines[
                i - 1].startswith("|") else ""
            if caption and outside and outside[-1] == caption:
                outside.pop()
            rows = [_cells(lines[i])]
            i += 2
            while i < len(lines) and lines[i].startswith("| "):
                rows.append(_cells(lines[i]))
                i += 1
            base = caption.removesuffix("(continued)").rstrip()
            if tables and caption.endswith("(continued)") and tables[-1][0] == base:
                tables[-1][1].extend(rows[1:])
            else:
                tables.append((base, rows))
            continue
        outside.append(lines[i])
        i += 1
    return tables, "\n".join(outside)


def _cells(line: str) -> list[str]:
    inner = line.strip()[2:-2]
    return [cell.replace("\\|", "|") for cell in re.split(r" \| ", inner)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdfs", type=Path, default=PDFS, help="the shared guideline PDFs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    docs = {}
    timing = {}
    for name in sorted({t["file"] for t in reference}):
        path = args.pdfs / name
        seconds = {}
        for tables in (False, True):
            started = time.perf_counter()
            doc = load_document(path, pdf=PdfConfig(tables=tables))
            seconds[tables] = time.perf_counter() - started
        docs[name] = doc
        timing[name] = {"pages": doc.page_count, "tables_off_s": round(seconds[False], 2),
                        "tables_on_s": round(seconds[True], 2),
                        "ratio": round(seconds[True] / seconds[False], 2)}
    rows_out = []
    right = total = captions = captions_expected = leftover = long_cells = 0
    for ref in reference:
        doc = docs[ref["file"]]
        found, outside = markdown_tables(doc.page_text(ref["page"]))
        caption, rows = found[ref["index"]] if ref["index"] < len(found) else ("", [])
        table_right = table_total = 0
        for r, ref_row in enumerate(ref["rows"]):
            for c, cell in enumerate(ref_row):
                got = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
                table_total += 1
                table_right += got is not None and squash(got) == squash(cell)
                if len(squash(cell)) >= 20:
                    long_cells += 1
                    leftover += squash(cell) in squash(outside)
        right += table_right
        total += table_total
        if ref["caption"]:
            captions_expected += 1
            captions += squash(caption) == squash(ref["caption"])
        rows_out.append({"file": ref["file"], "page": ref["page"], "index": ref["index"],
                         "cells": table_total, "right": table_right,
                         "caption_expected": ref["caption"], "caption_found": caption})
    result = {
        "command": "python -m bench.pdf_tables",
        "machine": {**machine(), "shared": True},
        "tables": len(reference), "cells": total,
        "cell_accuracy": round(right / total, 4),
        "captions_found": f"{captions}/{captions_expected}",
        "flattened_cells_left_outside_tables": f"{leftover}/{long_cells}",
        "load_time": timing,
        "per_table": rows_out,
    }
    out = args.out / "results" / "pdf-tables.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "per_table"}, indent=2))


if __name__ == "__main__":
    main()
