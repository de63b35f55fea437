"""The cited sentence highlighted on its page: does the box land on the sentence?

`python -m bench.pdf_highlight [--n 15] [--out docs]` chunks each shared PDF as ingest does
(chunk sizes counted in words here, no embedder needed), draws `n` sentences per PDF (seeded)
from chunks that start in the middle third of the document (8 to 60 words, no table rows),
and locates each as the app does: among the pages of its chunk. A sentence counts when the box
is on the page the sentence's text comes from and the page's characters whose centres lie in
the boxes hold the whole sentence (letters and digits, in order). Writes
docs/results/pdf-highlight.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

import pypdfium2 as pdfium

from bench.pdf_ocr import PDFS
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.pdf_locate import Box, locate
from meditron_rag.config import ChunkingConfig
from meditron_rag.text import sentence_spans
from rag.evaluation.results import machine

ROOT = Path(__file__).resolve().parent.parent


def squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def covered(path: Path, page: int, boxes: list[Box]) -> str:
    """The letters and digits of `page` whose character centres lie inside `boxes`."""
    pdf = pdfium.PdfDocument(path)
    try:
        handle = pdf[page - 1]
        textpage = handle.get_textpage()
        height = handle.get_height()
        inside = []
        for index in range(textpage.count_chars()):
            left, bottom, right, top = textpage.get_charbox(index)
            x, y = (left + right) / 2, height - (bottom + top) / 2
            if any(b[0] - 2 <= x <= b[2] + 2 and b[1] - 2 <= y <= b[3] + 2 for b in boxes):
                inside.append(textpage.get_text_range(index, 1))
        return squash("".join(inside))
    finally:
        pdf.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdfs", type=Path, default=PDFS, help="the shared guideline PDFs")
    parser.add_argument("--n", type=int, default=15, help="sentences per PDF")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    chunking = ChunkingConfig()
    cases = []
    for path in sorted(args.pdfs.glob("*.pdf")):
        doc = load_document(path)
        low, high = doc.page_count // 3, 2 * doc.page_count // 3
        chunks = chunk_document(doc, lambda text: len(text.split()),
                                chunk_tokens=chunking.chunk_tokens,
                                overlap_tokens=chunking.overlap_tokens)
        pool = []
        for chunk in chunks:
            if not low < chunk.page_start <= high:
                continue
            for a, b in sentence_spans(chunk.text):
                sentence = chunk.text[a:b]
                if "|" not in sentence and 8 <= len(sentence.split()) <= 60:
                    pool.append((chunk, sentence, doc.page_of(chunk.start + a)))
        for chunk, sentence, page in random.Random(0).sample(pool, args.n):
            started = time.perf_counter()
            found = locate(path, range(chunk.page_start, chunk.page_end + 1), sentence)
            seconds = time.perf_counter() - started
            right_page = found is not None and found.page == page
            inside = right_page and found is not None and squash(sentence) in covered(
                path, found.page, found.boxes)
            cases.append({"file": path.name, "page": page, "sentence": sentence,
                          "found_page": found.page if found else None,
                          "boxes": len(found.boxes) if found else 0,
                          "right_page": right_page, "covered": inside,
                          "locate_ms": round(seconds * 1000, 1)})
    hits = sum(c["covered"] for c in cases)
    result = {
        "command": f"python -m bench.pdf_highlight --n {args.n}",
        "machine": {**machine(), "shared": True},
        "sentences": len(cases), "right_page": sum(c["right_page"] for c in cases),
        "covered": hits,
        "median_locate_ms": sorted(c["locate_ms"] for c in cases)[len(cases) // 2],
        "cases": cases,
    }
    out = args.out / "results" / "pdf-highlight.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("cases", "machine")},
                     indent=2))


if __name__ == "__main__":
    main()
