"""The cited sentence highlighted on its page: does the box land on the sentence?

`python -m bench.pdf_highlight [--n 15] [--out docs]` chunks each shared PDF as ingest does
(chunk sizes counted in words here, no embedder needed), draws `n` sentences per PDF (seeded)
from chunks that start in the middle third of the document (8 to 60 words, no table rows),
and locates each as the app does: among the pages of its chunk. A sentence counts when the box
is on the page the sentence's text comes from and the page's characters whose centres lie in
the boxes hold the whole sentence (letters and digits, in order); for a sentence that runs
over a page break, the next page's characters in its boxes there count too. Writes
docs/results/pdf-highlight.json.

`--scan`: the same on the scanned copy `bench.pdf_ocr` makes (pages rendered at 300 dpi into
an image-only PDF). Its middle third is spliced between the original's text pages, so the
product's loader OCRs those pages alone (the others would take minutes each to OCR and are
not drawn from); the sentences are drawn (seeded) from chunks that lie wholly on OCR'd pages,
so they are OCR's text, and none is text the original's loader put in a table (on a page with
no text layer no table is found, so a table's cells come out as lines: left out, as the text
run leaves out table rows). Each is located as the app does: the text layer first, then the
OCR words as the index stores them (encoded and decoded). A sentence counts when the box is on
its page and the original text page's characters whose centres lie in the boxes hold 90 % or
more of the sentence's words of three or more letters and digits (OCR misreads a word now and
then, and reads a page in its own order; `exact` counts those holding all of them). The scan's
loaded document is cached beside the scans. Writes docs/results/pdf-highlight-scan.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium

from bench.pdf_ocr import PDFS, cache_dir, scanned_copy
from ingest.chunking import chunk_document
from ingest.document import Chunk, LoadedDocument
from ingest.loaders import load_document
from ingest.page_words import PageWords
from ingest.pdf_locate import Box, Found, locate, locate_words
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


def held(sentence: str, text: str) -> float:
    """The share of `sentence`'s words of 3 or more letters and digits found in `text`."""
    words = [w for w in re.findall(r"[a-z0-9]+", sentence.lower()) if len(w) >= 3]
    return sum(w in text for w in words) / len(words) if words else 0.0


def table_text(doc: LoadedDocument) -> dict[int, str]:
    """Each page's table cells (its Markdown table lines) as letters and digits."""
    return {n: squash(" ".join(line for line in doc.page_text(n).splitlines()
                               if line.startswith("|")))
            for n in range(1, doc.page_count + 1)}


def in_table(sentence: str, tables: str) -> bool:
    """Whether most of `sentence`'s words of 3 or more letters are in `tables`."""
    words = [w for w in re.findall(r"[a-z0-9]+", sentence.lower()) if len(w) >= 3]
    return bool(words) and sum(w in tables for w in words) > len(words) / 2


def load_cached(source: Path) -> tuple[LoadedDocument, bool]:
    """The loaded scan, from the cache beside it when it is there (OCR takes minutes); and
    whether it was loaded now."""
    cached = source.with_suffix(".loaded.pickle")
    if cached.exists():
        loaded: LoadedDocument = pickle.loads(cached.read_bytes())
        return loaded, False
    doc = load_document(source, max_pdf_bytes=2**30)
    cached.write_bytes(pickle.dumps(doc))
    return doc, True


def spliced_scan(source: Path, pages: range) -> Path:
    """`source` with `pages` (0-based) taken from its scanned copy, the rest as they are."""
    target = cache_dir() / f"{source.stem}-scan-{pages.start + 1}-{pages.stop}.pdf"
    if target.exists():
        return target
    original, scan = pdfium.PdfDocument(source), pdfium.PdfDocument(scanned_copy(source))
    out = pdfium.PdfDocument.new()
    out.import_pages(original, list(range(pages.start)))
    out.import_pages(scan, list(pages))
    out.import_pages(original, list(range(pages.stop, len(original))))
    partial = target.with_suffix(".part")
    out.save(partial)
    partial.replace(target)
    return target


def _pool(doc: LoadedDocument, chunks: list[Chunk], drawn: Callable[[Chunk], bool]
          ) -> list[tuple[Chunk, str, int]]:
    """(chunk, sentence, its page) for each sentence of 8 to 60 words, not a table row, of the
    chunks `drawn` from."""
    pool = []
    for chunk in chunks:
        if not drawn(chunk):
            continue
        for a, b in sentence_spans(chunk.text):
            sentence = chunk.text[a:b]
            if "|" not in sentence and 8 <= len(sentence.split()) <= 60:
                pool.append((chunk, sentence, doc.page_of(chunk.start + a)))
    return pool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdfs", type=Path, default=PDFS, help="the shared guideline PDFs")
    parser.add_argument("--n", type=int, default=15, help="sentences per PDF")
    parser.add_argument("--scan", action="store_true",
                        help="on the scanned copies' middle thirds, through OCR")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    chunking = ChunkingConfig()
    cases = []
    extra: dict[str, object] = {}
    for path in sorted(args.pdfs.glob("*.pdf")):
        with pdfium.PdfDocument(path) as pdf:
            count = len(pdf)
        low, high = count // 3, 2 * count // 3
        source = spliced_scan(path, range(low, high)) if args.scan else path
        started = time.perf_counter()
        doc, fresh = load_cached(source) if args.scan else (load_document(source), True)
        info: dict[str, object] = {"ocr_pages": doc.metadata.extra.get("ocr_pages", "")}
        if fresh:  # not read from the cache
            info["load_s"] = round(time.perf_counter() - started, 1)
        # As the index keeps them: encoded, then decoded when the page is shown.
        stored = {n: PageWords.decode(w.encode()) for n, w in doc.page_words.items()}
        if stored:
            sizes = [len(w.encode()) for w in doc.page_words.values()]
            words = sum(len(w.texts) for w in doc.page_words.values())
            info |= {"stored_bytes_per_page": round(sum(sizes) / len(sizes)),
                     "stored_bytes_per_word": round(sum(sizes) / words, 2)}
        extra[path.name] = info
        chunks = chunk_document(doc, lambda text: len(text.split()),
                                chunk_tokens=chunking.chunk_tokens,
                                overlap_tokens=chunking.overlap_tokens)
        ocrd = set(stored) & set(range(low + 1, high + 1))

        def drawn(chunk: Chunk, ocrd: set[int] = ocrd, low: int = low, high: int = high
                  ) -> bool:
            if args.scan:  # wholly on OCR'd pages
                return set(range(chunk.page_start, chunk.page_end + 1)) <= ocrd
            return low < chunk.page_start <= high

        pool = _pool(doc, chunks, drawn)
        if args.scan:
            tables = table_text(load_document(path))
            pool = [item for item in pool if not in_table(item[1], tables[item[2]])]
        for chunk, sentence, page in random.Random(0).sample(pool, args.n):
            pages = range(chunk.page_start, chunk.page_end + 1)
            started = time.perf_counter()
            found: Found | None = locate(source, pages, sentence)
            if found is None and chunk.ocr_confidence is not None:
                found = locate_words(pages, stored.get, sentence)
            seconds = time.perf_counter() - started
            right_page = found is not None and found.page == page
            share = 0.0
            if found is not None and right_page:
                inside = covered(path, page, found.boxes) + (
                    covered(path, found.then.page, found.then.boxes) if found.then else "")
                share = held(sentence, inside) if args.scan else float(
                    squash(sentence) in inside)
            cases.append({"file": path.name, "page": page, "sentence": sentence,
                          "found_page": found.page if found else None,
                          "boxes": len(found.boxes) if found else 0,
                          "next_page_boxes": len(found.then.boxes) if found and found.then
                          else 0,
                          "right_page": right_page,
                          "covered": share >= (0.9 if args.scan else 1.0),
                          "exact": share == 1.0, "held": round(share, 3),
                          "ocr_confidence": chunk.ocr_confidence,
                          "locate_ms": round(seconds * 1000, 1)})
    hits = sum(c["covered"] for c in cases)
    result = {
        "command": f"python -m bench.pdf_highlight --n {args.n}" + (" --scan" if args.scan
                                                                     else ""),
        "machine": {**machine(), "shared": True},
        "sentences": len(cases), "right_page": sum(c["right_page"] for c in cases),
        "covered": hits, "exact": sum(c["exact"] for c in cases),
        "median_locate_ms": sorted(c["locate_ms"] for c in cases)[len(cases) // 2],
        "documents": extra,
        "cases": cases,
    }
    name = "pdf-highlight-scan.json" if args.scan else "pdf-highlight.json"
    out = args.out / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("cases", "machine")},
                     indent=2))


if __name__ == "__main__":
    main()
